"""What a derivation changes, planned against stored: the pure diff, no database."""

from datetime import UTC, datetime, timedelta
from itertools import count

from hypothesis import given
from hypothesis import strategies as st

from breachdesk.deadlines.diff import STATE, WITHDRAWAL, WITHDRAWN, Changes, Filing, Stored, diff
from breachdesk.deadlines.obligations import AffectedCustomer, Facts, ObligationStatus, Profile, plan, rulings_from
from breachdesk.deadlines.rules import shipped_rules

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
