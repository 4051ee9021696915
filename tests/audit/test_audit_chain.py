"""The audit log: every change recorded with before and after, hash-chained, tampering detected."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, text, update

from breachdesk.audit.chain import event_hash, event_payload
from breachdesk.audit.models import AuditEvent
from breachdesk.audit.services import acting_as, verify_chain
from breachdesk.auth.models import Role
from breachdesk.extensions import db
from breachdesk.inventory.models import Customer
from breachdesk.inventory.services import save_entry
from tests.conftest import PASSWORD, create_user

EDITED = "content does not match its hash (the event was edited, or the audit key is not the one it was written with)"
REMOVED = "previous-hash link broken (an event before it was removed or reordered)"


def events(entity_type: str | None = None) -> list[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.id)
    if entity_type:
        query = query.where(AuditEvent.entity_type == entity_type)
    return db.session.scalars(query).all()


def a_customer(**changes):
    raw = {
        "key": "acme",
        "name": "Acme",
        "country": "FR",
        "language": "fr",
        "time_zone": "Europe/Paris",
        "contacts": [{"role": "dpo", "name": "Ada", "email": "dpo@acme.example"}],
    }
    return save_entry("customers", {**raw, **changes})


def test_create_update_delete_are_recorded_with_who_before_and_after(app):
    with acting_as("user:alice", 7):
        a_customer()
        db.session.commit()
        a_customer(name="Acme SAS", notice_hours=12)
        db.session.commit()
        customer = db.session.scalar(select(Customer))
        db.session.delete(customer)
        db.session.commit()
    created, updated, deleted = events("customers")
    assert (created.action, created.actor, created.actor_user_id) == ("create", "user:alice", 7)
    assert created.after["name"] == "Acme" and created.after["notice_hours"] == 24
    assert updated.before == {"name": "Acme", "notice_hours": 24}
    assert updated.after == {"name": "Acme SAS", "notice_hours": 12}
    assert deleted.action == "delete" and deleted.before["name"] == "Acme SAS"
    contact_actions = [e.action for e in events("contacts")]
    assert contact_actions == ["create", "delete"]


def test_secrets_never_enter_the_log(app):
    user = create_user("alice", Role.ADMIN)
    user.set_password("another-Secret-42")
    db.session.commit()
    for event in events("users"):
        dumped = f"{event.before} {event.after}"
        assert PASSWORD not in dumped and "another-Secret-42" not in dumped and "scrypt" not in dumped


def test_intact_chain_verifies(app):
    a_customer()
    a_customer(name="Renamed")
    db.session.commit()
    checked, breaks = verify_chain(db.session)
    assert checked == len(events()) > 2 and breaks == []


def test_an_edited_event_is_detected(app, runner):
    a_customer()
    db.session.commit()
    victim = events("customers")[0]
    db.session.execute(text("UPDATE audit_events SET actor = 'user:mallory' WHERE id = :id"), {"id": victim.id})
    db.session.commit()
    _, breaks = verify_chain(db.session)
    assert [(b.event_id, b.reason) for b in breaks] == [(victim.id, EDITED)]
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and f"event {victim.id}" in result.output


@pytest.mark.parametrize(
    "column, forged",
    [
        ("occurred_at", lambda event: event.occurred_at + timedelta(seconds=1)),
        ("actor", lambda event: "user:mallory"),
        ("action", lambda event: "delete"),
        ("entity_type", lambda event: "users"),
        ("entity_id", lambda event: "999"),
        ("before", lambda event: {"name": "Forged"}),
        ("after", lambda event: {**event.after, "name": "Forged"}),
    ],
)
def test_an_edit_of_any_hashed_column_is_detected(app, column, forged):
    a_customer()
    db.session.commit()
    victim = events("customers")[0]
    db.session.execute(
        update(AuditEvent.__table__).where(AuditEvent.id == victim.id).values({column: forged(victim)})
    )  # behind the application's back
    db.session.commit()
    _, breaks = verify_chain(db.session)
    assert [(b.event_id, b.reason) for b in breaks] == [(victim.id, EDITED)]


KEY = b"test-audit-key"


def test_an_event_hash_covers_every_field_of_the_event_and_the_key():
    """A stated digest (HMAC-SHA256 of the documented JSON payload), then one field changed at a time."""
    fields = {
        "prev_hash": "0" * 64,
        "occurred_at": datetime(2026, 10, 24, 22, 0, tzinfo=UTC),
        "actor": "user:ada",
        "action": "update",
        "entity_type": "customers",
        "entity_id": "7",
        "before": {"name": "Acme"},
        "after": {"name": "Acme SAS"},
    }
    assert event_payload(**fields) == (
        b'["' + b"0" * 64 + b'","2026-10-24T22:00:00+00:00","user:ada","update","customers","7",{"name":"Acme"},'
        b'{"name":"Acme SAS"}]'
    )
    # that payload in a file, then: openssl dgst -sha256 -hmac test-audit-key FILE
    assert event_hash(KEY, **fields) == "279129373bacde73a289db12e2b5d5ede5d176370a65f3d32c37f735cb72d3f4"
    others = {
        "prev_hash": "1" * 64,
        "occurred_at": datetime(2026, 10, 24, 22, 0, 1, tzinfo=UTC),
        "actor": "user:mallory",
        "action": "delete",
        "entity_type": "users",
        "entity_id": "8",
        "before": {"name": "Forged"},
        "after": {"name": "Forged"},
    }
    for name, other in others.items():
        assert event_hash(KEY, **{**fields, name: other}) != event_hash(KEY, **fields), name
    assert event_hash(b"another-key", **fields) != event_hash(KEY, **fields)


def test_dates_and_accents_are_hashed_as_their_text():
    """A date in before/after goes into the payload as its ISO text (as `str` gives it) rather than being refused,
    and an accent as itself in UTF-8, not a JSON escape: the documented payload, checkable with `openssl dgst`."""
    fields = (
        "0" * 64,
        datetime(2026, 10, 24, 22, 0, tzinfo=UTC),
        "user:ada",
        "update",
        "incidents",
        "7",
        {"aware_at": date(2026, 10, 24)},
        {"aware_at": date(2026, 10, 25), "title": "Fuite chez Société Générale"},
    )
    assert event_payload(*fields) == (
        '["' + "0" * 64 + '","2026-10-24T22:00:00+00:00","user:ada","update","incidents","7",'
        '{"aware_at":"2026-10-24"},{"aware_at":"2026-10-25","title":"Fuite chez Société Générale"}]'
    ).encode("utf-8")
    # openssl dgst -sha256 -hmac test-audit-key over that payload
    assert event_hash(KEY, *fields) == "cb992a9864e23dd8385a4bf594c166c9ae74ff8ab462a34382e4e9134584ff89"


def test_an_event_hash_does_not_depend_on_key_order():
    """PostgreSQL's JSONB gives keys back in its own order: the hash read back must match the one written."""
    fields = ("0" * 64, datetime(2026, 10, 24, 22, 0, tzinfo=UTC), "user:ada", "update", "customers", "7")
    assert event_hash(KEY, *fields, {"name": "Acme", "country": "FR"}, None) == event_hash(
        KEY, *fields, {"country": "FR", "name": "Acme"}, None
    )


