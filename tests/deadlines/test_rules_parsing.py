"""Reading a rules table: each row becomes exactly the Rule it says, and a bad row is refused with a message
that names the row and the field and says what the field takes. Small tables, written here as YAML."""

from datetime import UTC, date, datetime, timedelta

import pytest
import yaml

from breachdesk.deadlines.calendar import Period, Unit
from breachdesk.deadlines.rules import InForce, Limit, Rule, RulesError, Terms, parse_rules, rule, shipped_rules
from breachdesk.deadlines.views import anchor_words

ROW = """
id: xx-act-5
regime: Examplia
stage: notification
recipient_kind: regulator
our_roles: [controller]
anchor: awareness
period: {amount: 5, unit: business_days, holiday_country: FR, time_zone: Europe/Paris}
condition: always
source: "Examplia Breach Act s. 5:
  five business days"
"""


def table(*rows: str) -> dict:
    return {"rules": [yaml.safe_load(text) for text in rows]}


def row(**changes) -> dict:
    """The row above with some fields replaced (None: the field left out)."""
    raw = yaml.safe_load(ROW) | changes
    return {name: value for name, value in raw.items() if value is not None}


def refusal(document: dict) -> str:
    with pytest.raises(RulesError) as refused:
        parse_rules(document)
    return str(refused.value)


def test_a_row_becomes_the_rule_it_states_field_by_field():
    [parsed] = parse_rules(table(ROW))
    assert parsed == Rule(
        id="xx-act-5",
        regime="Examplia",
        stage="notification",
        recipient_kind="regulator",
        our_roles=("controller",),
        anchor="awareness",
        period=Period(5, Unit.BUSINESS_DAYS, "FR", "Europe/Paris"),
        condition="always",
        source="Examplia Breach Act s. 5: five business days",  # the YAML line break folded to one space
        contract_hours=False,
        not_later_than=None,
        authority=None,
        entity_status=False,
    )


def test_the_optional_fields_are_read_when_present():
    text = """
    id: dora-like
    regime: DORA
    stage: initial
    recipient_kind: regulator
    our_roles: [processor, controller]
    anchor: classified_major
    period: {amount: 4, unit: hours, contract_hours: true}
    not_later_than: {anchor: awareness, amount: 1, unit: calendar_days}
    authority: lead_supervisory_authority
    entity_status: true
    condition: major
    source: "DORA Art. 19(4)(a)"
    """
    [parsed] = parse_rules(table(text))
    assert (parsed.our_roles, parsed.contract_hours, parsed.authority, parsed.entity_status) == (
        ("processor", "controller"),
        True,
        "lead_supervisory_authority",
        True,
    )
    assert parsed.period == Period(4, Unit.HOURS, None, "UTC")  # no zone given: days end in UTC
    assert parsed.not_later_than == Limit("awareness", Period(1, Unit.CALENDAR_DAYS, None, "UTC"))


def test_reading_a_table_leaves_the_document_as_it_was():
    document = table(
        ROW.replace(
            "condition: always", "condition: always\nnot_later_than: {anchor: detection, amount: 1, unit: months}"
        )
    )
    before = yaml.safe_dump(document)
    assert parse_rules(document) == parse_rules(document)
    assert yaml.safe_dump(document) == before


def test_an_empty_table_has_no_rules_and_a_table_is_a_tuple_in_its_order():
    assert parse_rules({}) == () and parse_rules({"rules": None}) == ()
    second = ROW.replace("id: xx-act-5", "id: xx-act-6")
    assert [r.id for r in parse_rules(table(ROW, second))] == ["xx-act-5", "xx-act-6"]
    assert isinstance(parse_rules(table(ROW)), tuple)


def test_the_smallest_amount_is_one_and_stage_filed_may_name_any_row_of_the_table():
    stage = ROW.replace("id: xx-act-5", "id: xx-report").replace("anchor: awareness", "anchor: stage_filed:xx-act-5")
    first, report = parse_rules(table(ROW.replace("amount: 5", "amount: 1"), stage))
    assert first.period.amount == 1 and report.anchor == "stage_filed:xx-act-5"


