"""A duty exists because the data says so: where the affected people live, how many they are, what they lost and the
customer's status decide whether a rule applies, and the duty says which facts did. The pure planner, no database."""

from dataclasses import replace

from hypothesis import given
from hypothesis import strategies as st

from breachdesk.deadlines.applicability import Residents, Verdict, assess
from breachdesk.deadlines.obligations import (
    AffectedCustomer,
    Facts,
    Profile,
    customers_residence_matters,
    declined,
    plan,
    rulings_from,
)
from breachdesk.deadlines.rules import CUSTOMER_STATUSES, AppliesWhen, Element, parse_rules, rule, shipped_rules
from breachdesk.impact.explain import covers
from breachdesk.inventory.regions import UNKNOWN, within

NAME, SSN, EMAIL = "user.name", "user.government_id.national_identification_number", "user.contact.email"
TEXAS_AG = rule("us-tx-521-053-i").applies_when
STATES = Profile(
    "Parlons SAS",
    ("GDPR", "Texas", "Colorado", "Washington", "HIPAA"),
    "CNIL",
    entity_status={"HIPAA": "business associate"},
)
#: the same, and a HIPAA covered entity too: the duties counted in people and per State; and under UK GDPR and
#: Singapore's PDPA, whose duties are counted in alternatives (`any_of`)
COVERED = replace(
    STATES,
    regimes=(*STATES.regimes, "UK GDPR", "Singapore PDPA"),
    entity_status={"HIPAA": "covered entity"},
)
IDS_WITH_NAMES = frozenset({NAME, SSN})
NAME_WITH_SSN = (
    "data: first name or first initial and last name (user.name) with Social Security number "
    "(user.government_id.national_identification_number)"
)


def texans(people: int, categories=IDS_WITH_NAMES) -> dict[str, Residents]:
    return {"US-TX": Residents(people, frozenset(categories))}


def test_enough_texans_whose_ids_leaked_with_their_names_trigger_the_attorney_generals_notice_in_words():
    assert assess(TEXAS_AG, texans(312) | {"FR": Residents(40, frozenset({NAME}))}, None, "Parlons SAS") == Verdict(
        True,
        facts=("312 residents of Texas (US-TX) affected (250 or more needed)", NAME_WITH_SSN),
        regions=("US-TX",),
        residents=312,
        elements=(("name", NAME), ("ssn", SSN)),
    )


def test_a_rule_that_does_not_apply_says_which_fact_is_missing():
    assert assess(TEXAS_AG, {"FR": Residents(900, IDS_WITH_NAMES)}, None, "P").reason == (
        "no affected residents of Texas (US-TX)"
    )
    assert assess(TEXAS_AG, texans(249), None, "P").reason == (
        "249 residents of Texas (US-TX) affected, fewer than the 250 needed"
    )
    assert assess(TEXAS_AG, texans(300, {NAME, EMAIL}), None, "P").reason == (
        "the data of residents of Texas (US-TX) holds none of the combinations of data elements it names"
    )
    # people of an unknown region that cannot make up the difference do not make a question
    few = texans(200) | {"unknown": Residents(30, IDS_WITH_NAMES)}
    assert assess(TEXAS_AG, few, None, "P").reason == (
        "200 residents of Texas (US-TX) affected (at most 230 with the people not placed in a region), "
        "fewer than the 250 needed"
    )
    hipaa = rule("hipaa-164-410").applies_when
    assert assess(hipaa, {"US": Residents(10, IDS_WITH_NAMES)}, frozenset(), "Bakery").reason == (
        "Bakery is not a HIPAA covered entity (we signed a business associate agreement with it)"
    )


def test_a_fact_nobody_recorded_creates_the_duty_with_the_question_to_answer():
    unplaced = texans(200) | {"unknown": Residents(80, IDS_WITH_NAMES)}
    verdict = assess(TEXAS_AG, unplaced, None, "P")
    assert verdict.applies and verdict.facts == ("200 residents of Texas (US-TX) recorded as affected", NAME_WITH_SSN)
    assert verdict.questions == (
        "are there 250 or more residents of Texas (US-TX) among the affected people? Recorded: 200; uncertain: "
        "80 people whose region is not recorded",
    )
    # people recorded in the United States without their state, their number not even counted
    country = assess(TEXAS_AG, {"US": Residents(0, IDS_WITH_NAMES, counts_unknown=True)}, None, "P")
    assert country.applies and country.questions == (
        "are there 250 or more residents of Texas (US-TX) among the affected people? Recorded: 0; uncertain: "
        "an uncounted number of people recorded as living in United States (US)",
    )
    assert country.facts[1] == f"{NAME_WITH_SSN}, lost by people not placed in a region"
    # enough Texans counted, but what identifies them was lost by people placed nowhere: where do those live?
    split = texans(300, {NAME}) | {"unknown": Residents(10, frozenset({SSN}))}
    assert assess(TEXAS_AG, split, None, "P").questions == (
        "do the people not placed in a region live in Texas (US-TX)?",
    )
    # a category broader than the element may hold it
    name_and_ssn = AppliesWhen(
        ("US-TX",), None, None, ((Element("name", "name", (NAME,)), Element("ssn", "SSN", (SSN,))),)
    )
    broad = assess(name_and_ssn, texans(5, {NAME, "user.government_id"}), None, "P")
    assert broad.applies and broad.questions == (
        "does the data lost by residents of Texas (US-TX) include name with SSN? It may: user.government_id, user.name",
    )


