"""Every regime and stage of the shipped rules table, at least two cases each, worked out by hand."""

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from breachdesk.deadlines.calendar import Period, Unit, add_months, due_at, year_end
from breachdesk.deadlines.rules import RulesError, Terms, parse_rules, rule, shipped_rules
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
    # the customer's contract hours, as in the EU row; a clock that ignores the UK's summer time change
    ("uk-gdpr-art33-2", {"awareness": "2026-03-28T23:30:00Z"}, 24, "2026-03-29T23:30:00Z"),
    ("uk-gdpr-art33-2", {"awareness": "2026-12-31T20:00:00Z"}, 12, "2027-01-01T08:00:00Z"),
    ("uk-gdpr-art34", {"high_risk_established": "2026-06-01T10:00:00Z"}, None, "2026-06-04T10:00:00Z"),
    ("uk-gdpr-art34", {"awareness": "2026-06-01T10:00:00Z"}, None, None),  # no high risk established yet
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
    ("dora-final", {"stage_filed_latest:dora-intermediate": "2026-03-31T12:00:00Z"}, None, "2026-04-30T23:59:59+02:00"),
    ("dora-final", {"stage_filed_latest:dora-intermediate": "2026-12-15T12:00:00Z"}, None, "2027-01-15T23:59:59+01:00"),
    # 23(4)(c): from the authority's request; the Directive sets no period, so our target (72 h until the profile's)
    ("nis2-art23-intermediate", {"report_requested": "2026-05-04T10:00:00Z"}, None, "2026-05-07T10:00:00Z"),
    ("nis2-art23-intermediate", {"awareness": "2026-05-04T10:00:00Z"}, None, None),  # nobody asked yet
    # 23(4)(e): the progress report is due when the final report would have been
    (
        "nis2-art23-progress-report",
        {"stage_filed:nis2-art23-notification": "2026-01-31T10:00:00Z"},
        None,
        "2026-02-28T23:59:59+01:00",
    ),
    ("nis2-art23-progress-report", {"awareness": "2026-01-31T10:00:00Z"}, None, None),
    (
        "nis2-art23-final-after-handling",
        {"incident_handled": "2026-03-31T08:00:00Z"},
        None,
        "2026-04-30T23:59:59+02:00",
    ),
    (
        "nis2-art23-final-after-handling",
        {"stage_filed:nis2-art23-notification": "2026-01-31T10:00:00Z"},
        None,
        None,
    ),  # still being handled
    ("nis2-art23-1-recipients", {"significance_determined": "2026-05-04T10:00:00Z"}, None, "2026-05-07T10:00:00Z"),
    ("nis2-art23-1-recipients", {"awareness": "2026-05-04T10:00:00Z"}, None, None),
    ("dora-art19-3-clients", {"classified_major": "2026-05-04T10:00:00Z"}, None, "2026-05-07T10:00:00Z"),
    ("dora-art19-3-clients", {"awareness": "2026-05-04T10:00:00Z"}, None, None),
    ("hipaa-164-410", {"awareness": "2026-01-01T03:00:00Z"}, None, "2026-03-01T23:59:59-05:00"),
    ("hipaa-164-410", {"awareness": "2028-01-15T15:00:00Z"}, None, "2028-03-15T23:59:59-04:00"),
    # as a covered entity: the internal target for "without unreasonable delay" binds before the 60-day cap
    ("hipaa-164-404", {"awareness": "2026-01-01T03:00:00Z"}, None, "2026-01-04T03:00:00Z"),
    ("hipaa-164-404", {"awareness": "2028-02-28T12:00:00Z"}, None, "2028-03-02T12:00:00Z"),
    ("hipaa-164-406", {"awareness": "2026-01-01T03:00:00Z"}, None, "2026-01-04T03:00:00Z"),
    ("hipaa-164-406", {"awareness": "2026-11-01T05:30:00Z"}, None, "2026-11-04T05:30:00Z"),
    ("hipaa-164-408-b", {"awareness": "2026-01-01T03:00:00Z"}, None, "2026-01-04T03:00:00Z"),
    ("hipaa-164-408-b", {"awareness": "2026-03-07T12:00:00Z"}, None, "2026-03-10T12:00:00Z"),
    # 60 days after the end of the year of discovery: 1 March, or 29 February in a leap year
    ("hipaa-164-408-c", {"discovery_year_end": "2026-12-31T23:59:59-05:00"}, None, "2027-03-01T23:59:59-05:00"),
    ("hipaa-164-408-c", {"discovery_year_end": "2027-12-31T23:59:59-05:00"}, None, "2028-02-29T23:59:59-05:00"),
    # Good Friday (3 April) is a Brazilian holiday, then the weekend
    ("lgpd-art48", {"awareness": "2026-04-02T15:00:00Z"}, None, "2026-04-08T23:59:59-03:00"),
    ("lgpd-art48", {"awareness": "2026-04-17T12:00:00Z"}, None, "2026-04-23T23:59:59-03:00"),  # Tiradentes 21/4
    # Carnival (8-9 February 2027) is no national holiday: counted, the stricter reading
    ("lgpd-res15-art9", {"awareness": "2027-02-05T15:00:00Z"}, None, "2027-02-10T23:59:59-03:00"),
    # Zumbi and Black Awareness Day (Friday 20 November), then the weekend
    ("lgpd-res15-art9", {"awareness": "2026-11-19T12:00:00Z"}, None, "2026-11-25T23:59:59-03:00"),
    # 22:30 in Sao Paulo on Monday 1 June (already the 2nd in UTC): the days are counted from Brasilia's date
    ("lgpd-res15-art9", {"awareness": "2026-06-02T01:30:00Z"}, None, "2026-06-04T23:59:59-03:00"),
    # 20 business days from the first communication: Christmas and New Year's Day skipped
    ("lgpd-res15-art6-3", {"stage_filed:lgpd-art48": "2026-12-21T18:00:00Z"}, None, "2027-01-20T23:59:59-03:00"),
    # Good Friday, Tiradentes and Labour Day skipped
    ("lgpd-res15-art6-3", {"stage_filed:lgpd-art48": "2026-04-01T12:00:00Z"}, None, "2026-05-04T23:59:59-03:00"),
    ("lgpd-res15-art6-3", {"awareness": "2026-04-01T12:00:00Z"}, None, None),  # not filed yet
    # 3 business days from the END of the data subjects' deadline (its last day not counted), not from awareness
    (
        "lgpd-res15-art9-4",
        {"stage_due:lgpd-res15-art9": "2027-02-10T23:59:59-03:00"},
        None,
        "2027-02-15T23:59:59-03:00",
    ),
    (
        "lgpd-res15-art9-4",
        {"stage_due:lgpd-res15-art9": "2026-12-23T23:59:59-03:00"},
        None,
        "2026-12-29T23:59:59-03:00",
    ),
    ("lgpd-res15-art9-4", {"awareness": "2026-12-18T12:00:00Z"}, None, None),
    # Thanksgiving, then New Year's Day, are US federal holidays
    (
        "sec-8k-item-1-05",
        {"materiality_determined": "2026-11-25T15:00:00Z"},
        None,
        "2026-12-02T17:30:00-05:00",
    ),  # EDGAR cut-off
    ("sec-8k-item-1-05", {"materiality_determined": "2026-12-30T20:00:00Z"}, None, "2027-01-06T17:30:00-05:00"),
    ("sg-pdpa-26d", {"notifiable_assessed": "2026-12-29T20:00:00Z"}, None, "2027-01-02T23:59:59+08:00"),
    # the data intermediary: the organisation's contract hours from "reason to believe"
    ("sg-pdpa-26c-3a", {"awareness": "2026-12-31T20:00:00Z"}, 24, "2027-01-01T20:00:00Z"),
    ("sg-pdpa-26c-3a", {"awareness": "2026-02-28T12:00:00Z"}, 48, "2026-03-02T12:00:00Z"),
    ("sg-pdpa-26d", {"notifiable_assessed": "2028-02-26T02:00:00Z"}, None, "2028-02-29T23:59:59+08:00"),
    # the individuals: on or after the PDPC notice, our target for "without undue delay" (72 h until the profile's)
    ("sg-pdpa-26d-2", {"stage_filed:sg-pdpa-26d": "2026-12-30T20:00:00Z"}, None, "2027-01-02T20:00:00Z"),
    ("sg-pdpa-26d-2", {"notifiable_assessed": "2026-12-29T20:00:00Z"}, None, None),  # never before the PDPC
    ("in-dpdp-rule7", {"awareness": "2026-03-01T00:00:00Z"}, None, "2026-03-04T00:00:00Z"),
    ("in-dpdp-rule7", {"awareness": "2026-12-31T06:00:00Z"}, None, "2027-01-03T06:00:00Z"),
    # "without delay": our reading "immediately", the target but at most a day
    ("in-dpdp-rule7-1", {"awareness": "2027-05-13T06:00:00Z"}, None, "2027-05-14T06:00:00Z"),
    ("in-dpdp-rule7-1", {"awareness": "2027-12-31T20:00:00Z"}, None, "2028-01-01T20:00:00Z"),
    ("in-dpdp-rule7-2a", {"awareness": "2027-05-13T06:00:00Z"}, None, "2027-05-14T06:00:00Z"),
    ("in-dpdp-rule7-2a", {"awareness": "2028-02-28T12:00:00Z"}, None, "2028-02-29T12:00:00Z"),
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
    anchor = found.anchor.partition(":")[0]  # stage_filed:<rule id> counts as stage_filed
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
        ({"anchor": "stage_due:nowhere"}, "stage_due names an unknown stage 'nowhere'"),
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


