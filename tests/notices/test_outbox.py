"""The outbox's rules, one at a time, against the database and a recording backend (no server, no network):
who may claim what and until when, what one send's outcome writes, how a round counts, how a failed notice
is sent again. The backends themselves are tested in test_mail_backends.py."""

import logging
import random
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from sqlalchemy import func, select, update

from breachdesk.audit.models import AuditEvent
from breachdesk.core.errors import ValidationFailed
from breachdesk.deadlines.models import Obligation, ObligationStatus
from breachdesk.deadlines.services import mark_sent
from breachdesk.extensions import db
from breachdesk.inventory.rules import email_problem
from breachdesk.notices import outbox, services
from breachdesk.notices.layout import email_html
from breachdesk.notices.mail import OutgoingMail, PermanentFailure, RateLimited, TemporaryFailure
from breachdesk.notices.models import AlertMail, OutboxMessage, OutboxStatus
from breachdesk.notices.outbox import Attempt, Claimed, Lease, Round, claim, dispatch_round, load_claimed
from breachdesk.notices.statements import save_statement
from tests.incident_fixtures import duty

#: the instant the clock is frozen at in these tests
T = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
SENDER = "notices@parlons.example"
#: seconds a test waits for the dispatcher's threads: a guard against hanging, never reached when all is well
GUARD = 30


class Recording:
    """Sends nothing: keeps each mail and answers as told for its recipient (a provider id by default, or an
    exception to raise); `during` runs inside a send, in the dispatcher's thread, before it answers."""

    def __init__(self, answers: dict | None = None, during=None):
        self.sent: list[OutgoingMail] = []
        self.answers = answers or {}
        self.during = during
        self.lock = threading.Lock()

    def send(self, mail: OutgoingMail) -> str:
        with self.lock:
            self.sent.append(mail)
        if self.during:
            self.during(mail)
        answer = self.answers.get(mail.to, f"provider-{mail.outbox_id}")
        if isinstance(answer, Exception):
            raise answer
        return answer


def queue(*recipients: str) -> list[int]:
    """One reminder mail to these recipients: one queued message each, due now."""
    alert = AlertMail(kind="reminder", subject="Reminder: 2 duties due", text_body="Two duties are due.")
    db.session.add(alert)
    db.session.flush()
    rows = [
        OutboxMessage(alert_mail_id=alert.id, recipient=to, idempotency_key=f"a{alert.id}:{to}") for to in recipients
    ]
    db.session.add_all(rows)
    db.session.commit()
    return [row.id for row in rows]


def leases() -> list[tuple]:
    db.session.expire_all()
    return db.session.execute(
        select(OutboxMessage.claimed_by, OutboxMessage.claimed_until).order_by(OutboxMessage.id)
    ).all()


def set_rows(ids: list[int], **values) -> None:
    db.session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids)).values(**values))
    db.session.commit()


def in_another_app_context(app, work):
    """Run `work` as another process would: its own app context and session, committed."""
    with app.app_context():
        result = work()
        db.session.commit()
        return result


# --- claiming -------------------------------------------------------------------------------------------------


def test_a_claim_leases_the_oldest_due_messages_up_to_the_batch_to_one_worker(app):
    with time_machine.travel(T, tick=False):
        a, b, c = queue("a@x.example", "b@x.example", "c@x.example")
        assert claim("w1", batch=2, lease_seconds=60) == [a, b]
        assert leases() == [("w1", T + timedelta(seconds=60)), ("w1", T + timedelta(seconds=60)), (None, None)]
        assert claim("w2", batch=5, lease_seconds=30) == [c]
        assert leases()[2] == ("w2", T + timedelta(seconds=30))
        assert claim("w3", batch=5, lease_seconds=60) == []


def test_the_oldest_messages_go_first_whatever_their_retry_times(app):
    """A retried message keeps its place: the batch is taken in the order messages were queued."""
    with time_machine.travel(T, tick=False):
        retried, waiting, newest = queue("a@x.example", "b@x.example", "c@x.example")
    set_rows([waiting], next_attempt_at=T - timedelta(minutes=10))
    set_rows([newest], next_attempt_at=T - timedelta(minutes=20))
    set_rows([retried], next_attempt_at=T - timedelta(minutes=1), attempts=3)
    with time_machine.travel(T, tick=False):
        assert claim("w1", batch=2, lease_seconds=60) == [retried, waiting]
        assert [one.mail.outbox_id for one in load_claimed([retried, waiting], "w1", SENDER)] == [retried, waiting]


def test_a_lease_holds_through_its_last_instant_and_is_taken_over_after_it(app):
    """A dispatcher killed mid-batch hands its messages over when its lease has run out, not before."""
    with time_machine.travel(T, tick=False):
        [a] = queue("a@x.example")
        assert claim("w1", batch=5, lease_seconds=60) == [a]
    with time_machine.travel(T + timedelta(seconds=60), tick=False):
        assert claim("w2", batch=5, lease_seconds=60) == []
    with time_machine.travel(T + timedelta(seconds=61), tick=False):
        assert claim("w2", batch=5, lease_seconds=60) == [a]
    assert leases() == [("w2", T + timedelta(seconds=121))]


