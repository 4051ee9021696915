"""US state laws in the rules table (issue 15): their periods ("immediately", "most expedient time", business days
of a state's own holidays), the `group` that enables them all in a profile, and every row's applicability from its
own data: it applies to enough residents of its region who lost one of its combinations, and to nobody else."""

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from breachdesk.deadlines.applicability import Residents, assess
from breachdesk.deadlines.calendar import Period, Unit, due_at
from breachdesk.deadlines.obligations import Facts, Profile, applies, clock, named, plan
from breachdesk.deadlines.rules import RulesError, parse_rules, rule, shipped_rules
from breachdesk.inventory.rules import REGIME_GROUPS, regime_map_problem, regime_problem

ROW = {
    "id": "x",
    "regime": "Vermont",
    "stage": "notification",
    "recipient_kind": "data_subjects",
    "our_roles": ["controller"],
    "anchor": "awareness",
    "condition": "always",
    "source": "a statute",
}


def _period(**period):
    return parse_rules({"rules": [{**ROW, "period": period}]})[0]


def test_vermont_business_days_skip_town_meeting_day_a_vermont_holiday():
    # aware Friday 27 February 2026; 14 business days from Monday 2 March: Town Meeting Day (Tuesday 3 March) is a
    # Vermont holiday, not a federal one, so the period ends a day later, at the end of 20 March in New York (EDT)
    aware = datetime(2026, 2, 27, 15, 0, tzinfo=UTC)
    assert due_at(aware, Period(14, Unit.BUSINESS_DAYS, "US-VT", "America/New_York")) == datetime(
        2026, 3, 21, 3, 59, 59, tzinfo=UTC
    )
    assert due_at(aware, Period(14, Unit.BUSINESS_DAYS, "US", "America/New_York")) == datetime(
        2026, 3, 20, 3, 59, 59, tzinfo=UTC
    )


def test_a_subdivision_without_known_holidays_is_refused():
    with pytest.raises(RulesError, match="holiday_country"):
        _period(amount=5, unit="business_days", holiday_country="US-XX")


def test_without_undue_delay_may_leave_its_amount_to_the_organisations_target_and_no_other_unit_may():
    found = _period(unit="without_undue_delay")
    assert found.terms(undue_delay_target_hours=48).period.amount == 48
    with pytest.raises(RulesError, match="amount"):
        _period(unit="calendar_days")


@pytest.mark.parametrize("target, expected", [(72, 24), (24, 24), (4, 4)])
def test_immediately_is_the_organisations_target_but_never_more_than_a_day(target, expected):
    terms = _period(unit="without_undue_delay", immediately=True).terms(undue_delay_target_hours=target)
    assert terms.period.amount == expected
    assert terms.describe().startswith("immediately")
    assert type(terms).from_dict(terms.as_dict()) == terms  # frozen in the obligation, read back the same


def test_immediately_belongs_to_without_undue_delay_only():
    with pytest.raises(RulesError, match="immediately"):
        _period(amount=1, unit="hours", immediately=True)


def test_the_group_enables_every_state_and_one_state_only_its_own():
    texas = rule("us-tx-521-053")
    vermont = replace(texas, id="us-vt", regime="Vermont")
    grouped = Profile("Us", ("US state laws",))
    alone = Profile("Us", ("Texas",))
    assert named(texas, grouped) and named(vermont, grouped)
    assert applies(texas, alone, frozenset({"controller"})) and not applies(vermont, alone, frozenset({"controller"}))


def test_every_group_of_the_table_may_be_named_in_a_profile_but_not_given_an_authority():
    assert sorted({r.group for r in shipped_rules() if r.group}) == list(REGIME_GROUPS)
    assert regime_problem("US state laws") is None
    assert regime_map_problem({"US state laws": "Someone"})


US_ROWS = [r for r in shipped_rules() if r.group == "US state laws"]


def _residents(row, region=None, people=None, categories=None):
    when = row.applies_when
    combination = when.data_elements[0] if when.data_elements else ()
    keys = categories if categories is not None else frozenset(e.keys[0] for e in combination)
    return {region or when.regions[0]: Residents(people or when.min_residents or 1, frozenset(keys))}


def _statuses(row):
    return frozenset({row.applies_when.customer_status}) if row.applies_when.customer_status else None


@pytest.mark.parametrize("row", US_ROWS, ids=lambda r: r.id)
def test_a_state_row_applies_to_enough_residents_of_its_region_who_lost_one_of_its_combinations(row):
    verdict = assess(row.applies_when, _residents(row), _statuses(row), "Us")
    assert verdict.applies and not verdict.questions, verdict
    assert set(verdict.regions) <= set(row.applies_when.regions)