def test_stage_due_names_another_row_whose_deadline_ends_and_may_come_before_it():
    declaration = ROW.replace("id: xx-act-5", "id: xx-declaration").replace(
        "anchor: awareness", "anchor: stage_due:xx-act-5"
    )
    declared, first = parse_rules(table(declaration, ROW))
    assert declared.anchor == "stage_due:xx-act-5" and first.anchor == "awareness"


def test_doubled_for_names_the_statuses_that_double_the_period_in_any_case():
    doubling = ROW.replace("time_zone: Europe/Paris}", "time_zone: Europe/Paris, doubled_for: Small  Agent}")
    [parsed] = parse_rules(table(doubling))
    assert parsed.doubled_for == ("small agent",)
    assert parsed.period == Period(5, Unit.BUSINESS_DAYS, "FR", "Europe/Paris")  # the amount as the row states it
    listed = ROW.replace("time_zone: Europe/Paris}", "time_zone: Europe/Paris, doubled_for: [small agent, micro]}")
    assert parse_rules(table(listed))[0].doubled_for == ("small agent", "micro")
    assert parsed.doubles_for(" SMALL agent") and not parsed.doubles_for("large agent") and not parsed.doubles_for(None)
    assert parsed.terms(entity_status="small agent").period.amount == 10
    assert parsed.terms(entity_status="covered entity").period.amount == 5
    assert parse_rules(table(ROW))[0].terms(entity_status="small agent").period.amount == 5  # the row says nothing


