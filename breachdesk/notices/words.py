"""What a notice shows, in the recipient's language and in words. Pure: no database, no Flask.

The Drafter gathers the values of a notice as the application keeps them (Fides keys, enum values, the rules
table's regime, stage, source and content items' labels); `in_words` turns them into what a template shows,
through the message catalogues (core.i18n). `needed_messages` lists every message this takes, so a test can hold
each language's catalogue complete (a Fides category added by a fideslang upgrade fails it until it is translated)
and `make translations` can add the words that come from data rather than code. English is the message ids'
language, except for the taxonomy's names: `plain_english_messages` lists those, which the English catalogue
puts in plain words.
"""

import sys
import unicodedata
from functools import cache
from pathlib import Path
from typing import Any, NamedTuple

from babel import Locale
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po
from babel.numbers import format_decimal
from fideslang.default_taxonomy import DEFAULT_TAXONOMY

from breachdesk.assessments.enisa import BAND_LABELS
from breachdesk.assessments.models import DECISION_LABELS, EXEMPTION_LABELS
from breachdesk.core.i18n import DATE_TIME, TRANSLATIONS, Label, translations
from breachdesk.deadlines.rules import RECIPIENT_KIND_LABELS, shipped_rules
from breachdesk.incidents.models import CAUSE_LABELS, NATURE_LABELS
from breachdesk.inventory.models import CONTACT_ROLE_LABELS
from breachdesk.inventory.taxonomy import SENSITIVITY_LABELS

#: the notice templates the package ships (rendering reads them; this module needs to know which languages exist)
SHIPPED_TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "notices"

#: message contexts of the words that come from data: the Fides taxonomy and the rules table
DATA_CATEGORY = "data category"
DATA_SUBJECT = "data subject category"
REGIME = "regime"
STAGE = "stage"
LEGAL_SOURCE = "legal source"
CONTENT_ITEM = "content item"

#: a follow-up's lines saying what changed since the previous notice
CHANGED = {
    "data_subjects": Label("impact change", "people by category"),
    "people": Label("impact change", "people"),
    "records": Label("impact change", "records"),
    "data_categories": Label("impact change", "data categories"),
    "sensitivity": Label("impact change", "most sensitive data"),
}
CHANGE_LINE = Label("impact change", "{what}: {before} → {after}")
NOTHING = Label("impact change", "none")
NOW_CONCERNED = Label("impact change", "Your data is now concerned.")
NO_LONGER_CONCERNED = Label("impact change", "Your data is no longer concerned.")


class Term(NamedTuple):
    """A taxonomy category in words: it shows as its name (`{{ category }}`), `.description` says more."""

    name: str
    description: str

    def __str__(self) -> str:
        return self.name


@cache
def _fides(context: str) -> dict[str, tuple[str, str]]:
    """Fides key -> (English name, English description), for the data categories or the subject categories."""
    entries = DEFAULT_TAXONOMY.data_category if context == DATA_CATEGORY else DEFAULT_TAXONOMY.data_subject
    return {e.fides_key: (e.name or e.fides_key, e.description or "") for e in entries}


class Words:
    """The words of one language for every value a notice shows."""

    def __init__(self, language: str):
        self.language = language
        self.catalogue = translations(language)
        self.locale = Locale.parse(language)

    def say(self, label: Label) -> str:
        return self.catalogue.pgettext(label.context, label.english)

    def term(self, context: str, key: str) -> Term:
        """A Fides category by its name and description; a key the taxonomy lacks is shown as it is rather
        than stopping a notice (the inventory refuses such keys, so only a fideslang downgrade could)."""
        english = _fides(context).get(key)
        if english is None:
            return Term(key, "")
        name, description = english
        return Term(self.catalogue.pgettext(context, name), self.catalogue.pgettext(context, description))

    def country(self, code: str) -> str:
        return self.locale.territories.get(code.upper(), code) if code else ""

    def language_name(self, code: str) -> str:
        return self.locale.languages.get(code, code)

    def number(self, value: int) -> str:
        return format_decimal(value, locale=self.locale)


@cache
def words_in(language: str) -> Words:
    return Words(language)


def _sorted(terms, key=lambda term: term):
    """In the reader's alphabetical order: accents do not send "Électeur" after "Visiteur"."""
    return sorted(terms, key=lambda item: _folded(str(key(item))))