def test_a_message_waiting_out_its_backoff_is_claimed_from_its_time_on(app):
    with time_machine.travel(T, tick=False):
        [a] = queue("a@x.example")
    set_rows([a], next_attempt_at=T + timedelta(minutes=5), attempts=1)
    with time_machine.travel(T + timedelta(minutes=5) - timedelta(seconds=1), tick=False):
        assert claim("w1", batch=5, lease_seconds=60) == []
    with time_machine.travel(T + timedelta(minutes=5), tick=False):
        assert claim("w1", batch=5, lease_seconds=60) == [a]


def test_only_queued_messages_are_claimed(app):
    with time_machine.travel(T, tick=False):
        sent, failed, queued = queue("a@x.example", "b@x.example", "c@x.example")
        set_rows([sent], status=OutboxStatus.SENT)
        set_rows([failed], status=OutboxStatus.FAILED)
        assert claim("w1", batch=5, lease_seconds=60) == [queued]


def test_two_dispatchers_claiming_at_the_same_instant_never_share_a_message(app):
    """Both leases end at the same instant: each dispatcher is given back only the rows it took."""
    with time_machine.travel(T, tick=False):
        a, b = queue("a@x.example", "b@x.example")
        assert claim("w1", batch=1, lease_seconds=60) == [a]
        assert claim("w2", batch=1, lease_seconds=60) == [b]


def test_a_dispatcher_claiming_again_is_given_only_what_it_just_leased(app):
    with time_machine.travel(T, tick=False):
        a, b = queue("a@x.example", "b@x.example")
        assert claim("w1", batch=1, lease_seconds=60) == [a]
    with time_machine.travel(T + timedelta(seconds=1), tick=False):
        assert claim("w1", batch=1, lease_seconds=60) == [b]  # a is still its own, from the round before


# --- what a claimed message carries -------------------------------------------------------------------------


def test_a_claimed_reminder_carries_its_mail_and_only_while_it_is_still_ours_and_queued(app):
    with time_machine.travel(T, tick=False):
        a, b, c, d, e = queue("a@x.example", "b@x.example", "c@x.example", "d@x.example", "e@x.example")
        claim("w1", batch=4, lease_seconds=60)  # d too: leased to w1 by a round that is not this one
    set_rows([a], attempts=2)
    set_rows([b], claimed_by="w2")  # taken over
    set_rows([c], status=OutboxStatus.SENT)  # recorded as sent meanwhile
    alert_id = db.session.get(OutboxMessage, a).alert_mail_id
    mail = OutgoingMail(
        a, f"a{alert_id}:a@x.example", SENDER, "a@x.example", "Reminder: 2 duties due", "Two duties are due.", "",
        {"alert_mail_id": str(alert_id)},
    )  # fmt: skip
    assert load_claimed([a, b, c, e], "w1", SENDER) == [Claimed(mail, 2, None, alert_id, None)]


def test_a_claimed_notice_carries_its_bodies_and_the_obligation_it_fulfils(incident, privacy):
    notice = approved(incident, privacy, "globex")
    [message_id] = claim("w1", batch=5, lease_seconds=60)
    in_layout = email_html(
        subject=notice.subject,
        html_body=notice.html_body,
        text_body=notice.text_body,
        language=notice.language,
        organisation="Parlons SAS",
    )
    mail = OutgoingMail(
        message_id,
        f"{notice.id}:dpo@globex.example:1",
        "Parlons SAS <notices@parlons.example>",  # in the organisation's name (notices/layout.py)
        "dpo@globex.example",
        notice.subject,
        notice.text_body,
        in_layout,
        {"notice_id": str(notice.id), "incident_id": str(incident.id)},
    )
    assert load_claimed([message_id], "w1", SENDER) == [Claimed(mail, 0, notice.id, None, duty(incident, "globex").id)]


# --- one send ----------------------------------------------------------------------------------------------------


def claimed(attempts: int = 0, to: str = "a@x.example") -> Claimed:
    return Claimed(OutgoingMail(7, "k", SENDER, to, "s", "t", ""), attempts, None, 3, None)


class Raises:
    def __init__(self, error: Exception | None = None, provider_id: str = ""):
        self.error, self.provider_id = error, provider_id

    def send(self, mail):
        if self.error:
            raise self.error
        return self.provider_id


@pytest.mark.parametrize(
    "backend, expected",
    [
        (Raises(provider_id="p" * 250), {"provider_id": "p" * 200}),  # the column's width
        (Raises(TemporaryFailure("SendGrid 429: slow down")), {"error": "SendGrid 429: slow down", "temporary": True}),
        (Raises(PermanentFailure("SMTP 550: no such user")), {"error": "SMTP 550: no such user"}),
        (Raises(ValueError("bad JSON")), {"error": "unexpected ValueError: bad JSON", "temporary": True}),
    ],
)
def test_one_send_gives_the_provider_id_or_the_failure_and_whether_to_retry_it(backend, expected):
    one = claimed()
    with time_machine.travel(T, tick=False):
        assert outbox.attempt(one, backend) == Attempt(one, **{"at": T, **expected})


CONFIG = {"DISPATCH_MAX_ATTEMPTS": 3, "DISPATCH_RETRY_BASE_SECONDS": 60, "DISPATCH_RETRY_MAX_SECONDS": 3600}


