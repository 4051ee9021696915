"""What a notice must say under its rule, item by item, and whether it says it. Pure: no database, no Flask.

The items are data next to their rule (rules.yaml `content:`, `followup:`, `late:`). An item is present when
every fact it needs has a value: the statement for recipients (in the notice's language) for what a person
writes, the incident's record, the recipient's impact row and the organisation for what the system knows.
"""

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from breachdesk.core.i18n import Label
from breachdesk.deadlines.rules import ContentItem, Rule

#: the statement's parts kept as columns; its other facts are answers keyed by fact id
STATEMENT_PARTS = (
    "what_happened",
    "consequences",
    "measures_taken",
    "measures_proposed",
    "advice",
    "contact_point",
    "delay_reasons",
    "newly_known",
    "pending_information",
)

#: the item a late notice adds where its regime asks for the reasons for the delay (GDPR Art. 33(1))
DELAY_ITEM_ID = "delay_reasons"


class State(enum.StrEnum):
    PRESENT = "present"
    #: a where_possible item the statement says is not yet known (its pending information): that counts
    NOT_YET_KNOWN = "stated as not yet known"
    #: required only in a situation a person judges (applies_when); not present, and not blocking
    CONDITIONAL = "only if it applies"
    MISSING = "missing"


#: what the draft page calls each state
STATE_LABELS = {
    State.PRESENT: Label("checklist state", "present"),
    State.NOT_YET_KNOWN: Label("checklist state", "stated as not yet known"),
    State.CONDITIONAL: Label("checklist state", "only if it applies"),
    State.MISSING: Label("checklist state", "missing"),
}


@dataclass(frozen=True)
class Check:
    item: ContentItem
    state: State
    #: the facts the notice lacks for this item
    lacking: tuple[str, ...] = ()

    @property
    def state_label(self) -> Label:
        return STATE_LABELS[self.state]

    @property
    def blocking(self) -> bool:
        return self.state == State.MISSING


def known_facts(
    statement: Mapping[str, Any],
    incident: Mapping[str, Any],
    impact: Mapping[str, Any],
    organisation: Mapping[str, Any],
    follow_up: bool = False,
) -> set[str]:
    """The facts that have a value for one notice. `statement` maps statement parts and answers (fact ids) to
    text in the notice's language; the others are the raw values the Drafter gathers (keys, not words)."""
    known = {fact for fact, text in statement.items() if isinstance(text, str) and text.strip()}
    system = {
        "nature": bool(incident.get("nature")),
        "cause": bool(incident.get("cause")),
        "aware_at": incident.get("aware_at") is not None,
        "discovered_at": incident.get("detected_at") is not None,
        "occurred_from": incident.get("occurred_from") is not None,
        "occurred_to": incident.get("occurred_to") is not None,
        "encryption": incident.get("encrypted") is not None,
        "data_subject_categories": bool(impact.get("data_subjects")),
        "people": bool(impact.get("people")),
        "data_categories": bool(impact.get("data_categories")),
        "records": bool(impact.get("records")),
        "dpo_contact": bool(organisation.get("dpo_email")),
        "organisation": bool(organisation.get("name")),
        "reference": incident.get("id") is not None,
        "stage": True,
        # a follow-up names the first notice and says what changed (or that the impact did not)
        "first_notice": follow_up,
        "changes": follow_up,
    }
    return known | {fact for fact, has in system.items() if has}


def checklist(rule: Rule, known: set[str], follow_up: bool = False, late: bool = False) -> list[Check]:
    """Each item of the rule (and of its follow-up, and the reasons for a delay when the notice is late and
    the regime asks for them) with its state."""
    items = list(rule.content)
    if follow_up and rule.followup:
        items += rule.followup.content
    if late and rule.late:
        items.append(ContentItem(DELAY_ITEM_ID, "The reasons for the delay", rule.late.source, ("delay_reasons",)))
    return [_check(item, known) for item in items]


def _check(item: ContentItem, known: set[str]) -> Check:
    lacking = tuple(fact for fact in item.satisfied_by if fact not in known)
    if not lacking:
        return Check(item, State.PRESENT)
    if item.where_possible and "pending_information" in known:
        return Check(item, State.NOT_YET_KNOWN, lacking)
    if item.applies_when:
        return Check(item, State.CONDITIONAL, lacking)
    return Check(item, State.MISSING, lacking)


def missing(checks: list[Check]) -> list[Check]:
    return [check for check in checks if check.blocking]
