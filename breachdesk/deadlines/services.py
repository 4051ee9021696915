"""Deriving an incident's obligations from its impact, assessment, events and the organisation profile,
and recording what people do with them. Callers commit.

Derivation runs after every change that can move a duty (filing, awareness moved, impact recomputed,
assessment saved, an event recorded, a stage sent). Thousands of customer duties are written in bulk with
one summary audit event; what a person does to one obligation is audited row by row.
"""

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update

from breachdesk.assessments.models import Assessment, Decision
from breachdesk.audit.services import record
from breachdesk.core.clock import now_utc
from breachdesk.core.errors import DomainError, ValidationFailed
from breachdesk.deadlines.models import OVERDUE, Obligation, ObligationStatus
from breachdesk.deadlines.obligations import (
    AffectedCustomer,
    Facts,
    Planned,
    Profile,
    Ruling,
    clock,
    plan,
    rulings_from,
)
from breachdesk.deadlines.rules import DETERMINATIONS, Terms, shipped_rules
from breachdesk.extensions import db
from breachdesk.impact.models import ImpactCustomer, ImpactSnapshot
from breachdesk.impact.services import current_snapshot
from breachdesk.incidents.models import Incident, IncidentEvent, IncidentStatus
from breachdesk.inventory.models import Customer, NoticeTerms, Organisation

#: events that start a clock; their negatives (not_significant ...) only stop a duty
POSITIVE_EVENTS = {positive for positive, _ in DETERMINATIONS.values()} | {"high_risk_established"}
NEGATIVE_EVENTS = {negative for _, negative in DETERMINATIONS.values()}
EVENT_KINDS = POSITIVE_EVENTS | NEGATIVE_EVENTS | {"stage_filed"}
FROZEN = (ObligationStatus.SENT, ObligationStatus.ACKNOWLEDGED)
AUDIT_SAMPLE = 50
WITHDRAWN = "no longer owed: the incident's impact, assessment or the organisation profile changed"


def organisation_profile() -> Profile | None:
    row = db.session.get(Organisation, 1)
    if row is None:
        return None
    return Profile(row.name, tuple(row.regimes), row.lead_supervisory_authority, dict(row.authorities),
                   dict(row.entity_status), row.undue_delay_target_hours)


def anchors_of(incident: Incident, events: list[IncidentEvent], sent: dict[str, datetime]) -> dict[str, datetime]:
    """Every fact that can start a clock, at its earliest instant. A stage counts as filed when it was sent
    through BreachDesk or recorded as filed elsewhere, whichever came first."""
    anchors: dict[str, datetime] = {"awareness": incident.aware_at}
    if incident.detected_at:
        anchors["detection"] = incident.detected_at
    for event in events:
        name = f"stage_filed:{event.stage}" if event.kind == "stage_filed" else event.kind
        if event.kind in POSITIVE_EVENTS or event.kind == "stage_filed":
            anchors[name] = min(anchors.get(name, event.occurred_at), event.occurred_at)
    for rule_id, sent_at in sent.items():
        name = f"stage_filed:{rule_id}"
        anchors[name] = min(anchors.get(name, sent_at), sent_at)
    return anchors


def _determinations(events: list[IncidentEvent]) -> dict[str, Ruling]:
    """The latest determination per condition decides (a person may revise one)."""
    rulings: dict[str, Ruling] = {}
    for event in sorted(events, key=lambda e: e.id):
        for condition, (positive, negative) in DETERMINATIONS.items():
            if event.kind in (positive, negative):
                who = event.recorded_by.username if event.recorded_by else "unknown"
                rulings[condition] = Ruling(event.kind == positive, who, event.note)
    return rulings


def _decisions(assessment: Assessment | None) -> dict[str, Ruling]:
    if assessment is None:
        return {}
    who = assessment.decided_by.username if assessment.decided_by else ""

    def ruling(decision: Decision) -> Ruling:
        required = {Decision.REQUIRED: True, Decision.NOT_REQUIRED: False}.get(decision)
        return Ruling(required, who if required is not None else "", assessment.rationale if required is False else "")

    return {"authority": ruling(assessment.decision_authority),
            "data_subjects": ruling(assessment.decision_data_subjects)}


def _affected(snapshot: ImpactSnapshot | None) -> tuple[frozenset[str], tuple[AffectedCustomer, ...]]:
    if snapshot is None:
        return frozenset(), ()
    roles = frozenset(a["role"] for a in snapshot.activities)
    rows = db.session.execute(
        select(ImpactCustomer.key, ImpactCustomer.name, ImpactCustomer.customer_id, Customer.notice_hours,
               Customer.notice_terms)
        .outerjoin(Customer, Customer.id == ImpactCustomer.customer_id)
        .where(ImpactCustomer.snapshot_id == snapshot.id).order_by(ImpactCustomer.key))
    # a customer deleted since the snapshot keeps the default contract term of 24 hours
    return roles, tuple(AffectedCustomer(key, name, cid, hours or 24, terms != NoticeTerms.WITHOUT_UNDUE_DELAY)
                        for key, name, cid, hours, terms in rows)