def test_a_deleted_event_is_detected(app, runner):
    a_customer()
    a_customer(name="Renamed")
    db.session.commit()
    all_events = events()
    victim = all_events[1]
    db.session.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": victim.id})
    db.session.commit()
    _, breaks = verify_chain(db.session)
    assert breaks and (breaks[0].event_id, breaks[0].reason) == (all_events[2].id, REMOVED)
    assert runner.invoke(args=["audit", "verify"]).exit_code == 1


def test_the_application_cannot_edit_or_delete_events(app):
    a_customer()
    db.session.commit()
    event = events()[0]
    event.actor = "user:mallory"
    with pytest.raises(PermissionError):
        db.session.flush()
    db.session.rollback()
    db.session.delete(events()[0])
    with pytest.raises(PermissionError):
        db.session.flush()
    db.session.rollback()


def test_two_events_can_never_claim_the_same_predecessor(app):
    a_customer()
    db.session.commit()
    head = events()[-1]
    with pytest.raises(Exception, match="(?i)unique|duplicate"):
        db.session.execute(
            AuditEvent.__table__.insert().values(
                occurred_at=head.occurred_at,
                actor="x",
                action="create",
                entity_type="t",
                entity_id="1",
                prev_hash=head.prev_hash,
                hash="f" * 64,
            )
        )
    db.session.rollback()
