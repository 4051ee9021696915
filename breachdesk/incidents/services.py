"""Incident services: open, change (with a reason for the legal clock), move status, add notes.

The same validation serves the intake form and the JSON API, so both refuse the same input with the
same message naming the field. Callers commit.
"""

from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select

from breachdesk.auth.models import User
from breachdesk.core.clock import now_utc, parse_instant
from breachdesk.core.db import MAX_ROW_ID
from breachdesk.core.errors import DomainError, ValidationFailed
from breachdesk.core.signals import impact_recomputed, incident_changed, incident_closing, incident_filed
from breachdesk.extensions import db
from breachdesk.impact.services import current_snapshot, take_snapshot
from breachdesk.incidents.models import Cause, Incident, IncidentNote, IncidentStatus, Nature
from breachdesk.inventory.models import System
from breachdesk.inventory.rules import data_category_problem

FIELDS = (
    "title",
    "aware_at",
    "systems",
    "nature",
    "description",
    "detected_at",
    "occurred_from",
    "occurred_to",
    "cause",
    "data_categories",
    "encrypted",
    "key_compromised",
    "containment",
    "owner_id",
)
INSTANTS = ("aware_at", "detected_at", "occurred_from", "occurred_to")
CLOCK_SKEW = timedelta(minutes=5)  # a phone a little ahead of the server is not an error
MAX_TEXT = {"title": 200, "description": 20000, "containment": 20000}
#: forward moves; closed -> open is a reopening and needs a reason
FORWARD = [IncidentStatus.OPEN, IncidentStatus.ASSESSED, IncidentStatus.NOTIFYING, IncidentStatus.CLOSED]
#: what signs the incident links alerts carry: a link in a chat channel or a mail that BreachDesk did not write
#: points nowhere
LINK_SALT = "incident-link"


def clean(data: dict[str, Any], partial: bool = False) -> dict[str, Any]:
    """Validate incident fields from a form or JSON. Instants may be aware datetimes or RFC 3339 strings."""
    problems: list[str] = []
    values: dict[str, Any] = {}
    for name in sorted(set(data) - set(FIELDS)):
        problems.append(f"{name}: unknown field")
    required = () if partial else ("title", "aware_at", "systems")
    for name in required:
        if data.get(name) in (None, "", []):
            problems.append(f"{name}: is required" + (" (at least one system key)" if name == "systems" else ""))
    for name in FIELDS:
        if name not in data or data[name] is None or name in required and data[name] in ("", []):
            continue
        value = data[name]
        try:
            values[name] = _clean_field(name, value)
        except ValueError as error:
            problems.append(str(error))
    if values.get("occurred_from") and values.get("occurred_to") and values["occurred_from"] > values["occurred_to"]:
        problems.append("occurred_to: is before occurred_from")
    if values.get("aware_at") and values["aware_at"] > now_utc() + CLOCK_SKEW:
        problems.append("aware_at: is in the future")
    if problems:
        raise ValidationFailed(problems)
    return values


def _clean_field(name: str, value: Any) -> Any:
    if name in INSTANTS:
        return instant(name, value)
    if name in MAX_TEXT:
        return _text(name, value)
    if name in ("encrypted", "key_compromised"):
        return _flag(name, value)
    if name in CLEANERS:
        return CLEANERS[name](value)
    raise ValueError(f"{name}: unknown field")


def _text(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{name}: expected text")
    if len(value) > MAX_TEXT[name]:
        raise ValueError(f"{name}: longer than {MAX_TEXT[name]} characters")
    return value.strip()


def _flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"{name}: expected true or false")
    return value


