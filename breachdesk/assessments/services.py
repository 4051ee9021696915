"""Saving an assessment and its decision, shared by the form and `PUT /api/v1/incidents/{id}/assessment`.

The ENISA score is an aid: it suggests who to tell, a person decides. "Not required" needs a named decider
and a written rationale, because the breach register must show why nobody was told (Art. 33(5)).
Callers commit.
"""

from fractions import Fraction
from typing import Any

from sqlalchemy import select

from breachdesk.assessments import edpb, enisa
from breachdesk.assessments.models import Assessment, Decision, Exemption
from breachdesk.auth.models import User
from breachdesk.core.clock import now_utc
from breachdesk.core.errors import ValidationFailed
from breachdesk.core.signals import incident_changed
from breachdesk.extensions import db
from breachdesk.impact.services import current_snapshot
from breachdesk.incidents.models import Incident, IncidentEvent, IncidentStatus
from breachdesk.incidents.queries import events_of

FIELDS = {"dpc", "dpc_category", "dpc_adjustment", "dpc_reason", "ei", "cb", "exemptions", "decision"}
CB_FIELDS = ("confidentiality", "integrity", "availability")
CATEGORY_OF_SENSITIVITY = {score: name for name, score in enisa.DPC_CATEGORIES.items()}
MAX_TEXT = 20000


def prefilled_category(incident: Incident) -> str | None:
    """The impact's highest sensitivity class, as the ENISA data processing context to start from."""
    snapshot = current_snapshot(incident.id)
    if snapshot is None:
        return None
    highest = max([a.get("sensitivity", 0) for a in snapshot.activities], default=0)
    return CATEGORY_OF_SENSITIVITY.get(highest)