AWARE = datetime(2026, 3, 27, 9, 0, tzinfo=UTC)
DORA_INITIAL = rule("dora-initial").terms()


def test_dora_classified_within_24_hours_owes_the_earlier_of_the_two_limits():
    early = {"awareness": AWARE, "classified_major": AWARE + timedelta(hours=2)}
    assert DORA_INITIAL.due(early) == AWARE + timedelta(hours=6)
    assert DORA_INITIAL.explanation(early) == ""
    late_in_the_day = {"awareness": AWARE, "classified_major": AWARE + timedelta(hours=22)}
    assert DORA_INITIAL.due(late_in_the_day) == AWARE + timedelta(hours=24)
    assert DORA_INITIAL.explanation(late_in_the_day) == (
        "less than 4 hours from the classification as major: the limit of 24 hours from awareness ends first"
    )


@pytest.mark.parametrize("hours_after", [24, 30, 24 * 9])
def test_dora_classified_after_24_hours_is_due_4_hours_after_the_classification_and_says_why(hours_after):
    classified = AWARE + timedelta(hours=hours_after)
    anchors = {"awareness": AWARE, "classified_major": classified}
    assert DORA_INITIAL.due(anchors) == classified + timedelta(hours=4)
    assert DORA_INITIAL.binding(anchors)[0] == "classified_major"
    assert DORA_INITIAL.explanation(anchors) == (
        "the classification as major came after the limit of 24 hours from awareness had run out: due 4 hours from "
        "the classification as major"
    )


