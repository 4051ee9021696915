"""Every value a notice shows is in the recipient's language and in words: the catalogue holds a word for
every value there is, and every shipped template, in every language, rendered with every value, shows no
taxonomy key, no enum value and (in French) no English word."""

from datetime import UTC, datetime

import pytest
from babel import Locale
from fideslang.default_taxonomy import DEFAULT_TAXONOMY

from breachdesk.assessments.enisa import BAND_LABELS, BANDS
from breachdesk.assessments.models import DECISION_LABELS, EXEMPTION_LABELS, Decision, Exemption
from breachdesk.core.i18n import translations
from breachdesk.deadlines.obligations import PEOPLE_WE_SERVE
from breachdesk.deadlines.rules import RECIPIENT_KIND_LABELS, RECIPIENT_KINDS, rule, shipped_rules
from breachdesk.incidents.models import CAUSE_LABELS, NATURE_LABELS, Cause, Nature
from breachdesk.inventory.models import CONTACT_ROLE_LABELS, ContactRole
from breachdesk.inventory.taxonomy import SENSITIVITY_LABELS, Sensitivity, data_categories, data_subject_categories
from breachdesk.notices.rendering import content_items, default_source, render, shipped_templates, statement_variables
from breachdesk.notices.words import (
    CONTENT_ITEM,
    DATA_CATEGORY,
    DATA_SUBJECT,
    change_lines,
    in_words,
    needed_messages,
    needs_french,
    plain_english_messages,
    words_in,
)
from tests.notices.reading import FIDES_KEY, appears, catalogue, reads_rendered, without_quotations, words_of

LANGUAGES = ("en", "fr")
AWARE = datetime(2026, 10, 24, 22, 0, tzinfo=UTC)


def test_every_message_a_notice_needs_has_a_french_word():
    """Driven by the values themselves (the taxonomy, the enums, the rules table): a Fides category added by
    a fideslang upgrade, a regime added to rules.yaml or a new enum value fails here until it is translated."""
    french = catalogue("fr")
    problems = []
    for needed in needed_messages():
        found = french.get(needed.english, context=needed.context)
        if found is None or not found.string:
            problems.append(f"missing: [{needed.context}] {needed.english}")
        elif found.fuzzy:
            problems.append(f"fuzzy (a guess to check): [{needed.context}] {needed.english}")
    assert problems == []
    assert len(needed_messages()) > len(data_categories()) * 2  # names and descriptions of every category


def test_every_category_name_has_plain_english_words():
    """Fides names its categories for a data map ("User Contact Email", "Supplier/Vendor"); an English reader
    gets plain words from the English catalogue, which holds every name of the taxonomy: a category added by a
    fideslang upgrade fails here until it has its words."""
    english = catalogue("en")
    problems = []
    for needed in plain_english_messages():
        found = english.get(needed.english, context=needed.context)
        if found is None or not found.string or found.fuzzy:
            problems.append(f"no plain words: [{needed.context}] {needed.english}")
    assert problems == []
    assert len(plain_english_messages()) == len(data_categories()) + len(data_subject_categories())
    words = words_in("en")
    assert [words.term(DATA_CATEGORY, key).name for key in ("user.contact.email", "user.content.private")] == [
        "email address",
        "private messages and files",
    ]
    assert words.term(DATA_SUBJECT, "supplier_vendor").name == "Suppliers"
    assert words.term(DATA_CATEGORY, "user.contact.email").description == "User's contact email address."


def test_every_value_of_every_enum_has_its_english_words():
    assert set(NATURE_LABELS) == set(Nature) and set(CAUSE_LABELS) == set(Cause)
    assert set(BAND_LABELS) == {name for _, name in BANDS} | {"very high"}
    assert set(DECISION_LABELS) == set(Decision) and set(EXEMPTION_LABELS) == set(Exemption)
    assert set(CONTACT_ROLE_LABELS) == set(ContactRole) and set(SENSITIVITY_LABELS) == set(Sensitivity)
    assert set(RECIPIENT_KIND_LABELS) == RECIPIENT_KINDS


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("context, keys", [(DATA_CATEGORY, data_categories), (DATA_SUBJECT, data_subject_categories)])
def test_two_categories_never_share_a_name(language, context, keys):
    """A notice lists categories by name (and counts people per name): two keys with one name would merge."""
    names = [words_in(language).term(context, key).name for key in keys()]
    assert len(set(names)) == len(names)