def _text(value: Any, field: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise enisa.AssessmentError(f"{field}: expected text")
    if len(value) > MAX_TEXT:
        raise enisa.AssessmentError(f"{field}: longer than {MAX_TEXT} characters")
    return value.strip()


def clean(data: dict[str, Any], incident: Incident) -> dict[str, Any]:
    """Validate assessment input; every problem names its field (cb.integrity, decision.rationale ...)."""
    problems = [f"{name}: unknown field" for name in sorted(set(data) - FIELDS)]
    values: dict[str, Any] = {}
    steps = [_dpc, _ei, _cb, _exemptions, _decision]
    for step in steps:
        try:
            values.update(step(data, incident))
        except enisa.AssessmentError as error:
            problems.append(str(error))
    if problems:
        raise ValidationFailed(problems)
    values["severity"] = enisa.severity(values["dpc"], values["ei"], *values["cb"], values["malicious"])
    return values


def _dpc(data, incident) -> dict[str, Any]:
    reason = _text(data.get("dpc_reason"), "dpc_reason")
    adjustment = data.get("dpc_adjustment", 0)
    if not isinstance(adjustment, int) or isinstance(adjustment, bool):
        raise enisa.AssessmentError("dpc_adjustment: a whole number of steps")
    if data.get("dpc") is not None:
        dpc = data["dpc"]
        if not isinstance(dpc, int) or isinstance(dpc, bool) or not 1 <= dpc <= 4:
            raise enisa.AssessmentError("dpc: an integer from 1 to 4")
        if data.get("dpc_category") is not None or adjustment:
            raise enisa.AssessmentError("dpc: give either dpc or dpc_category with dpc_adjustment, not both")
        return {"dpc": dpc, "dpc_category": None, "dpc_adjustment": 0, "dpc_reason": reason}
    category = data.get("dpc_category")
    if category is None:
        category = prefilled_category(incident)
    if category is None:
        raise enisa.AssessmentError("dpc_category: required (the impact names no data category to start from)")
    return {
        "dpc": enisa.adjusted_dpc(category, adjustment, reason),
        "dpc_category": category,
        "dpc_adjustment": adjustment,
        "dpc_reason": reason,
    }


def _ei(data, _incident) -> dict[str, Any]:
    if data.get("ei") is None:
        raise enisa.AssessmentError("ei: required (0.25, 0.5, 0.75 or 1)")
    enisa.severity(1, data["ei"])  # validates, naming ei
    return {"ei": data["ei"]}


def _cb(data, _incident) -> dict[str, Any]:
    cb = {} if data.get("cb") is None else data["cb"]
    if not isinstance(cb, dict):
        raise enisa.AssessmentError("cb: expected an object with confidentiality, integrity, availability, malicious")
    unknown = sorted(set(cb) - {*CB_FIELDS, "malicious"})
    if unknown:
        raise enisa.AssessmentError(f"cb.{unknown[0]}: unknown field")
    losses = tuple(cb.get(name, 0) for name in CB_FIELDS)
    malicious = cb.get("malicious", False)
    enisa.severity(1, 1, *losses, malicious)  # validates, naming cb.<field>
    return {"cb": losses, "malicious": malicious}


def _exemptions(data, _incident) -> dict[str, Any]:
    raw = [] if data.get("exemptions") is None else data["exemptions"]
    known = [e.value for e in Exemption]
    if not isinstance(raw, list):
        raise enisa.AssessmentError(f"exemptions: expected a list of {', '.join(known)}")
    for item in raw:
        if item not in known:
            raise enisa.AssessmentError(f"exemptions: {item!r} is not one of {', '.join(known)}")
    return {"exemptions": sorted(set(raw), key=known.index)}


def _decision(data, _incident) -> dict[str, Any]:
    raw = data.get("decision")
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise enisa.AssessmentError("decision: expected an object with authority, data_subjects, rationale")
    unknown = sorted(set(raw) - {"authority", "data_subjects", "rationale"})
    if unknown:
        raise enisa.AssessmentError(f"decision.{unknown[0]}: unknown field")
    known = [d.value for d in Decision]
    decision: dict[str, Any] = {}
    for kind in ("authority", "data_subjects"):
        value = raw.get(kind, Decision.UNDECIDED.value)
        if value not in known:
            raise enisa.AssessmentError(f"decision.{kind}: {value!r} is not one of {', '.join(known)}")
        decision[kind] = Decision(value)
    decision["rationale"] = _text(raw.get("rationale"), "decision.rationale")
    if Decision.NOT_REQUIRED in (decision["authority"], decision["data_subjects"]) and not decision["rationale"]:
        raise enisa.AssessmentError(
            "decision.rationale: required when a recipient is not_required; the breach "
            "register shows why nobody was told (Art. 33(5))"
        )
    return {"decision": decision}


def circumstances(incident: Incident) -> edpb.Circumstances:
    """What the EDPB weighs, from the current impact (our controller-side data) and the incident's record."""
    snapshot = current_snapshot(incident.id)
    activities = snapshot.activities if snapshot else []
    own = snapshot.own if snapshot else []
    return edpb.Circumstances(
        roles=frozenset(a["role"] for a in activities),
        people=sum(sum(o["data_subjects"].values()) for o in own),
        data_subjects=frozenset(s for o in own for s in o["data_subjects"]),
        data_categories=frozenset(c for o in own for c in o["data_categories"]),
        nature=frozenset(incident.nature or ()),
        unintelligible=bool(incident.encrypted) and incident.key_compromised is False,
    )


def suggest(severity: enisa.Severity, exemptions: list[str], incident: Incident) -> dict[str, Any]:
    """What the ENISA band suggests, raised by what the EDPB weighs, then corrected by the Art. 34(3) exemptions
    claimed."""
    band = f"severity {float(severity.score):g} is {severity.band}"
    suggestion = edpb.suggest(severity.suggested, band, circumstances(incident))
    subjects, reasons = suggestion.data_subjects, list(suggestion.reasons)
    if subjects == "required":
        if {"unintelligible", "mitigated"} & set(exemptions):
            subjects = "not_required"
            reasons.append("Art. 34(3)(a)/(b) exemption claimed: individual communication is not required")
        elif "disproportionate_effort" in exemptions:
            subjects = "public_communication"
            reasons.append("Art. 34(3)(c): a public communication instead of individual notices")
    return {"authority": suggestion.authority, "data_subjects": subjects, "reasons": reasons}


def assessment_of(incident_id: int) -> Assessment | None:
    return db.session.scalar(select(Assessment).where(Assessment.incident_id == incident_id))


def save_assessment(incident: Incident, data: dict[str, Any], user: User | None) -> Assessment:
    values = clean(data, incident)
    severity: enisa.Severity = values["severity"]
    assessment = assessment_of(incident.id) or Assessment(incident_id=incident.id)
    assessment.dpc_category = values["dpc_category"]
    assessment.dpc_adjustment = values["dpc_adjustment"]
    assessment.dpc_reason = values["dpc_reason"]
    assessment.dpc = values["dpc"]
    assessment.ei = _exact_text(values["ei"])
    assessment.cb_confidentiality, assessment.cb_integrity, assessment.cb_availability = (
        _exact_text(v) for v in values["cb"]
    )
    assessment.malicious = values["malicious"]
    assessment.score = _exact_text(severity.score)
    assessment.band = severity.band
    assessment.exemptions = values["exemptions"]
    assessment.assessed_by = user
    assessment.assessed_at = now_utc()
    if "decision" in values:
        _decide(incident, assessment, values["decision"], user)
    db.session.add(assessment)
    if incident.status == IncidentStatus.OPEN:
        incident.status = IncidentStatus.ASSESSED
    db.session.flush()
    incident_changed.send(incident)
    return assessment


def _decide(incident: Incident, assessment: Assessment, decision: dict[str, Any], user: User | None) -> None:
    new = (decision["authority"], decision["data_subjects"], decision["rationale"])
    old = (assessment.decision_authority, assessment.decision_data_subjects, assessment.rationale)
    if new == old:
        return
    assessment.decision_authority, assessment.decision_data_subjects, assessment.rationale = new
    assessment.decided_by = user
    assessment.decided_at = now_utc()
    if decision["data_subjects"] == Decision.REQUIRED and not any(
        e.kind == "high_risk_established" for e in events_of(incident.id)
    ):
        # deciding that data subjects must be told is establishing the high risk: Art. 34's clock starts
        db.session.add(
            IncidentEvent(
                incident_id=incident.id,
                kind="high_risk_established",
                occurred_at=assessment.decided_at,
                recorded_by=user,
                note="decision: the data subjects must be told",
            )
        )


def _exact_text(value) -> str:
    exact = Fraction(str(value)) if not isinstance(value, Fraction) else value
    return f"{float(exact):g}"


def as_dict(assessment: Assessment, incident: Incident) -> dict[str, Any]:
    severity = enisa.Severity(Fraction(assessment.score), assessment.band)
    return {
        "dpc": assessment.dpc,
        "dpc_category": assessment.dpc_category,
        "dpc_adjustment": assessment.dpc_adjustment,
        "dpc_reason": assessment.dpc_reason,
        "ei": float(Fraction(assessment.ei)),
        "cb": {
            "confidentiality": float(Fraction(assessment.cb_confidentiality)),
            "integrity": float(Fraction(assessment.cb_integrity)),
            "availability": float(Fraction(assessment.cb_availability)),
            "malicious": assessment.malicious,
        },
        "exemptions": assessment.exemptions,
        "severity": severity.as_dict(),
        "suggested": suggest(severity, assessment.exemptions, incident),
        "decision": {
            "authority": assessment.decision_authority.value,
            "data_subjects": assessment.decision_data_subjects.value,
            "rationale": assessment.rationale,
            "decided_by": assessment.decided_by.username if assessment.decided_by else None,
            "decided_at": assessment.decided_at.isoformat().replace("+00:00", "Z") if assessment.decided_at else None,
        },
    }