@pytest.mark.parametrize("row", [r for r in US_ROWS if r.applies_when.min_residents], ids=lambda r: r.id)
def test_a_state_row_does_not_apply_one_resident_below_its_threshold(row):
    fewer = _residents(row, people=row.applies_when.min_residents - 1)
    assert not assess(row.applies_when, fewer, _statuses(row), "Us").applies


@pytest.mark.parametrize("row", US_ROWS, ids=lambda r: r.id)
def test_a_state_row_does_not_apply_to_residents_of_another_region_only(row):
    elsewhere = "US-HI" if "US-HI" not in row.applies_when.regions else "US-AK"
    assert not assess(row.applies_when, _residents(row, region=elsewhere), _statuses(row), "Us").applies


@pytest.mark.parametrize("row", [r for r in US_ROWS if r.applies_when.data_elements], ids=lambda r: r.id)
def test_a_state_row_does_not_apply_when_no_combination_was_lost(row):
    nothing = _residents(row, categories=frozenset({"user.content.public"}))
    assert not assess(row.applies_when, nothing, _statuses(row), "Us").applies


NAME_WITH_SSN = frozenset({"user.name", "user.government_id.national_identification_number"})


def test_californias_attorney_general_is_owed_for_more_than_500_residents_counted_from_the_residents_notice():
    general = rule("us-ca-1798-82-ag")
    assert not assess(general.applies_when, {"US-CA": Residents(500, NAME_WITH_SSN)}, None, "Us").applies
    verdict = assess(general.applies_when, {"US-CA": Residents(501, NAME_WITH_SSN)}, None, "Us")
    assert verdict.facts[0] == "501 residents of California (US-CA) affected (501 or more needed)"
    assert general.anchor == "stage_filed:us-ca-1798-82"  # 15 days from that notice (test_rules_table)


def test_floridas_residents_are_owed_within_30_days_and_its_department_from_500():
    residents, department = rule("us-fl-501-171-4"), rule("us-fl-501-171-3-department")
    assert residents.period.describe() == "30 calendar days, days ending in America/New_York"
    assert department.applies_when.min_residents == 500
    assert assess(department.applies_when, {"US-FL": Residents(500, NAME_WITH_SSN)}, None, "Us").applies


@pytest.mark.parametrize("recorded", ["PR", "US-PR"])
def test_puerto_rico_applies_whether_the_inventory_records_its_country_code_or_its_us_subdivision(recorded):
    citizens = rule("us-pr-10-lpra-4052-citizens")
    verdict = assess(citizens.applies_when, {recorded: Residents(3, NAME_WITH_SSN)}, None, "Us")
    assert verdict.applies and not verdict.questions
    assert verdict.regions == (recorded,)


def test_people_of_the_us_without_a_state_may_live_in_puerto_rico_a_person_is_asked():
    citizens = rule("us-pr-10-lpra-4052-citizens")
    verdict = assess(citizens.applies_when, {"US": Residents(3, NAME_WITH_SSN)}, None, "Us")
    assert verdict.applies and verdict.questions
    assert not assess(citizens.applies_when, {"FR": Residents(3, NAME_WITH_SSN)}, None, "Us").applies


def test_an_immediate_duty_to_the_data_owner_targets_a_day_at_most():
    owner = rule("us-nv-603a-220-2")
    assert owner.period.immediately
    terms = owner.terms(undue_delay_target_hours=72)
    assert terms.describe() == "immediately (internal target 24 hours) from awareness"


def test_a_legal_outer_limit_that_ends_before_the_target_is_a_due_time_not_a_target():
    # Arkansas: at the residents' notice (without unreasonable delay) and within 45 days; an organisation whose
    # target is 90 days owes the attorney general by the 45th day, a legal due time
    aware = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    general = rule("us-ar-4-110-105-ag")
    late_target = clock(general.terms(undue_delay_target_hours=2160), {"awareness": aware})
    assert late_target["due_at"] == datetime(2026, 6, 16, 4, 59, 59, tzinfo=UTC) and late_target["target_at"] is None
    early_target = clock(general.terms(undue_delay_target_hours=48), {"awareness": aware})
    assert early_target["target_at"] == datetime(2026, 5, 3, 12, 0, tzinfo=UTC) and early_target["due_at"] is None


def test_a_state_law_for_some_entities_only_asks_our_status_naming_how_the_profile_enabled_it():
    georgia = rule("us-ga-10-1-912")  # information brokers and data collectors only
    facts = Facts(frozenset({"controller"}), (), {}, own_regions={"US-GA": Residents(10, NAME_WITH_SSN)})
    (planned,) = plan((georgia,), Profile("Us", ("US state laws",)), facts)
    assert planned.flag.startswith(
        "the organisation profile names US state laws (so Georgia) but not our entity status"
    )
    (planned,) = plan((georgia,), Profile("Us", ("Georgia",), entity_status={"Georgia": "data collector"}), facts)
    assert planned.flag == ""
