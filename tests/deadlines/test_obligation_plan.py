"""Who is owed what, decided by our role, the profile and the rulings: the pure planner, no database."""

import dataclasses
from datetime import UTC, datetime, timedelta

import yaml
from hypothesis import given
from hypothesis import strategies as st

from breachdesk.deadlines.calendar import Period, Unit
from breachdesk.deadlines.diff import lateness
from breachdesk.deadlines.obligations import (
    AffectedCustomer,
    Facts,
    Planned,
    Profile,
    Ruling,
    clock,
    duration,
    plan,
    remaining,
    rulings_from,
    urgency,
)
from breachdesk.deadlines.rules import Limit, Terms, parse_rules, rule, shipped_rules

AWARE = datetime(2026, 3, 28, 23, 30, tzinfo=UTC)
EU = Profile("Parlons SAS", ("GDPR",), lead_supervisory_authority="CNIL")
CUSTOMERS = (
    AffectedCustomer("acme", "Acme", 1, 24),
    AffectedCustomer("globex", "Globex", 2, 48),
    AffectedCustomer("velo", "Vélo", 3, 36, contractual=False),
)


def facts(roles=("processor",), customers=CUSTOMERS, **rulings) -> Facts:
    return Facts(frozenset(roles), customers, rulings_from(rulings, {}))


def by_key(planned):
    return {(p.rule.id, p.recipient_key): p for p in planned}


def test_as_processor_every_affected_customer_is_owed_a_notice_without_a_risk_test():
    planned = by_key(plan(shipped_rules(), EU, facts(authority=Ruling(False, "dpo", "low risk"))))
    assert set(planned) == {("gdpr-art33-2", "acme"), ("gdpr-art33-2", "globex"), ("gdpr-art33-2", "velo")}
    assert all(p.required for p in planned.values())  # a "not required" authority ruling does not touch them
    acme, globex, velo = (planned[("gdpr-art33-2", k)] for k in ("acme", "globex", "velo"))
    assert clock(acme.terms, {"awareness": AWARE})["due_at"] == AWARE + timedelta(hours=24)
    assert clock(globex.terms, {"awareness": AWARE})["due_at"] == AWARE + timedelta(hours=48)
    # "without undue delay" in the contract: no legal due time, our internal target instead
    assert clock(velo.terms, {"awareness": AWARE}) == {
        "anchor": "awareness",
        "clock_start": AWARE,
        "due_at": None,
        "target_at": AWARE + timedelta(hours=36),
    }


def test_as_controller_the_authority_is_owed_unless_decided_otherwise_and_subjects_only_on_high_risk():
    undecided = by_key(plan(shipped_rules(), EU, facts(("controller",), ())))
    assert set(undecided) == {("gdpr-art33-1", "supervisory_authority"), ("gdpr-art34", "data_subjects")}
    authority = undecided[("gdpr-art33-1", "supervisory_authority")]
    assert authority.required and authority.recipient == "CNIL"
    # the clock runs while undecided: 72 h from awareness
    assert clock(authority.terms, {"awareness": AWARE})["due_at"] == AWARE + timedelta(hours=72)
    subjects = undecided[("gdpr-art34", "data_subjects")]
    assert clock(subjects.terms, {"awareness": AWARE})["due_at"] is None  # no high risk established yet

    decided = by_key(
        plan(
            shipped_rules(),
            EU,
            facts(
                ("controller",),
                (),
                authority=Ruling(False, "dpo", "unlikely to result in a risk: test data only"),
                data_subjects=Ruling(False, "dpo", "unlikely to result in a risk: test data only"),
            ),
        )
    )
    assert not decided[("gdpr-art33-1", "supervisory_authority")].required
    assert decided[("gdpr-art33-1", "supervisory_authority")].decided_by == "dpo"
    assert "test data only" in decided[("gdpr-art34", "data_subjects")].rationale


def test_both_roles_owe_both_kinds_and_no_role_owes_nothing_under_gdpr():
    both = {p.rule.id for p in plan(shipped_rules(), EU, facts(("processor", "controller")))}
    assert both == {"gdpr-art33-2", "gdpr-art33-1", "gdpr-art34"}
    assert plan(shipped_rules(), EU, facts((), ())) == []


