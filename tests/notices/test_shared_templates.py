"""The shared US state templates (rules.yaml `template:`): a rule without a template of its own is written by the one
it names, which says every item of the rule's content under the item's label."""

import html

import pytest

from breachdesk.deadlines.rules import shipped_facts, shipped_rules
from breachdesk.notices.checklist import checklist, known_facts
from breachdesk.notices.rendering import (
    content_items,
    default_source,
    has_default,
    render,
    sample_context,
    shared_templates,
    statement_variables,
    template_kind,
)

SHARED = [r for r in shipped_rules() if r.template]


def test_every_template_a_row_names_is_shipped_in_english():
    assert {r.template for r in SHARED} <= {name for name, language in shared_templates() if language == "en"}


def test_a_rules_own_template_wins_over_the_shared_one():
    for found in shipped_rules():
        expected = found.id if has_default(found.id, "en") or not found.template else found.template
        assert template_kind(found, "en") == expected


def _full_context(found):
    context = sample_context("en")
    written = {fact.id: f"[{fact.id} written]" for fact in shipped_facts().values() if fact.written}
    deadline = {**context["deadline"], "regime": found.regime, "stage": found.stage, "source": found.source}
    return {**context, "statement": statement_variables(written), "items": content_items(found), "deadline": deadline}


@pytest.mark.parametrize("found", SHARED, ids=lambda r: r.id)
def test_a_shared_template_says_every_content_item_of_its_rule_under_its_label(found):
    kind = template_kind(found, "en")
    rendered = render(default_source(kind, "en"), _full_context(found))
    for item in found.content:
        assert item.label in rendered.text
        assert item.label in html.unescape(rendered.html)
        for fact in item.satisfied_by:
            if shipped_facts()[fact].written:
                assert f"[{fact} written]" in rendered.text


@pytest.mark.parametrize("found", SHARED[:3], ids=lambda r: r.id)
def test_the_checklist_of_a_shared_template_rule_is_its_content_as_for_any_rule(found):
    written = {fact.id: "x" for fact in shipped_facts().values() if fact.written}
    known = known_facts(written, {"nature": ["confidentiality"]}, {"people": 1}, {"name": "Us"})
    assert [c.item.id for c in checklist(found, known)] == [i.id for i in found.content]
