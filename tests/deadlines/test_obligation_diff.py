"""What a derivation changes, planned against stored: the pure diff, no database."""

from datetime import UTC, datetime, timedelta
from itertools import count

import yaml
from hypothesis import given
from hypothesis import strategies as st

from breachdesk.deadlines.diff import STATE, WITHDRAWAL, WITHDRAWN, Changes, Filing, Stored, diff
from breachdesk.deadlines.obligations import (
    AffectedCustomer,
    Facts,
    ObligationStatus,
    Profile,
    Ruling,
    plan,
    rulings_from,
)
from breachdesk.deadlines.rules import parse_rules, shipped_rules

AWARE = datetime(2026, 3, 28, 23, 30, tzinfo=UTC)
EU = Profile("Parlons SAS", ("GDPR",), lead_supervisory_authority="CNIL")
ACME, GLOBEX = AffectedCustomer("acme", "Acme", 1, 24), AffectedCustomer("globex", "Globex", 2, 48)


def planned(*customers, roles=("processor",)):
    return plan(shipped_rules(), EU, Facts(frozenset(roles), customers, rulings_from({}, {})))


def stored_after(changes: Changes, before: list[Stored] = ()) -> list[Stored]:
    """The stored rows once the changes are written, as the service writes them."""
    ids = count(1 + max((row.id for row in before), default=0))
    moved = {row.id: moved for row, moved in changes.changed} | {row.id: WITHDRAWAL for row in changes.withdrawn}
    rows = [Stored(row.id, row.key, row.terms, row.state | moved.get(row.id, {})) for row in before]
    return rows + [
        Stored(next(ids), (new["rule_id"], new["recipient_key"]), new["terms"], {name: new[name] for name in STATE})
        for new in changes.created
    ]


def by_key(rows: list[Stored]) -> dict[tuple[str, str], Stored]:
    return {row.key: row for row in rows}


def test_a_planned_duty_not_stored_is_created_with_its_terms_and_clock():
    changes = diff(planned(ACME), [], {"awareness": AWARE}, {})
    [created] = changes.created
    assert (created["rule_id"], created["recipient_key"], created["customer_id"]) == ("gdpr-art33-2", "acme", 1)
    assert created["status"] == ObligationStatus.PENDING and created["due_at"] == AWARE + timedelta(hours=24)
    assert created["terms"]["period"]["amount"] == 24
    assert not changes.changed and not changes.withdrawn


def test_nothing_changes_when_nothing_moved():
    stored = stored_after(diff(planned(ACME, GLOBEX), [], {"awareness": AWARE}, {}))
    assert diff(planned(ACME, GLOBEX), stored, {"awareness": AWARE}, {}) == Changes()


def test_moved_awareness_changes_only_the_clock_columns_of_pending_duties():
    stored = stored_after(diff(planned(ACME), [], {"awareness": AWARE}, {}))
    later = AWARE + timedelta(hours=5)
    [(row, moved)] = diff(planned(ACME), stored, {"awareness": later}, {}).changed
    assert row.key == ("gdpr-art33-2", "acme")
    assert moved == {"clock_start": later, "due_at": later + timedelta(hours=24)}


def test_a_pending_duty_keeps_the_terms_frozen_when_it_arose():
    stored = stored_after(diff(planned(ACME), [], {"awareness": AWARE}, {}))
    longer_contract = AffectedCustomer("acme", "Acme", 1, 72)
    assert diff(planned(longer_contract), stored, {"awareness": AWARE}, {}) == Changes()


def test_sent_and_acknowledged_duties_are_history_and_never_change():
    stored = stored_after(diff(planned(ACME, GLOBEX), [], {"awareness": AWARE}, {}))
    history = [
        Stored(row.id, row.key, row.terms, row.state | {"status": status, "sent_at": AWARE})
        for row, status in zip(stored, (ObligationStatus.SENT, ObligationStatus.ACKNOWLEDGED), strict=True)
    ]
    moved = diff(planned(ACME, GLOBEX), history, {"awareness": AWARE + timedelta(days=1)}, {})
    no_longer_planned = diff([], history, {"awareness": AWARE}, {})
    assert moved == no_longer_planned == Changes()


def test_a_pending_duty_no_longer_planned_is_withdrawn_and_a_decided_one_left_alone():
    stored = stored_after(diff(planned(ACME, GLOBEX), [], {"awareness": AWARE}, {}))
    acme, globex = by_key(stored)[("gdpr-art33-2", "acme")], by_key(stored)[("gdpr-art33-2", "globex")]
    decided = Stored(globex.id, globex.key, globex.terms, globex.state | {"status": ObligationStatus.NOT_REQUIRED})
    changes = diff([], [acme, decided], {"awareness": AWARE}, {})
    assert changes.withdrawn == [acme] and not changes.created and not changes.changed
    assert WITHDRAWAL["rationale"] == WITHDRAWN


