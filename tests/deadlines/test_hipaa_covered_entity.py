"""HIPAA as a covered entity (45 CFR 164.404-408): the individuals, the media of each State with more than 500
affected residents, and the Secretary, now for 500 or more people and in the annual log for fewer. The pure planner,
no database; the boundaries on both sides."""

import pytest

from breachdesk.deadlines.applicability import Residents
from breachdesk.deadlines.obligations import Facts, Profile, declined, plan, rulings_from
from breachdesk.deadlines.rules import shipped_rules

HEALTH = frozenset({"user.name", "user.health_and_medical"})
CE_ROWS = {"hipaa-164-404", "hipaa-164-406", "hipaa-164-408-b", "hipaa-164-408-c"}


def profile(status: str | None) -> Profile:
    return Profile("Clinique SAS", ("HIPAA",), entity_status={"HIPAA": status} if status else {})


def facts(own: dict[str, Residents]) -> Facts:
    return Facts(frozenset({"controller"}), (), rulings_from({}, {}), own_regions=own)


def duties(own: dict[str, Residents], status: str | None = "covered entity") -> dict[tuple[str, str], object]:
    return {p.key: p for p in plan(shipped_rules(), profile(status), facts(own))}


def patients(**per_region: int) -> dict[str, Residents]:
    return {region.replace("_", "-"): Residents(people, HEALTH) for region, people in per_region.items()}


def test_a_business_associate_owes_none_of_the_covered_entitys_duties_and_an_unstated_status_asks():
    own = patients(US_TX=800)
    assert {key[0] for key in duties(own, "business associate")} == set()
    unstated = duties(own, None)
    assert {key[0] for key in unstated} == {"hipaa-164-404", "hipaa-164-406", "hipaa-164-408-b"}
    assert all("names HIPAA but not our entity status" in duty.flag for duty in unstated.values())
    reason = declined(shipped_rules(), profile("business associate"), facts(own), ("hipaa-164-404", "data_subjects"))
    assert reason == "our entity status under HIPAA is business associate; the duty binds a covered entity"


@pytest.mark.parametrize("texans, media", [(500, False), (501, True)])
def test_the_media_of_a_state_are_told_for_more_than_500_of_its_residents(texans, media):
    found = duties(patients(US_TX=texans, US_CA=20))
    assert (("hipaa-164-406", "media:US-TX") in found) == media
    assert ("hipaa-164-406", "media:US-CA") not in found
    if media:
        duty = found[("hipaa-164-406", "media:US-TX")]
        assert duty.recipient == "prominent media outlets serving Texas (US-TX)"
        assert duty.triggered_by == ["501 residents of Texas (US-TX) affected (501 or more needed)"]


def test_each_state_over_500_gets_its_own_media_notice_and_people_without_a_state_a_question():
    found = duties(patients(US_TX=900, US_NY=600, US=700, FR=5000))
    media = sorted(key[1] for key in found if key[0] == "hipaa-164-406")
    assert media == ["media:US-NY", "media:US-TX", "media:unknown"]
    unplaced = found[("hipaa-164-406", "media:unknown")]
    assert "do 501 or more residents of one subdivision of United States (US) live among the 700 people" in (
        unplaced.flag
    )
    # too few people without a state to make 501 anywhere: no question
    assert ("hipaa-164-406", "media:unknown") not in duties(patients(US_TX=900, US=500))


@pytest.mark.parametrize("people, secretary_now", [(499, False), (500, True)])
def test_the_secretary_is_told_now_from_500_people_and_in_the_annual_log_below(people, secretary_now):
    found = duties(patients(US_TX=people // 2, FR=people - people // 2))
    assert (("hipaa-164-408-b", "regulator") in found) == secretary_now
    assert (("hipaa-164-408-c", "regulator") in found) == (not secretary_now)
    assert ("hipaa-164-404", "data_subjects") in found  # the individuals, whatever their number


def test_people_not_counted_make_both_secretary_duties_questions():
    uncounted = {"US-TX": Residents(300, HEALTH, counts_unknown=True)}
    found = duties(uncounted)
    assert "are 500 or more people affected? Recorded: 300" in found[("hipaa-164-408-b", "regulator")].flag
    # each asks what makes it owed: a yes always means "owed"
    assert "are at most 499 people affected? Recorded: 300" in found[("hipaa-164-408-c", "regulator")].flag


def test_growing_past_499_withdraws_the_annual_log_saying_why():
    grown = facts(patients(US_TX=650))
    assert declined(shipped_rules(), profile("covered entity"), grown, ("hipaa-164-408-c", "regulator")) == (
        "650 people affected, more than the 499 it covers"
    )
    assert declined(shipped_rules(), profile("covered entity"), grown, ("hipaa-164-406", "media:US-NY")) == (
        "no affected residents of New York (US-NY)"
    )