def test_a_regime_the_profile_does_not_name_produces_nothing():
    assert plan(shipped_rules(), Profile("X", ()), facts(("processor", "controller"))) == []
    uk = {p.rule.id for p in plan(shipped_rules(), Profile("X", ("UK GDPR",)), facts(("controller",), ()))}
    assert uk == {"uk-gdpr-art33-1"}


def test_a_named_regime_that_cannot_be_resolved_is_flagged_for_a_person_never_silent():
    no_authority = plan(shipped_rules(), Profile("X", ("GDPR",)), facts(("controller",), ()))
    authority = by_key(no_authority)[("gdpr-art33-1", "supervisory_authority")]
    assert "no supervisory authority is named for GDPR" in authority.flag
    assert authority.recipient.startswith("unresolved")
    nis2 = plan(shipped_rules(), Profile("X", ("NIS2",)), facts((), ()))
    # the recipients of our services are told too until a person decides they need not be (Art. 23(1)); the stages
    # owed only once something happened (a request, an incident still ongoing) are not there
    assert {p.rule.id for p in nis2} == {
        "nis2-art23-early-warning",
        "nis2-art23-notification",
        "nis2-art23-final-report",
        "nis2-art23-1-recipients",
    }
    to_csirt = [p for p in nis2 if p.rule.recipient_kind == "csirt"]
    assert all("not our entity status" in p.flag and "no csirt is named" in p.flag for p in to_csirt)
    resolved = plan(
        shipped_rules(),
        Profile("X", ("NIS2",), authorities={"NIS2": "CERT-FR"}, entity_status={"NIS2": "important"}),
        facts((), ()),
    )
    assert all(p.flag == "" for p in resolved)
    assert {p.recipient for p in resolved} == {"CERT-FR", "recipients of our services"}


def test_the_profile_can_name_another_authority_than_the_rules_table():
    profile = Profile("X", ("UK GDPR",), authorities={"UK GDPR": "ICO (Wilmslow)"})
    assert plan(shipped_rules(), profile, facts(("controller",), ()))[0].recipient == "ICO (Wilmslow)"


def test_a_negative_determination_ends_a_duty_and_names_who_decided():
    profile = Profile("X", ("SEC Form 8-K",))
    pending = plan(shipped_rules(), profile, facts((), ()))
    assert [p.required for p in pending] == [True]
    not_material = Facts(frozenset(), (), rulings_from({}, {"material": Ruling(False, "cfo", "no material impact")}))
    [duty] = plan(shipped_rules(), profile, not_material)
    assert not duty.required and duty.decided_by == "cfo"


def test_disproportionate_effort_turns_the_data_subject_duty_into_a_public_communication():
    public = Facts(frozenset({"controller"}), (), rulings_from({}, {}), public_communication=True)
    subjects = by_key(plan(shipped_rules(), EU, public))[("gdpr-art34", "data_subjects")]
    assert subjects.recipient.startswith("the public")


def test_the_organisations_target_sets_without_undue_delay_duties():
    profile = Profile("X", ("GDPR",), "CNIL", undue_delay_target_hours=24)
    subjects = by_key(plan(shipped_rules(), profile, facts(("controller",), ())))[("gdpr-art34", "data_subjects")]
    anchors = {"awareness": AWARE, "high_risk_established": AWARE + timedelta(hours=5)}
    assert clock(subjects.terms, anchors)["target_at"] == AWARE + timedelta(hours=29)


