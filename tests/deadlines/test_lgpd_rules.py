"""Brazil's LGPD as controller (Lei 13.709/2018 Art. 48; Resolução CD/ANPD nº 15/2024): the ANPD's communication,
the data subjects' notice, the complement and the declaration that the data subjects were told. The pure planner
and diff, no database: who is owed, the boundaries on both sides, the questions a person answers, the doubled
periods of a small-scale processing agent, and a declaration counted from the end of another duty's deadline."""

from datetime import UTC, datetime

import pytest

from breachdesk.deadlines.applicability import Residents
from breachdesk.deadlines.diff import STATE, Stored, diff
from breachdesk.deadlines.obligations import Facts, Profile, Ruling, declined, plan, rulings_from
from breachdesk.deadlines.rules import parse_rules, shipped_rules

LGPD_ROWS = {"lgpd-art48", "lgpd-res15-art9", "lgpd-res15-art6-3", "lgpd-res15-art9-4"}
#: Friday 5 February 2027, 12:00 in Brasilia: Carnival (8-9 February) is counted
AWARE = datetime(2027, 2, 5, 15, 0, tzinfo=UTC)
BANK = frozenset({"user.name", "user.financial.bank_account"})
SMALL_AGENT = "Small-scale processing agent"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def profile(status: str | None = None, regimes: tuple[str, ...] = ("LGPD",)) -> Profile:
    return Profile("Sapatos Ltda", regimes, entity_status={"LGPD": status} if status else {})


def facts(own: dict[str, Residents], roles=("controller",), authority: bool | None = None) -> Facts:
    rulings = rulings_from({"authority": Ruling(authority, "dpo", "no risk")} if authority is not None else {}, {})
    return Facts(frozenset(roles), (), rulings, own_regions=own)


def lgpd(own: dict[str, Residents], status: str | None = None, **changes) -> dict[str, object]:
    """The LGPD duties planned, by rule id (each is owed once: to the ANPD or to the data subjects)."""
    found = plan(shipped_rules(), profile(status, **changes.pop("profile", {})), facts(own, **changes))
    return {p.rule.id: p for p in found if p.rule.regime == "LGPD"}


def people(categories=BANK, **per_region: int) -> dict[str, Residents]:
    return {region.replace("_", "-"): Residents(count, frozenset(categories)) for region, count in per_region.items()}


def test_brazilian_residents_financial_data_owe_the_anpd_and_the_data_subjects_with_the_facts_recorded():
    found = lgpd(people(BR_SP=212, FR=40))
    assert set(found) == LGPD_ROWS
    notice = found["lgpd-res15-art9"]
    assert notice.recipient == "data subjects" and not notice.flag
    assert notice.triggered_by == [
        "212 residents of Brazil (BR) affected",
        "data: financial data or purchase records (user.financial.bank_account)",
    ]
    assert {found[r].recipient for r in LGPD_ROWS - {"lgpd-res15-art9"}} == {
        "Autoridade Nacional de Proteção de Dados (ANPD)"
    }


@pytest.mark.parametrize("brazilians, owed", [(0, False), (1, True)])
def test_one_resident_of_brazil_is_enough_and_none_owes_nothing(brazilians, owed):
    own = people(FR=5000, BR=brazilians) if brazilians else people(FR=5000)
    assert (set(lgpd(own)) == LGPD_ROWS) is owed
    if not owed:
        reason = declined(shipped_rules(), profile(), facts(own), ("lgpd-res15-art9", "data_subjects"))
        assert reason == "no affected residents of Brazil (BR)"


@pytest.mark.parametrize(
    "category",
    [
        "user.demographic.religious_belief",
        "user.health_and_medical.record_id",
        "user.childrens",
        "user.payment",
        "user.authorization.password",
        "user.biometric.fingerprint",
        "user.behavior.purchase_history",  # financial data include purchases (Res. 15 Art. 3 VII)
        "user.account.username",  # login accounts are authentication data (Art. 3 VI)
    ],
)
def test_each_criterion_a_data_category_shows_makes_the_risk_relevant_without_a_question(category):
    notice = lgpd(people({"user.contact.email", category}, BR_RJ=30))["lgpd-res15-art9"]
    assert not notice.flag and category in notice.triggered_by[-1]


def test_criteria_no_category_shows_become_a_question_never_a_dropped_duty():
    found = lgpd(people({"user.contact.email", "user.name"}, BR=900))
    assert set(found) == LGPD_ROWS
    for duty in found.values():
        assert "does the incident involve data of elderly persons, data under legal, judicial or professional" in (
            duty.flag
        )
    assert found["lgpd-res15-art9"].triggered_by == ["900 residents of Brazil (BR) affected"]


def test_a_broader_category_asks_whether_it_holds_a_criterion():
    notice = lgpd(people({"user.demographic"}, BR=10))["lgpd-res15-art9"]
    assert "does the data lost by residents of Brazil (BR) include sensitive personal data" in notice.flag


def test_people_of_an_unknown_region_are_asked_about_not_dropped():
    own = {"unknown": Residents(70, BANK), "FR": Residents(10, BANK)}
    notice = lgpd(own)["lgpd-res15-art9"]
    assert "are there residents of Brazil (BR) among the affected people?" in notice.flag


