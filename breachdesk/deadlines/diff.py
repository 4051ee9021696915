"""What a derivation changes: the planned obligations against the stored ones. Pure: plain values in; the
rows to create, the columns that moved and the duties to withdraw out. The service writes them.

Sent and acknowledged obligations are history and stay as they are. Pending ones keep the terms frozen
when they arose, so only their facts (anchors, rulings, recipients, the facts that trigger them) move them. A
pending obligation the plan no longer holds is withdrawn, never deleted, with the fact that changed as its
rationale: the log keeps that it was owed, and why it no longer is.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from breachdesk.deadlines.obligations import ObligationStatus, Planned, clock
from breachdesk.deadlines.rules import STAGE_DUE, Terms

FROZEN = (ObligationStatus.SENT, ObligationStatus.ACKNOWLEDGED)
WITHDRAWN = "no longer owed: the incident's impact, assessment or the organisation profile changed"
#: what a withdrawn obligation is set to, when the fact that changed is not known
WITHDRAWAL = {"status": ObligationStatus.NOT_REQUIRED, "decided_by": "BreachDesk", "rationale": WITHDRAWN}


def withdrawal(reason: str) -> dict[str, Any]:
    """What a withdrawn obligation is set to: not required, decided by BreachDesk, the fact that changed."""
    return WITHDRAWAL | {"rationale": f"no longer owed: {reason}"} if reason else WITHDRAWAL


#: the columns derivation sets; the rest of a row is fixed when it is created, or written by people
STATE = (
    "status",
    "anchor",
    "clock_start",
    "due_at",
    "target_at",
    "recipient",
    "flag",
    "decided_by",
    "rationale",
    "customer_id",
    "triggered_by",
    "sent_at",
    "late_by_seconds",
    "sent_reference",
)


@dataclass(frozen=True)
class Stored:
    """An obligation as stored: its id, key (rule, recipient), frozen terms and the STATE columns."""

    id: int
    key: tuple[str, str]
    terms: dict[str, Any]
    state: dict[str, Any]


@dataclass(frozen=True)
class Filing:
    """A stage recorded as filed outside BreachDesk (a portal, a form): its duty is fulfilled as of then."""

    at: datetime
    reference: str


@dataclass
class Changes:
    #: new rows: every column but incident_id and created_at
    created: list[dict[str, Any]] = field(default_factory=list)
    #: a stored row and only its columns that moved (usually the clock's)
    changed: list[tuple[Stored, dict[str, Any]]] = field(default_factory=list)
    withdrawn: list[Stored] = field(default_factory=list)
    #: (rule id, recipient key) of a withdrawn row -> the fact that changed, in words
    reasons: dict[tuple[str, str], str] = field(default_factory=dict)


def diff(
    planned: list[Planned],
    stored: list[Stored],
    anchors: dict[str, datetime],
    filings: dict[str, Filing],
    declined: Callable[[tuple[str, str]], str] = lambda _key: "",
) -> Changes:
    """The changes that bring the stored obligations in line with the plan, given the clock's anchors and the
    stages filed elsewhere (by rule id); `declined` says why a duty no longer planned is not owed."""
    anchors = with_stage_dues(planned, stored, anchors)
    left = {row.key: row for row in stored}
    changes = Changes()
    for duty in planned:
        row = left.pop(duty.key, None)
        filed = filings.get(duty.rule.id)
        if row is None:
            changes.created.append(
                {
                    **state_of(duty, duty.terms, anchors, filed),
                    "rule_id": duty.rule.id,
                    "regime": duty.rule.regime,
                    "stage": duty.rule.stage,
                    "recipient_kind": duty.rule.recipient_kind,
                    "recipient_key": duty.recipient_key,
                    "condition": duty.rule.condition,
                    "source": duty.rule.source,
                    "terms": duty.terms.as_dict(),
                }
            )
        elif row.state["status"] not in FROZEN:
            state = state_of(duty, Terms.from_dict(row.terms), anchors, filed)
            moved = {name: value for name, value in state.items() if row.state[name] != value}
            if moved:
                changes.changed.append((row, moved))
    changes.withdrawn = [row for row in left.values() if row.state["status"] == ObligationStatus.PENDING]
    changes.reasons = {row.key: reason for row in changes.withdrawn if (reason := declined(row.key))}
    return changes


def with_stage_dues(planned: list[Planned], stored: list[Stored], anchors: dict[str, datetime]) -> dict[str, datetime]:
    """The anchors and, for each stage a planned duty counts from the end of (`stage_due:<rule id>`), the due time
    of that stage: the earliest of its duties, each under the terms it is held to (frozen when it arose). A stage
    counted from the end of one that is itself counted so gets its time on a later round."""
    counted_from = {
        anchor.removeprefix(STAGE_DUE)
        for duty in planned
        for anchor in (duty.terms.anchor, duty.terms.not_later_than.anchor if duty.terms.not_later_than else "")
        if anchor.startswith(STAGE_DUE)
    }
    held = {row.key: Terms.from_dict(row.terms) for row in stored}
    stages = [(duty.rule.id, held.get(duty.key, duty.terms)) for duty in planned if duty.rule.id in counted_from]
    found = dict(anchors)
    for _ in range(len(counted_from)):
        dues: dict[str, datetime] = {}
        for rule_id, terms in stages:
            if (due := terms.due(found)) is not None:
                name = f"{STAGE_DUE}{rule_id}"
                dues[name] = min(dues.get(name, due), due)
        if dues.items() <= found.items():
            break
        found |= dues
    return found


def state_of(duty: Planned, terms: Terms, anchors: dict[str, datetime], filed: Filing | None) -> dict[str, Any]:
    """The STATE columns the planned duty should have under these terms."""
    state = {
        "status": ObligationStatus.PENDING if duty.required else ObligationStatus.NOT_REQUIRED,
        **clock(terms, anchors),
        "recipient": duty.recipient[:200],
        "flag": "; ".join(part for part in (duty.flag, terms.explanation(anchors)) if part),
        "decided_by": "" if duty.required else duty.decided_by,
        "rationale": "" if duty.required else duty.rationale,
        "customer_id": duty.customer_id,
        "triggered_by": duty.triggered_under(terms),
        "sent_at": None,
        "late_by_seconds": None,
        "sent_reference": "",
    }
    if filed is not None and duty.recipient_key == duty.rule.recipient_kind:
        state |= {
            "status": ObligationStatus.SENT,
            "sent_at": filed.at,
            "sent_reference": filed.reference,
            "late_by_seconds": lateness(filed.at, state["due_at"] or state["target_at"]),
        }
    return state


def lateness(sent_at: datetime, limit: datetime | None) -> int | None:
    """Seconds after the deadline (or internal target); 0 when on time."""
    return max(0, int((sent_at - limit).total_seconds())) if limit else None
