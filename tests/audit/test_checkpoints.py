"""The keyed chain and its checkpoints: a chain recomputed without the key is detected, and so is a tail cut
after a checkpoint; a checkpoint file edited or unreadable is refused, naming why."""

import hashlib
import json
from datetime import UTC, datetime

import pytest
import time_machine
from flask_migrate import downgrade, upgrade
from sqlalchemy import String, func, select, text, update

from breachdesk.audit.chain import (
    CHECKPOINT_FORMAT,
    Checkpoint,
    CheckpointError,
    checkpoint_problems,
    event_hash,
    event_payload,
    read_checkpoint,
    write_checkpoint,
)
from breachdesk.audit.models import GENESIS_HASH, AuditEvent
from breachdesk.audit.services import verify_chain
from breachdesk.extensions import db
from tests.audit.test_audit_chain import EDITED, a_customer, events

KEY = b"test-audit-key"
HEAD = Checkpoint(head_id=12, head_hash="a" * 64, count=12, made_at="2026-12-04T09:00:00+00:00")
SIGNATURE_MISMATCH = "signature does not match (the file was edited, or signed with another audit key)"
TRUNCATED = "truncated: event {id}, the newest at the checkpoint of {at}, is gone from the log"
REWRITTEN = (
    "rewritten: event {id} is not the event the checkpoint of {at} recorded (its hash differs: the log was "
    "rewritten, or cut and written again)"
)
MADE_AT = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)


def some_events():
    """A customer created and renamed twice, each change committed: four events, as the application writes them."""
    a_customer()
    db.session.commit()
    a_customer(name="Acme SAS")
    db.session.commit()
    a_customer(name="Acme Group")
    db.session.commit()
    return events()


def take_checkpoint(runner, path):
    with time_machine.travel(MADE_AT, tick=False):
        result = runner.invoke(args=["audit", "checkpoint", "--out", str(path)])
    assert result.exit_code == 0, result.output
    return path


def plain_hash(*fields) -> str:
    """The public, unkeyed hash of the same payload: what anyone can compute."""
    return hashlib.sha256(event_payload(*fields)).hexdigest()


def recompute_chain(hasher, first_actor: str) -> None:
    """An edit of the first event, then every hash and link recomputed with `hasher`, behind the application."""
    table = AuditEvent.__table__
    stored = events()
    db.session.execute(update(table).values(prev_hash=table.c.id.cast(String), hash="x" + table.c.id.cast(String)))
    prev = GENESIS_HASH
    for number, event in enumerate(stored):
        actor = first_actor if number == 0 else event.actor
        fields = (prev, event.occurred_at, actor, event.action, event.entity_type, event.entity_id)
        prev_hash, prev = prev, hasher(*fields, event.before, event.after)
        db.session.execute(
            update(table).where(table.c.id == event.id).values(actor=actor, prev_hash=prev_hash, hash=prev)
        )
    db.session.commit()
    db.session.expire_all()


# --- the rules, without a database ---------------------------------------------------------------


def test_a_checkpoint_file_is_its_fields_and_their_signature():
    """The stated file: the signature is HMAC-SHA256 under the audit key of the fields as compact JSON with sorted
    keys, {"count":12,"format":"breachdesk-audit-checkpoint/1","head_hash":"aaa…a","head_id":12,"made_at":"…"}
    (`openssl dgst -sha256 -hmac test-audit-key` over that text)."""
    assert write_checkpoint(KEY, HEAD) == (
        "{\n"
        '  "format": "breachdesk-audit-checkpoint/1",\n'
        '  "head_id": 12,\n'
        f'  "head_hash": "{"a" * 64}",\n'
        '  "count": 12,\n'
        '  "made_at": "2026-12-04T09:00:00+00:00",\n'
        '  "signature": "4da31e8a045cef99e205916e4d0abf71672405a88df254ee6244eb78aa8f9ccc"\n'
        "}\n"
    )


@pytest.mark.parametrize("checkpoint", [HEAD, Checkpoint(1, "0" * 64, 1, "2026-12-04T09:00:00.123456+00:00")])
def test_a_checkpoint_reads_back_as_it_was_written(checkpoint):
    assert read_checkpoint(KEY, write_checkpoint(KEY, checkpoint)) == checkpoint


