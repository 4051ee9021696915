"""Exactly-once under faults: a dispatcher killed mid-batch, restarted; two dispatchers at once."""

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from breachdesk.audit.services import verify_chain
from breachdesk.extensions import db
from breachdesk.notices import cli, services
from breachdesk.notices.models import OutboxMessage, OutboxStatus
from breachdesk.notices.outbox import Round
from tests.conftest import AUDIT_KEY
from tests.incident_fixtures import duty

#: sends in flight per dispatcher here: what a kill may repeat
CONCURRENCY = 4
#: seconds: short, so that the claims of a killed dispatcher come back soon; it outlives a batch of BATCH
#: sent CONCURRENCY at a time after the last sends of the batch before, each within TIMEOUT (a trickled answer
#: reads a byte every 0.2 s, far within it), as the app checks at start
LEASE, BATCH, TIMEOUT = 9, 8, 3
#: seconds before a test gives up waiting: only a guard against hanging, never what a test measures
GUARD = 300


def queue_messages(incident, privacy, count: int) -> list[int]:
    """One approved notice to `count` recipients: `count` outbox messages."""
    notice = services.generate_notice(duty(incident, "acme"), privacy)
    notice.recipients = [f"contact{i:04d}@acme.example" for i in range(count)]
    services.approve_notice(notice, privacy)
    db.session.commit()
    return list(db.session.scalars(select(OutboxMessage.id).order_by(OutboxMessage.id)))


def dispatcher(
    migrated: str, stub_url: str, instance: Path, *extra: str, lease: int = LEASE, timeout: float = TIMEOUT
) -> subprocess.Popen:
    """`breachdesk dispatch` in a process of its own. A request the stub holds stays in flight however long the
    wait: the stub trickles its answer, so the timeout never fires."""
    env = {
        **os.environ,
        "BREACHDESK_DATABASE_URL": migrated,
        "BREACHDESK_INSTANCE_PATH": str(instance),
        "BREACHDESK_SECRET_KEY": "test",
        "BREACHDESK_AUDIT_KEY": AUDIT_KEY,  # its events join the chain the test verifies
        "BREACHDESK_MAIL_BACKEND": "sendgrid",
        "BREACHDESK_SENDGRID_API_HOST": stub_url,
        "SENDGRID_API_KEY": "SG.test",
        "BREACHDESK_DISPATCH_LEASE_SECONDS": str(lease),
        "BREACHDESK_DISPATCH_CONCURRENCY": str(CONCURRENCY),
        "BREACHDESK_DISPATCH_BATCH": str(BATCH),
        "BREACHDESK_LOG_LEVEL": "WARNING",
        "BREACHDESK_MAIL_TIMEOUT": str(timeout),
    }
    command = [str(Path(sys.executable).parent / "breachdesk"), "dispatch", *extra]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def queued() -> int:
    db.session.rollback()
    return db.session.scalar(
        select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == OutboxStatus.QUEUED)
    )


def run_until_empty(migrated, stub_url, instance) -> None:
    started = time.monotonic()
    while queued() and time.monotonic() - started < GUARD:
        with dispatcher(migrated, stub_url, instance) as process:
            process.wait(timeout=GUARD)
        time.sleep(0.2)  # claims of a killed dispatcher come back when their lease expires
    assert queued() == 0


def test_a_dispatcher_killed_mid_batch_loses_nothing_and_repeats_at_most_what_was_in_flight(
    incident, privacy, migrated, sendgrid_stub, tmp_path
):
    ids = queue_messages(incident, privacy, 500)
    sendgrid_stub.hold_after = 120  # then every send stays in flight until the dispatcher is killed
    with dispatcher(migrated, sendgrid_stub.url, tmp_path / "inst") as process:
        started = time.monotonic()
        while sendgrid_stub.held < CONCURRENCY and process.poll() is None:
            assert time.monotonic() - started < GUARD, "the dispatcher never reached the held requests"
            time.sleep(0.01)
        assert process.poll() is None, process.stderr.read().decode()
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=GUARD)
    assert process.returncode == -signal.SIGKILL
    # the provider took what was in flight as the dispatcher died (the stub counts a request as it arrives): the
    # worst case, as it was never recorded
    sendgrid_stub.hold_after = None
    sendgrid_stub.release.set()
    db.session.rollback()
    unrecorded = db.session.scalar(
        select(func.count())
        .select_from(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.QUEUED, OutboxMessage.claimed_by.is_not(None))
    )
    assert unrecorded > CONCURRENCY  # the rest of its batch was claimed too, and is not sent twice

    run_until_empty(migrated, sendgrid_stub.url, tmp_path / "inst")
    delivered = Counter(sendgrid_stub.accepted_outbox_ids())
    assert set(delivered) == set(ids)  # none lost
    assert sum(n - 1 for n in delivered.values()) <= CONCURRENCY
    db.session.expire_all()
    rows = db.session.scalars(select(OutboxMessage)).all()
    assert all(m.status == OutboxStatus.SENT and m.provider_message_id for m in rows)
    assert verify_chain(db.session)[1] == []