def test_no_lgpd_duty_as_processor_or_when_the_profile_does_not_name_it():
    own = people(BR=500)
    assert lgpd(own, roles=("processor",)) == {}
    assert lgpd(own, profile={"regimes": ("GDPR",)}) == {}


def test_the_assessment_that_no_relevant_risk_exists_makes_every_lgpd_duty_not_required():
    found = lgpd(people(BR=500), authority=False)
    assert set(found) == LGPD_ROWS and not any(duty.required for duty in found.values())
    assert lgpd(people(BR=500), authority=True)["lgpd-res15-art9"].required


def created(status: str | None, anchors: dict[str, datetime], stored: list[Stored] = ()) -> dict[str, dict]:
    changes = diff(list(lgpd(people(BR=50), status).values()), list(stored), anchors, {})
    return {row["rule_id"]: row for row in changes.created}


def test_the_declaration_is_due_three_business_days_after_the_data_subjects_deadline_ends():
    rows = created(None, {"awareness": AWARE})
    assert rows["lgpd-art48"]["due_at"] == utc("2027-02-10T23:59:59-03:00")  # Carnival counted
    assert rows["lgpd-res15-art9"]["due_at"] == utc("2027-02-10T23:59:59-03:00")
    declaration = rows["lgpd-res15-art9-4"]
    assert declaration["anchor"] == "stage_due:lgpd-res15-art9"
    assert declaration["clock_start"] == utc("2027-02-10T23:59:59-03:00")
    assert declaration["due_at"] == utc("2027-02-15T23:59:59-03:00")
    assert rows["lgpd-res15-art6-3"]["due_at"] is None  # until the ANPD communication is filed


@pytest.mark.parametrize("status", [SMALL_AGENT, "agente de tratamento de PEQUENO porte"])
def test_a_small_scale_agent_has_every_period_doubled_but_the_declarations(status):
    found = lgpd(people(BR=50), status)
    amounts = {rule_id: duty.terms.period.amount for rule_id, duty in found.items()}
    assert amounts == {"lgpd-art48": 6, "lgpd-res15-art9": 6, "lgpd-res15-art6-3": 40, "lgpd-res15-art9-4": 3}
    assert f"our status under LGPD: {status}, so the period counts double" in found["lgpd-art48"].triggered_by
    assert not any("counts double" in fact for fact in found["lgpd-res15-art9-4"].triggered_by)
    rows = created(status, {"awareness": AWARE, "stage_filed:lgpd-art48": utc("2027-02-08T12:00:00-03:00")})
    # six business days from Friday 5 February: 8, 9 (Carnival), 10, 11, 12, 15
    assert rows["lgpd-res15-art9"]["due_at"] == utc("2027-02-15T23:59:59-03:00")
    assert rows["lgpd-res15-art9-4"]["due_at"] == utc("2027-02-18T23:59:59-03:00")  # 16, 17, 18: not doubled
    # forty business days from Monday 8 February: Good Friday (26 March) skipped
    assert rows["lgpd-res15-art6-3"]["due_at"] == utc("2027-04-06T23:59:59-03:00")


def test_another_stated_status_leaves_the_periods_as_they_are():
    found = lgpd(people(BR=50), "controlador")
    assert found["lgpd-art48"].terms.period.amount == 3
    assert not any("counts double" in fact for fact in found["lgpd-art48"].triggered_by)


def test_the_declaration_counts_from_the_deadline_the_data_subjects_duty_is_held_to():
    """A status stated after the data subjects' duty arose does not move its frozen deadline, nor the declaration's."""
    before = created(None, {"awareness": AWARE})
    stored = [
        Stored(n, (row["rule_id"], row["recipient_key"]), row["terms"], {name: row[name] for name in STATE})
        for n, row in enumerate(before.values(), start=1)
    ]
    changes = diff(list(lgpd(people(BR=50), SMALL_AGENT).values()), stored, {"awareness": AWARE}, {})
    assert changes.created == [] and changes.changed == []  # the facts say nothing of a doubling either
    assert {row.terms["period"]["amount"] for row in stored} == {3, 20}


def test_a_stage_counted_from_the_end_of_one_itself_counted_so_gets_its_time_whatever_the_order():
    rows = [
        {"id": "c", "anchor": "stage_due:b"},
        {"id": "b", "anchor": "stage_due:a"},
        {"id": "a", "anchor": "awareness"},
    ]
    common = {
        "regime": "LGPD",
        "stage": "a stage",
        "recipient_kind": "regulator",
        "our_roles": ["controller"],
        "period": {"amount": 1, "unit": "calendar_days", "time_zone": "UTC"},
        "condition": "always",
        "source": "Examplia Act s. 1: a day after the previous stage's deadline",
        "authority": "Examplia Authority",
    }
    chain = parse_rules({"rules": [common | row for row in rows]})
    planned = plan(chain, profile(), facts({}))
    due = {row["rule_id"]: row["due_at"] for row in diff(planned, [], {"awareness": AWARE}, {}).created}
    assert due == {"a": utc("2027-02-06T23:59:59Z"), "b": utc("2027-02-07T23:59:59Z"), "c": utc("2027-02-08T23:59:59Z")}