BAD_ROWS = [
    # the row, the whole message
    (row(colour="red", size=2), "rules[xx-act-5]: unknown field(s) ['colour', 'size']"),
    (row(regime=None, source=None), "rules[xx-act-5]: missing ['regime', 'source']"),
    (row(id=None), "rules[0]: missing ['id']"),  # no id: the row is named by its position
    (row(anchor="sunrise"), "rules[xx-act-5].anchor: 'sunrise' is not a known anchor"),
    (row(anchor="stage_filed:Upper"), "rules[xx-act-5].anchor: 'stage_filed:Upper' is not a known anchor"),
    (row(anchor="stage_filed:"), "rules[xx-act-5].anchor: 'stage_filed:' is not a known anchor"),
    (row(anchor="xstage_filed:a"), "rules[xx-act-5].anchor: 'xstage_filed:a' is not a known anchor"),
    (row(anchor="stage_filed:a b"), "rules[xx-act-5].anchor: 'stage_filed:a b' is not a known anchor"),
    (
        row(anchor="stage_filed:nowhere"),
        "rules[xx-act-5].anchor: stage_filed names an unknown stage 'nowhere' (not a rule id of the table)",
    ),
    (
        row(anchor="stage_due:nowhere"),
        "rules[xx-act-5].anchor: stage_due names an unknown stage 'nowhere' (not a rule id of the table)",
    ),
    (row(anchor="stage_due:"), "rules[xx-act-5].anchor: 'stage_due:' is not a known anchor"),
    (row(anchor="stage_due:A b"), "rules[xx-act-5].anchor: 'stage_due:A b' is not a known anchor"),
    (
        row(period={"amount": 3, "unit": "hours", "doubled_for": []}),
        "rules[xx-act-5].period.doubled_for: an entity status (as the profile states it), or a list of them",
    ),
    (
        row(period={"amount": 3, "unit": "hours", "doubled_for": ["small agent", " "]}),
        "rules[xx-act-5].period.doubled_for: an entity status (as the profile states it), or a list of them",
    ),
    (
        row(period={"amount": 3, "unit": "hours", "doubled_for": True}),
        "rules[xx-act-5].period.doubled_for: an entity status (as the profile states it), or a list of them",
    ),
    (
        row(not_later_than={"anchor": "awareness", "amount": 3, "unit": "hours", "doubled_for": "small agent"}),
        "rules[xx-act-5].not_later_than: unknown period field(s) ['doubled_for']",
    ),
    (row(recipient_kind="press"), "rules[xx-act-5].recipient_kind: 'press' is unknown"),
    (row(our_roles=[]), "rules[xx-act-5].our_roles: a list of processor and/or controller"),
    (row(our_roles=["processor", "owner"]), "rules[xx-act-5].our_roles: a list of processor and/or controller"),
    (
        row(condition="sometimes"),
        "rules[xx-act-5].condition: always, unless_unlikely_risk, high_risk, a determination (client_impact, major, "
        "material, notifiable, ongoing, requested, service_impact, significant) or not one, or a list of them",
    ),
    (
        row(condition=["significant", "not sometimes"]),
        "rules[xx-act-5].condition: always, unless_unlikely_risk, high_risk, a determination (client_impact, major, "
        "material, notifiable, ongoing, requested, service_impact, significant) or not one, or a list of them",
    ),
    (row(condition=["always", "major"]), "rules[xx-act-5].condition: a list of distinct conditions, without always"),
    (row(condition=["major", "major"]), "rules[xx-act-5].condition: a list of distinct conditions, without always"),
    (row(condition=[]), "rules[xx-act-5].condition: a list of distinct conditions, without always"),
    (
        row(condition=["significant", "service_impact", "not ongoing"]),
        "rules[xx-act-5].condition: 'significant and service_impact and not ongoing' is longer than the 32 characters "
        "an obligation keeps",
    ),
    (
        row(in_force_from="2027-05-13"),
        "rules[xx-act-5].in_force_from: {date: YYYY-MM-DD, time_zone: an IANA zone} (the day it starts to bind, in "
        "the law's zone)",
    ),
    (
        row(in_force_from={"date": "13/05/2027", "time_zone": "Asia/Kolkata"}),
        "rules[xx-act-5].in_force_from.date: '13/05/2027' is not a date YYYY-MM-DD",
    ),
    (
        row(in_force_from={"date": "2027-05-13", "time_zone": "India/Delhi"}),
        "rules[xx-act-5].in_force_from.time_zone: 'India/Delhi' is not an IANA zone",
    ),
    (
        row(anchor="stage_filed_latest:xx-act-4"),
        "rules[xx-act-5].anchor: stage_filed_latest names an unknown stage 'xx-act-4' (not a rule id of the table)",
    ),
    (
        row(anchor="stage_filed_earliest:xx-act-5"),
        "rules[xx-act-5].anchor: 'stage_filed_earliest:xx-act-5' is not a known anchor",
    ),
    (row(source=" \n "), "rules[xx-act-5].source: every rule cites its legal source"),
    (row(authority="  "), "rules[xx-act-5].authority: a name, or lead_supervisory_authority"),
    (
        row(period={"amount": 5, "unit": "hours", "per": "day"}),
        "rules[xx-act-5].period: unknown period field(s) ['per']",
    ),
    (
        row(period={"amount": 5, "unit": "weeks"}),
        "rules[xx-act-5].period.unit: one of hours, calendar_days, business_days, months, without_undue_delay",
    ),
    (
        row(period={"amount": 5}),
        "rules[xx-act-5].period.unit: one of hours, calendar_days, business_days, months, without_undue_delay",
    ),
    (row(period={"amount": 0, "unit": "hours"}), "rules[xx-act-5].period.amount: a whole number of at least 1"),
    (row(period={"amount": "5", "unit": "hours"}), "rules[xx-act-5].period.amount: a whole number of at least 1"),
    (row(period={"amount": True, "unit": "hours"}), "rules[xx-act-5].period.amount: a whole number of at least 1"),
    (row(period={"amount": 2.5, "unit": "hours"}), "rules[xx-act-5].period.amount: a whole number of at least 1"),
    (row(period={"unit": "hours"}), "rules[xx-act-5].period.amount: a whole number of at least 1"),
    (
        row(period={"amount": 5, "unit": "hours", "time_zone": "Mars/Olympus"}),
        "rules[xx-act-5].period.time_zone: 'Mars/Olympus' is not an IANA zone",
    ),
    (
        row(period={"amount": 5, "unit": "hours", "time_zone": "../etc"}),
        "rules[xx-act-5].period.time_zone: '../etc' is not an IANA zone",
    ),
    (
        row(period={"amount": 5, "unit": "business_days"}),
        "rules[xx-act-5].period.holiday_country: required for business days",
    ),
    (
        row(period={"amount": 5, "unit": "business_days", "holiday_country": ""}),
        "rules[xx-act-5].period.holiday_country: required for business days",
    ),
    (
        row(not_later_than={"anchor": "awareness", "amount": 0, "unit": "hours"}),
        "rules[xx-act-5].not_later_than.amount: a whole number of at least 1",
    ),
]


