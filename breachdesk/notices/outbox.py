"""The dispatcher: claim due messages, send each, record the outcome. Safe with several dispatchers.

Claiming takes a lease on a batch in one short transaction (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so two
dispatchers never take the same rows; on SQLite a single UPDATE, which its one-writer lock makes atomic).
Outcomes are committed a small group at a time, so a dispatcher killed mid-batch loses nothing: what it had
not recorded is taken over when its lease expires, and only a message it had sent but not yet recorded can
go out twice.
"""

import logging
import os
import random
import socket
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import islice

from flask import current_app
from sqlalchemy import and_, bindparam, or_, select, update

from breachdesk.audit.services import acting_as, append_events
from breachdesk.core.clock import now_utc
from breachdesk.core.errors import ValidationFailed
from breachdesk.deadlines.models import Obligation, ObligationStatus
from breachdesk.deadlines.services import mark_all_sent
from breachdesk.extensions import db
from breachdesk.inventory.rules import email_problem
from breachdesk.notices.mail import Backend, OutgoingMail, PermanentFailure, TemporaryFailure, backend_from
from breachdesk.notices.models import AlertMail, Notice, OutboxMessage, OutboxStatus
from breachdesk.notices.services import idempotency_key

log = logging.getLogger(__name__)


@dataclass
class Round:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _due():
    now = now_utc()
    return and_(OutboxMessage.status == OutboxStatus.QUEUED, OutboxMessage.next_attempt_at <= now,
                or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now))


def claim(worker: str, batch: int, lease_seconds: float) -> list[int]:
    """Lease up to `batch` due messages to `worker`; returns their ids. Commits."""
    until = now_utc() + timedelta(seconds=lease_seconds)
    due = select(OutboxMessage.id).where(_due()).order_by(OutboxMessage.id).limit(batch)
    if db.engine.dialect.name == "postgresql":
        ids = list(db.session.scalars(due.with_for_update(skip_locked=True)))
        if ids:
            db.session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids))
                               .values(claimed_by=worker, claimed_until=until))
    else:
        db.session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(due.scalar_subquery()))
                           .values(claimed_by=worker, claimed_until=until))
        ids = list(db.session.scalars(select(OutboxMessage.id).where(
            OutboxMessage.claimed_by == worker, OutboxMessage.claimed_until == until).order_by(OutboxMessage.id)))
    db.session.commit()
    return ids


def backoff(attempts: int, base: float, cap: float) -> float:
    """Exponential with full jitter around it: 2^(n-1) x base, halved to 1.5-fold at random, capped."""
    return min(cap, base * 2 ** (attempts - 1)) * random.uniform(0.5, 1.5)  # noqa: S311 - jitter, not secrecy


@dataclass(frozen=True)
class Claimed:
    """What sending one claimed message needs, read once for the whole batch: the mail itself, how many
    attempts it had, and the obligation that its sending fulfils (notices only)."""
    mail: OutgoingMail
    attempts: int
    notice_id: int | None
    alert_mail_id: int | None
    obligation_id: int | None


def load_claimed(ids: list[int], worker: str, sender: str) -> list[Claimed]:
    """The batch's messages with their contents, in one query per kind, still leased to `worker`."""
    claimed = []
    rows = db.session.execute(
        select(OutboxMessage.id, OutboxMessage.idempotency_key, OutboxMessage.recipient, OutboxMessage.attempts,
               OutboxMessage.notice_id, OutboxMessage.alert_mail_id, Notice.subject, Notice.text_body,
               Notice.html_body, Notice.incident_id, Notice.obligation_id, AlertMail.subject, AlertMail.text_body)
        .outerjoin(Notice, Notice.id == OutboxMessage.notice_id)
        .outerjoin(AlertMail, AlertMail.id == OutboxMessage.alert_mail_id)
        .where(OutboxMessage.id.in_(ids), OutboxMessage.claimed_by == worker,
               OutboxMessage.status == OutboxStatus.QUEUED).order_by(OutboxMessage.id))
    for (message_id, key, recipient, attempts, notice_id, alert_mail_id, subject, text, html, incident_id,
         obligation_id, alert_subject, alert_text) in rows:
        if notice_id is not None:
            mail = OutgoingMail(message_id, key, sender, recipient, subject, text, html,
                                {"notice_id": str(notice_id), "incident_id": str(incident_id)})
        else:  # a reminder, an escalation or a digest
            mail = OutgoingMail(message_id, key, sender, recipient, alert_subject, alert_text, "",
                                {"alert_mail_id": str(alert_mail_id)})
        claimed.append(Claimed(mail, attempts, notice_id, alert_mail_id, obligation_id))
    db.session.commit()  # nothing held open while the provider thinks
    return claimed