def facts_of(incident: Incident, events: list[IncidentEvent]) -> Facts:
    assessment = assessment_of(incident.id)
    roles, customers = _affected(current_snapshot(incident.id))
    exemptions = set(assessment.exemptions) if assessment else set()
    return Facts(roles, customers, rulings_from(_decisions(assessment), _determinations(events)),
                 public_communication="disproportionate_effort" in exemptions)


def assessment_of(incident_id: int) -> Assessment | None:
    return db.session.scalar(select(Assessment).where(Assessment.incident_id == incident_id))


def events_of(incident_id: int) -> list[IncidentEvent]:
    return list(db.session.scalars(select(IncidentEvent).where(IncidentEvent.incident_id == incident_id)
                                   .order_by(IncidentEvent.occurred_at, IncidentEvent.id)))


_STATE = ("status", "anchor", "clock_start", "due_at", "target_at", "recipient", "flag", "decided_by", "rationale",
          "customer_id", "sent_at", "late_by_seconds", "sent_reference")


def sync_obligations(incident: Incident) -> dict[str, int]:
    """Bring the incident's obligations in line with what is owed now. Sent and acknowledged ones are
    history and stay as they are; pending ones keep their frozen terms, so only their facts move them."""
    profile = organisation_profile()
    db.session.flush()
    # Core rows: ten thousand plain tuples, no ORM result machinery
    rows = {(r.rule_id, r.recipient_key): r for r in db.session.connection().execute(
        select(Obligation.id, Obligation.rule_id, Obligation.recipient_key, Obligation.terms,
               *(getattr(Obligation, name) for name in _STATE)).where(Obligation.incident_id == incident.id))}
    events = events_of(incident.id)
    sent: dict[str, datetime] = {}
    for row in rows.values():
        if row.sent_at is not None:
            sent[row.rule_id] = min(sent.get(row.rule_id, row.sent_at), row.sent_at)
    anchors = anchors_of(incident, events, sent)
    filed_elsewhere = {e.stage: e for e in reversed(events) if e.kind == "stage_filed"}  # the first filing wins
    planned = plan(shipped_rules(), profile, facts_of(incident, events)) if profile else []
    created, changed, updates, kept = [], [], [], []
    terms_of = _TermsCache(anchors)
    for duty in planned:
        row = rows.pop(duty.key, None)
        if row is not None:
            kept.append(row)
        if row is not None and row.status in FROZEN:
            continue
        terms, timing = terms_of(row.terms if row is not None else duty.terms)
        state = _state(duty, timing, filed_elsewhere.get(duty.rule.id))
        if row is None:
            created.append({**state, "incident_id": incident.id, "rule_id": duty.rule.id, "regime": duty.rule.regime,
                            "stage": duty.rule.stage, "recipient_kind": duty.rule.recipient_kind,
                            "recipient_key": duty.recipient_key, "condition": duty.rule.condition,
                            "source": duty.rule.source, "terms": terms.as_dict(), "created_at": now_utc()})
            continue
        moved = {name: value for name, value in state.items() if getattr(row, name) != value}
        if moved:
            changed.append({"id": row.id, **state})
            updates.append({"id": row.id, **moved})  # only what moved: usually the clock columns
    withdrawn = [{"id": row.id, "status": ObligationStatus.NOT_REQUIRED, "decided_by": "BreachDesk",
                  "rationale": WITHDRAWN} for row in rows.values()
                 if row.status == ObligationStatus.PENDING]
    if created:
        # Core executemany: the ORM's bulk insert would split rows by which values are NULL
        db.session.execute(insert(Obligation.__table__), created)
    if updates:
        db.session.execute(update(Obligation), updates)
    if withdrawn:
        db.session.execute(update(Obligation), withdrawn)
    counts = {"created": len(created), "changed": len(changed), "withdrawn": len(withdrawn)}
    if created or changed or withdrawn:
        db.session.expire_all()  # bulk statements bypass loaded objects
        keys = {row.id: f"{row.rule_id}:{row.recipient_key}" for row in rows.values()} | {
            row.id: f"{row.rule_id}:{row.recipient_key}" for row in kept}
        record(db.session, "obligations.derived", "incidents", incident.id, after={
            **counts, "anchors": {k: v.isoformat() for k, v in sorted(anchors.items())},
            # the first entries of each kind, so the log shows what moved without copying ten thousand rows
            "created_first": [f"{c['rule_id']}:{c['recipient_key']} due {_iso(c['due_at'] or c['target_at'])}"
                              for c in created[:AUDIT_SAMPLE]],
            "changed_first": [f"{keys[c['id']]} {c['status'].value} due {_iso(c['due_at'] or c['target_at'])}"
                              for c in changed[:AUDIT_SAMPLE]],
            "withdrawn_first": [keys[w["id"]] for w in withdrawn[:AUDIT_SAMPLE]]})
    return counts


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


