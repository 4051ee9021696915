"""The stages of India's DPDP Rule 7, NIS2 Art. 23 and DORA Art. 19 beyond the first reports (issue 15): who is
owed them, from when, and on whose decision. The pure planner, no database."""

from datetime import UTC, datetime, timedelta

import pytest

from breachdesk.deadlines.obligations import Facts, Profile, Ruling, declined, plan
from breachdesk.deadlines.rules import rule, shipped_rules

#: 00:00 on 13 May 2027 in India (UTC+5:30): Rule 7 of the DPDP Rules binds breaches we become aware of from then
RULE_7_BINDS = datetime(2027, 5, 12, 18, 30, tzinfo=UTC)
INDIA = Profile("Parlons", ("India DPDP",))
RULE_7 = {"in-dpdp-rule7", "in-dpdp-rule7-1", "in-dpdp-rule7-2a"}
NIS2 = Profile("Parlons", ("NIS2",), authorities={"NIS2": "CERT-FR"}, entity_status={"NIS2": "important"})
DORA = Profile("Parlons", ("DORA",), authorities={"DORA": "ACPR"}, entity_status={"DORA": "payment institution"})


def owed(profile: Profile, roles=("controller",), aware_at=None, **rulings) -> dict[str, object]:
    facts = Facts(frozenset(roles), (), rulings, aware_at=aware_at)
    return {duty.rule.id: duty for duty in plan(shipped_rules(), profile, facts)}


# --- India: Rule 7(1) and 7(2)(a), and Rule 7 in force from 13 May 2027 ------------------------------------------


def test_rule_7_owes_each_data_principal_and_the_board_without_delay_and_the_board_its_72_hour_report():
    duties = owed(INDIA, aware_at=RULE_7_BINDS + timedelta(days=1))
    assert set(duties) == RULE_7
    assert duties["in-dpdp-rule7-1"].recipient == "data subjects"
    assert duties["in-dpdp-rule7-2a"].recipient == "Data Protection Board of India"
    # "without delay": our reading "immediately", the organisation's target but at most a day
    assert duties["in-dpdp-rule7-1"].terms.period.immediately
    assert duties["in-dpdp-rule7-2a"].terms.due({"awareness": RULE_7_BINDS}) == RULE_7_BINDS + timedelta(hours=24)
    assert all(duty.required and not duty.flag.startswith("no ") for duty in duties.values())
    assert all("commencement date" in duty.flag for duty in duties.values())  # read in secondary sources only


def test_rule_7_is_owed_by_the_data_fiduciary_only():
    assert set(owed(INDIA, roles=("processor",), aware_at=RULE_7_BINDS)) == set()


@pytest.mark.parametrize(
    "aware_at, bound",
    [
        (RULE_7_BINDS - timedelta(seconds=1), False),  # 23:59:59 on 12 May in India
        (RULE_7_BINDS, True),  # 00:00 on 13 May in India, still 12 May in UTC
        (datetime(2027, 5, 12, 20, 0, tzinfo=UTC), True),  # 12 May in UTC, 13 May 01:30 in India
        (datetime(2027, 5, 12, 12, 0, tzinfo=UTC), False),  # 12 May in both
        (datetime(2026, 12, 1, tzinfo=UTC), False),
    ],
)
def test_rule_7_binds_breaches_we_became_aware_of_from_13_may_2027_india_time(aware_at, bound):
    assert (set(owed(INDIA, aware_at=aware_at)) == RULE_7) is bound
    assert all(rule(rule_id).binds(aware_at) is bound for rule_id in RULE_7)


def test_a_rule_7_duty_records_the_day_it_binds_from_among_its_facts():
    duty = owed(INDIA, aware_at=datetime(2027, 5, 12, 20, 0, tzinfo=UTC))["in-dpdp-rule7-1"]
    assert duty.triggered_by == [
        "we became aware on 2027-05-13 01:30 (Asia/Kolkata): it binds from 13 May 2027 (Asia/Kolkata)"
    ]


def test_a_rule_7_duty_no_longer_owed_because_awareness_moved_says_why():
    facts = Facts(frozenset({"controller"}), (), {}, aware_at=RULE_7_BINDS - timedelta(hours=1))
    reason = declined(shipped_rules(), INDIA, facts, ("in-dpdp-rule7", "supervisory_authority"))
    assert reason == "India DPDP detailed report binds breaches we became aware of from 13 May 2027 (Asia/Kolkata)"


# --- NIS2 Art. 23(4)(c): the intermediate report, on request -----------------------------------------------------


def test_the_nis2_intermediate_report_is_owed_only_once_a_request_is_recorded():
    assert "nis2-art23-intermediate" not in owed(NIS2, roles=())
    asked = owed(NIS2, roles=(), requested=Ruling(True, "dpo", "CERT-FR asked by e-mail for a status by Friday"))
    duty = asked["nis2-art23-intermediate"]
    assert duty.required and duty.recipient == "CERT-FR" and duty.terms.anchor == "report_requested"
    assert "check the request's deadline" in duty.flag  # the Directive sets no period: the request does
    withdrawn = owed(NIS2, roles=(), requested=Ruling(False, "dpo", "CERT-FR withdrew its request"))
    assert not withdrawn["nis2-art23-intermediate"].required
    assert withdrawn["nis2-art23-intermediate"].rationale == "CERT-FR withdrew its request"


