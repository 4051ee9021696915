"""Words and times in a reader's language: the message catalogues and a localized instant. Pure: Babel only.

The catalogues live in `breachdesk/translations/<language>/LC_MESSAGES/messages.po` (compiled to `.mo`, both
shipped); their message ids are the English words (gettext's convention). English's own catalogue holds only
the words an English reader gets instead of an id that is not yet plain English: the Fides taxonomy's names
("User Contact Email" reads "email address"). Flask-Babel reads the same folder for the pages
(`core.web.use_language`).
"""

from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import NamedTuple
from zoneinfo import ZoneInfo

from babel.core import Locale, get_global
from babel.dates import format_datetime
from babel.support import NullTranslations, Translations

TRANSLATIONS = Path(__file__).resolve().parent.parent / "translations"
#: the language of the message ids
SOURCE_LANGUAGE = "en"


class Label(NamedTuple):
    """An English word for a value, with the context that tells a translator what it names ("cause",
    "severity band"): the same English word may need different words in another language. Written in the
    code as `Label("cause", "external attack")`, it is extracted into the catalogue (`make translations`)."""

    context: str
    english: str

    def translated(self, language: str) -> str:
        return translations(language).pgettext(self.context, self.english)


@cache
def translations(language: str) -> NullTranslations:
    """The catalogue of a language; refused when it has none, so that a notice can never fall back to
    English words without anyone noticing (English, the ids' language, falls back to the ids)."""
    found = Translations.load(str(TRANSLATIONS), [language])
    if not isinstance(found, Translations) and language != SOURCE_LANGUAGE:
        raise LookupError(f"no message catalogue for the language {language!r} in {TRANSLATIONS}")
    return found


@cache
def locale(language: str) -> Locale:
    """A notice writes dozens of numbers and dates, and Babel reads its locale afresh for each one given by name."""
    return Locale.parse(language)


#: how an instant reads, in words of the language; the catalogue holds each language's pattern (Babel's
#: date-time pattern syntax: https://babel.pocoo.org/en/latest/dates.html#pattern-syntax)
DATE_TIME = Label("date and time pattern", "d MMMM y, HH:mm")


def localized_instant(instant: datetime, zone: str, language: str) -> str:
    """`29 March 2026, 02:30 CEST (00:30 UTC)`, `29 mars 2026 à 02:30 CEST (00:30 UTC)`: the reader's wall
    clock first, UTC beside it (with its own date when the day differs), so both parties quote the same
    instant. A naive datetime is refused: its zone would be a guess."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"a time zone is required (got a naive date-time {instant.isoformat()})")
    pattern, words = DATE_TIME.translated(language), locale(language)
    utc = instant.astimezone(UTC)
    local = utc.astimezone(ZoneInfo(zone))
    if local.tzname() == "UTC" or local.date() != utc.date():  # with its date
        in_utc = f"{format_datetime(utc, pattern, tzinfo=UTC, locale=words)} UTC"
    else:  # the same day: the time alone, 24-hour in every language (Babel's `HH:mm`)
        in_utc = f"{utc:%H:%M} UTC"
    if local.tzname() == "UTC":
        return in_utc
    wall = f"{format_datetime(local, pattern, tzinfo=local.tzinfo, locale=words)} {zone_name(local, language)}"
    return f"{wall} ({in_utc})"


def zone_name(local: datetime, language: str) -> str:
    """The zone's abbreviation where it has one in letters (CET, CEST, EDT), else its offset (UTC-03:00):
    the tz database writes `-03` for zones without an agreed abbreviation."""
    abbreviation = local.tzname() or ""
    if abbreviation.isalpha():
        return abbreviation
    return format_datetime(local, "ZZZZ", tzinfo=local.tzinfo, locale=locale(language)).replace("GMT", "UTC")


def country_zone(country: str) -> str | None:
    """The time zone of a country that has only one (FR, GB, BE, ...), else None: CLDR's territory zones."""
    zones = get_global("territory_zones").get(country.upper(), ())
    return zones[0] if len(zones) == 1 else None