@dataclass(frozen=True)
class Attempt:
    """What one send gave: the provider's message id, or the failure and whether it may be retried."""
    claimed: Claimed
    provider_id: str = ""
    error: str = ""
    temporary: bool = False
    at: datetime = field(default_factory=now_utc)


def attempt(claimed: Claimed, backend: Backend) -> Attempt:
    """Send one claimed message; no database here, so many can be in flight at once."""
    try:
        return Attempt(claimed, provider_id=backend.send(claimed.mail)[:200])
    except TemporaryFailure as error:
        return Attempt(claimed, error=str(error), temporary=True)
    except PermanentFailure as error:
        return Attempt(claimed, error=str(error))


class Recorder:
    """Records the outcomes of one round a group at a time: one transaction, one UPDATE statement per kind of
    outcome (executemany), one audit append. A dispatcher killed before a group is recorded leaves those
    messages leased and unrecorded, so what can go out twice stays within the claimed batch."""

    def __init__(self, worker: str):
        self.worker = worker
        self.fulfilled: set[int] = set()  # obligations this round already marked sent
        self.outcomes: list[str] = []

    def record(self, attempts: list[Attempt]) -> None:
        if not attempts:
            return
        config = current_app.config
        decided = [(done, *self._outcome(done, config)) for done in attempts]
        by_columns: dict[tuple[str, ...], list[dict]] = defaultdict(list)
        for done, status, changes, _ in decided:
            by_columns[tuple(sorted(changes))].append(
                {"message_id": done.claimed.mail.outbox_id, "worker": self.worker, "status": status, **changes})
        table = OutboxMessage.__table__
        connection = db.session.connection()
        updated = 0
        for columns, rows in by_columns.items():
            updated += connection.execute(
                table.update().where(table.c.id == bindparam("message_id"), table.c.claimed_by == bindparam("worker"))
                .values(status=bindparam("status"), claimed_by=None, claimed_until=None,
                        **{c: bindparam(c) for c in columns}), rows).rowcount
        if updated < len(attempts):  # a lease expired and another dispatcher took a message over: one by one
            db.session.rollback()
            if len(attempts) > 1:
                for done in attempts:
                    self.record([done])
            else:
                self.outcomes.append("skipped")
            return
        sends, events = [], []
        for done, status, changes, outcome in decided:
            self.outcomes.append(outcome)
            obligation_id = done.claimed.obligation_id
            if outcome == "sent" and obligation_id is not None and obligation_id not in self.fulfilled:
                self.fulfilled.add(obligation_id)
                sends.append(done)
            events.append({"action": f"outbox.{outcome}", "entity_type": "outbox_messages",
                           "entity_id": str(done.claimed.mail.outbox_id),
                           "after": {"notice": done.claimed.notice_id, "alert_mail": done.claimed.alert_mail_id,
                                     "recipient": done.claimed.mail.to, "attempts": changes["attempts"],
                                     "provider_message_id": done.provider_id or None,
                                     "error": changes["last_error"][:500] or None}})
            if status == OutboxStatus.FAILED:
                log.warning("outbox message %s to %s failed: %s", done.claimed.mail.outbox_id, done.claimed.mail.to,
                            changes["last_error"])
        if sends:
            pending = db.session.scalars(select(Obligation).where(
                Obligation.id.in_([d.claimed.obligation_id for d in sends]),
                Obligation.status == ObligationStatus.PENDING)).all()
            sent_by = {d.claimed.obligation_id: d for d in sends}
            mark_all_sent([(o, sent_by[o.id].at, f"e-mail {sent_by[o.id].provider_id}") for o in pending])
        append_events(db.session, events)
        db.session.commit()

    @staticmethod
    def _outcome(done: Attempt, config) -> tuple[OutboxStatus, dict, str]:
        attempts = done.claimed.attempts + 1
        changes: dict = {"attempts": attempts, "last_error": done.error}
        if not done.error:
            return OutboxStatus.SENT, changes | {"provider_message_id": done.provider_id, "sent_at": done.at}, "sent"
        if done.temporary and attempts < config["DISPATCH_MAX_ATTEMPTS"]:
            changes["next_attempt_at"] = done.at + timedelta(seconds=backoff(
                attempts, config["DISPATCH_RETRY_BASE_SECONDS"], config["DISPATCH_RETRY_MAX_SECONDS"]))
            return OutboxStatus.QUEUED, changes, "retry"
        if done.temporary:
            changes["last_error"] = f"gave up after {attempts} attempts: {done.error}"
        return OutboxStatus.FAILED, changes, "failed"


