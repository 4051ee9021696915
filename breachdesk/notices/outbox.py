"""The dispatcher: claim due messages, send each, record the outcome. Safe with several dispatchers.

Claiming takes a lease on a batch in one short transaction (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so two
dispatchers never take the same rows; on SQLite a single UPDATE, which its one-writer lock makes atomic).
The sends that finished together are recorded in one short transaction before any of their places takes
another send, so a dispatcher killed mid-batch loses nothing: what it had not recorded is taken over when its
lease expires, and only the sends it had in flight then (at most DISPATCH_CONCURRENCY) can go out twice.
"""

import logging
import os
import random
import socket
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, bindparam, or_, select, update

from breachdesk.audit.services import acting_as, append_events
from breachdesk.core.clock import now_utc
from breachdesk.core.errors import ValidationFailed
from breachdesk.deadlines.services import record_first_sends
from breachdesk.extensions import db
from breachdesk.inventory.rules import email_problem
from breachdesk.notices import layout
from breachdesk.notices.chat import Routed
from breachdesk.notices.mail import (
    Backend,
    OutgoingMail,
    PermanentFailure,
    RateLimited,
    TemporaryFailure,
    backend_from,
)
from breachdesk.notices.models import AlertMail, Notice, OutboxMessage, OutboxStatus
from breachdesk.notices.services import idempotency_key

log = logging.getLogger(__name__)


@dataclass
class Round:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    #: due messages made to wait because the provider refused requests for a while (a 429)
    held_back: int = 0


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _due():
    now = now_utc()
    return and_(
        OutboxMessage.status == OutboxStatus.QUEUED,
        OutboxMessage.next_attempt_at <= now,
        or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
    )


def claim(worker: str, batch: int, lease_seconds: float, after: int = 0) -> list[int]:
    """Lease up to `batch` due messages to `worker`, in the order they were queued, from the id `after`; returns
    their ids. Commits."""
    until = now_utc() + timedelta(seconds=lease_seconds)
    due = select(OutboxMessage.id).where(_due(), OutboxMessage.id > after).order_by(OutboxMessage.id).limit(batch)
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
    """The batch's messages with their contents, in one query per kind, still leased to `worker`. A notice's
    contacts get the same e-mail: its sender and layout are built once for the batch."""
    claimed, layouts = [], {}
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
            AlertMail.link,
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
        alert_link,
    ) in rows:
        if notice_id is not None:  # in the organisation's name and layout (notices/layout.py)
            if notice_id not in layouts:
                layouts[notice_id] = (
                    layout.sender(sender, sender_name),
                    layout.email_html(
                        subject=subject, html_body=html, text_body=text, language=language, organisation=sender_name
                    ),
                )
            mail = OutgoingMail(
                message_id,
                key,
                layouts[notice_id][0],
                recipient,
                subject,
                text,
                layouts[notice_id][1],
                {"notice_id": str(notice_id), "incident_id": str(incident_id)},
            )
        else:  # an alert: a reminder, an escalation, a digest, an incident filed or grown
            mail = OutgoingMail(
                message_id,
                key,
                sender,
                recipient,
                alert_subject,
                alert_text,
                "",
                {"alert_mail_id": str(alert_mail_id)},
                alert_link or "",
            )
        claimed.append(Claimed(mail, attempts, notice_id, alert_mail_id, obligation_id))
    db.session.commit()  # nothing held open while the provider thinks
    return claimed


@dataclass(frozen=True)
class Attempt:
    """What one send gave: the provider's message id, or the failure and whether it may be retried; when the
    provider refused it for a while (a 429), how many seconds it asked us to wait (0: it did not say)."""

    claimed: Claimed
    provider_id: str = ""
    error: str = ""
    temporary: bool = False
    at: datetime = field(default_factory=now_utc)
    rate_limited: bool = False
    wait: float = 0.0


