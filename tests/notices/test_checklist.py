"""The checklist of a notice, without a database: each item of its rule is present, stated as not yet known
(where the law says "where possible"), conditional (a person judges), or missing, and only missing blocks."""

from datetime import UTC, datetime

from breachdesk.deadlines.rules import rule, shipped_facts, shipped_rules
from breachdesk.notices.checklist import State, checklist, known_facts, missing

AWARE = datetime(2026, 10, 24, 22, 0, tzinfo=UTC)
INCIDENT = {"id": 7, "nature": ["confidentiality"], "cause": None, "aware_at": AWARE, "detected_at": AWARE}
IMPACT = {"data_subjects": {"customer": 12}, "people": 12, "records": 40, "data_categories": ["user.name"]}
ORGANISATION = {"name": "Parlons SAS", "dpo_email": "dpo@parlons.example"}
WRITTEN = {
    "what_happened": "An export was left readable.",
    "consequences": "Unwanted e-mails.",
    "measures_taken": "Closed it.",
    "measures_proposed": "Review.",
}


def states(rule_id, statement, impact=IMPACT, **kwargs):
    known = known_facts(statement, INCIDENT, impact, ORGANISATION, kwargs.get("follow_up", False))
    return {check.item.id: check.state for check in checklist(rule(rule_id), known, **kwargs)}


def test_an_authority_notice_with_the_statement_written_has_every_article_33_3_item():
    assert states("gdpr-art33-1", WRITTEN) == {
        "nature": State.PRESENT,
        "categories_numbers": State.PRESENT,
        "dpo_contact": State.PRESENT,
        "consequences": State.PRESENT,
        "measures": State.PRESENT,
        "pending": State.CONDITIONAL,  # nothing is stated as pending: a person judges
    }


def test_a_blank_part_is_missing_and_names_its_fact():
    known = known_facts({**WRITTEN, "consequences": "  "}, INCIDENT, IMPACT, ORGANISATION)
    [lacking] = missing(checklist(rule("gdpr-art33-1"), known))
    assert lacking.item.id == "consequences" and lacking.lacking == ("consequences",)


def test_unknown_numbers_count_only_when_the_statement_says_they_are_not_yet_known():
    empty = {"data_subjects": {}, "people": 0, "records": 0, "data_categories": []}
    assert states("gdpr-art33-1", WRITTEN, empty)["categories_numbers"] == State.MISSING
    said = states("gdpr-art33-1", {**WRITTEN, "pending_information": "Numbers follow."}, empty)
    assert said["categories_numbers"] == State.NOT_YET_KNOWN and said["pending"] == State.PRESENT


def test_a_follow_up_adds_its_items_and_a_late_notice_its_reasons_where_the_regime_asks():
    follow_up = states("gdpr-art33-1", WRITTEN, follow_up=True)
    assert follow_up["first_notice_ref"] == State.PRESENT and follow_up["newly_known"] == State.MISSING
    assert states("gdpr-art33-1", WRITTEN, late=True)["delay_reasons"] == State.MISSING
    assert states("gdpr-art33-1", {**WRITTEN, "delay_reasons": "Weekend."}, late=True)["delay_reasons"] == State.PRESENT
    assert "delay_reasons" not in states("nis2-art23-early-warning", WRITTEN, late=True)


def test_every_rule_is_satisfied_by_a_full_statement_and_a_full_record():
    every = {fact.id: "written" for fact in shipped_facts().values() if fact.written}
    incident = {**INCIDENT, "cause": "external_attack", "occurred_from": AWARE, "occurred_to": AWARE, "encrypted": True}
    known = known_facts(every, incident, IMPACT, ORGANISATION, follow_up=True)
    for each in shipped_rules():
        assert missing(checklist(each, known, follow_up=True, late=True)) == [], each.id
