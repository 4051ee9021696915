"""Every regime and stage of the shipped rules table, at least two cases each, worked out by hand."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from breachdesk.deadlines.calendar import Period, Unit, add_months, due_at
from breachdesk.deadlines.rules import RulesError, parse_rules, rule, shipped_rules
from breachdesk.inventory.rules import REGIMES


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


CASES = [
    # rule, anchors, contract hours, expected due (UTC)
    ("gdpr-art33-2", {"awareness": "2026-03-28T23:30:00Z"}, 24, "2026-03-29T23:30:00Z"),
    ("gdpr-art33-2", {"awareness": "2026-12-31T20:00:00Z"}, 12, "2027-01-01T08:00:00Z"),
    # Paris, 23:30 on the night the clocks jump: 72 elapsed hours show as 00:30 three days later
    ("gdpr-art33-1", {"awareness": "2026-03-28T23:30:00+01:00"}, None, "2026-04-01T00:30:00+02:00"),
    # New York, 00:30 before the clocks fall back: 72 elapsed hours end at 23:30 local
    ("gdpr-art33-1", {"awareness": "2026-11-01T00:30:00-04:00"}, None, "2026-11-03T23:30:00-05:00"),
    ("gdpr-art33-1", {"awareness": "2028-02-27T12:00:00Z"}, None, "2028-03-01T12:00:00Z"),
    ("gdpr-art34", {"high_risk_established": "2026-06-01T10:00:00Z"}, None, "2026-06-04T10:00:00Z"),
    ("gdpr-art34", {"awareness": "2026-06-01T10:00:00Z"}, None, None),  # no high risk established yet
    ("uk-gdpr-art33-1", {"awareness": "2026-12-30T18:00:00Z"}, None, "2027-01-02T18:00:00Z"),
    ("uk-gdpr-art33-1", {"awareness": "2026-03-29T00:30:00Z"}, None, "2026-04-01T00:30:00Z"),
    ("nis2-art23-early-warning", {"awareness": "2026-10-24T23:00:00Z"}, None, "2026-10-25T23:00:00Z"),
    ("nis2-art23-early-warning", {"awareness": "2024-02-28T12:00:00Z"}, None, "2024-02-29T12:00:00Z"),
    ("nis2-art23-notification", {"awareness": "2026-01-01T00:00:00Z"}, None, "2026-01-04T00:00:00Z"),
    ("nis2-art23-notification", {"awareness": "2026-10-23T10:00:00Z"}, None, "2026-10-26T10:00:00Z"),
    # one month from 31 January ends on the last day of February (Reg. 1182/71 Art. 3(2)(c))
    (
        "nis2-art23-final-report",
        {"stage_filed:nis2-art23-notification": "2026-01-31T10:00:00Z"},
        None,
        "2026-02-28T23:59:59+01:00",
    ),
    (
        "nis2-art23-final-report",
        {"stage_filed:nis2-art23-notification": "2028-01-31T10:00:00Z"},
        None,
        "2028-02-29T23:59:59+01:00",
    ),
    ("nis2-art23-final-report", {"awareness": "2026-01-31T10:00:00Z"}, None, None),
    (
        "dora-initial",
        {"classified_major": "2026-05-04T10:00:00Z", "awareness": "2026-05-04T08:00:00Z"},
        None,
        "2026-05-04T14:00:00Z",
    ),
    (
        "dora-initial",
        {"classified_major": "2026-05-05T06:00:00Z", "awareness": "2026-05-04T08:00:00Z"},
        None,
        "2026-05-05T08:00:00Z",
    ),  # no later than 24 h after awareness
    ("dora-initial", {"awareness": "2026-05-04T08:00:00Z"}, None, "2026-05-05T08:00:00Z"),
    ("dora-intermediate", {"stage_filed:dora-initial": "2026-05-04T14:00:00Z"}, None, "2026-05-07T14:00:00Z"),
    ("dora-intermediate", {"stage_filed:dora-initial": "2026-12-30T00:00:00Z"}, None, "2027-01-02T00:00:00Z"),
    ("dora-final", {"stage_filed:dora-intermediate": "2026-03-31T12:00:00Z"}, None, "2026-04-30T23:59:59+02:00"),
    ("dora-final", {"stage_filed:dora-intermediate": "2026-12-15T12:00:00Z"}, None, "2027-01-15T23:59:59+01:00"),
    ("hipaa-164-410", {"awareness": "2026-01-01T03:00:00Z"}, None, "2026-03-01T23:59:59-05:00"),
    ("hipaa-164-410", {"awareness": "2028-01-15T15:00:00Z"}, None, "2028-03-15T23:59:59-04:00"),
    # Good Friday (3 April) is a Brazilian holiday, then the weekend
    ("lgpd-art48", {"awareness": "2026-04-02T15:00:00Z"}, None, "2026-04-08T23:59:59-03:00"),
    ("lgpd-art48", {"awareness": "2026-04-17T12:00:00Z"}, None, "2026-04-23T23:59:59-03:00"),  # Tiradentes 21/4
    # Thanksgiving, then New Year's Day, are US federal holidays
    ("sec-8k-item-1-05", {"materiality_determined": "2026-11-25T15:00:00Z"}, None, "2026-12-02T23:59:59-05:00"),
    ("sec-8k-item-1-05", {"materiality_determined": "2026-12-30T20:00:00Z"}, None, "2027-01-06T23:59:59-05:00"),
    ("sg-pdpa-26d", {"notifiable_assessed": "2026-12-29T20:00:00Z"}, None, "2027-01-02T23:59:59+08:00"),
    ("sg-pdpa-26d", {"notifiable_assessed": "2028-02-26T02:00:00Z"}, None, "2028-02-29T23:59:59+08:00"),
    ("in-dpdp-rule7", {"awareness": "2026-03-01T00:00:00Z"}, None, "2026-03-04T00:00:00Z"),
    ("in-dpdp-rule7", {"awareness": "2026-12-31T06:00:00Z"}, None, "2027-01-03T06:00:00Z"),
    ("us-co-6-1-716", {"awareness": "2026-03-01T05:00:00Z"}, None, "2026-03-30T23:59:59-06:00"),
    ("us-co-6-1-716", {"awareness": "2026-12-15T17:00:00Z"}, None, "2027-01-14T23:59:59-07:00"),
    ("us-tx-521-053", {"awareness": "2026-06-01T15:00:00Z"}, None, "2026-07-31T23:59:59-05:00"),
    ("us-tx-521-053", {"awareness": "2027-12-31T12:00:00Z"}, None, "2028-02-29T23:59:59-06:00"),
    ("us-tx-521-053-i", {"awareness": "2026-06-01T15:00:00Z"}, None, "2026-07-01T23:59:59-05:00"),
    # 21:00 in Chicago on 14 December: the days are counted from Texas's date, not UTC's
    ("us-tx-521-053-i", {"awareness": "2026-12-15T03:00:00Z"}, None, "2027-01-13T23:59:59-06:00"),
    ("us-wa-19-255-010", {"awareness": "2026-11-01T08:30:00Z"}, None, "2026-12-01T23:59:59-08:00"),
    ("us-wa-19-255-010", {"awareness": "2026-02-10T20:00:00Z"}, None, "2026-03-12T23:59:59-07:00"),
    # US state laws: two cases for one row of each kind of terms (the rows sharing them share the arithmetic)
    ("us-al-8-38-5", {"awareness": "2026-03-02T15:00:00Z"}, None, "2026-04-16T23:59:59-05:00"),
    # 21:00 in Alabama on 31 December: the 45 days count from that date
    ("us-al-8-38-5", {"awareness": "2026-01-01T03:00:00Z"}, None, "2026-02-14T23:59:59-06:00"),
    # "without unreasonable delay", no amount: the default target of 72 hours (the profile's, once planned)
    ("us-al-8-38-7-cra", {"awareness": "2026-05-01T12:00:00Z"}, None, "2026-05-04T12:00:00Z"),
    ("us-al-8-38-7-cra", {"awareness": "2026-12-30T20:00:00Z"}, None, "2027-01-02T20:00:00Z"),
    ("us-al-8-38-8-owner", {"awareness": "2026-07-01T12:00:00Z"}, None, "2026-07-11T23:59:59-05:00"),
    ("us-al-8-38-8-owner", {"awareness": "2026-11-01T04:00:00Z"}, None, "2026-11-10T23:59:59-06:00"),
    # at the residents' notice (without unreasonable delay) and within 45 days: the earlier, the target, binds
    ("us-ar-4-110-105-ag", {"awareness": "2026-05-01T12:00:00Z"}, None, "2026-05-04T12:00:00Z"),
    ("us-ar-4-110-105-ag", {"awareness": "2026-02-27T23:00:00Z"}, None, "2026-03-02T23:00:00Z"),
    ("us-ca-1798-82", {"awareness": "2026-01-15T18:00:00Z"}, None, "2026-02-14T23:59:59-08:00"),
    ("us-ca-1798-82", {"awareness": "2026-03-01T07:00:00Z"}, None, "2026-03-30T23:59:59-07:00"),
    # the attorney general: 15 days from our notice to the residents, not from awareness
    ("us-ca-1798-82-ag", {"stage_filed:us-ca-1798-82": "2026-02-10T17:00:00Z"}, None, "2026-02-25T23:59:59-08:00"),
    ("us-ca-1798-82-ag", {"awareness": "2026-02-10T17:00:00Z"}, None, None),
    # "immediately following discovery": the target, at most 24 hours
    ("us-ca-1798-82-owner", {"awareness": "2026-05-01T12:00:00Z"}, None, "2026-05-02T12:00:00Z"),
    ("us-ca-1798-82-owner", {"awareness": "2026-12-31T23:30:00Z"}, None, "2027-01-01T23:30:00Z"),
    ("us-ct-36a-701b", {"awareness": "2026-01-05T14:00:00Z"}, None, "2026-03-06T23:59:59-05:00"),
    ("us-ct-36a-701b", {"awareness": "2026-09-01T02:00:00Z"}, None, "2026-10-30T23:59:59-04:00"),
    ("us-dc-28-3852", {"awareness": "2026-06-01T10:00:00Z"}, None, "2026-06-04T10:00:00Z"),
    ("us-dc-28-3852", {"awareness": "2026-12-31T23:00:00Z"}, None, "2027-01-03T23:00:00Z"),
    ("us-fl-501-171-4", {"awareness": "2026-06-15T13:00:00Z"}, None, "2026-07-15T23:59:59-04:00"),
    ("us-fl-501-171-4", {"awareness": "2026-11-20T04:30:00Z"}, None, "2026-12-19T23:59:59-05:00"),
    # 24 and 48 elapsed hours, across the spring change of the clocks
    ("us-ga-10-1-912-owner", {"awareness": "2026-03-07T12:00:00Z"}, None, "2026-03-08T12:00:00Z"),
    ("us-ga-10-1-912-owner", {"awareness": "2026-12-31T12:00:00Z"}, None, "2027-01-01T12:00:00Z"),
    # 5 business days from the residents' notice on Tuesday 24 November: Thanksgiving skipped
    ("us-ia-715c-2-ag", {"stage_filed:us-ia-715c-2": "2026-11-24T16:00:00Z"}, None, "2026-12-02T23:59:59-06:00"),
    ("us-ia-715c-2-ag", {"awareness": "2026-11-24T16:00:00Z"}, None, None),
    (
        "us-la-lac-16-iii-701-ag",
        {"stage_filed:us-la-51-3074": "2026-04-01T15:00:00Z"},
        None,
        "2026-04-11T23:59:59-05:00",
    ),
    ("us-la-lac-16-iii-701-ag", {"awareness": "2026-04-01T15:00:00Z"}, None, None),
    ("us-ma-93h-3-cra", {"stage_filed:us-ma-93h-3b-ag-ocabr": "2026-04-01T15:00:00Z"}, None, "2026-04-04T15:00:00Z"),
    ("us-ma-93h-3-cra", {"awareness": "2026-04-01T15:00:00Z"}, None, None),
    ("us-mn-325e-61-cra", {"awareness": "2026-03-07T12:00:00Z"}, None, "2026-03-09T12:00:00Z"),
    ("us-mn-325e-61-cra", {"awareness": "2026-10-31T23:00:00Z"}, None, "2026-11-02T23:00:00Z"),
    ("us-mt-30-14-1704", {"awareness": "2026-02-01T00:00:00Z"}, None, "2026-02-04T00:00:00Z"),
    ("us-mt-30-14-1704", {"awareness": "2026-08-30T12:00:00Z"}, None, "2026-09-02T12:00:00Z"),
    # "immediately, but no later than 45 days": the day-long target binds
    ("us-tn-47-18-2107-b", {"awareness": "2026-05-01T12:00:00Z"}, None, "2026-05-02T12:00:00Z"),
    ("us-tn-47-18-2107-b", {"awareness": "2026-12-31T23:30:00Z"}, None, "2027-01-01T23:30:00Z"),
    # 14 business days (Vermont's holidays: Town Meeting Day, Bennington Battle Day observed) before the 45 days
    ("us-vt-9-2435-b3-preliminary", {"awareness": "2026-02-27T15:00:00Z"}, None, "2026-03-20T23:59:59-04:00"),
    ("us-vt-9-2435-b3-preliminary", {"awareness": "2026-08-10T14:00:00Z"}, None, "2026-08-31T23:59:59-04:00"),
]


@pytest.mark.parametrize(
    "rule_id, anchors, contract_hours, expected", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)]
)
def test_due_times_per_regime_and_stage(rule_id, anchors, contract_hours, expected):
    due = rule(rule_id).due({k: utc(v) for k, v in anchors.items()}, contract_hours)
    assert due == (utc(expected) if expected else None)
    if due is not None:
        assert due.tzinfo is UTC


def test_each_rule_can_say_how_its_period_is_counted():
    assert rule("gdpr-art33-1").period.describe() == "72 hours"
    assert rule("lgpd-art48").period.describe() == "3 business days (BR holidays), days ending in America/Sao_Paulo"
    assert rule("gdpr-art34").period.describe() == "without undue delay (internal target 72 hours)"
    assert rule("nis2-art23-final-report").period.describe() == "1 month, days ending in Europe/Brussels"
    assert Period(10, Unit.CALENDAR_DAYS, time_zone="Europe/Paris").describe() == (
        "10 calendar days, days ending in Europe/Paris"
    )


def _terms_kind(found):
    """What a due time depends on beyond the instant and the zone: a state row shares the cases of another row of
    its kind (54 jurisdictions reuse a few periods; the zones are covered by the rows of each zone)."""
    anchor = "stage_filed" if found.anchor.startswith("stage_filed:") else found.anchor
    limit = found.not_later_than
    return (
        anchor,
        replace(found.period, time_zone=""),
        limit and (limit.anchor, replace(limit.period, time_zone="")),
        found.contract_hours,
    )


def test_every_shipped_rule_has_at_least_two_cases_and_a_source():
    counted = {rule_id: sum(1 for c in CASES if c[0] == rule_id) for rule_id in (r.id for r in shipped_rules())}
    covered = {_terms_kind(rule(rule_id)) for rule_id, n in counted.items() if n >= 2}
    alone = [r.id for r in shipped_rules() if counted[r.id] < 2 and not (r.group and _terms_kind(r) in covered)]
    assert alone == []
    assert all(len(r.source) > 30 for r in shipped_rules())


def test_clock_hours_are_elapsed_hours_across_a_dst_change():
    aware = datetime(2026, 3, 29, 1, 30, tzinfo=ZoneInfo("Europe/Paris"))  # 30 minutes before the jump
    due = rule("gdpr-art33-1").due({"awareness": aware.astimezone(UTC)})
    assert due - aware == timedelta(hours=72)
    assert due.astimezone(ZoneInfo("Europe/Paris")).hour == 2  # the wall clock shows 73 hours later


def test_a_bad_rules_table_is_refused_naming_the_row():
    good = {
        "id": "x",
        "regime": "X",
        "stage": "s",
        "recipient_kind": "regulator",
        "our_roles": ["controller"],
        "anchor": "awareness",
        "period": {"amount": 3, "unit": "business_days", "holiday_country": "BR"},
        "condition": "always",
        "source": "A law, article 1, which says three business days.",
    }
    assert parse_rules({"rules": [good]})[0].period.unit == Unit.BUSINESS_DAYS
    for change, message in [
        ({"anchor": "sunrise"}, "rules[x].anchor"),
        ({"period": {"amount": 3, "unit": "business_days"}}, "holiday_country"),
        ({"period": {"amount": 0, "unit": "hours"}}, "rules[x].period.amount"),
        ({"recipient_kind": "press"}, "rules[x].recipient_kind"),
        ({"source": " "}, "rules[x].source"),
        ({"anchor": "stage_filed:nowhere"}, "names an unknown stage"),
    ]:
        with pytest.raises(RulesError, match=message.replace("[", r"\[").replace("]", r"\]")):
            parse_rules({"rules": [{**good, **change}]})


def test_months_end_on_the_same_date_or_the_last_day_of_the_month():
    from datetime import date

    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert add_months(date(2026, 12, 15), 1) == date(2027, 1, 15)
    assert add_months(date(2026, 3, 31), 11) == date(2027, 2, 28)


PERIODS = st.one_of(
    st.builds(Period, st.integers(1, 2000), st.just(Unit.HOURS)),
    st.builds(
        Period,
        st.integers(1, 400),
        st.just(Unit.CALENDAR_DAYS),
        st.none(),
        st.sampled_from(["Europe/Paris", "America/New_York", "Asia/Singapore"]),
    ),
    st.builds(
        Period,
        st.integers(1, 30),
        st.just(Unit.BUSINESS_DAYS),
        st.sampled_from(["BR", "US", "FR"]),
        st.sampled_from(["America/Sao_Paulo", "America/New_York", "Europe/Paris"]),
    ),
    st.builds(Period, st.integers(1, 24), st.just(Unit.MONTHS), st.none(), st.sampled_from(["Europe/Brussels"])),
)
STARTS = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC))


@given(STARTS, PERIODS)
def test_a_deadline_is_never_before_its_clock_start(start, period):
    assert due_at(start, period) > start


@given(STARTS, st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=40)), PERIODS)
def test_moving_awareness_later_never_moves_a_deadline_earlier(start, delay, period):
    assert due_at(start + delay, period) >= due_at(start, period)


@given(STARTS, st.integers(1, 10_000))
def test_clock_hour_deadlines_are_exactly_n_hours_of_elapsed_time(start, hours):
    assert due_at(start, Period(hours, Unit.HOURS)) - start == timedelta(hours=hours)


def test_naive_clock_starts_are_refused():
    with pytest.raises(ValueError, match="clock_start: a time zone is required"):
        due_at(datetime(2026, 1, 1), Period(72, Unit.HOURS))


def test_an_organisation_profile_may_name_exactly_the_regimes_of_the_rules_table():
    assert list(REGIMES) == sorted({r.regime for r in shipped_rules()})