def test_a_new_regime_is_a_new_row_and_needs_no_code():
    row = {
        "id": "xx-breach-act-5",
        "regime": "Examplia",
        "stage": "notification",
        "recipient_kind": "regulator",
        "our_roles": ["controller"],
        "anchor": "awareness",
        "authority": "Examplia Data Office",
        "period": {"amount": 5, "unit": "business_days", "holiday_country": "FR", "time_zone": "Europe/Paris"},
        "condition": "always",
        "source": "Examplia Breach Act s. 5: five business days after becoming aware",
    }
    [duty] = plan(parse_rules({"rules": [row]}), Profile("X", ("Examplia",)), facts(("controller",), ()))
    # Friday 1 May 2026 (Labour Day, a French holiday); then 4, 5, 6, 7 May, and 8 May (a holiday), then 11 May
    due = clock(duty.terms, {"awareness": datetime(2026, 4, 30, 9, 0, tzinfo=UTC)})["due_at"]
    assert due == datetime(2026, 5, 11, 21, 59, 59, tzinfo=UTC)
    assert duty.recipient == "Examplia Data Office"


def test_dora_clock_binds_on_whichever_limit_ends_first():
    terms = rule("dora-initial").terms()
    only_awareness = clock(terms, {"awareness": AWARE})
    assert only_awareness["anchor"] == "awareness" and only_awareness["due_at"] == AWARE + timedelta(hours=24)
    classified = clock(terms, {"awareness": AWARE, "classified_major": AWARE + timedelta(hours=2)})
    assert classified["anchor"] == "classified_major" and classified["due_at"] == AWARE + timedelta(hours=6)


def test_terms_survive_a_round_trip_through_their_stored_form():

    for each in shipped_rules():
        terms = each.terms(30, contractual=True)
        assert Terms.from_dict(terms.as_dict()) == terms


@given(
    hours=st.integers(1, 24 * 30),
    aware=st.datetimes(datetime(2020, 1, 1), datetime(2030, 12, 31), timezones=st.just(UTC)),
    later=st.timedeltas(timedelta(0), timedelta(days=400)),
)
def test_customer_deadlines_are_exact_elapsed_hours_and_never_move_earlier(hours, aware, later):
    [duty] = plan(shipped_rules(), EU, facts(customers=(AffectedCustomer("c", "C", 1, hours),)))
    assert duty.terms.period.unit == Unit.HOURS
    due = clock(duty.terms, {"awareness": aware})["due_at"]
    assert due - aware == timedelta(hours=hours) and due >= aware
    assert clock(duty.terms, {"awareness": aware + later})["due_at"] >= due


def test_countdown_texts_and_urgency():
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    assert remaining(now + timedelta(hours=3, minutes=20), now) == "in 3 h 20 min"
    assert remaining(now - timedelta(days=1, hours=2), now) == "overdue by 1 d 2 h"
    assert remaining(None, now) == "clock not started"
    assert duration(300) == "5 min"
    assert [urgency(now + timedelta(hours=h), now) for h in (-1, 3, 23, 25)] == ["overdue", "h4", "h24", "later"]


def test_countdown_and_urgency_boundaries_fall_on_the_later_side():
    """Due this very instant is not yet overdue; exactly 4 h left is no longer "under 4 h", 24 h not "under 24"."""
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    assert remaining(now, now) == "in 0 min" and remaining(now + timedelta(milliseconds=500), now) == "in 0 min"
    assert duration(86_400) == "1 d 0 h" and duration(-3_600) == "1 h 0 min"
    hours = (-0.5, 0, 0.5, 4, 4.5, 24, 24.5)
    assert [urgency(now + timedelta(hours=h), now) for h in hours] == [
        "overdue",
        "h4",
        "h4",
        "h24",
        "h24",
        "later",
        "later",
    ]
    assert urgency(None, now) == "later"
    assert lateness(now, None) is None and lateness(now, now + timedelta(hours=1)) == 0
    assert lateness(now, now - timedelta(minutes=2)) == 120