@pytest.mark.parametrize(
    "field, forged",
    [("head_id", 11), ("head_hash", "b" * 64), ("count", 13), ("made_at", "2026-12-05T09:00:00+00:00")],
)
def test_an_edited_checkpoint_is_refused(field, forged):
    document = json.loads(write_checkpoint(KEY, HEAD))
    document[field] = forged
    with pytest.raises(CheckpointError) as refused:
        read_checkpoint(KEY, json.dumps(document))
    assert str(refused.value) == SIGNATURE_MISMATCH


def test_a_checkpoint_signed_with_another_key_is_refused():
    with pytest.raises(CheckpointError) as refused:
        read_checkpoint(KEY, write_checkpoint(b"another-key", HEAD))
    assert str(refused.value) == SIGNATURE_MISMATCH


def signed_document(**changes) -> str:
    document = json.loads(write_checkpoint(KEY, HEAD))
    document.update(changes)
    return json.dumps({k: v for k, v in document.items() if v is not None})


@pytest.mark.parametrize(
    "text, problem",
    [
        ("", "not JSON (Expecting value: line 1 column 1 (char 0))"),
        ("{'head_id': 12}", "not JSON (Expecting property name enclosed in double quotes: line 1 column 2 (char 1))"),
        ("[12]", "not a JSON object"),
        (signed_document(count=None, signature=None), "missing field(s): count, signature"),
        (signed_document(note="hello", extra=1), "unexpected field(s): extra, note"),
        (
            signed_document(format="breachdesk-audit-checkpoint/2"),
            "format is 'breachdesk-audit-checkpoint/2', expected 'breachdesk-audit-checkpoint/1'",
        ),
        (signed_document(head_id="12"), "head_id must be a positive whole number, not '12'"),
        (signed_document(head_id=0), "head_id must be a positive whole number, not 0"),
        (signed_document(count=True), "count must be a positive whole number, not True"),
        (signed_document(count=12.0), "count must be a positive whole number, not 12.0"),
        (signed_document(head_hash="A" * 64), "head_hash must be 64 lower-case hexadecimal digits"),
        (signed_document(head_hash="a" * 63), "head_hash must be 64 lower-case hexadecimal digits"),
        (signed_document(signature=64), "signature must be 64 lower-case hexadecimal digits"),
        (signed_document(made_at=20261204), "made_at must be ISO 8601 text"),
    ],
)
def test_a_malformed_checkpoint_names_its_problem(text, problem):
    with pytest.raises(CheckpointError) as refused:
        read_checkpoint(KEY, text)
    assert str(refused.value) == problem


def test_a_log_that_still_holds_the_checkpoint_has_no_problem():
    assert checkpoint_problems(HEAD, hash_at_head="a" * 64, count_to_head=12) == []


def test_a_head_gone_from_the_log_is_a_truncation():
    assert checkpoint_problems(HEAD, hash_at_head=None, count_to_head=11) == [
        TRUNCATED.format(id=12, at="2026-12-04T09:00:00+00:00")
    ]


def test_another_event_at_the_head_is_a_rewrite_and_a_different_count_is_named():
    assert checkpoint_problems(HEAD, hash_at_head="b" * 64, count_to_head=12) == [
        REWRITTEN.format(id=12, at="2026-12-04T09:00:00+00:00")
    ]
    assert checkpoint_problems(HEAD, hash_at_head="a" * 64, count_to_head=10) == [
        "10 events up to event 12, the checkpoint of 2026-12-04T09:00:00+00:00 recorded 12: events before it were "
        "removed or inserted"
    ]
    assert len(checkpoint_problems(HEAD, hash_at_head="b" * 64, count_to_head=13)) == 2


# --- on the database, through the command line ----------------------------------------------------