@pytest.fixture
def least_jitter(monkeypatch):
    """The jitter's lower bound: half the computed delay."""
    monkeypatch.setattr(random, "uniform", lambda low, high: low)


def test_an_accepted_send_is_recorded_with_its_provider_id_and_time(least_jitter):
    done = Attempt(claimed(attempts=2), provider_id="p-1", at=T)
    assert outbox._outcome(done, CONFIG) == (
        OutboxStatus.SENT,
        {"attempts": 3, "last_error": "", "provider_message_id": "p-1", "sent_at": T},
        "sent",
    )


def test_a_temporary_failure_is_retried_after_its_backoff_until_the_last_attempt(least_jitter):
    second = Attempt(claimed(attempts=1), error="SendGrid 503", temporary=True, at=T)
    # the second attempt failed: 60 s x 2, halved by the jitter's lower bound
    assert outbox._outcome(second, CONFIG) == (
        OutboxStatus.QUEUED,
        {"attempts": 2, "last_error": "SendGrid 503", "next_attempt_at": T + timedelta(seconds=60)},
        "retry",
    )
    third = Attempt(claimed(attempts=2), error="SendGrid 503", temporary=True, at=T)
    assert outbox._outcome(third, CONFIG) == (
        OutboxStatus.FAILED,
        {"attempts": 3, "last_error": "gave up after 3 attempts: SendGrid 503"},
        "failed",
    )


def test_a_permanent_failure_fails_at_once_in_the_providers_words(least_jitter):
    done = Attempt(claimed(), error="SMTP 550: no such user", at=T)
    assert outbox._outcome(done, CONFIG) == (
        OutboxStatus.FAILED,
        {"attempts": 1, "last_error": "SMTP 550: no such user"},
        "failed",
    )


@pytest.mark.parametrize(
    "wait, retry_in",
    [
        (120, 120),  # longer than the backoff (30 s at its lower bound): the provider's wait
        (10, 30),  # shorter: the backoff
        (0, 30),  # not said: the backoff
        (10**9, 3600),  # absurd: the longest backoff
    ],
)
def test_a_rate_limited_message_waits_at_least_what_the_provider_asked(least_jitter, wait, retry_in):
    done = Attempt(claimed(), error="SendGrid 429", temporary=True, at=T, rate_limited=True, wait=wait)
    status, changes, outcome = outbox._outcome(done, CONFIG)
    assert (status, outcome, changes["next_attempt_at"]) == (
        OutboxStatus.QUEUED,
        "retry",
        T + timedelta(seconds=retry_in),
    )


@pytest.mark.parametrize(
    "attempts, shortest, longest",
    [
        (1, 30, 90),  # a minute, give or take half
        (2, 60, 180),
        (4, 240, 720),  # doubling each time
        (7, 1800, 5400),  # an hour: the cap
        (30, 1800, 5400),  # the cap holds however many attempts
    ],
)
def test_backoff_doubles_from_its_base_up_to_its_cap_within_half_either_way(attempts, shortest, longest, monkeypatch):
    monkeypatch.setattr(random, "uniform", lambda low, high: low)
    assert outbox.backoff(attempts, base=60, cap=3600) == shortest
    monkeypatch.setattr(random, "uniform", lambda low, high: high)
    assert outbox.backoff(attempts, base=60, cap=3600) == longest


def test_backoff_jitter_is_drawn_between_half_and_one_and_a_half(monkeypatch):
    drawn = []
    monkeypatch.setattr(random, "uniform", lambda low, high: drawn.append((low, high)) or 1.0)
    assert outbox.backoff(3, base=10, cap=3600) == 40
    assert drawn == [(0.5, 1.5)]


# --- recording an outcome --------------------------------------------------------------------------------------


def claimed_reminders(*recipients: str, worker: str = "w1") -> list[Claimed]:
    with time_machine.travel(T, tick=False):
        queue(*recipients)
        return load_claimed(claim(worker, batch=10, lease_seconds=60), worker, SENDER)


def row(message_id: int) -> tuple:
    db.session.expire_all()
    m = db.session.get(OutboxMessage, message_id)
    return (m.status, m.attempts, m.provider_message_id, m.sent_at, m.last_error, m.next_attempt_at, m.claimed_by,
            m.claimed_until)  # fmt: skip


def audited() -> list[tuple]:
    return db.session.execute(
        select(AuditEvent.action, AuditEvent.entity_type, AuditEvent.entity_id, AuditEvent.after)
        .where(AuditEvent.action.like("outbox.%"))
        .order_by(AuditEvent.id)
    ).all()