def test_dora_before_classification_shows_the_provisional_cap_and_says_it_may_move():
    anchors = {"awareness": AWARE}
    assert DORA_INITIAL.due(anchors) == AWARE + timedelta(hours=24)
    assert DORA_INITIAL.explanation(anchors).startswith("provisional: due 24 hours from awareness")


def test_a_lapsing_limit_survives_the_stored_terms():
    assert Terms.from_dict(DORA_INITIAL.as_dict()) == DORA_INITIAL
    plain = rule("gdpr-art33-1").terms()
    assert Terms.from_dict(plain.as_dict()) == plain and plain.explanation({"awareness": AWARE}) == ""


@given(classified_after=st.integers(0, 60 * 24 * 30))
def test_a_dora_due_time_is_never_before_the_classification(classified_after):
    classified = AWARE + timedelta(minutes=classified_after)
    due = DORA_INITIAL.due({"awareness": AWARE, "classified_major": classified})
    assert classified <= due <= max(classified + timedelta(hours=4), AWARE + timedelta(hours=24))


NEW_YORK = ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    "determined, due",
    [
        # Thursday before Thanksgiving week: Fri, Mon, Tue, Wed; 17:30 Eastern standard time
        (datetime(2026, 11, 19, 15, 0, tzinfo=NEW_YORK), datetime(2026, 11, 25, 22, 30, tzinfo=UTC)),
        # Friday: Mon, Tue, Wed, then Thanksgiving (26 November) is skipped: Friday 27th
        (datetime(2026, 11, 20, 9, 0, tzinfo=NEW_YORK), datetime(2026, 11, 27, 22, 30, tzinfo=UTC)),
        # Saturday: GI B.1 starts the period on the next business day and counts it: the same Friday
        (datetime(2026, 11, 21, 9, 0, tzinfo=NEW_YORK), datetime(2026, 11, 27, 22, 30, tzinfo=UTC)),
        # across the end of daylight saving time (1 November): Thu, Fri, Mon, Tue at 17:30 EST
        (datetime(2026, 10, 28, 10, 0, tzinfo=NEW_YORK), datetime(2026, 11, 3, 22, 30, tzinfo=UTC)),
        # in daylight saving time, 17:30 EDT is 21:30 UTC
        (datetime(2026, 6, 1, 10, 0, tzinfo=NEW_YORK), datetime(2026, 6, 5, 21, 30, tzinfo=UTC)),
    ],
)
def test_an_8k_is_due_at_the_edgar_cut_off_of_the_fourth_business_day(determined, due):
    assert rule("sec-8k-item-1-05").terms().due({"materiality_determined": determined}) == due