def test_a_stage_filed_elsewhere_fulfils_its_authority_duty_with_its_lateness_but_no_customer_duty():
    filed = Filing(AWARE + timedelta(hours=80), "CNIL portal 2026-0042")
    duties = planned(ACME, roles=("processor", "controller"))
    changes = diff(duties, [], {"awareness": AWARE}, {"gdpr-art33-1": filed, "gdpr-art33-2": filed})
    created = {(c["rule_id"], c["recipient_key"]): c for c in changes.created}
    authority = created[("gdpr-art33-1", "supervisory_authority")]
    assert (authority["status"], authority["sent_at"], authority["sent_reference"], authority["late_by_seconds"]) == (
        ObligationStatus.SENT,
        filed.at,
        "CNIL portal 2026-0042",
        8 * 3600,
    )
    assert created[("gdpr-art33-2", "acme")]["status"] == ObligationStatus.PENDING


customers = st.lists(
    st.builds(
        AffectedCustomer,
        st.sampled_from(["acme", "globex", "initech", "umbrella"]),
        st.just("C"),
        st.none(),
        st.integers(1, 96),
        st.booleans(),
    ),
    unique_by=lambda c: c.key,
    max_size=4,
)
instants = st.datetimes(datetime(2024, 1, 1), datetime(2030, 1, 1), timezones=st.just(UTC))


@given(before=customers, after=customers, aware=instants, moved_to=instants)
def test_writing_the_changes_brings_the_stored_rows_in_line_with_the_plan(before, after, aware, moved_to):
    """Whatever was stored from an earlier plan: after one diff is written, a second finds nothing to do,
    and every planned duty is stored once."""
    stored = stored_after(diff(planned(*before), [], {"awareness": aware}, {}))
    changes = diff(planned(*after), stored, {"awareness": moved_to}, {})
    synced = stored_after(changes, stored)
    assert diff(planned(*after), synced, {"awareness": moved_to}, {}) == Changes()
    assert {c.key for c in after} <= {key for _, key in by_key(synced)}
    assert len(synced) == len(by_key(synced))


TABLE = """
rules:
  - id: ctl
    regime: Examplia
    stage: notification
    recipient_kind: controller
    our_roles: [processor]
    anchor: awareness
    period: {amount: 24, unit: hours, contract_hours: true}
    condition: always
    source: "s. 1"
  - id: dpa
    regime: Examplia
    stage: notification
    recipient_kind: supervisory_authority
    authority: Autorité
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
"""
EXAMPLIA = Profile("Parlons", ("Examplia",))
ANCHORS = {"awareness": AWARE, "high_risk_established": AWARE + timedelta(hours=2)}
#: the data subjects were told by a press release 80 h after awareness; the customers' stage is not filed that way
FILINGS = {"people": Filing(AWARE + timedelta(hours=80), "press release"), "ctl": Filing(AWARE, "by hand")}


#: the assessment's decision on the authority in the first derivation
LOW_RISK = Ruling(False, "dpo", "test data only")


def worked_plan(customer_name="Acme", authority=LOW_RISK):
    rulings = {"unless_unlikely_risk": authority, "high_risk": Ruling(True, "dpo", "passwords in clear")}
    customers = (AffectedCustomer("acme", customer_name, 1, 24),)
    facts = Facts(frozenset({"processor", "controller"}), customers, rulings)
    return plan(parse_rules(yaml.safe_load(TABLE)), EXAMPLIA, facts)


