"""The reminder tick against the database: once per window, catch-up after downtime, escalation, digest,
through the outbox; the scheduler itself; two schedulers at once."""

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, func, select

from breachdesk.auth.models import Role
from breachdesk.deadlines.models import Obligation
from breachdesk.extensions import db
from breachdesk.incidents.services import open_incident, update_incident
from breachdesk.notices.mail import FileBackend
from breachdesk.notices.models import AlertMail, OutboxMessage, OutboxStatus
from breachdesk.notices.outbox import dispatch_round
from breachdesk.reminders import scheduler, services
from breachdesk.reminders.models import Alert
from breachdesk.reminders.services import tick
from tests.conftest import create_user

AWARE = datetime(2026, 10, 24, 22, 0, tzinfo=UTC)
# The fixture's incident (tests/incident_fixtures.py) has four dated duties, from its awareness at AWARE:
# acme (GDPR, 24 h) and the NIS2 early warning (24 h) at ACME_DUE, globex (GDPR, 48 h) a day later and the NIS2
# incident notification (72 h) two days later; initech and the NIS2 final report have no due time.
ACME_DUE = AWARE + timedelta(hours=24)


def keys() -> set[str]:
    return set(db.session.scalars(select(Alert.key).where(Alert.kind != "digest")))


def alerts_per_duty(incident) -> dict[str, list[str]]:
    """The alerts recorded for each of an incident's duties, as "recipient stage" -> ["kind:offset", ...]."""
    rows = db.session.execute(
        select(Obligation.recipient_key, Obligation.stage, Alert.key)
        .join(Alert, Alert.obligation_id == Obligation.id)
        .where(Obligation.incident_id == incident.id)
    ).all()
    found: dict[str, list[str]] = {}
    for recipient, stage, key in rows:
        found.setdefault(f"{recipient} {stage}", []).append(key.split(":", 1)[1])
    return {duty: sorted(alerts) for duty, alerts in found.items()}


def test_a_scheduler_down_across_reminder_times_catches_up_once_in_the_right_window(app, incident):
    app.config.update(ONCALL_EMAIL="oncall@parlons.example", DIGEST_HOUR_UTC=24)
    owner = create_user("owner", Role.RESPONDER)
    update_incident(incident, {"owner_id": owner.id}, None)
    db.session.commit()
    assert tick(ACME_DUE - timedelta(hours=13)).alerts == 0
    first = tick(ACME_DUE - timedelta(hours=11))  # 11 h left for acme and the early warning; globex 35 h
    assert alerts_per_duty(incident) == {"acme notification": ["reminder:720"], "csirt early warning": ["reminder:720"]}
    assert (first.alerts, first.mails, first.messages) == (2, 1, 2)  # one mail to on-call and the owner
    assert first.by_kind == {"reminder": 2}
    assert tick(ACME_DUE - timedelta(hours=10)).alerts == 0  # the same window: nothing again
    # down from 10 h before until 30 minutes before: the 4 h window passed unseen; only the 1 h reminder goes
    caught_up = tick(ACME_DUE - timedelta(minutes=30))
    assert alerts_per_duty(incident) == {
        "acme notification": ["reminder:60", "reminder:720"],
        "csirt early warning": ["reminder:60", "reminder:720"],
    }
    assert (caught_up.alerts, caught_up.mails, caught_up.messages) == (2, 1, 2)  # not one per missed tick
    mail = db.session.scalar(select(AlertMail).order_by(AlertMail.id.desc()))
    assert mail.recipients == ["oncall@parlons.example", "owner@example.com"]
    assert mail.subject.startswith(f"Reminder: 2 notification duty(ies) of incident #{incident.id} due in 30 min")