def test_each_outcome_is_written_to_its_message_and_the_audit_log_and_frees_the_lease(app, least_jitter, caplog):
    app.config.update(CONFIG)
    ok, busy, gone = claimed_reminders("ok@x.example", "busy@x.example", "gone@x.example")
    at = T + timedelta(seconds=5)
    assert outbox.record_outcome(Attempt(ok, provider_id="p-1", at=at), "w1") == "sent"
    assert outbox.record_outcome(Attempt(busy, error="SendGrid 503", temporary=True, at=at), "w1") == "retry"
    with caplog.at_level(logging.WARNING, logger="breachdesk.notices.outbox"):
        assert outbox.record_outcome(Attempt(gone, error="SMTP 550 " + "x" * 600, at=at), "w1") == "failed"
    ids = [one.mail.outbox_id for one in (ok, busy, gone)]
    assert [row(i) for i in ids] == [
        (OutboxStatus.SENT, 1, "p-1", at, "", T, None, None),
        (OutboxStatus.QUEUED, 1, None, None, "SendGrid 503", at + timedelta(seconds=30), None, None),
        (OutboxStatus.FAILED, 1, None, None, "SMTP 550 " + "x" * 600, T, None, None),
    ]
    alert = ok.alert_mail_id
    assert audited() == [
        ("outbox.sent", "outbox_messages", str(ids[0]), {
            "notice": None, "alert_mail": alert, "recipient": "ok@x.example", "attempts": 1,
            "provider_message_id": "p-1", "error": None,
        }),
        ("outbox.retry", "outbox_messages", str(ids[1]), {
            "notice": None, "alert_mail": alert, "recipient": "busy@x.example", "attempts": 1,
            "provider_message_id": None, "error": "SendGrid 503",
        }),
        ("outbox.failed", "outbox_messages", str(ids[2]), {
            "notice": None, "alert_mail": alert, "recipient": "gone@x.example", "attempts": 1,
            "provider_message_id": None, "error": ("SMTP 550 " + "x" * 600)[:500],  # the log keeps 500 characters
        }),
    ]  # fmt: skip
    # the provider's words may quote the address: the operator's log says only which message failed
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("WARNING", f"outbox message {ids[2]} failed after 1 attempt(s)")
    ]


def test_a_failure_under_a_lease_that_moved_is_left_to_its_new_holder(app):
    app.config.update(CONFIG)
    [busy] = claimed_reminders("busy@x.example")
    set_rows([busy.mail.outbox_id], claimed_by="w2")
    before = row(busy.mail.outbox_id)
    assert outbox.record_outcome(Attempt(busy, error="SendGrid 503", temporary=True, at=T), "w1") == "skipped"
    assert outbox.record_outcome(Attempt(busy, error="SMTP 550", at=T), "w1") == "skipped"
    assert row(busy.mail.outbox_id) == before and audited() == []


def test_sends_that_finished_together_are_recorded_in_one_go_each_as_it_was(app, least_jitter):
    """One transaction for the group, and each message written as if alone: sent, retried, failed, or left to
    the dispatcher that took it over; one audit event each, in the order they finished."""
    app.config.update(CONFIG)
    ok, busy, gone, taken = claimed_reminders("ok@x.example", "busy@x.example", "gone@x.example", "w2@x.example")
    set_rows([taken.mail.outbox_id], claimed_by="w2")
    at = T + timedelta(seconds=5)
    finished = [
        Attempt(busy, error="SendGrid 503", temporary=True, at=at),
        Attempt(ok, provider_id="p-1", at=at),
        Attempt(taken, error="SendGrid 503", temporary=True, at=at),
        Attempt(gone, error="SMTP 550", at=at),
    ]
    assert outbox.record_outcomes(finished, "w1") == ["retry", "sent", "skipped", "failed"]
    assert [row(one.mail.outbox_id)[:3] for one in (ok, busy, gone, taken)] == [
        (OutboxStatus.SENT, 1, "p-1"),
        (OutboxStatus.QUEUED, 1, None),
        (OutboxStatus.FAILED, 1, None),
        (OutboxStatus.QUEUED, 0, None),
    ]
    assert row(busy.mail.outbox_id)[5] == at + timedelta(seconds=30)
    assert [(action, entity_id) for action, _, entity_id, _ in audited()] == [
        ("outbox.retry", str(busy.mail.outbox_id)),
        ("outbox.sent", str(ok.mail.outbox_id)),
        ("outbox.failed", str(gone.mail.outbox_id)),
    ]


def test_an_accepted_message_is_recorded_whoever_holds_it_but_only_the_first_acceptance(app):
    app.config.update(CONFIG)
    [ok] = claimed_reminders("ok@x.example")
    set_rows([ok.mail.outbox_id], claimed_by="w2")
    assert outbox.record_outcome(Attempt(ok, provider_id="p-1", at=T), "w1") == "sent"
    assert outbox.record_outcome(Attempt(ok, provider_id="p-2", at=T + timedelta(seconds=1)), "w2") == "skipped"
    assert row(ok.mail.outbox_id)[:4] == (OutboxStatus.SENT, 1, "p-1", T)
    assert [action for action, *_ in audited()] == ["outbox.sent"]


def approved(incident, privacy, key: str):
    notice = services.generate_notice(duty(incident, key), privacy)
    services.approve_notice(notice, privacy)
    db.session.commit()
    return notice