def attempt(claimed: Claimed, backend: Backend) -> Attempt:
    """Send one claimed message; no database here, so many can be in flight at once."""
    try:
        return Attempt(claimed, provider_id=backend.send(claimed.mail)[:200])
    except RateLimited as error:
        return Attempt(claimed, error=str(error), temporary=True, rate_limited=True, wait=error.wait)
    except TemporaryFailure as error:
        return Attempt(claimed, error=str(error), temporary=True)
    except PermanentFailure as error:
        return Attempt(claimed, error=str(error))
    except Exception as error:  # a garbled answer, a library bug: this message only, retried and counted
        return Attempt(claimed, error=f"unexpected {type(error).__name__}: {error}", temporary=True)


_MESSAGES = OutboxMessage.__table__


def _recording(ours, *columns: str):
    """How one outcome is written to its message: built once, so that recording a group runs one prepared
    statement per message instead of building one."""
    return (
        update(_MESSAGES)
        .where(_MESSAGES.c.id == bindparam("message_id"), ours)
        .values(claimed_by=None, claimed_until=None, **{column: bindparam(f"new_{column}") for column in columns})
    )


#: a message accepted is recorded whoever holds its lease now, unless an earlier acceptance is on record; a
#: retry or a failure only while our lease holds
_RECORD = {
    "sent": _recording(
        _MESSAGES.c.status != OutboxStatus.SENT, "status", "attempts", "last_error", "provider_message_id", "sent_at"
    ),
    "retry": _recording(
        _MESSAGES.c.claimed_by == bindparam("worker"), "status", "attempts", "last_error", "next_attempt_at"
    ),
    "failed": _recording(_MESSAGES.c.claimed_by == bindparam("worker"), "status", "attempts", "last_error"),
}


def record_outcome(done: Attempt, worker: str) -> str:
    """Record one outcome in its own short transaction and return it (sent, retry, failed, or skipped)."""
    return record_outcomes([done], worker)[0]


def record_outcomes(finished: list[Attempt], worker: str) -> list[str]:
    """Record the outcomes of the sends that finished together in one short transaction; return each one (sent,
    retry, failed, or skipped).

    A retry or a failure is ours to record only while we hold the lease: when it ran out and another
    dispatcher took the message over, the outcome is left to that one. An accepted message went out whoever
    holds the lease now: it is recorded as sent unless an earlier acceptance is already on record."""
    config, connection = current_app.config, db.session.connection()
    outcomes, events, first_sends, failed = [], [], {}, []
    for done in finished:
        status, changes, outcome = _outcome(done, config)
        message_id = done.claimed.mail.outbox_id
        values = {f"new_{column}": value for column, value in {"status": status, **changes}.items()}
        updated = connection.execute(_RECORD[outcome], {"message_id": message_id, "worker": worker, **values}).rowcount
        outcomes.append(outcome if updated else "skipped")
        if not updated:
            continue
        obligation_id = done.claimed.obligation_id
        if outcome == "sent" and obligation_id is not None:
            earliest = first_sends.setdefault(obligation_id, done)
            first_sends[obligation_id] = done if done.at < earliest.at else earliest
        if status == OutboxStatus.FAILED:
            failed.append((message_id, changes["attempts"]))
        events.append(_event(done, outcome, changes))
    append_events(db.session, _fulfil(first_sends) + events)  # one append to the chain for the group
    db.session.commit()
    for message_id, attempts in failed:
        # the provider's words often quote the address: they stay on the message's page and in the audit log
        log.warning("outbox message %s failed after %d attempt(s)", message_id, attempts)
    return outcomes


def _fulfil(first_sends: dict[int, Attempt]) -> list[dict]:
    """The first message sent fulfils its obligation (sends in flight finish in any order). Returns the
    obligations' audit events."""
    if not first_sends:
        return []
    return record_first_sends({o: (done.at, f"e-mail {done.provider_id}") for o, done in first_sends.items()})