def test_hipaa_notices_are_owed_to_covered_entity_customers_only_wherever_their_patients_live():
    clinic = AffectedCustomer("clinic", "Clinic", 1, 24, statuses=frozenset({"hipaa_covered_entity"}))
    bakery = AffectedCustomer("bakery", "Bakery", 2, 24, regions={"FR": Residents(80, frozenset({NAME}))})
    planned = plan(shipped_rules(), STATES, Facts(frozenset({"processor"}), (clinic, bakery), rulings_from({}, {})))
    assert {p.key for p in planned} == {
        ("gdpr-art33-2", "clinic"),
        ("gdpr-art33-2", "bakery"),
        ("hipaa-164-410", "clinic"),
    }
    [hipaa] = [p for p in planned if p.rule.id == "hipaa-164-410"]
    assert hipaa.triggered_by == ["Clinic is a HIPAA covered entity (we signed a business associate agreement with it)"]
    assert declined(shipped_rules(), STATES, Facts(frozenset({"processor"}), (bakery,), {}), hipaa.key) == (
        "customer clinic is no longer affected"
    )


def test_where_a_customers_people_live_is_read_only_when_a_duty_to_a_customer_depends_on_it():
    # HIPAA asks for the customer's status only; a state's duty to the data owner asks where its people live
    assert not customers_residence_matters(shipped_rules(), Profile("Parlons SAS", ("GDPR", "HIPAA"), "CNIL"))
    assert customers_residence_matters(shipped_rules(), STATES)
    owner = parse_rules(
        {
            "rules": [
                {
                    "id": "xx-owner",
                    "regime": "Texas",
                    "stage": "notice to the data owner",
                    "recipient_kind": "controller",
                    "our_roles": ["processor"],
                    "anchor": "awareness",
                    "period": {"amount": 24, "unit": "without_undue_delay"},
                    "condition": "always",
                    "source": "a maintainer tells the owner",
                    "applies_when": {"regions": ["US-TX"]},
                }
            ]
        }
    )
    assert customers_residence_matters(owner, STATES)
    assert not customers_residence_matters(owner, Profile("Parlons SAS", ("GDPR",)))  # Texas not named


def test_controller_side_texans_get_their_notice_and_the_attorney_general_a_flagged_one():
    own = texans(300) | {"FR": Residents(1000, IDS_WITH_NAMES)}
    planned = plan(shipped_rules(), STATES, Facts(frozenset({"controller"}), (), {}, own_regions=own))
    by_rule = {p.rule.id: p for p in planned}
    assert set(by_rule) == {"gdpr-art33-1", "gdpr-art34", "us-tx-521-053", "us-tx-521-053-i"}
    assert by_rule["us-tx-521-053"].triggered_by == ["300 residents of Texas (US-TX) affected", NAME_WITH_SSN]
    assert by_rule["us-tx-521-053"].flag == ""
    assert by_rule["us-tx-521-053-i"].recipient == "Office of the Texas Attorney General"
    assert by_rule["us-tx-521-053-i"].flag.startswith("the rules table marks this rule unverified (the 30-day period")
    fewer = Facts(frozenset({"controller"}), (), {}, own_regions=texans(249))
    assert declined(shipped_rules(), STATES, fewer, ("us-tx-521-053-i", "state_attorney_general")) == (
        "249 residents of Texas (US-TX) affected, fewer than the 250 needed"
    )


# --- properties -----------------------------------------------------------------------------------------------

