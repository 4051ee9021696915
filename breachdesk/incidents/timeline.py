"""The incident's timeline in sentences: what each audit event means to a person ("Impact computed: 13 customers,
54,111 people"), never its code (`impact.computed`) or a column's name. Plain values in, words out: no request,
no database."""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from breachdesk.incidents.models import CAUSE_LABELS, Cause

#: each incident field, as the report form names it
FIELD_WORDS = {
    "title": "title",
    "description": "description",
    "aware_at": "when we became aware",
    "detected_at": "when it was detected",
    "occurred_from": "start of the breach",
    "occurred_to": "end of the breach",
    "nature": "nature",
    "cause": "cause",
    "data_categories": "data categories touched",
    "encrypted": "data encrypted",
    "key_compromised": "key compromised",
    "containment": "containment actions",
    "status": "status",
    "owner_id": "owner",
    "systems": "systems",
}
STATUS_WORDS = {"open": "open", "assessed": "assessed", "notifying": "notifying", "closed": "closed"}
#: what a note explains, by the change it goes with
NOTE_WORDS = {"note": "Note", "aware_at": "Reason for moving the time of awareness", "reopen": "Reason for reopening"}
DECISION_WORDS = {"undecided": "undecided", "required": "required", "not_required": "not required"}
DUTY_STATUS_WORDS = {
    "pending": "pending",
    "sent": "marked sent",
    "acknowledged": "marked acknowledged",
    "not_required": "decided not required",
    "withdrawn": "withdrawn",
}


def field_words(name: str) -> str:
    return FIELD_WORDS.get(name, name.replace("_", " "))


def plural(count: int, one: str, many: str) -> str:
    return f"{count:,} {one if count == 1 else many}"


def sentence(entity_type: str, action: str, after: Mapping[str, Any], names: Mapping[str, str]) -> str:
    """One event in words. `names` gives the words of the codes an event refers to: a duty by its audit label, a
    stage by its rule id ("NIS2 early warning")."""
    if entity_type == "incident_events":
        return _determination(after, names)
    if entity_type == "assessments":
        return _assessment(action, after)
    if action == "create":
        return f"Incident filed: {after.get('title', '')}"
    if action == "impact.computed":
        totals = after.get("totals", {})
        return (
            f"Impact computed: {plural(totals.get('customers', 0), 'customer', 'customers')}, "
            f"{plural(totals.get('data_subjects', 0), 'person', 'people')}, "
            f"{plural(totals.get('records', 0), 'record', 'records')}"
        )
    if action == "obligations.derived":
        return (
            f"Duties worked out from the rules: {after.get('created', 0):,} new, {after.get('changed', 0):,} changed, "
            f"{after.get('withdrawn', 0):,} withdrawn"
        )
    if action == "update" and set(after) == {"status"}:
        return f"Status changed to {STATUS_WORDS.get(after['status'], after['status'])}"
    if action == "update":
        return "Incident edited: " + ", ".join(field_words(name) for name in after)
    return "Incident changed"


def duty_sentence(action: str, after: Mapping[str, Any], duty: str) -> str:
    """A duty's own change: "GDPR notification to Acme: marked sent"."""
    if action == "create":
        return f"Duty added: {duty}"
    status = after.get("status")
    if status:
        return f"{duty}: {DUTY_STATUS_WORDS.get(status, status.replace('_', ' '))}"
    return f"{duty}: " + ", ".join(name.replace("_", " ") for name in after) + " changed"


def _determination(after: Mapping[str, Any], names: Mapping[str, str]) -> str:
    kind = str(after.get("kind", "")).replace("_", " ")
    if after.get("stage"):
        stage = names.get(after["stage"], after["stage"])
        return f"Recorded as filed elsewhere: {stage}, on {instant_words(after.get('occurred_at'))}"
    return f"Recorded: {kind}, on {instant_words(after.get('occurred_at'))}"


def _assessment(action: str, after: Mapping[str, Any]) -> str:
    if "score" in after or action == "create":
        score = after.get("score")
        band = after.get("band")
        scored = f"severity {score} ({band})" if score is not None else "severity revised"
        return f"Risk assessed: {scored}" + _decisions(after)
    return "Risk assessment revised" + _decisions(after)


def _decisions(after: Mapping[str, Any]) -> str:
    told = {
        "the supervisory authority": after.get("decision_authority"),
        "the people affected": after.get("decision_data_subjects"),
    }
    said = [f"telling {who} {DECISION_WORDS.get(d, d)}" for who, d in told.items() if d]
    return "; " + ", ".join(said) if said else ""


def value_words(field: str, value: Any) -> str:
    """A changed value as a person reads it: an instant in UTC to the minute, a status or cause in words, a list
    joined, an unknown as "not stated"."""
    if value in (None, "", []):
        return "not stated"
    if field == "status":
        return STATUS_WORDS.get(value, str(value))
    if field == "cause":
        return CAUSE_LABELS[Cause(value)].english if value in set(Cause) else str(value)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return instant_words(value) if isinstance(value, str) and _is_instant(value) else str(value)


def _is_instant(text: str) -> bool:
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return False
    return "T" in text


def instant_words(text: Any) -> str:
    """`2026-10-25T00:30:00+00:00` as `2026-10-25 00:30 UTC`."""
    if not isinstance(text, str) or not _is_instant(text):
        return str(text or "an unknown time")
    return f"{datetime.fromisoformat(text):%Y-%m-%d %H:%M} UTC"
