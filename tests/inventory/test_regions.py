"""Where people live: the region a volume row states, its default, and the region in words. Pure."""

import pytest

from breachdesk.inventory.regions import (
    UNKNOWN,
    may_lie_within,
    named_regions,
    parse_region,
    region_name,
    region_of,
    within,
)


@pytest.mark.parametrize(
    "text, stated",
    [
        ("FR", "FR"),
        (" fr ", "FR"),
        ("US-TX", "US-TX"),
        ("us-tx", "US-TX"),
        ("BR-SP", "BR-SP"),
        ("IN-MH", "IN-MH"),
        ("", ""),
        ("  ", ""),
        ("unknown", UNKNOWN),
        ("Unknown", UNKNOWN),
    ],
)
def test_a_stated_region_is_read_in_its_canonical_spelling(text, stated):
    assert parse_region(text) == stated


@pytest.mark.parametrize("text", ["FRA", "Texas", "US-", "-TX", "F", "US_TX", "US-TEXA", "U$"])
def test_a_region_not_written_as_an_iso_code_is_refused_saying_what_it_takes(text):
    with pytest.raises(ValueError) as refused:
        parse_region(text)
    assert str(refused.value) == (
        f"{text!r} is not an ISO 3166-1 alpha-2 country (FR) or ISO 3166-2 subdivision (US-TX), nor 'unknown'"
    )


@pytest.mark.parametrize(
    "text, problem",
    [
        ("XX", "'XX': 'XX' is not an ISO 3166-1 alpha-2 country"),
        ("QQ-TX", "'QQ-TX': 'QQ' is not an ISO 3166-1 alpha-2 country"),
        ("US-XX", "'US-XX': 'XX' is not an ISO 3166-2 subdivision of United States (US)"),
        # a subdivision belongs to the country its code starts with: Texas is no subdivision of Brazil
        ("BR-TX", "'BR-TX': 'TX' is not an ISO 3166-2 subdivision of Brazil (BR)"),
        ("fr-tx", "'fr-tx': 'TX' is not an ISO 3166-2 subdivision of France (FR)"),
    ],
)
def test_a_code_iso_does_not_know_names_the_country_or_subdivision_it_does_not_know(text, problem):
    with pytest.raises(ValueError) as refused:
        parse_region(text)
    assert str(refused.value) == problem


def test_a_row_without_region_takes_the_default_country_and_without_one_is_unknown():
    assert region_of("US-TX", "FR") == "US-TX"  # a stated region wins over the customer's country
    assert region_of("", "FR") == "FR"
    assert region_of(UNKNOWN, "FR") == UNKNOWN  # "we do not know" is not replaced by a guess
    assert region_of("", "") == UNKNOWN


def test_a_subdivision_lies_within_its_country_and_a_country_may_hold_any_of_its_subdivisions():
    assert within("US-TX", "US-TX") and within("US-TX", "US") and within("FR", "FR")
    assert not within("US", "US-TX") and not within("US-TX", "US-CO") and not within("USA", "US")
    assert may_lie_within("US", "US-TX") and may_lie_within(UNKNOWN, "US-TX") and may_lie_within(UNKNOWN, "FR")
    assert not may_lie_within("FR", "US-TX") and not may_lie_within("US-CO", "US-TX")
    assert not may_lie_within("US-TX", "US-TX")  # known to be there: within, not "may"


def test_a_region_is_shown_in_words_with_its_code():
    assert region_name("US-TX") == "Texas (US-TX)"
    assert region_name("FR") == "France (FR)"
    assert region_name("KR") == "South Korea (KR)"  # the common name, not "Korea, Republic of"
    assert region_name(UNKNOWN) == "a region not recorded"
    assert named_regions({"US-TX": {"people": 3}}) == {"US-TX": {"name": "Texas (US-TX)", "people": 3}}