def test_past_the_deadline_it_escalates_and_never_says_hours_left(app, incident):
    app.config.update(DIGEST_HOUR_UTC=24)
    create_user("board", Role.VIEWER)
    create_user("dpo", Role.PRIVACY)
    create_user("dev", Role.RESPONDER)
    result = tick(ACME_DUE + timedelta(minutes=5))  # down across every reminder of acme's duty; globex 23 h 55 left
    assert alerts_per_duty(incident) == {"acme notification": ["escalation:0"], "csirt early warning": ["escalation:0"]}
    assert (result.alerts, result.mails, result.messages) == (2, 1, 2)
    assert result.by_kind == {"escalation": 2}
    mail = db.session.scalar(select(AlertMail))
    assert mail.subject == f"OVERDUE: 2 notification duty(ies) of incident #{incident.id} passed their deadline"
    assert mail.recipients == ["board@example.com", "dpo@example.com"]
    assert tick(ACME_DUE + timedelta(hours=6)).alerts == 0  # escalated once; globex has 18 h left: no window


def test_the_same_people_get_one_mail_per_tick_listing_every_incident(app, incident, monkeypatch):
    """After downtime thousands of incidents can fall overdue at once: one mail per kind and set of people,
    each incident a line with a link, soonest first, and the rest a link away."""
    app.config.update(DIGEST_HOUR_UTC=24, ONCALL_EMAIL="oncall@parlons.example")
    monkeypatch.setattr(services, "LISTED", 2)
    create_user("board", Role.VIEWER)
    owner = create_user("owner", Role.RESPONDER)
    later = [
        open_incident(
            {"title": f"Later {n}", "aware_at": (AWARE + timedelta(hours=n)).isoformat(), "systems": ["db"]}, None
        )
        for n in (1, 2)
    ]
    owned = open_incident({"title": "Owned", "aware_at": AWARE.isoformat(), "systems": ["db"]}, None)
    update_incident(owned, {"owner_id": owner.id}, None)
    db.session.commit()
    # a day after acme's deadline: each incident aware at AWARE has acme, the early warning and globex overdue
    # (the NIS2 notification has 24 h left); "Later 1" and "Later 2" have two overdue, and globex in 1 h and 2 h
    result = tick(ACME_DUE + timedelta(days=1))
    assert alerts_per_duty(later[0])["globex notification"] == ["reminder:60"]  # 1 h left: the 1 h window's edge
    assert alerts_per_duty(later[1])["globex notification"] == ["reminder:240"]
    assert result.by_kind == {"escalation": 10, "reminder": 2} and result.alerts == 12
    shared, own = sorted(
        db.session.scalars(select(AlertMail).where(AlertMail.kind == "escalation")),
        key=lambda mail: len(mail.recipients),
    )
    assert shared.recipients == ["board@example.com", "oncall@parlons.example"] and shared.incident_id is None
    assert shared.subject == "OVERDUE: 7 notification duty(ies) of 3 incidents passed their deadline"
    lines = shared.text_body.splitlines()
    assert lines[0] == "Dashboard: http://127.0.0.1:5000/dashboard"
    assert lines[2].startswith(
        f"- Incident #{incident.id}: Directory export left public: "
        f"3 duty(ies), soonest due {ACME_DUE:%Y-%m-%d %H:%M} UTC, "
    )
    assert lines[3].startswith(f"- Incident #{later[0].id}: Later 1: 2 duty(ies), soonest due 2026-10-25 23:00 UTC")
    assert lines[4] == "... and 1 more incidents: http://127.0.0.1:5000/dashboard"
    assert own.recipients == ["board@example.com", "oncall@parlons.example", "owner@example.com"]
    assert own.incident_id == owned.id and own.subject.endswith(f"of incident #{owned.id} passed their deadline")
    assert f"http://127.0.0.1:5000/incidents/{owned.id}#obligations" in own.text_body
    reminders = db.session.scalars(select(AlertMail).where(AlertMail.kind == "reminder")).all()
    assert [mail.recipients for mail in reminders] == [["oncall@parlons.example"]] * 2  # one per window
    assert (result.mails, result.messages) == (4, 7)  # escalations: 2 + 3 messages; reminders: 1 + 1
    ticked = select(func.count()).select_from(OutboxMessage).join(AlertMail).where(AlertMail.kind != "filed")
    assert db.session.scalar(ticked) == 7  # besides the alerts that the incidents were filed


