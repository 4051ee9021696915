"""UK GDPR and Singapore PDPA duties apply where their law binds: the people of the United Kingdom or of Singapore
among those affected (a customer there, whose people the inventory places in its country). Singapore's breach is
notifiable for significant harm (prescribed data) or significant scale (500 or more), and its individuals are owed a
notice only for significant harm. The pure planner, no database."""

from hypothesis import given
from hypothesis import strategies as st

from breachdesk.deadlines.applicability import Residents, Verdict, assess
from breachdesk.deadlines.obligations import AffectedCustomer, Facts, Profile, Ruling, declined, plan, rulings_from
from breachdesk.deadlines.rules import parse_rules, rule, shipped_rules

NAME, EMAIL, BANK = "user.name", "user.contact.email", "user.financial.bank_account"
PROFILE = Profile("Parlons SAS", ("GDPR", "UK GDPR", "Singapore PDPA"), "CNIL")
#: names with e-mail addresses: no prescribed data of Singapore's reg. 3
PLAIN = frozenset({NAME, EMAIL})
#: a name with bank details: prescribed data (reg. 3(1)(a) with Schedule Part 1), so significant harm is deemed
PRESCRIBED = frozenset({NAME, BANK})
HIGH_RISK_AND_NOTIFIABLE = rulings_from(
    {"data_subjects": Ruling(True, "dpo")}, {"notifiable": Ruling(True, "dpo", "Decided by the crisis committee.")}
)


def customer(key: str, **regions: Residents) -> AffectedCustomer:
    return AffectedCustomer(key, key.title(), None, 24, regions=regions)


def as_processor(*customers: AffectedCustomer) -> dict[tuple[str, str], list[str]]:
    duties = plan(shipped_rules(), PROFILE, Facts(frozenset({"processor"}), customers, {}))
    return {duty.key: duty.triggered_by for duty in duties}


def as_controller(**own: Residents):
    facts = Facts(frozenset({"controller"}), (), HIGH_RISK_AND_NOTIFIABLE, own_regions=own)
    return {duty.rule.id: duty for duty in plan(shipped_rules(), PROFILE, facts)}


def test_a_customer_with_people_in_the_uk_is_owed_the_uk_processor_notice_beside_the_gdpr_one():
    duties = as_processor(
        customer("northwind", GB=Residents(14324, PLAIN)), customer("lemaire", FR=Residents(2303, PLAIN))
    )
    assert duties[("uk-gdpr-art33-2", "northwind")] == ["14,324 residents of United Kingdom (GB) affected"]
    assert ("gdpr-art33-2", "northwind") in duties and ("gdpr-art33-2", "lemaire") in duties
    assert ("uk-gdpr-art33-2", "lemaire") not in duties  # UK law does not reach a French customer's French people


def test_the_uk_processor_notice_is_owed_for_every_breach_in_contract_hours():
    [duty] = [
        d
        for d in plan(
            shipped_rules(), PROFILE, Facts(frozenset({"processor"}), (customer("nw", GB=Residents(1, PLAIN)),), {})
        )
        if d.rule.id == "uk-gdpr-art33-2"
    ]
    assert duty.required and duty.terms.period.amount == 24 and duty.terms.period.unit == "hours"
    assert "unverified" in duty.flag  # the UK text of Art. 33 itself was not read


def test_uk_residents_among_our_own_people_are_owed_the_uk_communication_when_the_risk_is_high():
    duties = as_controller(GB=Residents(40, PLAIN), FR=Residents(600, PLAIN))
    art34 = duties["uk-gdpr-art34"]
    assert art34.required and art34.recipient == "data subjects"
    assert art34.triggered_by == ["40 residents of United Kingdom (GB) affected"]
    assert "gdpr-art34" in duties and "uk-gdpr-art33-1" in duties
    assert "uk-gdpr-art34" not in as_controller(FR=Residents(600, PLAIN))
    reason = declined(shipped_rules(), PROFILE, Facts(frozenset({"controller"}), (), {}), ("uk-gdpr-art34", "x"))
    assert reason == "no affected residents of United Kingdom (GB)"


