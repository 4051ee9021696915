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
import threading
from concurrent.futures import ThreadPoolExecutor
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
from breachdesk.reminders.models import AlertMail

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


def deliver(claimed: Claimed, worker: str, backend: Backend, fulfilled: "_Fulfilled") -> str:
    """Send one claimed message and record the outcome: sent, retry later, or failed. `fulfilled` knows the
    obligations this round already marked sent, so the other recipients of a notice skip that step."""
    config = current_app.config
    attempts = claimed.attempts + 1
    changes: dict = {"attempts": attempts}
    try:
        provider_id = backend.send(claimed.mail)
    except TemporaryFailure as error:
        if attempts >= config["DISPATCH_MAX_ATTEMPTS"]:
            return _finish(claimed, worker, OutboxStatus.FAILED, f"gave up after {attempts} attempts: {error}",
                           changes)
        changes["next_attempt_at"] = now_utc() + timedelta(seconds=backoff(
            attempts, config["DISPATCH_RETRY_BASE_SECONDS"], config["DISPATCH_RETRY_MAX_SECONDS"]))
        return _finish(claimed, worker, OutboxStatus.QUEUED, str(error), changes, outcome="retry")
    except PermanentFailure as error:
        return _finish(claimed, worker, OutboxStatus.FAILED, str(error), changes)
    changes |= {"provider_message_id": provider_id[:200], "sent_at": now_utc()}
    outcome = _finish(claimed, worker, OutboxStatus.SENT, "", changes, fulfilled=fulfilled)
    return outcome


def _finish(claimed: Claimed, worker: str, status: OutboxStatus, error: str, changes: dict,
            outcome: str | None = None, fulfilled: "_Fulfilled | None" = None) -> str:
    recorded = db.session.execute(
        update(OutboxMessage).where(OutboxMessage.id == claimed.mail.outbox_id, OutboxMessage.claimed_by == worker)
        .values(status=status, last_error=error, claimed_by=None, claimed_until=None, **changes)
        .execution_options(synchronize_session=False))  # nothing loaded to keep in step
    if recorded.rowcount == 0:  # our lease expired and another dispatcher took the message over
        db.session.rollback()
        return "skipped"
    obligation_id = claimed.obligation_id
    if status == OutboxStatus.SENT and obligation_id is not None and fulfilled is not None \
            and fulfilled.first(obligation_id):
        obligation = db.session.get(Obligation, obligation_id)
        if obligation.status == ObligationStatus.PENDING:
            mark_sent(obligation, changes["sent_at"], f"e-mail {changes['provider_message_id']}")
    append_events(db.session, [{"action": f"outbox.{outcome or status.value}", "entity_type": "outbox_messages",
                                "entity_id": str(claimed.mail.outbox_id),
                                "after": {"notice": claimed.notice_id, "alert_mail": claimed.alert_mail_id,
                                          "recipient": claimed.mail.to, "attempts": changes["attempts"],
                                          "provider_message_id": changes.get("provider_message_id"),
                                          "error": error[:500] or None}}])
    db.session.commit()
    if status == OutboxStatus.FAILED:
        log.warning("outbox message %s to %s failed: %s", claimed.mail.outbox_id, claimed.mail.to, error)
    return outcome or status.value


def dispatch_round(backend: Backend | None = None, worker: str | None = None, batch: int | None = None) -> Round:
    """One claim and the sends it allows; the scheduler calls this on every tick. Several sends are in flight
    at once (DISPATCH_CONCURRENCY), each recorded in its own transaction, so a slow provider is the limit."""
    config = current_app.config
    backend = backend or backend_from(config, current_app.instance_path)
    worker = worker or worker_name()
    ids = claim(worker, batch or config["DISPATCH_BATCH"], config["DISPATCH_LEASE_SECONDS"])
    result = Round(claimed=len(ids))
    if not ids:
        return result
    claimed = load_claimed(ids, worker, config["MAIL_FROM"])
    fulfilled = _Fulfilled()
    app = current_app._get_current_object()

    def send(one: Claimed) -> str:
        with app.app_context(), acting_as(f"dispatcher:{worker}"):
            return deliver(one, worker, backend, fulfilled)

    threads = max(1, int(config["DISPATCH_CONCURRENCY"]))
    if threads == 1:
        outcomes = [send(one) for one in claimed]
    else:
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="dispatch") as pool:
            outcomes = list(pool.map(send, claimed))
    result.sent, result.retried, result.failed = (outcomes.count(o) for o in ("sent", "retry", "failed"))
    return result


class _Fulfilled:
    """Obligations already marked sent in this round, shared by the sending threads."""

    def __init__(self) -> None:
        self.ids: set[int] = set()
        self.lock = threading.Lock()

    def first(self, obligation_id: int) -> bool:
        with self.lock:
            if obligation_id in self.ids:
                return False
            self.ids.add(obligation_id)
            return True


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