def _nature(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError("nature: expected a list of confidentiality, integrity, availability")
    unknown = [v for v in value if v not in {n.value for n in Nature}]
    if unknown:
        raise ValueError(f"nature: {unknown[0]!r} is not one of confidentiality, integrity, availability")
    return sorted(set(value), key=[n.value for n in Nature].index)


def _cause(value: Any) -> Cause:
    if not isinstance(value, str) or value not in {c.value for c in Cause}:
        raise ValueError(f"cause: {value!r} is not one of {', '.join(c.value for c in Cause)}")
    return Cause(value)


def _data_categories(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError("data_categories: expected a list of Fides data category keys")
    for key in value:
        if problem := data_category_problem(key):
            raise ValueError(f"data_categories: {problem}")
    return sorted(set(value))


def _owner_id(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError("owner_id: expected a user id")
    owner = db.session.get(User, value) if 1 <= value <= MAX_ROW_ID else None
    if owner is None or not owner.is_active:
        raise ValueError(f"owner_id: no active user with id {value}")
    return value


def instant(name: str, value: Any) -> datetime:
    """An aware instant from a datetime or an RFC 3339 string; the error names the field."""
    if isinstance(value, datetime):
        return parse_instant(value.isoformat(), name)
    if not isinstance(value, str):
        raise ValueError(f"{name}: expected an RFC 3339 date-time string")
    return parse_instant(value, name)


def _systems(keys: Any) -> list[System]:
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise ValueError("systems: expected a list of system keys")
    if not keys:
        raise ValueError("systems: is required (at least one system key)")
    found = {s.key: s for s in db.session.scalars(select(System).where(System.key.in_(keys)))}
    unknown = [k for k in keys if k not in found]
    if unknown:
        raise ValueError(f"systems: unknown system key(s) {', '.join(repr(k) for k in unknown)}")
    return [found[k] for k in dict.fromkeys(keys)]


#: the fields whose cleaning is more than a type check, by name
CLEANERS = {
    "systems": _systems,
    "nature": _nature,
    "cause": _cause,
    "data_categories": _data_categories,
    "owner_id": _owner_id,
}


def open_incident(data: dict[str, Any], reported_by_id: int | None) -> Incident:
    """File an incident and compute its impact at once: the on-call sees who is affected straight away."""
    values = clean(data)
    incident = Incident(
        reported_by_id=reported_by_id,
        owner_id=values.pop("owner_id", reported_by_id),
        status=IncidentStatus.OPEN,
        **values,
    )
    db.session.add(incident)
    db.session.flush()
    take_snapshot(incident)
    incident_changed.send(incident)
    incident_filed.send(incident)  # after its duties, so that the alert can say the soonest
    return incident


def recompute_impact(incident: Incident):
    """A new impact snapshot, and the obligations it implies (customers added or no longer affected)."""
    before = current_snapshot(incident.id)
    snapshot = take_snapshot(incident)
    incident_changed.send(incident)
    impact_recomputed.send(incident, before=before, after=snapshot)
    return snapshot


def update_incident(incident: Incident, data: dict[str, Any], author_id: int | None, reason: str = "") -> Incident:
    """Change details. Moving the moment of awareness moves every deadline, so it needs a written reason."""
    values = clean(data, partial=True)
    if "aware_at" in values and values["aware_at"] != incident.aware_at:
        if not reason.strip():
            raise ValidationFailed(["reason: required when changing aware_at (it moves every deadline)"])
        was = incident.aware_at
        db.session.add(
            IncidentNote(
                incident=incident,
                author_id=author_id,
                kind="aware_at",
                text=f"Awareness moved from {was.isoformat()} to {values['aware_at'].isoformat()}: {reason.strip()}",
            )
        )
    for name, value in values.items():
        setattr(incident, name, value)
    db.session.flush()
    incident_changed.send(incident)  # a moved awareness moves every clock counted from it
    return incident


def change_status(incident: Incident, new: IncidentStatus, author_id: int | None, reason: str = "") -> None:
    new = IncidentStatus(new)
    old = incident.status
    if new == old:
        return
    if FORWARD.index(new) < FORWARD.index(old):
        if not (old == IncidentStatus.CLOSED and new == IncidentStatus.OPEN):
            raise DomainError(f"status: cannot go back from {old} to {new}; reopen a closed incident instead")
        if not reason.strip():
            raise ValidationFailed(["reason: required to reopen an incident"])
        db.session.add(IncidentNote(incident=incident, author_id=author_id, kind="reopen", text=reason.strip()))
    if new == IncidentStatus.CLOSED:
        _note_closing(incident, author_id, reason)
    incident.status = new
    db.session.flush()


def pending_duties(incident: Incident) -> list[str]:
    """The duties still owed, in words, from the domains that keep them."""
    return [line for _receiver, lines in incident_closing.send(incident) for line in lines]


def _note_closing(incident: Incident, author_id: int | None, reason: str) -> None:
    """Closing while duties are still owed leaves a record an auditor will ask about: the reason, and the duties
    it left, in the timeline and the register (Art. 33(5))."""
    pending = pending_duties(incident)
    if not pending:
        return
    if not reason.strip():
        raise ValidationFailed(
            [f"reason: required to close with {len(pending)} duty(ies) still pending: {'; '.join(pending)}"]
        )
    text = f"Closed with {len(pending)} duty(ies) still pending ({'; '.join(pending)}): {reason.strip()}"
    db.session.add(IncidentNote(incident=incident, author_id=author_id, kind="close", text=text[:20000]))


def incident_link(incident_id: int) -> str:
    """The absolute, signed link to an incident that an alert carries."""
    token = URLSafeSerializer(current_app.config["SECRET_KEY"], salt=LINK_SALT).dumps(incident_id)
    return f"{current_app.config['PUBLIC_BASE_URL'].rstrip('/')}/incidents/link/{token}"


def incident_of_link(token: str) -> int | None:
    """The incident a signed link names, or None when BreachDesk did not sign it."""
    try:
        incident_id = URLSafeSerializer(current_app.config["SECRET_KEY"], salt=LINK_SALT).loads(token)
    except BadSignature:
        return None
    return incident_id if isinstance(incident_id, int) else None


def add_note(incident: Incident, text: str, author_id: int | None) -> IncidentNote:
    if not text.strip():
        raise ValidationFailed(["text: a note cannot be empty"])
    note = IncidentNote(incident=incident, author_id=author_id, kind="note", text=text.strip()[:20000])
    db.session.add(note)
    db.session.flush()
    return note