PARIS = ZoneInfo("Europe/Paris")


@pytest.mark.parametrize(
    "filed, country, due",
    [
        # one month from 14 October 2026 ends on Saturday 14 November: met by noon on Monday 16th
        (datetime(2026, 10, 14, 10, 0, tzinfo=PARIS), "FR", datetime(2026, 11, 16, 12, 0, tzinfo=PARIS)),
        # ... ending on 11 November, a French bank holiday: noon on the 12th; in Germany a working day
        (datetime(2026, 10, 11, 10, 0, tzinfo=PARIS), "FR", datetime(2026, 11, 12, 12, 0, tzinfo=PARIS)),
        (datetime(2026, 10, 11, 10, 0, tzinfo=PARIS), "DE", datetime(2026, 11, 11, 23, 59, 59, tzinfo=PARIS)),
        # ... ending on a working day: the end of that day, unchanged
        (datetime(2026, 10, 13, 10, 0, tzinfo=PARIS), "FR", datetime(2026, 11, 13, 23, 59, 59, tzinfo=PARIS)),
    ],
)
def test_a_dora_final_report_due_on_a_weekend_or_our_holiday_may_be_made_by_noon_of_the_next_working_day(
    filed, country, due
):
    terms = rule("dora-final").terms(organisation_country=country)
    assert terms.due({"stage_filed_latest:dora-intermediate": filed}) == due
    assert Terms.from_dict(terms.as_dict()) == terms


#: the rows whose limit may be met on the next working day when it falls on a weekend or holiday; every other row's
#: reading is that it may not (see calendar.py)
ROLLING = {"dora-final"}
SATURDAY = datetime(2026, 11, 14, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "rule_id", [r.id for r in shipped_rules() if r.period.unit in (Unit.CALENDAR_DAYS, Unit.MONTHS)]
)
def test_each_regime_says_whether_a_limit_on_a_weekend_moves(rule_id):
    terms = rule(rule_id).terms(organisation_country="FR")
    period = terms.period
    zone = ZoneInfo(period.time_zone)
    saturday = SATURDAY.astimezone(zone).date()
    if period.unit == Unit.CALENDAR_DAYS:
        start_day = saturday - timedelta(days=period.amount)
    else:
        start_day = add_months(saturday, -period.amount)
    due = due_at(datetime.combine(start_day, datetime.min.time().replace(hour=12), tzinfo=zone), period)
    assert (due.astimezone(zone).date() == saturday) == (rule_id not in ROLLING)


@pytest.mark.parametrize(
    "aware, year_ends",
    [
        ("2026-06-15T12:00:00Z", "2026-12-31T23:59:59-05:00"),
        # 1 January 03:00 UTC is still New Year's Eve in New York: the breach was discovered in 2026
        ("2027-01-01T03:00:00Z", "2026-12-31T23:59:59-05:00"),
        ("2027-01-01T05:00:00Z", "2027-12-31T23:59:59-05:00"),
    ],
)
def test_the_year_of_discovery_ends_on_new_years_eve_in_new_york(aware, year_ends):
    assert year_end(utc(aware)) == utc(year_ends)


#: what the research wrote beside a citation it could not confirm: it belongs in the row's `unverified:`, since
#: the source is quoted in every notice under the row (a Texas resident reads it)
RESEARCH_WORDS = re.compile(r"unverified|recalled|\(read\b|\bchart\b|Perkins|from memory|not read", re.I)


def test_a_rules_source_which_its_notices_quote_carries_no_research_annotation():
    annotated = {r.id: r.source for r in shipped_rules() if RESEARCH_WORDS.search(r.source)}
    assert annotated == {}