def test_a_checkpoint_verifies_while_the_log_grows(app, runner, tmp_path):
    stored = some_events()
    printed = runner.invoke(args=["audit", "checkpoint"])
    assert printed.exit_code == 0, printed.output
    assert json.loads(printed.output)["head_id"] == stored[-1].id
    (tmp_path / "printed.json").write_text(printed.output)
    written = take_checkpoint(runner, tmp_path / "written.json")
    assert json.loads(written.read_text()) | {"signature": None} == {
        "format": CHECKPOINT_FORMAT,
        "head_id": stored[-1].id,
        "head_hash": stored[-1].hash,
        "count": len(stored),
        "made_at": "2026-12-04T09:00:00+00:00",
        "signature": None,
    }
    a_customer(name="Acme Holding")  # later events: the checkpoint still holds
    db.session.commit()
    result = runner.invoke(
        args=["audit", "verify", "--checkpoint", str(tmp_path / "printed.json"), "--checkpoint", str(written)]
    )
    assert result.exit_code == 0, result.output
    assert result.output == f"audit chain intact: {len(events())} events, matching 2 checkpoint(s)\n"


def test_a_tail_cut_after_a_checkpoint_is_detected(app, runner, tmp_path):
    *_, cut_from, head = [e.id for e in some_events()]
    checkpoint = take_checkpoint(runner, tmp_path / "checkpoint.json")
    db.session.execute(text("DELETE FROM audit_events WHERE id >= :id"), {"id": cut_from})
    db.session.commit()
    result = runner.invoke(args=["audit", "verify", "--checkpoint", str(checkpoint)])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"checkpoint {checkpoint}: " + TRUNCATED.format(id=head, at="2026-12-04T09:00:00+00:00"),
        "Error: 1 checkpoint problem(s)",
    ]


def test_a_tail_cut_then_written_again_is_detected(app, runner, tmp_path):
    """The application goes on writing after the cut: SQLite gives the deleted ids again, PostgreSQL does not."""
    *_, cut_from, head = [e.id for e in some_events()]
    checkpoint = take_checkpoint(runner, tmp_path / "checkpoint.json")
    db.session.execute(text("DELETE FROM audit_events WHERE id >= :id"), {"id": cut_from})
    db.session.commit()
    a_customer(name="Acme Rewritten")
    a_customer(name="Acme Rewritten Again")
    db.session.commit()
    reused = db.session.get(AuditEvent, head) is not None
    expected = (REWRITTEN if reused else TRUNCATED).format(id=head, at="2026-12-04T09:00:00+00:00")
    result = runner.invoke(args=["audit", "verify", "--checkpoint", str(checkpoint)])
    assert result.exit_code == 1
    assert f"checkpoint {checkpoint}: {expected}\n" in result.output


@pytest.mark.parametrize(
    "hasher",
    [plain_hash, lambda *fields: event_hash(b"a guessed key", *fields)],
    ids=["the public hash", "another key"],
)
def test_a_chain_recomputed_without_the_key_is_detected(app, runner, tmp_path, hasher):
    stored = some_events()
    checkpoint = take_checkpoint(runner, tmp_path / "checkpoint.json")
    recompute_chain(hasher, first_actor="user:mallory")
    assert [e.actor for e in events()][0] == "user:mallory"

    checked, breaks = verify_chain(db.session)
    assert (checked, [(b.event_id, b.reason) for b in breaks]) == (len(stored), [(e.id, EDITED) for e in stored])
    result = runner.invoke(args=["audit", "verify", "--checkpoint", str(checkpoint)])
    assert result.exit_code == 1
    assert result.output.splitlines()[-2:] == [
        f"checkpoint {checkpoint}: " + REWRITTEN.format(id=stored[-1].id, at="2026-12-04T09:00:00+00:00"),
        f"Error: audit chain broken in {len(stored)} place(s) over {len(stored)} events; 1 checkpoint problem(s)",
    ]


def test_a_chain_recomputed_with_the_key_verifies(app):
    """The control for the test above: the same recompute, with the key, is a valid chain (so keep the key apart)."""
    some_events()
    recompute_chain(lambda *fields: event_hash(KEY, *fields), first_actor="user:mallory")
    assert verify_chain(db.session)[1] == []


def test_an_edited_checkpoint_file_is_refused(app, runner, tmp_path):
    some_events()
    checkpoint = take_checkpoint(runner, tmp_path / "checkpoint.json")
    document = json.loads(checkpoint.read_text())
    checkpoint.write_text(json.dumps({**document, "count": document["count"] - 1}))
    result = runner.invoke(args=["audit", "verify", "--checkpoint", str(checkpoint)])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"checkpoint {checkpoint}: {SIGNATURE_MISMATCH}",
        "Error: 1 checkpoint problem(s)",
    ]