@pytest.mark.parametrize("raw, message", BAD_ROWS, ids=[message for _, message in BAD_ROWS])
def test_a_bad_row_is_refused_naming_the_row_and_the_field(raw, message):
    assert refusal({"rules": [raw]}) == message


def test_a_bad_row_further_down_is_named_by_its_id_or_its_position():
    good = yaml.safe_load(ROW)
    assert refusal({"rules": [good, row(id="second", anchor="dusk")]}) == (
        "rules[second].anchor: 'dusk' is not a known anchor"
    )
    assert refusal({"rules": [good, row(id=None)]}) == "rules[1]: missing ['id']"


def test_two_rows_with_one_id_are_refused():
    assert refusal(table(ROW, ROW)) == "rules: duplicate id"


def test_terms_say_their_period_anchor_and_any_second_limit_in_words():
    assert rule("gdpr-art33-1").terms().describe() == "72 hours from awareness"
    assert rule("gdpr-art34").terms().describe() == (
        "without undue delay (internal target 72 hours) from finding of a high risk"
    )
    assert rule("dora-initial").terms().describe() == (
        "4 hours from classification as major, and no later than 24 hours from awareness unless the "
        "classification as major comes after that"
    )
    assert rule("nis2-art23-final-report").terms().describe() == (
        "1 month, days ending in Europe/Brussels from filing of the NIS2 incident notification"
    )
    assert rule("lgpd-res15-art9-4").terms().describe() == (
        "3 business days (BR holidays), days ending in America/Sao_Paulo from end of the deadline of the LGPD "
        "communication to data subjects"
    )


def test_a_stage_anchor_is_said_in_words_on_the_pages():
    assert anchor_words("stage_filed:lgpd-art48") == "when the LGPD notification is filed"
    assert anchor_words("stage_due:lgpd-res15-art9") == (
        "when the deadline of the LGPD communication to data subjects ends"
    )
    assert anchor_words("stage_due:gone") == "when the deadline of an earlier stage ends"


def test_a_second_limits_anchor_is_said_in_words_too():
    terms = Terms(
        "classified_major", Period(4, Unit.HOURS), Limit("significance_determined", Period(1, Unit.CALENDAR_DAYS))
    )
    assert terms.describe() == (
        "4 hours from classification as major, and no later than 1 calendar day, days ending in UTC from "
        "determination that the incident is significant"
    )


def test_a_customers_hours_or_the_organisations_target_replace_only_the_amount():
    """Where days end and whose holidays count stay the row's: they are stored with the obligation's terms."""
    contract = parse_rules(
        table(ROW.replace("amount: 5, unit: business_days", "amount: 24, unit: hours, contract_hours: true"))
    )[0]
    paris = {"holiday_country": "FR", "time_zone": "Europe/Paris"}
    assert contract.terms(30) == Terms("awareness", Period(30, Unit.HOURS, **paris))  # contractual unless told
    assert contract.terms(30, contractual=False) == Terms("awareness", Period(30, Unit.WITHOUT_UNDUE_DELAY, **paris))
    assert contract.terms() == Terms("awareness", Period(24, Unit.HOURS, **paris))  # no contract known: the row's
    undue = parse_rules(table(ROW.replace("amount: 5, unit: business_days", "amount: 72, unit: without_undue_delay")))[
        0
    ]
    assert undue.terms(undue_delay_target_hours=12) == Terms("awareness", Period(12, Unit.WITHOUT_UNDUE_DELAY, **paris))
    assert undue.terms() == Terms("awareness", Period(72, Unit.WITHOUT_UNDUE_DELAY, **paris))
    assert undue.terms(30, undue_delay_target_hours=12).period.amount == 12  # not a contract row: hours ignored


