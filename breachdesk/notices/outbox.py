"""The dispatcher: claim due messages, send each, record the outcome. Safe with several dispatchers.

Claiming takes a lease on a batch in one short transaction (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so two
dispatchers never take the same rows; on SQLite a single UPDATE, which its one-writer lock makes atomic).
Each outcome is committed on its own before another send starts, so a dispatcher killed mid-batch loses
nothing: what it had not recorded is taken over when its lease expires, and only the sends it had in flight
then (at most DISPATCH_CONCURRENCY) can go out twice.
"""

import logging
import os
import random
import socket
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import islice

from flask import current_app
from sqlalchemy import and_, or_, select, update

from breachdesk.audit.services import acting_as, record
from breachdesk.core.clock import now_utc
from breachdesk.core.errors import ValidationFailed
from breachdesk.deadlines.models import Obligation, ObligationStatus
from breachdesk.deadlines.services import mark_sent
from breachdesk.extensions import db
from breachdesk.inventory.rules import email_problem
from breachdesk.notices import layout
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
    return and_(
        OutboxMessage.status == OutboxStatus.QUEUED,
        OutboxMessage.next_attempt_at <= now,
        or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
    )


def claim(worker: str, batch: int, lease_seconds: float) -> list[int]:
    """Lease up to `batch` due messages to `worker`; returns their ids. Commits."""
    until = now_utc() + timedelta(seconds=lease_seconds)
    due = select(OutboxMessage.id).where(_due()).order_by(OutboxMessage.id).limit(batch)
    if db.engine.dialect.name == "postgresql":
        ids = list(db.session.scalars(due.with_for_update(skip_locked=True)))
        if ids:
            db.session.execute(
                update(OutboxMessage).where(OutboxMessage.id.in_(ids)).values(claimed_by=worker, claimed_until=until)
            )
    else:
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id.in_(due.scalar_subquery()))
            .values(claimed_by=worker, claimed_until=until)
        )
        ids = list(
            db.session.scalars(
                select(OutboxMessage.id)
                .where(OutboxMessage.claimed_by == worker, OutboxMessage.claimed_until == until)
                .order_by(OutboxMessage.id)
            )
        )
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
        select(
            OutboxMessage.id,
            OutboxMessage.idempotency_key,
            OutboxMessage.recipient,
            OutboxMessage.attempts,
            OutboxMessage.notice_id,
            OutboxMessage.alert_mail_id,
            Notice.subject,
            Notice.text_body,
            Notice.html_body,
            Notice.language,
            Notice.sender_name,
            Notice.incident_id,
            Notice.obligation_id,
            AlertMail.subject,
            AlertMail.text_body,
        )
        .outerjoin(Notice, Notice.id == OutboxMessage.notice_id)
        .outerjoin(AlertMail, AlertMail.id == OutboxMessage.alert_mail_id)
        .where(
            OutboxMessage.id.in_(ids), OutboxMessage.claimed_by == worker, OutboxMessage.status == OutboxStatus.QUEUED
        )
        .order_by(OutboxMessage.id)
    )
    for (
        message_id,
        key,
        recipient,
        attempts,
        notice_id,
        alert_mail_id,
        subject,
        text,
        html,
        language,
        sender_name,
        incident_id,
        obligation_id,
        alert_subject,
        alert_text,
    ) in rows:
        if notice_id is not None:  # in the organisation's name and layout (notices/layout.py)
            mail = OutgoingMail(
                message_id,
                key,
                layout.sender(sender, sender_name),
                recipient,
                subject,
                text,
                layout.email_html(
                    subject=subject, html_body=html, text_body=text, language=language, organisation=sender_name
                ),
                {"notice_id": str(notice_id), "incident_id": str(incident_id)},
            )
        else:  # a reminder, an escalation or a digest
            mail = OutgoingMail(
                message_id, key, sender, recipient, alert_subject, alert_text, "", {"alert_mail_id": str(alert_mail_id)}
            )
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
    except Exception as error:  # a garbled answer, a library bug: this message only, retried and counted
        return Attempt(claimed, error=f"unexpected {type(error).__name__}: {error}", temporary=True)


def record_outcome(done: Attempt, worker: str) -> str:
    """Record one outcome in its own short transaction and return it (sent, retry, failed, or skipped).

    A retry or a failure is ours to record only while we hold the lease: when it ran out and another
    dispatcher took the message over, the outcome is left to that one. An accepted message went out whoever
    holds the lease now: it is recorded as sent unless an earlier acceptance is already on record."""
    status, changes, outcome = _outcome(done, current_app.config)
    message_id = done.claimed.mail.outbox_id
    ours = OutboxMessage.status != OutboxStatus.SENT if outcome == "sent" else OutboxMessage.claimed_by == worker
    updated = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, ours)
        .values(status=status, claimed_by=None, claimed_until=None, **changes)
    ).rowcount
    if not updated:
        db.session.rollback()
        return "skipped"
    if outcome == "sent" and done.claimed.obligation_id is not None:
        obligation = db.session.scalar(
            select(Obligation).where(
                Obligation.id == done.claimed.obligation_id,
                Obligation.status != ObligationStatus.NOT_REQUIRED,
                or_(Obligation.sent_at.is_(None), Obligation.sent_at > done.at),
            )
        )
        if obligation is not None:  # the first message sent fulfils it (sends in flight finish in any order)
            mark_sent(obligation, done.at, f"e-mail {done.provider_id}")
    record(
        db.session,
        f"outbox.{outcome}",
        "outbox_messages",
        message_id,
        after={
            "notice": done.claimed.notice_id,
            "alert_mail": done.claimed.alert_mail_id,
            "recipient": done.claimed.mail.to,
            "attempts": changes["attempts"],
            "provider_message_id": done.provider_id or None,
            "error": changes["last_error"][:500] or None,
        },
    )
    db.session.commit()
    if status == OutboxStatus.FAILED:
        # the provider's words often quote the address: they stay on the message's page and in the audit log
        log.warning("outbox message %s failed after %d attempt(s)", message_id, changes["attempts"])
    return outcome