@pytest.mark.parametrize(
    "content, problem",
    [
        (b"head: 12\n", "not JSON (Expecting value: line 1 column 1 (char 0))"),
        (b'{"head_id": "\xff"}', "not UTF-8 text"),
        (b"{}", "missing field(s): format, head_id, head_hash, count, made_at, signature"),
    ],
)
def test_an_unreadable_checkpoint_file_is_named_not_a_traceback(app, runner, tmp_path, content, problem):
    some_events()
    checkpoint = tmp_path / "checkpoint.json"
    checkpoint.write_bytes(content)
    result = runner.invoke(args=["audit", "verify", "--checkpoint", str(checkpoint)])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert result.output.splitlines() == [f"checkpoint {checkpoint}: {problem}", "Error: 1 checkpoint problem(s)"]


def test_a_missing_checkpoint_file_is_a_usage_error(app, runner, tmp_path):
    result = runner.invoke(args=["audit", "verify", "--checkpoint", str(tmp_path / "nowhere.json")])
    assert result.exit_code == 2 and "does not exist" in result.output


def test_a_checkpoint_that_cannot_be_written_is_named(app, runner, tmp_path):
    some_events()
    result = runner.invoke(args=["audit", "checkpoint", "--out", str(tmp_path / "missing" / "checkpoint.json")])
    assert result.exit_code == 1
    assert (
        result.output == f"Error: cannot write {tmp_path / 'missing' / 'checkpoint.json'}: No such file or directory\n"
    )


def test_an_empty_log_has_no_checkpoint(app, runner):
    result = runner.invoke(args=["audit", "checkpoint"])
    assert result.exit_code == 1
    assert result.output == "Error: the audit log is empty: there is nothing to checkpoint yet\n"


# --- migration 0012: the chain of an older database keyed in place ---------------------------------


def rows() -> list[tuple]:
    db.session.expire_all()
    return [(e.id, e.actor, e.action, e.entity_id, e.before, e.after, e.prev_hash, e.hash) for e in events()]


def hashed_with_the_public_hash() -> bool:
    prev = GENESIS_HASH
    for event in events():
        fields = (event.occurred_at, event.actor, event.action, event.entity_type, event.entity_id)
        if event.prev_hash != prev or event.hash != plain_hash(prev, *fields, event.before, event.after):
            return False
        prev = event.hash
    return True


def test_the_migration_keys_an_intact_chain_and_back(app):
    directory = app.extensions["migrate"].directory
    stored = some_events()
    keyed = rows()
    downgrade(directory=directory, revision="0011")
    try:
        db.session.expire_all()
        assert hashed_with_the_public_hash()  # as databases before 0012 hold it
        assert [r[:6] for r in rows()] == [r[:6] for r in keyed]
    finally:
        upgrade(directory=directory)
    assert rows() == keyed  # keyed again, the same hashes: contents and ids untouched
    assert verify_chain(db.session) == (len(stored), [])


def test_the_migration_refuses_a_broken_chain_and_changes_nothing(app, caplog):
    directory = app.extensions["migrate"].directory
    stored = some_events()
    downgrade(directory=directory, revision="0011")
    try:
        victim = stored[2].id
        db.session.execute(text("UPDATE audit_events SET actor = 'user:mallory' WHERE id = :id"), {"id": victim})
        db.session.commit()
        before = rows()
        with pytest.raises(SystemExit):  # Flask-Migrate logs the migration's error and exits, as `db upgrade` does
            upgrade(directory=directory)
        assert caplog.messages[-1] == (
            f"Error: audit event {victim} breaks the chain (edited, or an event before it removed): the upgrade to a "
            "keyed chain stops here and changes nothing; the release in place before it lists every break with "
            "`breachdesk audit verify`"
        )
        assert rows() == before
        assert db.session.scalar(text("SELECT version_num FROM alembic_version")) == "0011"
    finally:
        db.session.execute(AuditEvent.__table__.delete())
        db.session.commit()
        upgrade(directory=directory)
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == 0