def dispatch_round(backend: Backend | None = None, worker: str | None = None, batch: int | None = None) -> Round:
    """One claim and the sends it allows; the scheduler calls this on every tick. Several sends are in flight
    at once (DISPATCH_CONCURRENCY) while this thread records finished ones in groups (DISPATCH_RECORD_GROUP),
    so a slow provider, not the database, is the limit."""
    config = current_app.config
    backend = backend or backend_from(config, current_app.instance_path)
    worker = worker or worker_name()
    ids = claim(worker, batch or config["DISPATCH_BATCH"], config["DISPATCH_LEASE_SECONDS"])
    result = Round(claimed=len(ids))
    if not ids:
        return result
    claimed = load_claimed(ids, worker, config["MAIL_FROM"])
    recorder = Recorder(worker)
    group_size = max(1, int(config["DISPATCH_RECORD_GROUP"]))
    with acting_as(f"dispatcher:{worker}"):
        threads = max(1, int(config["DISPATCH_CONCURRENCY"]))
        if threads == 1:
            finished = (attempt(one, backend) for one in claimed)
            while group := list(islice(finished, group_size)):
                recorder.record(group)
        else:
            with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="dispatch") as pool:
                group = []
                for future in as_completed([pool.submit(attempt, one, backend) for one in claimed]):
                    group.append(future.result())
                    if len(group) == group_size:
                        recorder.record(group)
                        group = []
                recorder.record(group)
    result.sent, result.retried, result.failed = (recorder.outcomes.count(o) for o in ("sent", "retry", "failed"))
    return result


def resend(message: OutboxMessage, recipient: str) -> OutboxMessage:
    """After a bounce or a failure: the same notice to another contact, queued now. Callers commit."""
    notice: Notice | None = message.notice
    if notice is None:
        raise ValidationFailed(["message: a reminder goes to the people BreachDesk chooses; only notices are resent"])
    problem = email_problem(recipient)
    if problem:
        raise ValidationFailed([f"recipient: {problem}"])
    key = idempotency_key(notice, recipient)
    if db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.idempotency_key == key)):
        raise ValidationFailed([f"recipient: this notice was already queued for {recipient}"])
    copy = OutboxMessage(notice_id=notice.id, recipient=recipient, idempotency_key=key, status=OutboxStatus.QUEUED)
    db.session.add(copy)
    db.session.flush()
    return copy