def test_a_singapore_customer_is_owed_the_data_intermediary_notice_whatever_the_data():
    duties = as_processor(customer("florist", SG=Residents(4060, PLAIN)), customer("lemaire", FR=Residents(9, PLAIN)))
    assert duties[("sg-pdpa-26c-3a", "florist")] == ["4,060 residents of Singapore (SG) affected"]
    assert ("sg-pdpa-26c-3a", "lemaire") not in duties


def test_prescribed_data_make_a_singapore_breach_notifiable_to_the_pdpc_and_to_the_individuals():
    duties = as_controller(SG=Residents(12, PRESCRIBED))
    harm = (
        "data: full name, alias or identification number (user.name) with financial information (accounts, "
        "cards, net worth, deposits, withdrawals, loans) (user.financial.bank_account)"
    )
    assert duties["sg-pdpa-26d"].triggered_by == ["12 residents of Singapore (SG) affected", harm]
    assert duties["sg-pdpa-26d-2"].triggered_by == [
        "12 residents of Singapore (SG) affected",
        harm,
        "12 people affected (at most 499)",  # and so notifiable only for significant harm, had a person found it
    ]
    assert all("significant harm" not in duties[r].flag for r in ("sg-pdpa-26d", "sg-pdpa-26d-2"))


def test_500_people_make_it_notifiable_by_scale_and_499_leave_it_to_a_person():
    scale = as_controller(SG=Residents(500, PLAIN))
    assert scale["sg-pdpa-26d"].triggered_by == [
        "500 people affected (500 or more needed)",
        "500 residents of Singapore (SG) affected",
    ]
    assert "significant harm" not in scale["sg-pdpa-26d"].flag
    # scale alone does not owe the individuals a notice: a person says whether there is significant harm too
    assert "and not only notifiable because 500 or more" in scale["sg-pdpa-26d-2"].flag
    below = as_controller(SG=Residents(499, PLAIN))
    assert "though none of the prescribed data of reg. 3 was affected" in below["sg-pdpa-26d"].flag
    # found notifiable with fewer than 500: only significant harm can make it so, and the individuals are owed
    assert below["sg-pdpa-26d-2"].triggered_by == [
        "499 people affected (at most 499)",
        "499 residents of Singapore (SG) affected",
    ]
    assert "significant harm" not in below["sg-pdpa-26d-2"].flag


def test_people_elsewhere_count_towards_singapores_500_but_not_without_one_resident_of_singapore():
    duties = as_controller(SG=Residents(1, PLAIN), FR=Residents(499, PLAIN))
    assert "500 people affected (500 or more needed)" in duties["sg-pdpa-26d"].triggered_by
    nobody = as_controller(FR=Residents(5000, PRESCRIBED))
    assert "sg-pdpa-26d" not in nobody and "sg-pdpa-26d-2" not in nobody
    reason = declined(shipped_rules(), PROFILE, Facts(frozenset({"controller"}), (), {}), ("sg-pdpa-26d", "x"))
    assert reason == "no affected residents of Singapore (SG)"  # the test beside the alternatives fails first


def test_the_individuals_notice_waits_for_the_pdpc_notice_and_its_exceptions_are_a_persons():
    sg = rule("sg-pdpa-26d-2")
    assert sg.anchor == "stage_filed:sg-pdpa-26d" and sg.not_later_than is None
    assert sg.condition == "notifiable" and "26D(5)" in sg.note and "26D(6)" in sg.note
    not_notifiable = rulings_from({}, {"notifiable": Ruling(False, "dpo", "Only within the organisation.")})
    facts = Facts(frozenset({"controller"}), (), not_notifiable, own_regions={"SG": Residents(12, PRESCRIBED)})
    duties = {d.rule.id: d for d in plan(shipped_rules(), PROFILE, facts)}
    assert not duties["sg-pdpa-26d-2"].required and not duties["sg-pdpa-26d"].required