WORKED_TABLE = """
rules:
  - id: ctl
    regime: Examplia
    stage: notification
    recipient_kind: controller
    our_roles: [processor]
    anchor: awareness
    period: {amount: 24, unit: without_undue_delay, contract_hours: true}
    condition: always
    source: "s. 1"
  - id: dpa
    regime: Examplia
    stage: notification
    recipient_kind: supervisory_authority
    authority: lead_supervisory_authority
    our_roles: [controller]
    anchor: awareness
    period: {amount: 72, unit: hours}
    condition: unless_unlikely_risk
    source: "s. 2"
  - id: people
    regime: Examplia
    stage: communication
    recipient_kind: data_subjects
    our_roles: [controller]
    anchor: high_risk_established
    period: {amount: 72, unit: without_undue_delay}
    condition: high_risk
    source: "s. 3"
  - id: cert
    regime: Netland
    stage: early warning
    recipient_kind: csirt
    entity_status: true
    our_roles: [processor, controller]
    anchor: awareness
    period: {amount: 24, unit: hours}
    condition: significant
    source: "s. 4"
  - id: hospital
    regime: Netland
    stage: notification
    recipient_kind: covered_entity
    entity_status: true
    our_roles: [processor]
    anchor: awareness
    period: {amount: 10, unit: without_undue_delay}
    condition: notifiable
    source: "s. 5"
  - id: office
    regime: Examplia
    stage: notification
    recipient_kind: regulator
    authority: " Netland Data Office "
    our_roles: [controller]
    anchor: awareness
    period: {amount: 3, unit: without_undue_delay}
    condition: always
    source: "s. 6"
  - id: elsewhere
    regime: Otherland
    stage: notification
    recipient_kind: regulator
    authority: Otherland Office
    our_roles: [processor, controller]
    anchor: awareness
    period: {amount: 1, unit: hours}
    condition: always
    source: "s. 7"
"""


def worked_rules():
    return {r.id: r for r in parse_rules(yaml.safe_load(WORKED_TABLE))}


def test_a_processors_plan_worked_by_hand_field_by_field():
    rules = worked_rules()
    profile = Profile(
        "Parlons", ("Examplia", "Netland"), " CNIL ", entity_status={"Netland": " None "}, undue_delay_target_hours=12
    )
    customers = (AffectedCustomer("acme", "Acme", 1, 24), AffectedCustomer("velo", "Vélo", 3, 36, contractual=False))
    rulings = {
        "unless_unlikely_risk": Ruling(False, "dpo", "test data only"),
        "significant": Ruling(None),
        "notifiable": Ruling(False, "dpo", "no harm likely"),
    }
    planned = plan(tuple(rules.values()), profile, Facts(frozenset({"processor"}), customers, rulings))
    no_status = (
        "the organisation profile names Netland but not our entity status under it: confirm that the regime applies"
    )
    unresolved = f"{no_status}; no csirt is named for Netland: name it in the organisation profile"
    # no contract hours in the row: the organisation's target for "without undue delay", for every customer
    target = Terms("awareness", Period(12, Unit.WITHOUT_UNDUE_DELAY))
    not_notifiable = {"required": False, "decided_by": "dpo", "rationale": "no harm likely", "flag": no_status}
    assert planned == [
        # the customer's contract sets the hours: clock hours, or our target where it says "without undue delay"
        Planned(rules["ctl"], "acme", "Acme", Terms("awareness", Period(24, Unit.HOURS)), 1),
        Planned(rules["ctl"], "velo", "Vélo", Terms("awareness", Period(36, Unit.WITHOUT_UNDUE_DELAY)), 3),
        # undecided: owed, and flagged twice (no entity status, no CSIRT named)
        Planned(
            rules["cert"],
            "csirt",
            "unresolved csirt (Netland)",
            Terms("awareness", Period(24, Unit.HOURS)),
            flag=unresolved,
        ),
        Planned(rules["hospital"], "acme", "Acme", target, 1, **not_notifiable),
        Planned(rules["hospital"], "velo", "Vélo", target, 3, **not_notifiable),
    ]


