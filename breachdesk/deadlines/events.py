"""Recording the dated facts that start or stop clocks: a determination, or a stage filed outside BreachDesk.
Each one re-derives the incident's obligations. Callers commit."""

from typing import Any

from breachdesk.auth.models import User
from breachdesk.core.clock import now_utc
from breachdesk.core.errors import ValidationFailed
from breachdesk.deadlines.rules import shipped_rules
from breachdesk.deadlines.services import EVENT_KINDS, NEGATIVE_EVENTS, sync_obligations
from breachdesk.extensions import db
from breachdesk.incidents.models import Incident, IncidentEvent
from breachdesk.incidents.services import CLOCK_SKEW, instant

EVENT_FIELDS = {"kind", "at", "stage", "note", "reference"}


def record_event(incident: Incident, data: dict[str, Any], user: User | None) -> IncidentEvent:
    """A dated fact that anchors clocks: a determination, or a stage filed outside BreachDesk."""
    problems = [f"{name}: unknown field" for name in sorted(set(data) - EVENT_FIELDS)]
    kind = data["kind"] if isinstance(data.get("kind"), str) else None  # anything else is refused like an unknown kind
    stage = data.get("stage") or None
    if kind not in EVENT_KINDS:
        problems.append(f"kind: one of {', '.join(sorted(EVENT_KINDS))}")
    if kind == "stage_filed":
        if not isinstance(stage, str) or stage not in {r.id for r in shipped_rules()}:
            problems.append(f"stage: {stage!r} is not a rule id of the rules table")
    elif stage is not None:
        problems.append("stage: only for kind stage_filed")
    texts = {}
    for name, limit in (("note", 20000), ("reference", 200)):
        value = data.get(name) or ""
        if not isinstance(value, str) or len(value) > limit:
            problems.append(f"{name}: text of at most {limit} characters")
        texts[name] = value.strip() if isinstance(value, str) else ""
    if kind in NEGATIVE_EVENTS and not texts["note"]:
        problems.append("note: required for a negative determination (who decided what, and why)")
    at = None
    if data.get("at") in (None, ""):
        problems.append("at: is required (when it was determined or filed, RFC 3339 with an offset)")
    else:
        try:
            at = instant("at", data["at"])
        except ValueError as error:
            problems.append(str(error))
        if at is not None and at > now_utc() + CLOCK_SKEW:
            problems.append("at: is in the future")
    if problems:
        raise ValidationFailed(problems)
    event = IncidentEvent(
        incident_id=incident.id,
        kind=kind,
        stage=stage,
        occurred_at=at,
        note=texts["note"],
        reference=texts["reference"],
        recorded_by=user,
    )
    db.session.add(event)
    db.session.flush()
    sync_obligations(incident)
    return event