def test_created_rows_worked_by_hand_column_by_column():
    changes = diff(worked_plan(), [], ANCHORS, FILINGS)
    hours = {"time_zone": "UTC", "unit": "hours"}
    assert changes.created == [
        {
            "status": ObligationStatus.PENDING,
            "anchor": "awareness",
            "clock_start": AWARE,
            "due_at": AWARE + timedelta(hours=24),
            "target_at": None,
            "recipient": "Acme",
            "flag": "",
            "decided_by": "",
            "rationale": "",
            "customer_id": 1,
            "triggered_by": [],
            "sent_at": None,
            "late_by_seconds": None,
            "sent_reference": "",
            "rule_id": "ctl",
            "regime": "Examplia",
            "stage": "notification",
            "recipient_kind": "controller",
            "recipient_key": "acme",
            "condition": "always",
            "source": "s. 1",
            "terms": {"anchor": "awareness", "period": {"amount": 24, **hours}, "not_later_than": None},
        },
        {
            "status": ObligationStatus.NOT_REQUIRED,
            "anchor": "awareness",
            "clock_start": AWARE,
            "due_at": AWARE + timedelta(hours=72),
            "target_at": None,
            "recipient": "Autorité",
            "flag": "",
            "decided_by": "dpo",
            "rationale": "test data only",
            "customer_id": None,
            "triggered_by": [],
            "sent_at": None,
            "late_by_seconds": None,
            "sent_reference": "",
            "rule_id": "dpa",
            "regime": "Examplia",
            "stage": "notification",
            "recipient_kind": "supervisory_authority",
            "recipient_key": "supervisory_authority",
            "condition": "unless_unlikely_risk",
            "source": "s. 2",
            "terms": {"anchor": "awareness", "period": {"amount": 72, **hours}, "not_later_than": None},
        },
        {
            # filed 80 h after awareness, 6 h after the internal target (2 h + 72 h): sent, 6 h late
            "status": ObligationStatus.SENT,
            "anchor": "high_risk_established",
            "clock_start": AWARE + timedelta(hours=2),
            "due_at": None,
            "target_at": AWARE + timedelta(hours=74),
            "recipient": "data subjects",
            "flag": "",
            "decided_by": "",  # a duty that stands keeps no "decided not required" trace
            "rationale": "",
            "customer_id": None,
            "triggered_by": [],
            "sent_at": AWARE + timedelta(hours=80),
            "late_by_seconds": 6 * 3600,
            "sent_reference": "press release",
            "rule_id": "people",
            "regime": "Examplia",
            "stage": "communication",
            "recipient_kind": "data_subjects",
            "recipient_key": "data_subjects",
            "condition": "high_risk",
            "source": "s. 3",
            "terms": {
                "anchor": "high_risk_established",
                "period": {"amount": 72, "unit": "without_undue_delay", "time_zone": "UTC"},
                "not_later_than": None,
            },
        },
    ]
    assert changes.changed == [] and changes.withdrawn == []


def test_a_later_ruling_and_a_renamed_customer_move_only_those_columns_and_history_stays():
    stored = stored_after(diff(worked_plan(), [], ANCHORS, FILINGS))
    ctl, dpa, people = stored
    moved_anchors = {"awareness": AWARE, "high_risk_established": AWARE + timedelta(hours=9)}
    changes = diff(worked_plan("Acme Corp", Ruling(None)), stored, moved_anchors, FILINGS)
    assert changes.changed == [
        (ctl, {"recipient": "Acme Corp"}),
        (dpa, {"status": ObligationStatus.PENDING, "decided_by": "", "rationale": ""}),
    ]  # the data subjects' duty was filed: history, whatever its anchor says now
    assert changes.created == [] and changes.withdrawn == []
    assert people.state["status"] == ObligationStatus.SENT


def test_only_pending_duties_are_withdrawn_when_the_plan_drops_them():
    ctl, dpa, people = stored_after(diff(worked_plan(), [], ANCHORS, FILINGS))
    assert (ctl.state["status"], dpa.state["status"], people.state["status"]) == (
        ObligationStatus.PENDING,
        ObligationStatus.NOT_REQUIRED,
        ObligationStatus.SENT,
    )
    assert diff([], [ctl, dpa, people], ANCHORS, FILINGS) == Changes(withdrawn=[ctl])


def test_a_recipient_name_is_cut_to_the_column_and_a_filing_on_time_is_zero_seconds_late():
    long_name = "A" * 199 + "BC"
    [ctl, _, people] = diff(
        worked_plan(long_name), [], ANCHORS, {"people": Filing(AWARE + timedelta(hours=74), "on time")}
    ).created
    assert ctl["recipient"] == "A" * 199 + "B"
    assert (people["status"], people["late_by_seconds"]) == (ObligationStatus.SENT, 0)


def test_a_stage_filed_after_its_duty_was_stored_turns_it_sent_with_its_lateness():
    ctl, dpa, people = stored = stored_after(diff(worked_plan(), [], ANCHORS, {}))
    assert people.state["status"] == ObligationStatus.PENDING
    filed = Filing(AWARE + timedelta(hours=80), "press release")
    changes = diff(worked_plan(), stored, ANCHORS, {"people": filed})
    assert changes == Changes(
        changed=[
            (
                people,
                {
                    "status": ObligationStatus.SENT,
                    "sent_at": AWARE + timedelta(hours=80),
                    "late_by_seconds": 6 * 3600,
                    "sent_reference": "press release",
                },
            )
        ]
    )