def _event(done: Attempt, outcome: str, changes: dict) -> dict:
    return {
        "action": f"outbox.{outcome}",
        "entity_type": "outbox_messages",
        "entity_id": str(done.claimed.mail.outbox_id),
        "after": {
            "notice": done.claimed.notice_id,
            "alert_mail": done.claimed.alert_mail_id,
            "recipient": done.claimed.mail.to,
            "attempts": changes["attempts"],
            "provider_message_id": done.provider_id or None,
            "error": changes["last_error"][:500] or None,
        },
    }


def _outcome(done: Attempt, config) -> tuple[OutboxStatus, dict, str]:
    attempts = done.claimed.attempts + 1
    changes: dict = {"attempts": attempts, "last_error": done.error}
    if not done.error:
        return OutboxStatus.SENT, changes | {"provider_message_id": done.provider_id, "sent_at": done.at}, "sent"
    if done.temporary and attempts < config["DISPATCH_MAX_ATTEMPTS"]:
        delay = backoff(attempts, config["DISPATCH_RETRY_BASE_SECONDS"], config["DISPATCH_RETRY_MAX_SECONDS"])
        changes["next_attempt_at"] = done.at + timedelta(seconds=max(delay, _asked_wait(done, config)))
        return OutboxStatus.QUEUED, changes, "retry"
    if done.temporary:
        changes["last_error"] = f"gave up after {attempts} attempts: {done.error}"
    return OutboxStatus.FAILED, changes, "failed"


def _asked_wait(done: Attempt, config) -> float:
    """Seconds the provider asked us to wait after a 429, up to the longest backoff: an absurd answer does not
    park the outbox for days."""
    return min(done.wait, float(config["DISPATCH_RETRY_MAX_SECONDS"])) if done.rate_limited else 0.0


def hold_back(until: datetime, worker: str, in_flight: list[int]) -> int:
    """The provider refuses requests until `until`: every due message not in flight waits for it, those this
    dispatcher holds (their claim released) and those nobody holds, so no dispatcher keeps knocking. Commits;
    returns how many were held back."""
    now = now_utc()
    held = db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.status == OutboxStatus.QUEUED,
            OutboxMessage.next_attempt_at < until,
            OutboxMessage.id.not_in(in_flight),
            or_(
                OutboxMessage.claimed_by == worker,
                OutboxMessage.claimed_until.is_(None),
                OutboxMessage.claimed_until < now,
            ),
        )
        .values(next_attempt_at=until, claimed_by=None, claimed_until=None)
    ).rowcount
    db.session.commit()
    return held


def _rate_limited_until(finished: list[Attempt], config) -> datetime | None:
    """Until when a 429 among these answers asks us to stop: its wait, or the first backoff when it gave none."""
    ends = [
        done.at + timedelta(seconds=_asked_wait(done, config) or float(config["DISPATCH_RETRY_BASE_SECONDS"]))
        for done in finished
        if done.rate_limited
    ]
    return max(ends, default=None)


class Lease:
    """A claim outlives its sending: however slow the provider, the messages still ours are held for another
    lease period whenever a third of the current one has gone. Checked at least every sixth of it, so half a
    lease is left to spare when the dispatcher itself is held up. It holds the messages claimed and not yet
    recorded: a round that claims batch after batch renews only those."""

    def __init__(self, worker: str, ids: list[int], seconds: float):
        self.worker, self.ids, self.seconds = worker, set(ids), seconds
        self.renewed_at = now_utc()

    @property
    def check_every(self) -> float:
        return self.seconds / 6

    def renew_when_due(self) -> None:
        now = now_utc()
        if now - self.renewed_at < timedelta(seconds=self.seconds / 3) or not self.ids:
            return
        db.session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.id.in_(sorted(self.ids)),
                OutboxMessage.claimed_by == self.worker,
                OutboxMessage.status == OutboxStatus.QUEUED,
            )
            .values(claimed_until=now + timedelta(seconds=self.seconds))
        )
        db.session.commit()
        self.renewed_at = now


