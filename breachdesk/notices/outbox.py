"""The dispatcher: claim due messages, send each, record the outcome. Safe with several dispatchers.

Claiming takes a lease on a batch in one short transaction (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so two
dispatchers never take the same rows; on SQLite a single UPDATE, which its one-writer lock makes atomic).
Each outcome is committed on its own, so a dispatcher killed mid-batch loses nothing: what it had not
recorded is taken over when its lease expires, and only a message it had sent but not yet recorded can go
out twice.
"""

import logging
import os
import random
import socket
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import and_, or_, select, update

from breachdesk.audit.services import acting_as, append_events
from breachdesk.core.clock import now_utc
from breachdesk.core.errors import ValidationFailed
from breachdesk.deadlines.models import Obligation, ObligationStatus
from breachdesk.deadlines.services import mark_sent
from breachdesk.extensions import db
from breachdesk.inventory.rules import email_problem
from breachdesk.notices.mail import Backend, OutgoingMail, PermanentFailure, TemporaryFailure, backend_from
from breachdesk.notices.models import Notice, OutboxMessage, OutboxStatus
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


def _mail(message: OutboxMessage, sender: str) -> OutgoingMail:
    if message.notice is None:  # a reminder, an escalation or a digest
        alert = message.alert_mail
        return OutgoingMail(message.id, message.idempotency_key, sender, message.recipient, alert.subject,
                            alert.text_body, "", {"alert_mail_id": str(alert.id)})
    notice = message.notice
    return OutgoingMail(message.id, message.idempotency_key, sender, message.recipient, notice.subject,
                        notice.text_body, notice.html_body,
                        {"notice_id": str(notice.id), "incident_id": str(notice.incident_id)})


def deliver(message_id: int, worker: str, backend: Backend) -> str:
    """Send one claimed message and record the outcome: sent, retry later, or failed."""
    config = current_app.config
    message = db.session.get(OutboxMessage, message_id)
    if message is None or message.claimed_by != worker or message.status != OutboxStatus.QUEUED:
        db.session.rollback()
        return "skipped"  # our lease expired and another dispatcher took it over
    mail = _mail(message, config["MAIL_FROM"])
    message.attempts += 1
    try:
        provider_id = backend.send(mail)
    except TemporaryFailure as error:
        if message.attempts >= config["DISPATCH_MAX_ATTEMPTS"]:
            return _finish(message, OutboxStatus.FAILED, f"gave up after {message.attempts} attempts: {error}")
        message.next_attempt_at = now_utc() + timedelta(seconds=backoff(
            message.attempts, config["DISPATCH_RETRY_BASE_SECONDS"], config["DISPATCH_RETRY_MAX_SECONDS"]))
        return _finish(message, OutboxStatus.QUEUED, str(error), outcome="retry")
    except PermanentFailure as error:
        return _finish(message, OutboxStatus.FAILED, str(error))
    message.provider_message_id = provider_id[:200]
    message.sent_at = now_utc()
    return _finish(message, OutboxStatus.SENT, "")


def _finish(message: OutboxMessage, status: OutboxStatus, error: str, outcome: str | None = None) -> str:
    message.status, message.last_error = status, error
    message.claimed_by = message.claimed_until = None
    if status == OutboxStatus.SENT and message.notice is not None:
        obligation = db.session.get(Obligation, message.notice.obligation_id)
        if obligation.status == ObligationStatus.PENDING:
            mark_sent(obligation, message.sent_at, f"e-mail {message.provider_message_id}")
    append_events(db.session, [{"action": f"outbox.{outcome or status.value}", "entity_type": "outbox_messages",
                                "entity_id": str(message.id),
                                "after": {"notice": message.notice_id, "alert_mail": message.alert_mail_id,
                                          "recipient": message.recipient,
                                          "attempts": message.attempts, "provider_message_id":
                                              message.provider_message_id, "error": error[:500] or None}}])
    db.session.commit()
    if status == OutboxStatus.FAILED:
        log.warning("outbox message %s to %s failed: %s", message.id, message.recipient, error)
    return outcome or status.value


def dispatch_round(backend: Backend | None = None, worker: str | None = None, batch: int | None = None) -> Round:
    """One claim and the sends it allows; the scheduler calls this on every tick."""
    config = current_app.config
    backend = backend or backend_from(config, current_app.instance_path)
    worker = worker or worker_name()
    ids = claim(worker, batch or config["DISPATCH_BATCH"], config["DISPATCH_LEASE_SECONDS"])
    result = Round(claimed=len(ids))
    with acting_as(f"dispatcher:{worker}"):
        for message_id in ids:
            outcome = deliver(message_id, worker, backend)
            if outcome == "sent":
                result.sent += 1
            elif outcome == "retry":
                result.retried += 1
            elif outcome == "failed":
                result.failed += 1
    return result


def resend(message: OutboxMessage, recipient: str) -> OutboxMessage:
    """After a bounce or a failure: the same notice to another contact, queued now. Callers commit."""
    notice: Notice = message.notice
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