# --- NIS2 Art. 23(4)(e): an incident still ongoing when the final report is due ----------------------------------


def test_an_incident_still_ongoing_owes_a_progress_report_then_a_final_report_after_its_handling():
    usual = owed(NIS2, roles=(), significant=Ruling(True, "ciso"))
    assert usual["nis2-art23-final-report"].required
    assert not {"nis2-art23-progress-report", "nis2-art23-final-after-handling"} & set(usual)
    ongoing = owed(NIS2, roles=(), significant=Ruling(True, "ciso"), ongoing=Ruling(True, "ciso", "still encrypting"))
    final = ongoing["nis2-art23-final-report"]
    assert not final.required and final.decided_by == "ciso" and final.rationale == "still encrypting"
    assert ongoing["nis2-art23-progress-report"].required
    after = ongoing["nis2-art23-final-after-handling"]
    assert after.required and after.terms.anchor == "incident_handled"
    handled = datetime(2026, 3, 31, 8, 0, tzinfo=UTC)
    assert after.terms.due({"incident_handled": handled}) == datetime(2026, 4, 30, 21, 59, 59, tzinfo=UTC)
    revised = owed(NIS2, roles=(), ongoing=Ruling(False, "ciso", "recorded by mistake"))
    assert revised["nis2-art23-final-report"].required
    assert not revised["nis2-art23-progress-report"].required


def test_an_incident_not_significant_owes_neither_progress_nor_final_report():
    duties = owed(NIS2, roles=(), significant=Ruling(False, "ciso", "no outage"), ongoing=Ruling(True, "ciso"))
    assert not any(duties[r].required for r in ("nis2-art23-progress-report", "nis2-art23-final-after-handling"))
    assert duties["nis2-art23-progress-report"].rationale == "no outage"


# --- NIS2 Art. 23(1): the recipients of our services, where appropriate ------------------------------------------


def test_the_recipients_of_our_services_are_owed_a_notice_until_a_person_decides_otherwise():
    undecided = owed(NIS2, roles=())["nis2-art23-1-recipients"]
    assert undecided.required and undecided.recipient == "recipients of our services" and undecided.flag == ""
    assert undecided.terms.anchor == "significance_determined"
    told = owed(NIS2, roles=(), significant=Ruling(True, "ciso"), service_impact=Ruling(True, "cto"))
    assert told["nis2-art23-1-recipients"].required
    spared = owed(NIS2, roles=(), significant=Ruling(True, "ciso"), service_impact=Ruling(False, "cto", "no outage"))
    duty = spared["nis2-art23-1-recipients"]
    assert not duty.required and duty.decided_by == "cto" and duty.rationale == "no outage"
    small = owed(NIS2, roles=(), significant=Ruling(False, "ciso", "minor"), service_impact=Ruling(True, "cto"))
    assert not small["nis2-art23-1-recipients"].required and small["nis2-art23-1-recipients"].rationale == "minor"


def test_the_recipients_of_our_services_are_not_owed_outside_nis2():
    assert "nis2-art23-1-recipients" not in owed(DORA, roles=())


# --- DORA Art. 19(3): the clients ------------------------------------------------------------------------------


def test_clients_are_owed_a_notice_of_a_major_incident_affecting_their_financial_interests():
    undecided = owed(DORA, roles=())["dora-art19-3-clients"]
    assert undecided.required and undecided.recipient == "clients whose financial interests are affected"
    assert undecided.terms.anchor == "classified_major"
    major = owed(DORA, roles=(), major=Ruling(True, "cro"), client_impact=Ruling(True, "cro"))
    assert major["dora-art19-3-clients"].required
    spared = owed(DORA, roles=(), major=Ruling(True, "cro"), client_impact=Ruling(False, "cro", "no payments hit"))
    assert not spared["dora-art19-3-clients"].required
    minor = owed(DORA, roles=(), major=Ruling(False, "cro", "below the thresholds"), client_impact=Ruling(True, "cro"))
    assert not minor["dora-art19-3-clients"].required
    assert "dora-art19-3-clients" not in owed(NIS2, roles=())


def test_the_dora_client_notice_carries_the_incident_and_the_mitigation_measures():
    items = {item.id: item.satisfied_by for item in rule("dora-art19-3-clients").content}
    assert items["incident"] == ("what_happened",) and items["mitigation"] == ("measures_taken",)


def test_the_dora_final_report_counts_from_the_latest_intermediate_filing():
    terms = rule("dora-final").terms(organisation_country="FR")
    first, update = datetime(2026, 5, 7, 10, 0, tzinfo=UTC), datetime(2026, 5, 20, 10, 0, tzinfo=UTC)
    anchors = {"stage_filed:dora-intermediate": first, "stage_filed_latest:dora-intermediate": update}
    assert terms.anchor == "stage_filed_latest:dora-intermediate"
    # one month from the update ends on Saturday 20 June: met by noon on Monday 22nd in Brussels (Art. 5(4))
    assert terms.due(anchors) == datetime(2026, 6, 22, 10, 0, tzinfo=UTC)