@pytest.mark.parametrize(
    "second_after, recorded_first",
    [
        (timedelta(seconds=1), "second"),  # sends in flight together finish in any order
        (timedelta(seconds=1), "first"),
        (timedelta(0), "first"),  # at the same instant: the first recorded stays
        (timedelta(seconds=1), "second, together"),  # or finish together and are recorded in one go
        (timedelta(0), "first, together"),
    ],
)
def test_the_earliest_send_of_a_notice_fulfils_its_obligation_whatever_order_they_are_recorded_in(
    app, incident, privacy, second_after, recorded_first
):
    approved(incident, privacy, "acme")  # two contacts: two messages
    first, second = load_claimed(claim("w1", batch=5, lease_seconds=60), "w1", SENDER)
    sent_at = datetime(2026, 10, 26, 1, 0, tzinfo=UTC)  # aware 24 October 22:00, acme's 24 h ran out at 22:00
    outcomes = [
        Attempt(first, provider_id="p-1", at=sent_at),
        Attempt(second, provider_id="p-2", at=sent_at + second_after),
    ]
    in_order = outcomes if recorded_first.startswith("first") else outcomes[::-1]
    if recorded_first.endswith("together"):
        outbox.record_outcomes(in_order, "w1")
    else:
        for done in in_order:
            outbox.record_outcome(done, "w1")
    obligation = duty(incident, "acme")
    db.session.refresh(obligation)
    assert (obligation.status, obligation.sent_at, obligation.sent_reference) == (
        ObligationStatus.SENT,
        sent_at,
        "e-mail p-1",
    )
    assert obligation.late_by_seconds == 3 * 3600


def obligation_written(incident, key: str) -> tuple:
    """The columns a send writes on the customer's obligation, and the audit log's last word on them."""
    db.session.expire_all()
    found = duty(incident, key)
    event = db.session.execute(
        select(AuditEvent.action, AuditEvent.before, AuditEvent.after)
        .where(AuditEvent.entity_type == "obligations", AuditEvent.entity_id == found.audit_label())
        .order_by(AuditEvent.id.desc())
        .limit(1)
    ).one()
    columns = (found.status, found.sent_at, found.late_by_seconds, found.sent_reference)
    return columns, tuple(event), list(event.after)


def test_a_send_fulfils_its_obligation_as_marking_it_sent_by_hand_would_columns_and_audit_alike(app, incident, privacy):
    """The dispatcher writes obligations with one statement, not through the flush that audits a person's change:
    what it writes and what the log says (its keys in the same order) must be what `mark_sent` writes and logs."""
    approved(incident, privacy, "acme")
    sent_at = datetime(2026, 10, 26, 1, 0, tzinfo=UTC)
    by_hand = db.session.begin_nested()
    mark_sent(duty(incident, "acme"), sent_at, "e-mail p-1")
    expected = obligation_written(incident, "acme")
    by_hand.rollback()
    [first, _] = load_claimed(claim("w1", batch=5, lease_seconds=60), "w1", SENDER)
    outbox.record_outcomes([Attempt(first, provider_id="p-1", at=sent_at)], "w1")
    assert obligation_written(incident, "acme") == expected
    assert expected[0] == (ObligationStatus.SENT, sent_at, 3 * 3600, "e-mail p-1")


def test_a_send_leaves_an_obligation_no_longer_required_as_it_is(app, incident, privacy):
    approved(incident, privacy, "globex")
    [message] = load_claimed(claim("w1", batch=5, lease_seconds=60), "w1", SENDER)
    obligation = duty(incident, "globex")
    obligation.status = ObligationStatus.NOT_REQUIRED
    db.session.commit()
    sent_at = datetime(2026, 10, 25, 9, 0, tzinfo=UTC)
    assert outbox.record_outcome(Attempt(message, provider_id="p-1", at=sent_at), "w1") == "sent"
    db.session.refresh(obligation)
    assert (obligation.status, obligation.sent_at) == (ObligationStatus.NOT_REQUIRED, None)
    others = db.session.scalars(select(Obligation.status).where(Obligation.id != obligation.id)).all()
    assert others and set(others) == {ObligationStatus.PENDING}  # nor any other obligation


def test_a_failed_or_retried_notice_leaves_its_obligation_pending(app, incident, privacy):
    app.config.update(CONFIG)
    approved(incident, privacy, "acme")
    busy, gone = load_claimed(claim("w1", batch=5, lease_seconds=60), "w1", SENDER)
    at = datetime(2026, 10, 25, 9, 0, tzinfo=UTC)
    assert outbox.record_outcome(Attempt(busy, error="SendGrid 503", temporary=True, at=at), "w1") == "retry"
    assert outbox.record_outcome(Attempt(gone, error="SMTP 550", at=at), "w1") == "failed"
    obligation = duty(incident, "acme")
    db.session.refresh(obligation)
    assert (obligation.status, obligation.sent_at, obligation.sent_reference) == (ObligationStatus.PENDING, None, "")


# --- the lease while sending -------------------------------------------------------------------------------------