def test_terms_are_read_back_from_their_stored_form():
    stored = {
        "anchor": "classified_major",
        "period": {"amount": 4, "unit": "hours", "time_zone": "UTC"},
        "not_later_than": {
            "anchor": "awareness",
            "amount": 3,
            "unit": "business_days",
            "holiday_country": "BR",
            "time_zone": "America/Sao_Paulo",
        },
    }
    assert Terms.from_dict(stored) == Terms(
        "classified_major",
        Period(4, Unit.HOURS, None, "UTC"),
        Limit("awareness", Period(3, Unit.BUSINESS_DAYS, "BR", "America/Sao_Paulo")),
    )
    assert Terms.from_dict({**stored, "not_later_than": None}).not_later_than is None
    assert Terms.from_dict(stored).as_dict() == stored  # and written back the same
    with pytest.raises(RulesError) as refused:
        Terms.from_dict({**stored, "period": {"amount": 4}})
    assert str(refused.value).startswith("terms.period.unit: one of hours")
    with pytest.raises(RulesError) as refused:
        Terms.from_dict({**stored, "not_later_than": {"anchor": "awareness", "amount": 0, "unit": "hours"}})
    assert str(refused.value) == "terms.not_later_than.amount: a whole number of at least 1"


def test_a_day_ending_or_a_weekend_rule_that_cannot_be_read_is_refused_naming_the_field():
    period = {"amount": 5, "unit": "business_days", "holiday_country": "FR"}
    assert refusal({"rules": [row(period=period | {"day_ends": "teatime"})]}) == (
        "rules[xx-act-5].period.day_ends: a local time such as 17:30"
    )
    assert refusal({"rules": [row(period={"amount": 5, "unit": "hours", "day_ends": "17:30"})]}) == (
        "rules[xx-act-5].period.day_ends: only for periods counted in days or months"
    )
    assert refusal({"rules": [row(period=period | {"weekend_rule": "whenever"})]}) == (
        "rules[xx-act-5].period.weekend_rule: one of noon_next_working_day"
    )


def test_a_reader_language_is_one_notices_are_written_in():
    [parsed] = parse_rules({"rules": [row(reader_language="en")]})
    assert parsed.reader_language == "en"
    assert parse_rules(table(ROW))[0].reader_language is None  # our country's language
    assert refusal({"rules": [row(reader_language="pt")]}) == (
        "rules[xx-act-5].reader_language: 'pt' is not a language notices are written in (en, fr)"
    )


def test_every_us_state_row_to_residents_or_authorities_is_written_in_english_and_each_to_customers_in_theirs():
    for found in shipped_rules():
        if found.group == "US state laws":
            expected = None if found.recipient_kind == "controller" else "en"
            assert found.reader_language == expected, found.id


def test_a_day_in_force_is_read_in_its_laws_zone_and_binds_from_its_midnight_there():
    [parsed] = parse_rules(table(ROW + "in_force_from: {date: 2027-05-13, time_zone: Asia/Kolkata}\n"))
    assert parsed.in_force_from == InForce(date(2027, 5, 13), "Asia/Kolkata")
    midnight = datetime(2027, 5, 12, 18, 30, tzinfo=UTC)  # 00:00 in India, 5 h 30 ahead of UTC
    assert parsed.in_force_from.instant == midnight
    assert not parsed.binds(midnight - timedelta(seconds=1)) and parsed.binds(midnight)
    assert parsed.in_force_from.describe() == "13 May 2027 (Asia/Kolkata)"
    [quoted] = parse_rules(table(ROW + "in_force_from: {date: '2027-05-13', time_zone: Asia/Kolkata}\n"))
    assert quoted.in_force_from == parsed.in_force_from
    [always] = parse_rules(table(ROW))
    assert always.in_force_from is None and always.binds(midnight - timedelta(days=3650))


def test_a_condition_list_needs_every_part_and_is_kept_in_words():
    [parsed] = parse_rules(table(ROW.replace("condition: always", "condition: [significant, not ongoing]")))
    assert parsed.condition == "significant and not ongoing"
    assert parsed.conditions == ("significant", "not ongoing")


def test_a_stage_may_count_from_the_latest_filing_of_another():
    later = ROW.replace("id: xx-act-5", "id: xx-act-6")
    later = later.replace("anchor: awareness", "anchor: stage_filed_latest:xx-act-5")
    assert parse_rules(table(ROW, later))[1].anchor == "stage_filed_latest:xx-act-5"
