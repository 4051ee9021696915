"""Reading a notice as its reader does, for the tests that hold every value to words of the reader's language:
what the reader sees, whether a word shows in it, and the words each language's catalogue writes."""

import html
import re
from functools import cache

from babel.messages.pofile import read_po

from breachdesk.core.i18n import TRANSLATIONS
from breachdesk.notices.rendering import default_source, shipped_templates

#: a Fides key (user.contact.email, system.operations): taxonomy, never a reader's word
FIDES_KEY = re.compile(r"\b(?:user|system)(?:\.[a-z_]+)+")
#: what a template writes itself: not its tags, expressions and statements
TEMPLATE_CODE = re.compile(r"{[{%#].*?[}%#]}|<[^>]+>", re.DOTALL)
#: an e-mail address or a link: an identifier, not words (dpo@... names no contact role)
ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+|https?://\S+")
#: a statute quoted in its own language (« immediately following discovery » in a French legal source): the law's
#: words, which no translation replaces, not the notice's
QUOTATION = re.compile(r"«[^«»]*»")


def reads(subject: str, text: str, html_body: str) -> str:
    """What a reader sees: the subject, the text, and the HTML without its tags, entities decoded."""
    return "\n".join((subject, text, html.unescape(re.sub(r"<[^>]+>", " ", html_body))))


def reads_rendered(rendered) -> str:
    return reads(rendered.subject, rendered.text, rendered.html)


def without_addresses(read: str) -> str:
    return ADDRESS.sub(" ", read)


def without_quotations(read: str) -> str:
    return QUOTATION.sub(" ", read)


def appears(word: str, text: str, ignore_case: bool = False) -> bool:
    """`word` as a whole word (or phrase) of `text`: "sent" is not in "consent"."""
    if (word.lower() not in text.lower()) if ignore_case else (word not in text):
        return False  # most words are not there at all: no pattern to build
    return re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text, re.IGNORECASE if ignore_case else 0) is not None


def catalogue(language: str):
    with (TRANSLATIONS / language / "LC_MESSAGES/messages.po").open("rb") as handle:
        return read_po(handle)


@cache
def words_of(language: str) -> str:
    """The words a language's catalogue writes. French: its translations ("Patient", "notification", "en" are
    French too), without the statutes they quote in English. English: the message ids, which are English words,
    and the English catalogue's plain words."""
    found = catalogue(language)
    written = [without_quotations(m.string) for m in found if m.id]
    if language == "en":
        written += [m.id for m in catalogue("fr") if m.id]
    return " ".join(written)


def phrases(source: str) -> list[str]:
    """What a template writes itself, phrase by phrase (two words or more), not its code: a notice in another
    language shows none of them."""
    pieces = TEMPLATE_CODE.sub("\n", source).splitlines()
    return [piece.strip(" :—-") for piece in pieces if len(piece.split()) >= 2]


@cache
def prose(language: str) -> str:
    """What the shipped templates of a language write themselves, in that language, around the values."""
    return " ".join(
        TEMPLATE_CODE.sub(" ", default_source(kind, lang)) for kind, lang in shipped_templates() if lang == language
    )