def test_a_tick_reads_the_users_once_however_many_owners(app, incident):
    app.config.update(DIGEST_HOUR_UTC=24)
    create_user("board", Role.VIEWER)
    for n in range(3):
        owned = open_incident({"title": f"Owned {n}", "aware_at": AWARE.isoformat(), "systems": ["db"]}, None)
        update_incident(owned, {"owner_id": create_user(f"owner{n}", Role.RESPONDER).id}, None)
    db.session.commit()
    statements = []
    listen = lambda *args: statements.append(args[2])  # noqa: E731 - (conn, cursor, statement, ...)
    event.listen(db.engine, "before_cursor_execute", listen)
    try:
        result = tick(ACME_DUE + timedelta(days=1))
    finally:
        event.remove(db.engine, "before_cursor_execute", listen)
    assert (result.alerts, result.mails) == (12, 4)  # 3 duties overdue each; a mail per owner, one for the unowned
    assert sum(1 for sql in statements if "FROM users" in sql) == 1


def test_alert_mails_go_through_the_outbox_and_the_digest_goes_once_a_day(app, incident, tmp_path):
    app.config.update(DIGEST_HOUR_UTC=7, ONCALL_EMAIL="oncall@parlons.example")
    create_user("dpo", Role.PRIVACY)
    morning = datetime(2026, 10, 25, 8, 0, tzinfo=UTC)
    result = tick(morning)  # 14 h before acme's deadline: no reminder window yet, only the digest
    assert result.by_kind == {"digest": 1} and (result.mails, result.messages) == (1, 2)
    # 3 h later the 12 h reminders of acme and the early warning go, to on-call; the digest not again
    assert tick(morning + timedelta(hours=3)).by_kind == {"reminder": 2}
    digest = db.session.scalar(select(AlertMail).where(AlertMail.kind == "digest"))
    # six duties and NIS2's notice to the recipients of our services, which stands until a person decides otherwise
    assert digest.text_body.startswith("Open notification duties: 7; overdue: 0; due in the next 24 hours: 2.")
    assert digest.recipients == ["dpo@example.com", "oncall@parlons.example"]
    sent = dispatch_round(FileBackend(tmp_path))
    assert sent.sent == 3 == db.session.scalar(select(func.count()).select_from(OutboxMessage))
    assert all(m.status == OutboxStatus.SENT for m in db.session.scalars(select(OutboxMessage)))


def test_the_background_scheduler_ticks_and_dispatches_and_starts_once(app, incident, tmp_path):
    app.config.update(
        SCHEDULER_TICK_SECONDS=1,
        DISPATCH_INTERVAL_SECONDS=1,
        OUTBOX_DIR=str(tmp_path),
        ONCALL_EMAIL="oncall@parlons.example",
        DIGEST_HOUR_UTC=24,
    )
    running = scheduler.start_in_process(app)
    try:
        assert scheduler.start_in_process(app) is running  # the second call starts nothing
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not list(tmp_path.glob("*.eml")):
            time.sleep(0.2)
    finally:
        running.shutdown()
    db.session.rollback()
    # aware in October 2026: every duty is overdue now, so the first tick escalated them
    assert db.session.scalar(select(func.count()).select_from(Alert).where(Alert.kind == "escalation")) == 4
    assert list(tmp_path.glob("*.eml"))


