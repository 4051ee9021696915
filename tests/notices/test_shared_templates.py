"""The shared US state templates (rules.yaml `template:`): a rule without a template of its own is written by the one
it names, which says every item of the rule's content under the item's label, in the notice's language: a French
notice says the rule's words (regime, stage, source, items) in French, and none of the English template's."""

import html

import pytest

from breachdesk.core.i18n import Label
from breachdesk.deadlines.rules import shipped_facts, shipped_rules
from breachdesk.notices.checklist import checklist, known_facts
from breachdesk.notices.rendering import (
    content_items,
    default_source,
    has_default,
    render,
    sample_values,
    shared_templates,
    statement_variables,
    template_kind,
)
from breachdesk.notices.words import CONTENT_ITEM, in_words, words_in
from tests.notices.reading import appears, phrases, reads_rendered, without_quotations

SHARED = [r for r in shipped_rules() if r.template]
#: each shared rule in each language its template ships in
SHARED_IN = [(r, language) for r in SHARED for language in ("en", "fr") if has_default(r.template, language)]


def test_every_template_a_row_names_is_shipped_in_english():
    assert {r.template for r in SHARED} <= {name for name, language in shared_templates() if language == "en"}


def test_the_us_state_owner_notice_ships_in_french_for_the_french_speaking_customers():
    assert ("us-state-owner", "fr") in shared_templates()


def test_a_rules_own_template_wins_over_the_shared_one():
    for found in shipped_rules():
        expected = found.id if has_default(found.id, "en") or not found.template else found.template
        assert template_kind(found, "en") == expected


def _full_context(found, language):
    """A late follow-up under the rule, every written fact written, in words of `language`."""
    values = sample_values(language, follow_up=True)
    written = {fact.id: f"[{fact.id} written]" for fact in shipped_facts().values() if fact.written}
    rules_words = {"regime": found.regime, "stage": found.stage, "source": found.source}
    deadline = {**values["deadline"], **rules_words, "recipient_kind": found.recipient_kind}
    return in_words(
        {**values, "statement": statement_variables(written), "items": content_items(found), "deadline": deadline}
    )


@pytest.mark.parametrize("found, language", SHARED_IN, ids=lambda v: getattr(v, "id", v))
def test_a_shared_template_says_every_content_item_of_its_rule_under_its_label(found, language):
    kind = template_kind(found, language)
    rendered = render(default_source(kind, language), _full_context(found, language))
    for item in found.content:
        label = words_in(language).say(Label(CONTENT_ITEM, item.label))
        assert label in rendered.text
        assert label in html.unescape(rendered.html)
        for fact in item.satisfied_by:
            if shipped_facts()[fact].written:
                assert f"[{fact} written]" in rendered.text


@pytest.mark.parametrize("found", [r for r, language in SHARED_IN if language == "fr"], ids=lambda r: r.id)
def test_a_french_shared_notice_says_its_rules_words_in_french_and_nothing_in_english(found):
    context = _full_context(found, "fr")
    read = reads_rendered(render(default_source(found.template, "fr"), context))
    deadline = context["deadline"]
    assert deadline["regime"] in read and deadline["stage"] in read and deadline["source"] in read
    french = without_quotations(read)
    said = [(found.regime, deadline["regime"]), (found.stage, deadline["stage"]), (found.source, deadline["source"])]
    said += [(item.label, words_in("fr").say(Label(CONTENT_ITEM, item.label))) for item in found.content]
    for english, translated in said:
        assert appears(english, translated) or not appears(english, french), english
    english_prose = phrases(default_source(found.template, "en"))
    assert english_prose and [phrase for phrase in english_prose if appears(phrase, french)] == []


@pytest.mark.parametrize("found", SHARED[:3], ids=lambda r: r.id)
def test_the_checklist_of_a_shared_template_rule_is_its_content_as_for_any_rule(found):
    written = {fact.id: "x" for fact in shipped_facts().values() if fact.written}
    known = known_facts(written, {"nature": ["confidentiality"]}, {"people": 1}, {"name": "Us"})
    assert [c.item.id for c in checklist(found, known)] == [i.id for i in found.content]