def test_a_follow_ups_lines_say_what_changed_in_words():
    difference = {
        "data_subjects": [{"customer": 1200, "prospect": 8}, {}],
        "records": [1200, 1400],
        "data_categories": [["user.contact.email"], ["user.name", "user.contact.email"]],
        "sensitivity": [0, 3],
    }
    assert change_lines(difference, words_in("fr")) == [
        "personnes par catégorie : Clients 1\u202f200, Prospects 8 → aucune",
        "enregistrements : 1\u202f200 → 1\u202f400",
        "catégories de données : Adresse électronique → Adresse électronique, Nom",
        "données les plus sensibles : aucune → données financières",
    ]
    assert change_lines(difference, words_in("en"))[1:3] == [
        "records: 1,200 → 1,400",
        "data categories: email address → email address, name",
    ]
    assert change_lines({"added": True}, words_in("fr")) == ["Vos données sont désormais concernées."]
    assert change_lines({"removed": True}, words_in("en")) == ["Your data is no longer concerned."]
    assert change_lines({}, words_in("fr")) == change_lines(None, words_in("fr")) == []


# --- every template, every language, every value -------------------------------------------------------


def raw_contexts(language: str):
    """One context per rule of the rules table (its regime, stage, source, recipient kind and content items), each
    with every data category, every subject category and every nature; the single-valued values (cause, band,
    decision, sensitivity) turn with the rules so that each is shown at least once."""
    causes, bands = list(Cause), list(BAND_LABELS)
    decisions, levels = list(Decision), [0, *Sensitivity]
    subjects = {key: 10 + index for index, key in enumerate(data_subject_categories())}
    for index, row in enumerate(r for r in shipped_rules() if language == "en" or needs_french(r)):
        yield {
            "organisation": {
                "name": "Parlons SAS",
                "country": "FR",
                "lead_supervisory_authority": "CNIL",
                "dpo_name": "Camille Martin",
                "dpo_email": "privacy@parlons.example",
            },
            "incident": {
                "id": 7,
                "aware_at": AWARE,
                "detected_at": AWARE,
                "occurred_from": AWARE,
                "occurred_to": AWARE,
                "nature": list(Nature),
                "cause": causes[index % len(causes)].value,
                "encrypted": True,
                "key_compromised": False,
            },
            "statement": statement_variables({"what_happened": "…", "measures_taken": "…"}),
            "impact": {
                "data_subjects": subjects,
                "people": 1234,
                "records": 56789,
                "data_categories": sorted(data_categories()),
                "sensitivity": levels[index % len(levels)],
                "activities": ["Messagerie"],
            },
            "customer": {"key": "acme", "name": "Acme", "country": "DE", "language": language},
            "contacts": [{"role": role.value, "name": "Alice", "email": "alice@acme.example"} for role in ContactRole],
            "deadline": {
                "regime": row.regime,
                "stage": row.stage,
                "source": row.source,
                "due_at": AWARE,
                "target_at": AWARE,
                "recipient": "Acme",
                "recipient_kind": row.recipient_kind,
                "late": True,
            },
            "assessment": {
                "score": "3.5",
                "band": bands[index % len(bands)],
                "exemptions": list(Exemption),
                "decision": {
                    "authority": decisions[index % len(decisions)].value,
                    "data_subjects": decisions[(index + 1) % len(decisions)].value,
                },
            },
            "followup": {
                "first_sent_at": AWARE,
                "first_reference": "7-1-1",
                "changes": {
                    "data_subjects": [subjects, {}],
                    "people": [1000, 1234],
                    "records": [50000, 56789],
                    "data_categories": [sorted(data_categories()), []],
                    "sensitivity": [levels[index % len(levels)], levels[(index + 1) % len(levels)]],
                },
            },
            "acknowledgement_link": "https://breachdesk.example/ack/token",
            "time_zone": "Europe/Paris",
            "language": language,
            "items": content_items(row),
        }