class _TermsCache:
    """Thousands of customer duties share a handful of terms: parse each and compute its clock once."""

    def __init__(self, anchors: dict[str, datetime]):
        self.anchors = anchors
        self.known: dict[Any, tuple[Terms, dict[str, Any]]] = {}

    def __call__(self, raw: Terms | dict) -> tuple[Terms, dict[str, Any]]:
        key = raw if isinstance(raw, Terms) else repr(sorted(raw.items()))
        if key not in self.known:
            terms = raw if isinstance(raw, Terms) else Terms.from_dict(raw)
            self.known[key] = terms, clock(terms, self.anchors)
        return self.known[key]


def _state(duty: Planned, timing: dict[str, Any], filed: IncidentEvent | None) -> dict[str, Any]:
    state = {"status": ObligationStatus.PENDING if duty.required else ObligationStatus.NOT_REQUIRED,
             **timing, "recipient": duty.recipient[:200], "flag": duty.flag,
             "decided_by": "" if duty.required else duty.decided_by,
             "rationale": "" if duty.required else duty.rationale, "customer_id": duty.customer_id,
             "sent_at": None, "late_by_seconds": None, "sent_reference": ""}
    if filed is not None and duty.recipient_key == duty.rule.recipient_kind:
        # the stage was filed outside BreachDesk (a portal, a form): the duty is fulfilled as of then
        state |= {"status": ObligationStatus.SENT, "sent_at": filed.occurred_at, "sent_reference": filed.reference,
                  "late_by_seconds": lateness(filed.occurred_at, state["due_at"] or state["target_at"])}
    return state


def lateness(sent_at: datetime, limit: datetime | None) -> int | None:
    return max(0, int((sent_at - limit).total_seconds())) if limit else None


def resync_open_incidents() -> int:
    """After the organisation profile changed: regimes added or dropped change what open incidents owe."""
    incidents = db.session.scalars(select(Incident).where(Incident.status != IncidentStatus.CLOSED)).all()
    for incident in incidents:
        sync_obligations(incident)
    return len(incidents)


def obligations_of(incident_id: int) -> list[Obligation]:
    """Soonest first; customer duties after the authorities' at the same instant, by recipient."""
    return list(db.session.scalars(select(Obligation).where(Obligation.incident_id == incident_id)
                                   .order_by(Obligation.due_at.is_(None), Obligation.due_at,
                                             Obligation.target_at, Obligation.rule_id, Obligation.recipient_key)))


def summary_of(incident_id: int, now: datetime | None = None) -> dict[str, int]:
    """Duties by shown status (overdue apart from pending), counted in SQL: an incident may owe thousands."""
    now = now or now_utc()
    overdue = (Obligation.status == ObligationStatus.PENDING) & (Obligation.due_at < now)
    counts: dict[str, int] = defaultdict(int)
    for status, late, count in db.session.execute(
            select(Obligation.status, overdue, func.count()).where(Obligation.incident_id == incident_id)
            .group_by(Obligation.status, overdue)):
        counts[OVERDUE if late else status.value] += count
    return dict(counts)


def mark_sent(obligation: Obligation, sent_at: datetime, reference: str = "") -> None:
    """Sent means fulfilled as of the send time: lateness is frozen at the first send."""
    if obligation.status == ObligationStatus.NOT_REQUIRED:
        raise DomainError("status: this obligation is not required; nothing to send")
    if sent_at > now_utc():
        raise ValidationFailed(["sent_at: is in the future"])
    if obligation.sent_at is None:
        obligation.sent_at = sent_at
        obligation.late_by_seconds = lateness(sent_at, obligation.due_at or obligation.target_at)
    if obligation.status == ObligationStatus.PENDING:
        obligation.status = ObligationStatus.SENT
    if reference.strip():
        obligation.sent_reference = reference.strip()[:200]
    db.session.flush()
    if f"stage_filed:{obligation.rule_id}" in {r.anchor for r in shipped_rules()}:
        sync_obligations(obligation.incident)  # a filed stage starts the next stage's clock


def mark_acknowledged(obligation: Obligation, acknowledged_at: datetime) -> None:
    if obligation.status not in FROZEN:
        raise DomainError("status: only a sent notice can be acknowledged")
    if acknowledged_at > now_utc():
        raise ValidationFailed(["acknowledged_at: is in the future"])
    if obligation.sent_at and acknowledged_at < obligation.sent_at:
        raise ValidationFailed(["acknowledged_at: is before the notice was sent"])
    if obligation.acknowledged_at is None:
        obligation.acknowledged_at = acknowledged_at
        obligation.status = ObligationStatus.ACKNOWLEDGED
    db.session.flush()
