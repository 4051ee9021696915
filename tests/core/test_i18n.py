"""The message catalogues and the localized instant: the shipped .mo says what its .po says, a language without
a catalogue is refused, an instant reads on the reader's clock with UTC beside it, the pages share the
catalogue through Flask-Babel."""

import io
import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_datetime
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po
from flask import render_template_string
from flask_babel import pgettext
from hypothesis import given, settings
from hypothesis import strategies as st

from breachdesk.core.i18n import DATE_TIME, TRANSLATIONS, country_zone, locale, localized_instant, translations
from breachdesk.core.web import use_language

CATALOGUES = sorted(TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"))


def _messages(catalogue) -> dict:
    return {(m.context, m.id): m.string for m in catalogue if m.id}


def test_there_is_a_french_catalogue_and_an_english_one_for_the_taxonomys_names():
    assert [p.parts[-3] for p in CATALOGUES] == ["en", "fr"]
    assert translations("en").pgettext("data category", "User Contact Email") == "email address"


@pytest.mark.parametrize("source", CATALOGUES, ids=lambda p: p.parts[-3])
def test_the_shipped_mo_is_the_po_compiled(source: Path):
    """`make translations` compiles; a .po edited without it would ship old words."""
    with source.open("rb") as handle:
        catalogue = read_po(handle)
    compiled = io.BytesIO()
    write_mo(compiled, catalogue)  # as `pybabel compile` does: fuzzy entries left out
    compiled.seek(0)
    with source.with_suffix(".mo").open("rb") as handle:
        shipped = read_mo(handle)
    assert _messages(shipped) == _messages(read_mo(compiled))
    assert len(_messages(shipped)) == len(_messages(catalogue))


@pytest.mark.parametrize("source", CATALOGUES, ids=lambda p: p.parts[-3])
def test_a_translation_keeps_the_placeholders_of_its_message(source: Path):
    with source.open("rb") as handle:
        catalogue = read_po(handle)
    for message in catalogue:
        if message.id and message.string:
            placeholders = r"{\w+}|%\(\w+\)s"  # the notices' str.format, the pages' gettext
            assert set(re.findall(placeholders, message.string)) == set(re.findall(placeholders, message.id)), (
                message.id
            )


def test_a_language_without_a_catalogue_is_refused_rather_than_shown_in_english():
    with pytest.raises(LookupError, match="no message catalogue for the language 'de'"):
        translations("de")
    assert translations("en").pgettext("severity band", "very high") == "very high"
    assert translations("fr").pgettext("severity band", "very high") == "très élevée"


@pytest.mark.parametrize(
    "instant, zone, language, shown",
    [
        # Europe/Paris springs forward at 01:00 UTC on 29 March 2026: the same half hour apart, two offsets
        (datetime(2026, 3, 29, 0, 30, tzinfo=UTC), "Europe/Paris", "en", "29 March 2026, 01:30 CET (00:30 UTC)"),
        (datetime(2026, 3, 29, 1, 30, tzinfo=UTC), "Europe/Paris", "en", "29 March 2026, 03:30 CEST (01:30 UTC)"),
        (datetime(2026, 3, 29, 1, 30, tzinfo=UTC), "Europe/Paris", "fr", "29 mars 2026 à 03:30 CEST (01:30 UTC)"),
        # and falls back at 01:00 UTC on 25 October 2026: 02:30 happens twice, told apart by its zone and UTC
        (datetime(2026, 10, 25, 0, 30, tzinfo=UTC), "Europe/Paris", "fr", "25 octobre 2026 à 02:30 CEST (00:30 UTC)"),
        (datetime(2026, 10, 25, 1, 30, tzinfo=UTC), "Europe/Paris", "fr", "25 octobre 2026 à 02:30 CET (01:30 UTC)"),
        # a leap day that is already 1 March in Paris: UTC carries its own date
        (
            datetime(2024, 2, 29, 23, 30, tzinfo=UTC),
            "Europe/Paris",
            "fr",
            "1 mars 2024 à 00:30 CET (29 février 2024 à 23:30 UTC)",
        ),
        (
            datetime(2024, 2, 29, 23, 30, tzinfo=UTC),
            "Europe/Paris",
            "en",
            "1 March 2024, 00:30 CET (29 February 2024, 23:30 UTC)",
        ),
        (datetime(2024, 2, 29, 12, 0, tzinfo=UTC), "America/New_York", "en", "29 February 2024, 07:00 EST (12:00 UTC)"),
        # a zone the tz database gives no abbreviation in letters is named by its offset
        (
            datetime(2026, 3, 29, 0, 30, tzinfo=UTC),
            "America/Sao_Paulo",
            "fr",
            "28 mars 2026 à 21:30 UTC-03:00 (29 mars 2026 à 00:30 UTC)",
        ),
        (datetime(2026, 3, 29, 0, 30, tzinfo=UTC), "UTC", "fr", "29 mars 2026 à 00:30 UTC"),
    ],
)
def test_an_instant_reads_on_the_readers_clock_with_utc_beside_it(instant, zone, language, shown):
    assert localized_instant(instant, zone, language) == shown


def test_an_instant_given_in_another_zone_is_the_same_instant():
    in_tokyo = datetime(2026, 3, 29, 9, 30, tzinfo=ZoneInfo("Asia/Tokyo"))
    assert localized_instant(in_tokyo, "Europe/Paris", "en") == "29 March 2026, 01:30 CET (00:30 UTC)"


@settings(max_examples=300)
@given(
    instant=st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)),
    zone=st.sampled_from(["Europe/Paris", "America/Sao_Paulo", "Asia/Kolkata", "Pacific/Chatham", "UTC"]),
    language=st.sampled_from(["en", "fr"]),
)
def test_the_utc_beside_the_readers_clock_is_babels_utc_for_any_instant(instant, zone, language):
    """Within the same day the UTC part is written with `%H:%M`, not Babel: it must be what Babel writes."""
    pattern, words = DATE_TIME.translated(language), locale(language)
    whole_utc = f"{format_datetime(instant, pattern, tzinfo=UTC, locale=words)} UTC"
    local = instant.astimezone(ZoneInfo(zone))
    if zone == "UTC":
        expected = whole_utc
    elif local.date() != instant.date():
        expected = f"({whole_utc})"
    else:
        expected = f"({format_datetime(instant, 'HH:mm', tzinfo=UTC, locale=words)} UTC)"
    assert localized_instant(instant, zone, language).endswith(expected)


def test_a_naive_datetime_is_refused():
    with pytest.raises(ValueError, match="a time zone is required"):
        localized_instant(datetime(2026, 3, 29, 0, 30), "Europe/Paris", "fr")


def test_a_country_with_one_time_zone_has_it_and_one_with_several_has_none():
    assert (country_zone("FR"), country_zone("gb"), country_zone("US")) == ("Europe/Paris", "Europe/London", None)


def test_the_pages_speak_english_unless_a_view_sets_the_language_and_share_the_notices_catalogue(app):
    page = "{{ pgettext('breach cause', 'external attack') }} · {{ _('not a message of the catalogue') }}"
    with app.test_request_context("/"):
        assert render_template_string(page) == "external attack · not a message of the catalogue"
        use_language("fr")
        assert pgettext("breach cause", "external attack") == "attaque externe"
        assert render_template_string(page) == "attaque externe · not a message of the catalogue"
    with app.app_context(), app.test_request_context("/"):  # the next request starts in English again
        assert pgettext("breach cause", "external attack") == "external attack"