def values_with_words(raw: dict, language: str) -> list[tuple[str, str]]:
    """(the value as the application keeps it, its words in `language`) for every value of a raw context,
    read from the catalogue and the taxonomy directly, not through the code under test."""
    say = translations(language).pgettext
    fides = {c.fides_key: c.name for c in [*DEFAULT_TAXONOMY.data_category, *DEFAULT_TAXONOMY.data_subject]}
    shown = [(key, say(DATA_CATEGORY, fides[key])) for key in raw["impact"]["data_categories"]]
    shown += [(key, say(DATA_SUBJECT, fides[key])) for key in raw["impact"]["data_subjects"]]
    shown += [(value, say(*NATURE_LABELS[value])) for value in raw["incident"]["nature"]]
    shown.append((raw["incident"]["cause"], say(*CAUSE_LABELS[raw["incident"]["cause"]])))
    shown.append((raw["assessment"]["band"], say(*BAND_LABELS[raw["assessment"]["band"]])))
    shown += [(e.value, say(*EXEMPTION_LABELS[e])) for e in raw["assessment"]["exemptions"]]
    shown += [(d, say(*DECISION_LABELS[d])) for d in raw["assessment"]["decision"].values()]
    shown += [(c["role"], say(*CONTACT_ROLE_LABELS[c["role"]])) for c in raw["contacts"]]
    deadline = raw["deadline"]
    shown.append((deadline["recipient_kind"], say(*RECIPIENT_KIND_LABELS[deadline["recipient_kind"]])))
    shown += [(deadline[field], say(context, deadline[field])) for field, context in RULE_WORDS]
    shown += [(item["label"], say(CONTENT_ITEM, item["label"])) for item in raw["items"]]
    shown += [(code, Locale(language).territories[code]) for code in ("FR", "DE")]
    return shown


RULE_WORDS = (("regime", "regime"), ("stage", "stage"), ("source", "legal source"))


@pytest.mark.parametrize("kind, language", shipped_templates())
def test_a_shipped_notice_shows_every_value_in_words_of_its_language(kind, language):
    english = words_in("en")
    source = default_source(kind, language)
    for raw in raw_contexts(language):
        read = without_quotations(reads_rendered(render(source, in_words(raw))))
        assert not FIDES_KEY.search(read), FIDES_KEY.search(read).group(0)
        for value, word in values_with_words(raw, language):
            # a value as the application keeps it (a key, an enum value, the rules table's English) never
            # shows, unless it is its own word ("DORA", "notification", "Patient") or, in English, an English
            # word ("Dear customer")
            own = appears(value, word, ignore_case=True) or language == "en" and appears(value, words_of("en"), True)
            assert own or not appears(value, read), (value, word)
        if language == "en":
            continue
        for (value, word), (_, french) in zip(
            values_with_words(raw, "en"), values_with_words(raw, language), strict=True
        ):
            # nor does the English word of a value, unless French uses it too ("France", "Religion")
            if not appears(word, french, ignore_case=True) and not appears(word, words_of("fr"), ignore_case=True):
                assert not appears(word, read, ignore_case=True), (value, word)
        assert english.say(CAUSE_LABELS[raw["incident"]["cause"]]) not in read


#: the words a notice shows for the facts its rule's items need
SHOWN_FOR = {
    "nature": "nature",
    "cause": "cause",
    "data_categories": "data categories",
    "data_subject_categories": "data subjects",
}


def shown(kind: str) -> set[str]:
    """What a rule's notice shows, checked in words of its language: what its items need, the follow-up's
    changes (every template can be complementary), and an authority's heading (regime, stage, source, us); the
    people we serve (customers, data subjects, recipients of our services, clients) read no such heading."""
    found = rule(kind)
    words = {SHOWN_FOR[fact] for item in found.content for fact in item.satisfied_by if fact in SHOWN_FOR}
    if found.recipient_kind not in ("controller", "covered_entity", "data_subjects", *PEOPLE_WE_SERVE):
        words |= {"regime", "stage", "source", "country"}
    return words | {"changes"}


@pytest.mark.parametrize("kind, language", shipped_templates())
def test_a_shipped_notice_names_what_it_shows_in_its_language(kind, language):
    raw = next(raw_contexts(language))
    context = in_words(raw)
    read = reads_rendered(render(default_source(kind, language), context))
    expected = {
        "data categories": [c.name for c in context["impact"]["data_categories"]],
        "descriptions": [c.description for c in context["impact"]["data_categories"]],
        "data subjects": [c.name for c in context["impact"]["data_subjects"]],
        "nature": context["incident"]["nature"],
        "cause": [context["incident"]["cause"]],
        "band": [context["assessment"]["band"]],
        "regime": [context["deadline"]["regime"]],
        "stage": [context["deadline"]["stage"]],
        "source": [context["deadline"]["source"]],
        "country": [context["organisation"]["country"]],
        "changes": context["followup"]["changes"],
    }
    for field in sorted(shown(kind)):
        missing = [word for word in expected[field] if word not in read]
        assert missing == [], (field, missing)
    at = "25 octobre 2026 à 00:00 CEST (24 octobre 2026 à 22:00 UTC)" if language == "fr" else "25 October 2026"
    assert at in read