def _folded(text: str) -> str:
    if text.isascii():  # nothing to take apart: most terms, and every term in English
        return text.casefold()
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).casefold()


# --- the template context --------------------------------------------------------------------------------


def in_words(raw: dict[str, Any]) -> dict[str, Any]:
    """The variables a template sees (rendering.VARIABLES), from the values the Drafter gathered, in the
    language `raw["language"]`: names instead of keys, words instead of enum values, countries by name."""
    words = words_in(raw["language"])
    return {
        **raw,
        "organisation": _organisation(raw["organisation"], words),
        "incident": _incident(raw["incident"], words),
        "impact": impact_in_words(raw["impact"], words),
        "customer": _customer(raw["customer"], words),
        "contacts": [{**c, "role": words.say(CONTACT_ROLE_LABELS[c["role"]])} for c in raw["contacts"]],
        "deadline": _deadline(raw["deadline"], words),
        "assessment": _assessment(raw["assessment"], words),
        "followup": _followup(raw["followup"], words),
        "items": [{**item, "label": words.say(Label(CONTENT_ITEM, item["label"]))} for item in raw["items"]],
    }


def _followup(raw: dict[str, Any] | None, words: Words) -> dict[str, Any] | None:
    if raw is None:
        return None
    return {**raw, "changes": change_lines(raw["changes"], words)}


def _organisation(raw: dict[str, Any], words: Words) -> dict[str, Any]:
    return {**raw, "country": words.country(raw["country"])}


def _customer(raw: dict[str, Any] | None, words: Words) -> dict[str, Any] | None:
    if raw is None:
        return None
    return {**raw, "country": words.country(raw["country"]), "language": words.language_name(raw["language"])}


def _incident(raw: dict[str, Any], words: Words) -> dict[str, Any]:
    return {
        **raw,
        "nature": [words.say(NATURE_LABELS[value]) for value in raw["nature"]],
        "cause": words.say(CAUSE_LABELS[raw["cause"]]) if raw["cause"] else None,
    }


def impact_in_words(raw: dict[str, Any], words: Words) -> dict[str, Any]:
    subjects = {words.term(DATA_SUBJECT, key): people for key, people in raw["data_subjects"].items()}
    return {
        **raw,
        "data_subjects": dict(_sorted(subjects.items(), key=lambda item: item[0])),
        "data_categories": _sorted(words.term(DATA_CATEGORY, key) for key in raw["data_categories"]),
    }


def _deadline(raw: dict[str, Any], words: Words) -> dict[str, Any]:
    kind = words.say(RECIPIENT_KIND_LABELS[raw["recipient_kind"]])
    return {
        **raw,
        "regime": words.say(Label(REGIME, raw["regime"])),
        "stage": words.say(Label(STAGE, raw["stage"])),
        "source": words.say(Label(LEGAL_SOURCE, raw["source"])),
        "recipient_kind": kind,
        # the data subjects are told as a group (or the public, Art. 34(3)(c)): the notice names them so
        "recipient": kind if raw["recipient_kind"] == "data_subjects" else raw["recipient"],
    }


def _assessment(raw: dict[str, Any] | None, words: Words) -> dict[str, Any] | None:
    if raw is None:
        return None
    return {
        **raw,
        "band": words.say(BAND_LABELS[raw["band"]]),
        "exemptions": [words.say(EXEMPTION_LABELS[e]) for e in raw["exemptions"]],
        "decision": {kind: words.say(DECISION_LABELS[value]) for kind, value in raw["decision"].items()},
    }


def change_lines(difference: dict[str, Any] | None, words: Words) -> list[str]:
    """A follow-up's lines, from the difference between two impact rows (notices.services.changes_since)."""
    if not difference:
        return []
    if difference.get("added"):
        return [words.say(NOW_CONCERNED)]
    if difference.get("removed"):
        return [words.say(NO_LONGER_CONCERNED)]
    return [
        words.say(CHANGE_LINE).format(
            what=words.say(CHANGED[field]), before=_value(field, before, words), after=_value(field, after, words)
        )
        for field, (before, after) in difference.items()
    ]