def _outcome(done: Attempt, config) -> tuple[OutboxStatus, dict, str]:
    attempts = done.claimed.attempts + 1
    changes: dict = {"attempts": attempts, "last_error": done.error}
    if not done.error:
        return OutboxStatus.SENT, changes | {"provider_message_id": done.provider_id, "sent_at": done.at}, "sent"
    if done.temporary and attempts < config["DISPATCH_MAX_ATTEMPTS"]:
        changes["next_attempt_at"] = done.at + timedelta(
            seconds=backoff(attempts, config["DISPATCH_RETRY_BASE_SECONDS"], config["DISPATCH_RETRY_MAX_SECONDS"])
        )
        return OutboxStatus.QUEUED, changes, "retry"
    if done.temporary:
        changes["last_error"] = f"gave up after {attempts} attempts: {done.error}"
    return OutboxStatus.FAILED, changes, "failed"


class Lease:
    """A claim outlives its sending: however slow the provider, the messages still ours are held for another
    lease period whenever a third of the current one has gone. Checked at least every sixth of it, so half a
    lease is left to spare when the dispatcher itself is held up."""

    def __init__(self, worker: str, ids: list[int], seconds: float):
        self.worker, self.ids, self.seconds = worker, ids, seconds
        self.renewed_at = now_utc()

    @property
    def check_every(self) -> float:
        return self.seconds / 6

    def renew_when_due(self) -> None:
        now = now_utc()
        if now - self.renewed_at < timedelta(seconds=self.seconds / 3):
            return
        db.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id.in_(self.ids),
                OutboxMessage.claimed_by == self.worker,
                OutboxMessage.status == OutboxStatus.QUEUED,
            )
            .values(claimed_until=now + timedelta(seconds=self.seconds))
        )
        db.session.commit()
        self.renewed_at = now


def dispatch_round(backend: Backend | None = None, worker: str | None = None, batch: int | None = None) -> Round:
    """One claim and the sends it allows; the scheduler calls this on every tick. Up to DISPATCH_CONCURRENCY
    sends are in flight at once, so a slow provider, not the database, is the limit; each finished one is
    recorded before another starts, so a dispatcher killed at any instant repeats at most those in flight."""
    config = current_app.config
    backend = backend or backend_from(config, current_app.instance_path)
    worker = worker or worker_name()
    ids = claim(worker, batch or config["DISPATCH_BATCH"], config["DISPATCH_LEASE_SECONDS"])
    result = Round(claimed=len(ids))
    if not ids:
        return result
    waiting = iter(load_claimed(ids, worker, config["MAIL_FROM"]))
    threads = max(1, int(config["DISPATCH_CONCURRENCY"]))
    lease = Lease(worker, ids, config["DISPATCH_LEASE_SECONDS"])
    outcomes: Counter[str] = Counter()
    with acting_as(f"dispatcher:{worker}"), ThreadPoolExecutor(threads, thread_name_prefix="dispatch") as pool:
        in_flight = {pool.submit(attempt, one, backend) for one in islice(waiting, threads)}
        while in_flight:
            finished, in_flight = wait(in_flight, timeout=lease.check_every, return_when=FIRST_COMPLETED)
            for future in finished:
                outcomes[record_outcome(future.result(), worker)] += 1
            in_flight |= {pool.submit(attempt, one, backend) for one in islice(waiting, len(finished))}
            lease.renew_when_due()
    result.sent, result.retried, result.failed = outcomes["sent"], outcomes["retry"], outcomes["failed"]
    log.info(
        "dispatch round: %d claimed, %d sent, %d to retry, %d failed, %d left to another dispatcher",
        result.claimed,
        result.sent,
        result.retried,
        result.failed,
        outcomes["skipped"],
    )
    return result


def resend(message: OutboxMessage, recipient: str) -> OutboxMessage:
    """After a bounce or a failure: the same notice to another contact, or to the same one once its last
    message there failed (a provider outage outlasting every retry), queued now. Callers commit."""
    notice: Notice | None = message.notice
    if notice is None:
        raise ValidationFailed(["message: a reminder goes to the people BreachDesk chooses; only notices are resent"])
    problem = email_problem(recipient)
    if problem:
        raise ValidationFailed([f"recipient: {problem}"])
    earlier = db.session.scalars(
        select(OutboxMessage.status)
        .where(OutboxMessage.notice_id == notice.id, OutboxMessage.recipient == recipient)
        .order_by(OutboxMessage.id)
    ).all()
    if earlier and earlier[-1] != OutboxStatus.FAILED:
        raise ValidationFailed(
            [
                f"recipient: this notice was already queued for {recipient}; it can be sent to "
                "that address again once that message has failed"
            ]
        )
    # the n-th message of a notice to one address has its own key: still never queued twice by a double click
    key = idempotency_key(notice, recipient) + (f":again-{len(earlier)}" if earlier else "")
    copy = OutboxMessage(notice_id=notice.id, recipient=recipient, idempotency_key=key, status=OutboxStatus.QUEUED)
    db.session.add(copy)
    db.session.flush()
    return copy