def test_a_lease_is_renewed_for_the_messages_still_ours_once_a_third_of_it_has_gone(app):
    with time_machine.travel(T, tick=False):
        mine, taken, sent, other_round = queue("a@x.example", "b@x.example", "c@x.example", "d@x.example")
        ids = claim("w1", batch=5, lease_seconds=60)
        lease = Lease("w1", ids[:3], 60)  # the fourth is w1's from another round: not this lease's to renew
    set_rows([taken], claimed_by="w2")
    set_rows([sent], status=OutboxStatus.SENT)
    assert lease.check_every == 10
    held = [("w2", T + timedelta(seconds=60)), ("w1", T + timedelta(seconds=60)), ("w1", T + timedelta(seconds=60))]
    with time_machine.travel(T + timedelta(seconds=19), tick=False):
        lease.renew_when_due()
    assert leases() == [("w1", T + timedelta(seconds=60)), *held]
    with time_machine.travel(T + timedelta(seconds=20), tick=False):
        lease.renew_when_due()
    assert leases() == [("w1", T + timedelta(seconds=80)), *held]  # only the one still ours, queued, in the lease
    with time_machine.travel(T + timedelta(seconds=39), tick=False):
        lease.renew_when_due()  # a third of a lease since the last renewal is counted from it
    assert leases()[0] == ("w1", T + timedelta(seconds=80))
    with time_machine.travel(T + timedelta(seconds=40), tick=False):
        lease.renew_when_due()
    assert leases()[0] == ("w1", T + timedelta(seconds=100))


# --- a round -----------------------------------------------------------------------------------------------------


def test_a_round_sends_what_it_claimed_and_counts_each_outcome(app, caplog):
    app.config.update(CONFIG, MAIL_FROM=SENDER)
    with time_machine.travel(T, tick=False):
        ok, busy, gone = queue("ok@x.example", "busy@x.example", "gone@x.example")
    backend = Recording({"busy@x.example": TemporaryFailure("SendGrid 503"), "gone@x.example": PermanentFailure("550")})
    with caplog.at_level(logging.INFO, logger="breachdesk.notices.outbox"):
        assert dispatch_round(backend, worker="w1") == Round(claimed=3, sent=1, retried=1, failed=1)
    assert sorted(mail.outbox_id for mail in backend.sent) == [ok, busy, gone]
    assert {mail.sender for mail in backend.sent} == {SENDER}
    assert [row(i)[0] for i in (ok, busy, gone)] == [OutboxStatus.SENT, OutboxStatus.QUEUED, OutboxStatus.FAILED]
    assert "dispatch round: 3 claimed, 1 sent, 1 to retry, 1 failed, 0 left to another dispatcher" in [
        r.getMessage() for r in caplog.records
    ]
    actors = db.session.scalars(select(AuditEvent.actor).where(AuditEvent.action.like("outbox.%"))).all()
    assert actors == ["dispatcher:w1"] * 3
    assert dispatch_round(backend, worker="w1") == Round()  # nothing due: nothing sent
    assert len(backend.sent) == 3


def test_a_round_takes_its_batch_its_worker_name_and_its_backend_from_the_configuration(app, monkeypatch):
    app.config.update(DISPATCH_BATCH=2, MAIL_BACKEND="file", OUTBOX_DIR="")
    with time_machine.travel(T, tick=False):
        queue("a@x.example", "b@x.example", "c@x.example")
    claims = []  # (batch asked, ids claimed) of each claim
    monkeypatch.setattr(outbox, "claim", lambda *args: claims.append((args[1], claim(*args))) or claims[-1][1])
    assert dispatch_round() == Round(claimed=3, sent=3)
    assert [(batch, len(ids)) for batch, ids in claims] == [(2, 2), (2, 1), (2, 0)]  # two at a time, until none
    assert len(list((Path(app.instance_path) / "outbox").glob("*.eml"))) == 3  # the file backend's default folder
    actors = set(db.session.scalars(select(AuditEvent.actor).where(AuditEvent.action == "outbox.sent")))
    assert actors == {f"dispatcher:{outbox.worker_name()}"}
    with time_machine.travel(T, tick=False):
        queue("d@x.example")
    assert dispatch_round(Recording(), batch=5) == Round(claimed=1, sent=1)
    assert [(batch, len(ids)) for batch, ids in claims[3:]] == [(5, 1), (5, 0)]  # the batch given to the round


def test_one_send_at_a_time_starts_only_once_the_one_before_is_recorded(app):
    """What a dispatcher killed at any instant repeats is at most what it had in flight: with one send at a
    time, every earlier outcome is already committed when the next send starts."""
    app.config.update(DISPATCH_CONCURRENCY=1)
    with time_machine.travel(T, tick=False):
        ids = queue("a@x.example", "b@x.example", "c@x.example")
    recorded = []

    def note_recorded(mail):
        done = select(OutboxMessage.id).where(OutboxMessage.status != OutboxStatus.QUEUED).order_by(OutboxMessage.id)
        recorded.append(in_another_app_context(app, lambda: db.session.scalars(done).all()))

    assert dispatch_round(Recording(during=note_recorded), worker="w1").sent == 3
    assert recorded == [[], ids[:1], ids[:2]]


@pytest.mark.parametrize("concurrency", [2, 3])
def test_up_to_the_concurrency_sends_are_in_flight_at_once(app, concurrency):
    """Each send waits until `concurrency` sends have started: one thread short and the wait times out."""
    together = threading.Barrier(concurrency, timeout=GUARD)
    app.config.update(DISPATCH_CONCURRENCY=concurrency)
    with time_machine.travel(T, tick=False):
        queue(*(f"{n}@x.example" for n in range(concurrency)))
    assert dispatch_round(Recording(during=lambda mail: together.wait()), worker="w1").sent == concurrency