REGIONS = ("US-TX", "US-CO", "US-WA", "US", "FR", "GB", "SG", "unknown")
CATEGORIES = (
    NAME,
    "user.name.first",
    SSN,
    "user.government_id",
    "user.government_id.passport_number",
    EMAIL,
    "user.account.username",
    "user.authorization.password",
    "user.financial.credit_card",
    "user.health_and_medical",
)
residents = st.builds(
    Residents, st.integers(0, 600), st.frozensets(st.sampled_from(CATEGORIES), max_size=4), st.booleans()
)
populations = st.dictionaries(st.sampled_from(REGIONS), residents, max_size=4)
statuses = st.frozensets(st.sampled_from(sorted(CUSTOMER_STATUSES)))
customers = st.lists(
    st.builds(
        AffectedCustomer,
        st.sampled_from(("acme", "clinic", "bank")),
        st.just("Customer"),
        st.just(None),
        st.just(24),
        statuses=statuses,
        regions=populations,
    ),
    max_size=3,
    unique_by=lambda c: c.key,
)
roles = st.frozensets(st.sampled_from(("processor", "controller")))


def facts(roles, customers, own) -> Facts:
    return Facts(roles, tuple(customers), rulings_from({}, {}), own_regions=own)


@st.composite
def more_of(draw, population):
    """The same people and more: larger counts, more categories lost, people in more regions."""
    grown = {
        region: Residents(
            found.people + draw(st.integers(0, 300)),
            found.data_categories | draw(st.frozensets(st.sampled_from(CATEGORIES), max_size=2)),
            found.counts_unknown,
        )
        for region, found in population.items()
    }
    return draw(populations) | grown


@given(roles=roles, customers=customers, own=populations, data=st.data())
def test_adding_affected_people_never_removes_a_duty(roles, customers, own, data):
    """...except one bounded above (HIPAA's annual log, for fewer than 500), which the duty for more replaces."""
    before = {p.key for p in plan(shipped_rules(), COVERED, facts(roles, customers, own))}
    grown = [
        AffectedCustomer(c.key, c.name, c.customer_id, 24, True, c.statuses, data.draw(more_of(c.regions)))
        for c in customers
    ]
    after = {p.key for p in plan(shipped_rules(), COVERED, facts(roles, grown, data.draw(more_of(own))))}
    bounded = {r.id for r in shipped_rules() if r.applies_when and r.applies_when.max_people is not None}
    assert {key for key in before - after if key[0] not in bounded} == set()
    if before - after:
        assert ("hipaa-164-408-b", "regulator") in after


@given(roles=roles, customers=customers, own=populations)
def test_a_duty_is_justified_by_the_facts_it_names_or_flagged_with_a_question(roles, customers, own):
    people = {c.key: (c.regions, c.statuses) for c in customers}
    for duty in plan(shipped_rules(), COVERED, facts(roles, customers, own)):
        when, verdict = duty.rule.applies_when, duty.verdict
        if when is None:
            assert duty.triggered_by == []
            continue
        population, held_statuses = people.get(duty.recipient_key, (own, None))
        assert all(question in duty.flag for question in verdict.questions)
        if when.per_region:
            _check_per_region(duty, own)
            continue
        total = sum(p.people for p in population.values())
        if when.min_people is not None:
            assert total >= when.min_people or verdict.questions
        if when.max_people is not None:
            assert total <= when.max_people
        if when.customer_status:
            assert when.customer_status in held_statuses
            assert f"is {CUSTOMER_STATUSES[when.customer_status]}" in verdict.facts[0]
        if when.regions:
            assert all(any(within(r, area) for area in when.regions) for r in verdict.regions)
            assert verdict.residents == sum(population[r].people for r in verdict.regions)
            assert any(f"{verdict.residents:,} residents of" in fact for fact in verdict.facts)
            assert verdict.residents >= (when.min_residents or 1) or verdict.questions
        if when.data_elements:
            _check_elements(when, verdict, population)


def _check_per_region(duty, own: dict[str, Residents]) -> None:
    region = duty.recipient_key.split(":", 1)[1]
    if region == UNKNOWN:
        assert duty.verdict.questions  # people not placed in a State: a person answers
        return
    assert duty.verdict.regions == (region,) and duty.verdict.residents == own[region].people
    assert own[region].people >= duty.rule.applies_when.min_residents or duty.verdict.questions


def _check_elements(when: AppliesWhen, verdict: Verdict, population: dict[str, Residents]) -> None:
    if not verdict.elements:
        assert verdict.questions  # no combination found for sure: a person must answer
        return
    assert tuple(name for name, _ in verdict.elements) in [tuple(e.name for e in c) for c in when.data_elements]
    regions = verdict.regions if when.regions else tuple(population)
    lost = set().union(*(population[r].data_categories for r in regions))
    elements = {e.name: e for combination in when.data_elements for e in combination}
    for name, category in verdict.elements:
        assert category in lost and any(covers(key, category) for key in elements[name].keys)
        assert f"({category})" in verdict.facts[-1]
