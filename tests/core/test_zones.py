"""The time zone chooser's list, and "Paris" read as Europe/Paris."""

import pytest

from breachdesk.core.zones import find_zone, zone_names


@pytest.mark.parametrize(
    "typed, zone",
    [
        ("Paris", "Europe/Paris"),
        ("  paris ", "Europe/Paris"),
        ("europe/paris", "Europe/Paris"),
        ("New York", "America/New_York"),
        ("new_york", "America/New_York"),
        ("UTC", "UTC"),
        ("America/Argentina/Buenos_Aires", "America/Argentina/Buenos_Aires"),
    ],
)
def test_a_zone_is_found_by_its_name_or_by_a_city_only_one_zone_has(typed, zone):
    assert find_zone(typed) == zone


def test_a_city_two_zones_share_is_refused_naming_both():
    with pytest.raises(ValueError) as refused:
        find_zone("Istanbul")
    assert str(refused.value) == "“Istanbul” could be Asia/Istanbul or Europe/Istanbul: choose one"


@pytest.mark.parametrize("typed", ["", "   ", "Parris", "Europe", "localtime"])
def test_what_names_no_zone_is_refused(typed):
    with pytest.raises(ValueError):
        find_zone(typed)


def test_the_list_holds_every_place_and_no_alias_of_the_server():
    names = zone_names()
    assert list(names) == sorted(names)
    assert {"Europe/Paris", "America/New_York", "Asia/Kolkata", "UTC"} <= set(names)
    assert "localtime" not in names and "Factory" not in names