def _value(field: str, value: Any, words: Words) -> str:
    if field == "data_subjects":
        subjects = _sorted((words.term(DATA_SUBJECT, k), people) for k, people in value.items())
        shown = ", ".join(f"{term} {words.number(people)}" for term, people in subjects)
    elif field == "data_categories":
        shown = ", ".join(map(str, _sorted(words.term(DATA_CATEGORY, key) for key in value)))
    elif field == "sensitivity":
        shown = words.say(SENSITIVITY_LABELS[value]) if value else ""
    else:
        shown = words.number(value)
    return shown or words.say(NOTHING)


# --- the catalogue ---------------------------------------------------------------------------------------------


def needed_messages() -> dict[Label, list[str]]:
    """Every message a notice can need, with a note for the translator (where the word comes from)."""
    needed: dict[Label, list[str]] = {DATE_TIME: ["Babel date-time pattern: d day, MMMM month, y year, HH:mm time"]}
    for labels in (
        NATURE_LABELS,
        CAUSE_LABELS,
        BAND_LABELS,
        DECISION_LABELS,
        EXEMPTION_LABELS,
        CONTACT_ROLE_LABELS,
        SENSITIVITY_LABELS,
        RECIPIENT_KIND_LABELS,
        CHANGED,
    ):
        for value, found in labels.items():
            needed.setdefault(found, []).append(f"value: {value}")
    needed[CHANGE_LINE] = ["a follow-up's line: keep {what}, {before} and {after}"]
    for found in (NOTHING, NOW_CONCERNED, NO_LONGER_CONCERNED):
        needed[found] = []
    for context in (DATA_CATEGORY, DATA_SUBJECT):
        for key, (name, description) in _fides(context).items():
            needed.setdefault(Label(context, name), []).append(f"Fides {key}: name")
            if description:
                needed.setdefault(Label(context, description), []).append(f"Fides {key}: description")
    for rule in shipped_rules():
        if not needs_french(rule):
            continue
        words = [(REGIME, rule.regime), (STAGE, rule.stage), (LEGAL_SOURCE, rule.source)]
        words += [(CONTENT_ITEM, item.label) for item in rule.content]
        for context, english in words:
            needed.setdefault(Label(context, english), []).append(f"rules.yaml: {rule.id}")
    return needed


def needs_french(rule) -> bool:
    """Whether a French notice may say the rule's regime, stage, source and content items: not when its readers
    read another language (the ICO reads English), nor when a shared template shipped in English only writes its
    notices (some US state laws), since no notice is written in a language without one."""
    if rule.reader_language not in (None, "fr"):
        return False
    return not rule.template or (SHIPPED_TEMPLATES / f"{rule.template}.fr.j2").is_file()


def plain_english_messages() -> dict[Label, list[str]]:
    """The names of the Fides categories, which English readers get in plain words too: Fides names them for
    a data map ("User Contact Email"), a notice says "email address". Their descriptions stay Fides's own."""
    needed: dict[Label, list[str]] = {}
    for context in (DATA_CATEGORY, DATA_SUBJECT):
        for key, (name, _) in _fides(context).items():
            needed.setdefault(Label(context, name), []).append(f"Fides {key}: name")
    return needed


def add_to_template(path: str) -> None:
    """Adds the words that come from data (and every label) to an extracted template (`make translations`)."""
    with open(path, "rb") as handle:
        template = read_po(handle)
    _write_template(path, template, needed_messages())


def write_plain_english_template(path: str) -> None:
    """The template of the English catalogue: the taxonomy's names only, since every other message id is
    already the English a reader gets."""
    template = Catalog(project="BreachDesk", fuzzy=False)
    _write_template(path, template, plain_english_messages())


def _write_template(path: str, template: Catalog, messages: dict[Label, list[str]]) -> None:
    """When the messages are those of a catalogue already, the template keeps its date: a run that changes
    no word leaves the committed files as they are."""
    for found, notes in messages.items():
        template.add(found.english, context=found.context, auto_comments=notes)
    for existing in TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"):
        with existing.open("rb") as handle:
            catalogue = read_po(handle)
        if {(m.context, m.id) for m in catalogue if m.id} == {(m.context, m.id) for m in template if m.id}:
            template.creation_date = catalogue.creation_date
    with open(path, "wb") as handle:
        write_po(handle, template, width=120, sort_output=True)


if __name__ == "__main__":
    add_to_template(sys.argv[1])
    write_plain_english_template(sys.argv[2])