# --- any_of, in general -------------------------------------------------------------------------------------------

ROW = {
    "id": "xx-either",
    "regime": "Examplia",
    "stage": "notification",
    "recipient_kind": "data_subjects",
    "our_roles": ["controller"],
    "anchor": "awareness",
    "period": {"amount": 3, "unit": "calendar_days"},
    "condition": "always",
    "source": "Examplia Code 1",
}


def either(*alternatives: dict):
    [row] = parse_rules({"rules": [ROW | {"applies_when": {"regions": ["SG"], "any_of": list(alternatives)}}]})
    return row.applies_when


def test_any_of_applies_when_one_alternative_holds_and_keeps_the_facts_of_each_that_does():
    when = either({"min_residents": 10}, {"min_people": 20})
    verdict = assess(when, {"SG": Residents(30, PLAIN)}, None, "P")
    assert verdict.applies and verdict.facts == (
        "30 residents of Singapore (SG) affected (10 or more needed)",
        "30 people affected (20 or more needed)",
        "30 residents of Singapore (SG) affected",
    )
    assert assess(when, {"SG": Residents(5, PLAIN), "FR": Residents(15, PLAIN)}, None, "P").applies


def test_any_of_says_why_none_holds_and_asks_every_question_that_could_make_one_hold():
    when = either({"min_residents": 10}, {"min_people": 20})
    assert assess(when, {"SG": Residents(5, PLAIN)}, None, "P") == Verdict(
        False,
        "none of its alternatives holds: 5 residents of Singapore (SG) affected, fewer than the 10 needed; "
        "5 people affected, fewer than the 20 needed",
    )
    uncertain = {"SG": Residents(5, PLAIN), "unknown": Residents(3, PLAIN, counts_unknown=True)}
    verdict = assess(when, uncertain, None, "P")
    assert verdict.applies and len(verdict.questions) == 1
    assert verdict.questions[0].startswith("a yes to any one of these is enough: (1) are there 10 or more residents")
    assert " (2) are 20 or more people affected?" in verdict.questions[0]


def test_each_question_asks_what_makes_its_alternative_hold_and_those_all_share_come_first():
    """A yes always means "owed": the individuals' notice of 26D(2) holds for at most 499 people (a breach notifiable
    by scale alone is not theirs), so it asks that, never "500 or more"."""
    uncounted = {"SG": Residents(300, PLAIN, counts_unknown=True)}
    flag = assess(rule("sg-pdpa-26d-2").applies_when, uncounted, None, "P").questions
    assert not any("are 500 or more people affected" in question for question in flag)
    assert "are at most 499 people affected? Recorded: 300" in flag[-1]
    # people placed nowhere: where they live is asked once, beside the either-or, not inside each alternative
    when = either({"min_people": 50}, {"question": "is the harm significant?"})
    nowhere = {"unknown": Residents(40, PLAIN, counts_unknown=True)}
    where, either_or = assess(when, nowhere, None, "P").questions
    assert where.startswith("are there residents of Singapore (SG) among the affected people?")
    assert either_or.startswith("a yes to any one of these is enough: (1) are 50 or more people affected?")
    assert either_or.endswith("(2) is the harm significant?") and where not in either_or


@given(
    st.dictionaries(
        st.sampled_from(("SG", "FR", "unknown")),
        st.builds(Residents, st.integers(0, 40), st.just(PLAIN), st.booleans()),
        max_size=3,
    )
)
def test_any_of_holds_exactly_when_the_keys_beside_it_and_one_alternative_hold(population):
    when = either({"min_residents": 10}, {"min_people": 20})
    alone = [assess(alternative, population, None, "P") for alternative in when.any_of]
    verdict = assess(when, population, None, "P")
    assert verdict.applies == any(v.applies for v in alone)
    assert bool(verdict.questions) == (verdict.applies and all(v.questions for v in alone if v.applies))