def test_a_controllers_plan_worked_by_hand_field_by_field():
    rules = worked_rules()
    profile = Profile(
        "Parlons",
        ("Examplia", "Netland"),
        " CNIL ",
        authorities={"Netland": " CERT-NL "},
        entity_status={"Netland": " Important "},
        undue_delay_target_hours=12,
    )
    rulings = {
        "unless_unlikely_risk": Ruling(False, "dpo", "test data only"),
        "high_risk": Ruling(True, "dpo", "passwords in clear"),
        "significant": Ruling(False, "ciso", "no outage"),
    }
    facts = Facts(frozenset({"controller"}), (AffectedCustomer("acme", "Acme", 1, 24),), rulings, True)
    planned = plan(tuple(rules.values()), profile, facts)
    public = "the public (Art. 34(3)(c): individual notice would involve disproportionate effort)"
    assert planned == [
        Planned(
            rules["dpa"],
            "supervisory_authority",
            "CNIL",
            Terms("awareness", Period(72, Unit.HOURS)),
            required=False,
            decided_by="dpo",
            rationale="test data only",
        ),
        # the organisation's 12 h target replaces the table's 72 for "without undue delay"
        Planned(
            rules["people"],
            "data_subjects",
            public,
            Terms("high_risk_established", Period(12, Unit.WITHOUT_UNDUE_DELAY)),
            decided_by="dpo",
            rationale="passwords in clear",
        ),
        Planned(
            rules["cert"],
            "csirt",
            "CERT-NL",
            Terms("awareness", Period(24, Unit.HOURS)),
            required=False,
            decided_by="ciso",
            rationale="no outage",
        ),
        # the profile's authorities map names regimes; the rule's own authority otherwise, trimmed
        Planned(
            rules["office"],
            "regulator",
            "Netland Data Office",
            Terms("awareness", Period(12, Unit.WITHOUT_UNDUE_DELAY)),
        ),
    ]


def test_without_a_lead_authority_the_duty_is_flagged_and_without_public_notice_it_goes_to_the_subjects():
    rules = worked_rules()
    profile = Profile("Parlons", ("Examplia",), "  ", authorities={"Netland": "CERT-NL"})
    planned = by_key(plan((rules["dpa"], rules["people"]), profile, Facts(frozenset({"controller"}), (), {})))
    authority = planned[("dpa", "supervisory_authority")]
    assert (authority.recipient, authority.flag, authority.required) == (
        "unresolved supervisory authority (Examplia)",
        "no supervisory authority is named for Examplia: name it in the organisation profile",
        True,
    )
    assert planned[("people", "data_subjects")].recipient == "data subjects"


def test_the_public_replaces_the_data_subjects_only_for_the_high_risk_duty():
    rules = worked_rules()
    always = dataclasses.replace(rules["people"], condition="always")
    facts = Facts(frozenset({"controller"}), (), {}, public_communication=True)
    [duty] = plan((always,), Profile("Parlons", ("Examplia",)), facts)
    assert duty.recipient == "data subjects"


def test_rulings_gather_the_assessments_two_decisions_and_the_recorded_determinations():
    authority, subjects = Ruling(False, "dpo", "a"), Ruling(True, "dpo", "b")
    significant, other = Ruling(True, "ciso", "c"), Ruling(False, "x", "d")
    assert rulings_from({"authority": authority, "data_subjects": subjects}, {"significant": significant}) == {
        "unless_unlikely_risk": authority,
        "high_risk": subjects,
        "significant": significant,
    }
    assert rulings_from({}, {"unknown": other}) == {"unless_unlikely_risk": Ruling(None), "high_risk": Ruling(None)}


def test_a_second_limit_that_binds_says_whether_it_is_a_due_time_or_a_target():

    terms = Terms("classified_major", Period(4, Unit.HOURS), Limit("awareness", Period(2, Unit.WITHOUT_UNDUE_DELAY)))
    anchors = {"awareness": AWARE, "classified_major": AWARE + timedelta(hours=1)}
    assert clock(terms, anchors) == {
        "anchor": "awareness",
        "clock_start": AWARE,
        "due_at": None,
        "target_at": AWARE + timedelta(hours=2),
    }
    later = {"awareness": AWARE, "classified_major": AWARE - timedelta(hours=3)}
    assert clock(terms, later) == {
        "anchor": "classified_major",
        "clock_start": AWARE - timedelta(hours=3),
        "due_at": AWARE + timedelta(hours=1),
        "target_at": None,
    }
    assert clock(terms, {}) == {"anchor": "classified_major", "clock_start": None, "due_at": None, "target_at": None}