def test_two_schedulers_at_once_send_each_reminder_once(app, inventory, migrated, tmp_path):
    now = datetime.now(UTC)
    for n in range(12):  # each 24-hour duty falls due in 30 minutes: a 1 h reminder for each
        open_incident(
            {
                "title": f"Incident {n}",
                "aware_at": (now - timedelta(hours=23, minutes=30)).isoformat(),
                "systems": ["db"],
            },
            None,
        )
    db.session.commit()
    env = {
        **os.environ,
        "BREACHDESK_DATABASE_URL": migrated,
        "BREACHDESK_SECRET_KEY": "test",
        "BREACHDESK_ONCALL_EMAIL": "oncall@parlons.example",
        "BREACHDESK_DIGEST_HOUR_UTC": "24",
    }
    command = [str(Path(sys.executable).parent / "breachdesk"), "scheduler", "--once"]
    processes = [
        subprocess.Popen(
            command,
            env={**env, "BREACHDESK_INSTANCE_PATH": str(tmp_path / str(i))},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for i in range(2)
    ]
    outputs = [p.communicate(timeout=120) for p in processes]
    assert all(p.returncode == 0 for p in processes), outputs
    db.session.rollback()
    alerts = db.session.scalars(select(Alert.key).where(Alert.kind == "reminder")).all()
    assert len(alerts) == len(set(alerts)) == 24  # per incident: acme (24 h) and the NIS2 early warning (24 h)
    reported = sum(int(out.decode().split()[1].rstrip(",")) for out, _ in outputs)
    assert reported == len(alerts)  # what the two processes say they inserted adds up: no double
    messages = db.session.scalars(select(OutboxMessage.idempotency_key)).all()
    assert len(messages) == len(set(messages)) == db.session.scalar(select(func.count()).select_from(AlertMail))


def test_a_reminder_mail_cannot_be_resent_to_another_address(app, incident, login):
    app.config.update(DIGEST_HOUR_UTC=24, ONCALL_EMAIL="oncall@parlons.example")
    tick(ACME_DUE + timedelta(minutes=5))
    message = db.session.scalar(select(OutboxMessage))
    client = login(Role.PRIVACY)
    before = db.session.scalar(select(func.count()).select_from(OutboxMessage))
    answer = client.post(f"/outbox/{message.id}/resend", data={"recipient": "x@parlons.example"}, follow_redirects=True)
    assert answer.status_code == 200 and "only notices are resent" in answer.text
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == before


def test_a_naive_instant_is_refused_before_anything_is_written(app, incident):
    with pytest.raises(ValueError, match="now: a time zone is required"):
        tick(datetime(2026, 10, 26, 12, 0))
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Alert)) == 0


def test_an_alert_inserted_twice_is_stored_once(app, incident):
    """What two schedulers racing on one alert meet: the unique key decides in the database, and only the
    insert that stored the alert reports its key (so only that tick mails it)."""
    acme = db.session.scalar(select(Obligation).where(Obligation.recipient_key == "acme"))
    alert = {
        "key": f"{acme.id}:reminder:60",
        "kind": "reminder",
        "offset_minutes": 60,
        "obligation_id": acme.id,
        "due_at": acme.due_at,
        "created_at": ACME_DUE - timedelta(minutes=30),
    }
    assert services.insert_alerts([alert]) == {alert["key"]}
    escalation = {**alert, "key": f"{acme.id}:escalation:0", "kind": "escalation", "offset_minutes": 0}
    assert services.insert_alerts([alert, escalation]) == {escalation["key"]}
    assert sorted(db.session.scalars(select(Alert.key))) == sorted([alert["key"], escalation["key"]])


def test_a_tick_that_misses_what_another_recorded_still_alerts_once(app, incident, monkeypatch):
    """The lookup of known alerts only spares work: a tick that does not see them (another scheduler's
    commit landing in between) records and mails nothing twice."""
    app.config.update(DIGEST_HOUR_UTC=24)
    first = tick(ACME_DUE - timedelta(minutes=30))
    assert (first.alerts, first.mails) == (2, 1)  # acme and the early warning, in their 1 h window
    monkeypatch.setattr(services, "_known", lambda keys: set())
    again = tick(ACME_DUE - timedelta(minutes=20))
    assert (again.alerts, again.mails, again.messages) == (0, 0, 0)
    assert db.session.scalar(select(func.count()).select_from(Alert)) == 2
    stored = db.session.execute(
        select(Alert.due_at, Obligation.due_at).join(Obligation, Obligation.id == Alert.obligation_id)
    ).all()
    assert len(stored) == 2 and all(alert == duty for alert, duty in stored)  # the deadline as it stood


def test_known_alerts_are_found_across_lookup_batches(app, incident, monkeypatch):
    app.config.update(DIGEST_HOUR_UTC=24)
    tick(ACME_DUE + timedelta(minutes=5))
    recorded = keys()
    assert len(recorded) == 2  # the escalations of acme and the early warning
    monkeypatch.setattr(services, "LOOKUP_BATCH", 1)
    assert services._known(sorted(recorded) + ["0:reminder:60"]) == recorded