def test_a_finished_send_frees_its_place_while_the_others_are_still_in_flight(app):
    """Two at a time: the first answers at once, the second only once the third has started. The third must
    start as soon as the first is recorded, not when every send in flight has ended."""
    app.config.update(DISPATCH_CONCURRENCY=2, DISPATCH_LEASE_SECONDS=3600)  # wakes every 10 min: never here
    third_started = threading.Event()
    saw_third = []

    def second_waits_for_third(mail):
        if mail.to == "b@x.example":
            saw_third.append(third_started.wait(GUARD))
        elif mail.to == "c@x.example":
            third_started.set()

    with time_machine.travel(T, tick=False):
        queue("a@x.example", "b@x.example", "c@x.example")
    assert dispatch_round(Recording(during=second_waits_for_third), worker="w1").sent == 3
    assert saw_third == [True]


def test_a_concurrency_below_one_still_sends(app):
    app.config.update(DISPATCH_CONCURRENCY=0)
    with time_machine.travel(T, tick=False):
        queue("a@x.example")
    assert dispatch_round(Recording(), worker="w1").sent == 1


def test_a_round_renews_its_lease_while_a_slow_provider_answers(app):
    """One send outlasts the lease: the dispatcher, waking every sixth of a lease while it waits, renews its
    claim once a third has gone, so a dispatcher polling after the first lease would have ended finds nothing
    to take over. (A lease of 0.6 s here, so that the dispatcher wakes every 0.1 s of real time.)"""
    app.config.update(DISPATCH_CONCURRENCY=1, DISPATCH_LEASE_SECONDS=0.6)
    first_lease_end = T + timedelta(seconds=0.6)
    polled = []

    def lease_end(message_id: int) -> datetime:
        ends = select(OutboxMessage.claimed_until).where(OutboxMessage.id == message_id)
        return in_another_app_context(app, lambda: db.session.scalar(ends))

    def slow(mail):
        traveller.shift(timedelta(seconds=0.35))  # more than a third of the lease: due for renewal
        started = time.monotonic()
        while lease_end(mail.outbox_id) == first_lease_end and time.monotonic() - started < GUARD:
            time.sleep(0.01)
        traveller.shift(timedelta(seconds=0.35))  # T + 0.7 s: the first lease has run out
        polled.append(in_another_app_context(app, lambda: claim("other", batch=5, lease_seconds=60)))

    with time_machine.travel(T, tick=False) as traveller:
        queue("a@x.example")
        assert dispatch_round(Recording(during=slow), worker="w1").sent == 1
    assert polled == [[]]


def test_a_place_is_refilled_only_once_the_sends_that_left_it_are_recorded(app):
    """Whatever finishes together, when a send starts no more than DISPATCH_CONCURRENCY sends are unrecorded,
    itself included: what a dispatcher killed at that instant could repeat."""
    app.config.update(DISPATCH_CONCURRENCY=3)
    with time_machine.travel(T, tick=False):
        ids = queue(*(f"{n}@x.example" for n in range(12)))
    started = []
    unrecorded_at_start = []
    lock = threading.Lock()

    def note(mail):
        done = select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status != OutboxStatus.QUEUED)
        with lock:
            started.append(mail.outbox_id)
            recorded = in_another_app_context(app, lambda: db.session.scalar(done))
            unrecorded_at_start.append(len(started) - recorded)
        time.sleep(random.choice((0, 0.01, 0.02)))  # finishing apart or together

    assert dispatch_round(Recording(during=note), worker="w1").sent == 12
    assert sorted(started) == ids and max(unrecorded_at_start) <= 3


def test_a_429_holds_back_every_due_message_nobody_else_holds_and_ends_the_round(app, least_jitter):
    """The provider refuses requests for two minutes: the rate-limited message waits for them, and so do this
    round's messages not yet sent (released) and the due messages nobody holds; those another dispatcher holds
    and those not due before then are left alone. Nothing more is sent in this round."""
    app.config.update(CONFIG, DISPATCH_CONCURRENCY=1)
    with time_machine.travel(T, tick=False):
        limited, unsent, unheld, other, later = queue(
            "limited@x.example", "unsent@x.example", "unheld@x.example", "other@x.example", "later@x.example"
        )
    set_rows([unheld, other, later], next_attempt_at=T + timedelta(seconds=1))  # due, after the round's claim
    set_rows([other], claimed_by="w2", claimed_until=T + timedelta(hours=1))
    set_rows([later], next_attempt_at=T + timedelta(minutes=5))
    backend = Recording({"limited@x.example": RateLimited("SendGrid 429", wait=120)})
    with time_machine.travel(T, tick=False):
        ids = claim("w1", batch=2, lease_seconds=60)
        assert ids == [limited, unsent]
        set_rows([unheld], next_attempt_at=T)
        rounded = outbox._send(load_claimed(ids, "w1", SENDER), backend, Lease("w1", ids, 60), threads=1)
    assert [mail.to for mail in backend.sent] == ["limited@x.example"]
    assert (rounded["retry"], rounded["held back"]) == (1, 2)
    until = T + timedelta(seconds=120)
    db.session.expire_all()
    rows = {
        m.id: (m.status, m.attempts, m.next_attempt_at, m.claimed_by) for m in db.session.scalars(select(OutboxMessage))
    }
    assert rows == {
        limited: (OutboxStatus.QUEUED, 1, until, None),
        unsent: (OutboxStatus.QUEUED, 0, until, None),
        unheld: (OutboxStatus.QUEUED, 0, until, None),
        other: (OutboxStatus.QUEUED, 0, T + timedelta(seconds=1), "w2"),
        later: (OutboxStatus.QUEUED, 0, T + timedelta(minutes=5), None),
    }
    with time_machine.travel(until - timedelta(seconds=1), tick=False):
        assert claim("w1", batch=10, lease_seconds=60) == []
    with time_machine.travel(until, tick=False):
        assert claim("w1", batch=10, lease_seconds=60) == [limited, unsent, unheld]


