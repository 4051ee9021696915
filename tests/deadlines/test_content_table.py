"""Each rule's content checklist is data next to the rule: every rule has content, every fact it uses is
defined, every item cites a non-empty source, and a bad entry is refused naming its row."""

import pytest

from breachdesk.deadlines.rules import RulesError, parse_rules, shipped_facts, shipped_rules
from breachdesk.notices.checklist import STATEMENT_PARTS

ROW = {
    "id": "x",
    "regime": "X",
    "stage": "s",
    "recipient_kind": "regulator",
    "our_roles": ["controller"],
    "anchor": "awareness",
    "period": {"amount": 3, "unit": "hours"},
    "condition": "always",
    "source": "A law, article 1.",
}
FACTS = [{"id": "what_happened", "label": "What happened", "written_by": "statement"}]
ITEM = {"id": "nature", "label": "What happened", "source": "A law, article 2", "satisfied_by": ["what_happened"]}


def items_of(rule):
    return [*rule.content, *(rule.followup.content if rule.followup else ())]


def test_every_rule_has_content_citing_its_sources_in_defined_facts():
    facts = shipped_facts()
    for rule in shipped_rules():
        assert rule.content, f"{rule.id}: no content"
        for item in items_of(rule):
            assert item.source.strip() and item.label.strip(), f"{rule.id}.{item.id}"
            assert set(item.satisfied_by) <= set(facts), f"{rule.id}.{item.id}"
        if rule.late:
            assert rule.late.source.strip()
        if rule.followup:
            assert rule.followup.source.strip() and rule.followup.content


def test_the_statements_parts_are_facts_a_person_writes():
    facts = shipped_facts()
    assert all(facts[part].written for part in STATEMENT_PARTS)
    assert not facts["data_categories"].written and not facts["aware_at"].written


def test_the_unverified_marks_and_the_gdpr_reasons_for_delay_are_kept():
    by_id = {rule.id: rule for rule in shipped_rules()}
    assert by_id["gdpr-art33-1"].late.source == "GDPR Art. 33(1), second sentence"
    assert [i.source for i in by_id["gdpr-art33-1"].content][:4] == [f"GDPR Art. 33(3)({p})" for p in "aabc"]
    assert "(unverified)" in by_id["uk-gdpr-art33-1"].content[0].source
    assert by_id["gdpr-art33-1"].content[1].where_possible
    assert by_id["nis2-art23-early-warning"].late is None  # the Directive asks no reasons


@pytest.mark.parametrize(
    "change, message",
    [
        ({"content": [{**ITEM, "satisfied_by": ["mood"]}]}, r"rules\[x\]\.content\[nature\]\.satisfied_by: unknown"),
        ({"content": [{**ITEM, "source": " "}]}, r"rules\[x\]\.content\[nature\]\.source"),
        ({"content": [{**ITEM, "colour": "red"}]}, r"rules\[x\]\.content\[nature\]: unknown field"),
        ({"content": [{k: v for k, v in ITEM.items() if k != "label"}]}, r"content\[nature\]: missing \['label'\]"),
        ({"late": {"note": "why"}}, r"rules\[x\]\.late\.source"),
        ({"followup": {"source": "Art. 4", "content": [{**ITEM, "satisfied_by": []}]}}, r"followup\.content"),
    ],
)
def test_a_bad_content_entry_is_refused_naming_its_row(change, message):
    assert parse_rules({"facts": FACTS, "rules": [{**ROW, "content": [ITEM]}]})[0].content[0].id == "nature"
    with pytest.raises(RulesError, match=message):
        parse_rules({"facts": FACTS, "rules": [{**ROW, **change}]})


def test_a_bad_fact_is_refused_naming_it():
    with pytest.raises(RulesError, match=r"facts\[mood\]\.written_by"):
        parse_rules({"facts": [{"id": "mood", "label": "Mood", "written_by": "oracle"}], "rules": []})