def dispatch_round(backend: Backend | None = None, worker: str | None = None, batch: int | None = None) -> Round:
    """Send what is due, DISPATCH_BATCH messages claimed at a time; the scheduler calls this on every tick. Up
    to DISPATCH_CONCURRENCY sends are in flight at once, so a slow provider, not the database, is the limit; the
    next batch is claimed as soon as the last one has too few left to fill the places that came free, so the
    sends in flight never run down between batches. The sends that finished are recorded before their places
    take others, so a dispatcher killed at any instant repeats at most those in flight. A 429 ends the round: what
    it had not sent waits, with the rest of the outbox, as asked."""
    config = current_app.config
    backend = Routed(backend or backend_from(config, current_app.instance_path), config)
    worker = worker or worker_name()
    lease, claimed_up_to = Lease(worker, [], config["DISPATCH_LEASE_SECONDS"]), 0

    def claim_batch() -> list[Claimed]:
        """The next batch, after the last one in the outbox's order: a message due behind it (a retry, a lease
        that ran out, one whose transaction committed late) waits for the next round, so no round sends a message
        twice."""
        nonlocal claimed_up_to
        ids = claim(worker, batch or config["DISPATCH_BATCH"], lease.seconds, claimed_up_to)
        claimed_up_to = max(ids, default=claimed_up_to)
        lease.ids.update(ids)
        return load_claimed(ids, worker, config["MAIL_FROM"])

    with acting_as(f"dispatcher:{worker}"):
        outcomes = _send(claim_batch(), backend, lease, max(1, int(config["DISPATCH_CONCURRENCY"])), claim_batch)
    result = Round(
        claimed=outcomes["claimed"],
        sent=outcomes["sent"],
        retried=outcomes["retry"],
        failed=outcomes["failed"],
        held_back=outcomes["held back"],
    )
    if result.claimed:
        log.info(
            "dispatch round: %d claimed, %d sent, %d to retry, %d failed, %d left to another dispatcher%s",
            result.claimed,
            result.sent,
            result.retried,
            result.failed,
            outcomes["skipped"],
            f", {result.held_back} held back: the provider asked to wait" if result.held_back else "",
        )
    return result


def _send(
    claimed: list[Claimed],
    backend: Backend,
    lease: Lease,
    threads: int,
    claim_more: Callable[[], list[Claimed]] = list,
) -> Counter[str]:
    """Keep `threads` sends in flight until nothing is left to send, recording what finished as it comes:
    `claimed` first, then whatever `claim_more` brings whenever too few wait for the places free, until it brings
    nothing."""
    outcomes: Counter[str] = Counter(claimed=len(claimed))
    waiting, claiming = deque(claimed), bool(claimed)
    with ThreadPoolExecutor(threads, thread_name_prefix="dispatch") as pool:

        def start(count: int) -> dict:
            nonlocal claiming
            if len(waiting) < count and claiming:
                more = claim_more()
                outcomes["claimed"] += len(more)
                waiting.extend(more)
                claiming = bool(more)
            started = [waiting.popleft() for _ in range(min(count, len(waiting)))]
            return {pool.submit(attempt, one, backend): one.mail.outbox_id for one in started}

        in_flight = start(threads)
        while in_flight:
            finished, _ = wait(in_flight, timeout=lease.check_every, return_when=FIRST_COMPLETED)
            answers = [future.result() for future in finished]
            for future in finished:
                del in_flight[future]
            outcomes.update(record_outcomes(answers, lease.worker) if answers else [])
            lease.ids.difference_update(done.claimed.mail.outbox_id for done in answers)
            if until := _rate_limited_until(answers, current_app.config):
                outcomes["held back"] += hold_back(until, lease.worker, list(in_flight.values()))
                lease.ids.difference_update(one.mail.outbox_id for one in waiting)
                waiting.clear()  # what this round had not sent waits too, and no more is claimed
                claiming = False
            in_flight |= start(len(finished))
            lease.renew_when_due()
    return outcomes


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