def test_a_429_that_says_nothing_holds_the_outbox_back_for_the_first_backoff(app, least_jitter):
    """The rate-limited message itself too, when its own backoff (halved by the jitter here) is shorter."""
    app.config.update(CONFIG, DISPATCH_CONCURRENCY=1)
    with time_machine.travel(T, tick=False):
        limited, unsent = queue("limited@x.example", "unsent@x.example")
        backend = Recording({"limited@x.example": RateLimited("SendGrid 429")})
        assert dispatch_round(backend, worker="w1") == Round(claimed=2, retried=1, held_back=2)
    until = T + timedelta(seconds=CONFIG["DISPATCH_RETRY_BASE_SECONDS"])
    assert (row(limited)[:2], row(limited)[5], row(unsent)[5]) == ((OutboxStatus.QUEUED, 1), until, until)
    assert len(backend.sent) == 1


def test_a_round_counts_what_another_dispatcher_took_over_meanwhile(app, caplog):
    def taken_over(mail):
        in_another_app_context(
            app, lambda: set_rows([mail.outbox_id], claimed_by="w2", claimed_until=T + timedelta(hours=1))
        )

    with time_machine.travel(T, tick=False):
        [busy] = queue("busy@x.example")
    backend = Recording({"busy@x.example": TemporaryFailure("SendGrid 503")}, during=taken_over)
    with caplog.at_level(logging.INFO, logger="breachdesk.notices.outbox"):
        assert dispatch_round(backend, worker="w1") == Round(claimed=1)
    assert "dispatch round: 1 claimed, 0 sent, 0 to retry, 0 failed, 1 left to another dispatcher" in [
        r.getMessage() for r in caplog.records
    ]
    # the other's lease has run out (T is long past), so the message is due again: it waits for the next round,
    # as no round sends a message twice
    assert len(backend.sent) == 1
    assert claim("w1", batch=5, lease_seconds=60) == [busy]


# --- sending a notice again --------------------------------------------------------------------------------------


def refused(message, recipient) -> list[str]:
    with pytest.raises(ValidationFailed) as refusal:
        outbox.resend(message, recipient)
    return refusal.value.problems


def test_a_failed_notice_is_sent_again_to_its_address_once_per_failure_or_to_another_contact(incident, privacy):
    notice = approved(incident, privacy, "globex")
    [failed] = notice.messages
    assert refused(failed, "dpo@globex.example") == [
        "recipient: this notice was already queued for dpo@globex.example; it can be sent to that address again "
        "once that message has failed"
    ]
    failed.status = OutboxStatus.FAILED
    again = outbox.resend(failed, "dpo@globex.example")
    assert again.id is not None  # flushed: the caller audits it by its id
    assert (again.notice_id, again.recipient, again.idempotency_key, again.status) == (
        notice.id,
        "dpo@globex.example",
        f"{notice.id}:dpo@globex.example:1:again-1",
        OutboxStatus.QUEUED,
    )
    assert refused(failed, "dpo@globex.example")[0].startswith("recipient: this notice was already queued")
    again.status = OutboxStatus.FAILED
    assert outbox.resend(failed, "dpo@globex.example").idempotency_key == f"{notice.id}:dpo@globex.example:1:again-2"
    other = outbox.resend(failed, "legal@globex.example")
    assert other.idempotency_key == f"{notice.id}:legal@globex.example:1"


def test_a_follow_up_is_sent_again_counting_only_its_own_messages_to_that_address(incident, privacy):
    initial = approved(incident, privacy, "globex")
    save_statement(incident, "en", {"newly_known": "The export was read twice."})  # a follow-up says what is new
    follow_up = services.generate_notice(duty(incident, "globex"), privacy, follow_up=True)
    services.approve_notice(follow_up, privacy)
    [failed] = follow_up.messages
    failed.status = OutboxStatus.FAILED  # the initial notice's message to that address is still queued
    again = outbox.resend(failed, "dpo@globex.example")
    assert (again.notice_id, again.idempotency_key) == (follow_up.id, f"{follow_up.id}:dpo@globex.example:2:again-1")
    assert initial.id != follow_up.id


def test_a_reminder_or_a_bad_address_is_not_resent(app, incident, privacy):
    [reminder] = queue("a@x.example")
    assert refused(db.session.get(OutboxMessage, reminder), "a@x.example") == [
        "message: a reminder goes to the people BreachDesk chooses; only notices are resent"
    ]
    [message] = approved(incident, privacy, "globex").messages
    problems = refused(message, "dpo at globex")
    assert problems == [f"recipient: {email_problem('dpo at globex')}"]