def test_two_dispatchers_at_once_send_each_message_once(incident, privacy, migrated, sendgrid_stub, tmp_path):
    ids = queue_messages(incident, privacy, 300)
    sendgrid_stub.hold_after = 0  # every send waits: a dispatcher alone never has more than its concurrency held
    # Once is promised while a lease lasts: a short lease could run out on a busy machine and let the other take over.
    first = dispatcher(migrated, sendgrid_stub.url, tmp_path / "a", "--batch", "20", lease=GUARD)
    second = dispatcher(migrated, sendgrid_stub.url, tmp_path / "b", "--batch", "20", lease=GUARD)
    started = time.monotonic()
    while sendgrid_stub.held < 2 * CONCURRENCY:  # so both are sending at this very moment
        assert first.poll() is None and second.poll() is None and time.monotonic() - started < GUARD
        time.sleep(0.01)
    sendgrid_stub.hold_after = None
    sendgrid_stub.release.set()
    for process in (first, second):
        _, errors = process.communicate(timeout=GUARD)
        assert process.returncode == 0, errors.decode()
    run_until_empty(migrated, sendgrid_stub.url, tmp_path / "c")  # both may stop before the last claims expire
    delivered = Counter(sendgrid_stub.accepted_outbox_ids())
    assert set(delivered) == set(ids) and max(delivered.values()) == 1


class Stop(Exception):
    """Ends the otherwise endless `--forever` loop once the test has seen what it needs."""


def test_dispatch_forever_waits_out_a_dropped_database_and_goes_on(app, runner, monkeypatch, caplog):
    rounds = []

    def flaky_round(*_args):
        rounds.append(len(rounds))
        if len(rounds) == 1:
            raise OperationalError("SELECT 1", {}, ConnectionError("server closed the connection unexpectedly"))
        if len(rounds) == 2:
            return Round(claimed=0)
        raise Stop

    monkeypatch.setattr(cli, "dispatch_round", flaky_round)
    result = runner.invoke(args=["dispatch", "--forever", "--interval", "0"])
    assert isinstance(result.exception, Stop) and len(rounds) == 3  # it went on after the drop
    assert "dispatch: database unavailable (ConnectionError); trying again in 0.0 s" in caplog.text
    rounds.clear()
    result = runner.invoke(args=["dispatch", "--once"])  # without --forever a dropped database is an error
    assert isinstance(result.exception, OperationalError) and len(rounds) == 1


def test_a_claim_outlives_a_slow_provider_and_another_dispatcher_never_takes_it_over(
    incident, privacy, migrated, sendgrid_stub, tmp_path
):
    """Each send takes longer than the lease, the provider answering slowly but steadily (each read within the
    timeout): the dispatcher renews its claim while it sends, so the one polling beside it finds nothing to take
    over and every message goes out once."""
    ids = queue_messages(incident, privacy, 8)
    sendgrid_stub.delay = LEASE + 1  # seconds per answer: the lease runs out during every send unless renewed
    sender = dispatcher(migrated, sendgrid_stub.url, tmp_path / "a")
    started = time.monotonic()
    while not sendgrid_stub.received:  # the sender has claimed all eight before the other starts polling
        assert sender.poll() is None and time.monotonic() - started < GUARD
        time.sleep(0.01)
    poller = dispatcher(migrated, sendgrid_stub.url, tmp_path / "b", "--forever", "--interval", "0.2")
    try:
        _, errors = sender.communicate(timeout=GUARD)
        assert sender.returncode == 0, errors.decode()
    finally:
        poller.terminate()
        poller.communicate(timeout=GUARD)
    delivered = Counter(sendgrid_stub.accepted_outbox_ids())
    assert set(delivered) == set(ids) and max(delivered.values()) == 1
