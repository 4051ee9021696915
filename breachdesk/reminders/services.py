"""The reminder tick: from database rows only, decide the alerts due now, record each once, and queue the
e-mails that carry them through the same outbox as notices. Safe to run from several processes at once."""

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import insert, select, text
from sqlalchemy.dialects import sqlite

from breachdesk.audit.services import append_events
from breachdesk.auth.models import Role, User
from breachdesk.core.clock import now_utc, require_aware
from breachdesk.core.db import unnest_insert
from breachdesk.deadlines.models import Obligation, ObligationStatus
from breachdesk.deadlines.obligations import duration
from breachdesk.extensions import db
from breachdesk.incidents.models import Incident, IncidentStatus
from breachdesk.notices.models import OutboxMessage
from breachdesk.reminders.models import Alert, AlertMail
from breachdesk.reminders.rules import ESCALATION, AlertDue, alert_due, parse_offsets

DIGEST = "digest"
#: who hears of an overdue obligation besides the owner and on-call: management (viewers) and the privacy team
ESCALATE_TO = (Role.ADMIN, Role.PRIVACY, Role.VIEWER)
CHUNK = 2000  # rows per INSERT: six parameters each stays under SQLite's 32,766


@dataclass
class TickResult:
    alerts: int = 0
    mails: int = 0
    messages: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)


ALERT_COLUMNS = ("key", "kind", "offset_minutes", "obligation_id", "due_at", "created_at")
MAIL_COLUMNS = ("id", "kind", "incident_id", "subject", "text_body", "recipients", "created_at")
MESSAGE_COLUMNS = ("alert_mail_id", "recipient", "idempotency_key", "status", "attempts", "next_attempt_at",
                   "last_error", "created_at")


def _postgresql() -> bool:
    """A tick after downtime writes tens of thousands of rows: on PostgreSQL as arrays (`unnest_insert`)."""
    return db.engine.dialect.name == "postgresql"


def _as_arrays(rows: list[dict], columns: tuple[str, ...]) -> dict[str, list]:
    return {name: [row.get(name) for row in rows] for name in columns}


def _insert_ignoring_duplicates(rows: list[dict]) -> set[str]:
    """Insert alerts; those another process (or an earlier tick) recorded already are skipped by the database
    itself. Returns the keys this call inserted."""
    if not rows:
        return set()
    connection = db.session.connection()
    if _postgresql():
        statement = unnest_insert(Alert.__table__, ALERT_COLUMNS, "ON CONFLICT (key) DO NOTHING RETURNING key")
        return set(connection.execute(statement, _as_arrays(rows, ALERT_COLUMNS)).scalars())
    statement = sqlite.insert(Alert.__table__).on_conflict_do_nothing(index_elements=["key"]).returning(
        Alert.__table__.c.key)
    # one cached statement, sent in batches ("insertmanyvalues"), each batch saying which rows it wrote
    return set(connection.execute(statement, rows).scalars())


def _known(keys: list[str]) -> set[str]:
    """Alert keys recorded already: the reminders of the current windows are decided again on every tick."""
    if _postgresql():  # one array parameter, however many keys
        return set(db.session.scalars(text("SELECT key FROM alerts WHERE key = ANY(CAST(:keys AS VARCHAR[]))"),
                                      {"keys": keys}))
    known: set[str] = set()
    for start in range(0, len(keys), CHUNK):
        known |= set(db.session.scalars(select(Alert.key).where(Alert.key.in_(keys[start:start + CHUNK]))))
    return known


class _Recipients:
    """Who gets a mail, looked up once per tick for each owner and kind (thousands of mails share them)."""

    def __init__(self) -> None:
        self.known: dict[tuple, list[str]] = {}

    def __call__(self, roles=(), owner_ids=()) -> list[str]:
        key = (tuple(roles), tuple(owner_ids))
        if key not in self.known:
            self.known[key] = _emails(roles, owner_ids)
        return self.known[key]


def _emails(roles=(), owner_ids=()) -> list[str]:
    query = select(User.email).where(User.disabled_at.is_(None))
    if roles and owner_ids:
        query = query.where(User.role.in_(roles) | User.id.in_(owner_ids))
    elif roles:
        query = query.where(User.role.in_(roles))
    else:
        query = query.where(User.id.in_(owner_ids))
    found = set(db.session.scalars(query))
    oncall = current_app.config["ONCALL_EMAIL"]
    return sorted(found | ({oncall} if oncall else set()))


def _mail_text(kind: str, offset: int, incident, duties: list, now: datetime) -> tuple[str, str]:
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    soonest = min(d.due_at for d in duties)
    if kind == ESCALATION:
        subject = f"OVERDUE: {len(duties)} notification duty(ies) of incident #{incident.id} passed their deadline"
    else:
        subject = (f"Reminder: {len(duties)} notification duty(ies) of incident #{incident.id} due in "
                   f"{duration((soonest - now).total_seconds())}")
    lines = [f"Incident #{incident.id}: {incident.title}", f"{base}/incidents/{incident.id}#obligations", ""]
    for duty in sorted(duties, key=lambda d: (d.due_at, d.recipient))[:50]:
        lines.append(f"- {duty.regime} {duty.stage} to {duty.recipient}: due {duty.due_at:%Y-%m-%d %H:%M} UTC")
    if len(duties) > 50:
        lines.append(f"... and {len(duties) - 50} more: {base}/incidents/{incident.id}/obligations")
    return subject[:300], "\n".join(lines) + "\n"


def _send(mails: list[dict]) -> int:
    """Write the mails and queue an outbox message per recipient, each kind of row in one statement.
    Returns the messages queued."""
    if not mails:
        return 0
    table, connection = AlertMail.__table__, db.session.connection()
    if _postgresql():  # ids drawn first, so that each message knows its mail's
        ids = connection.execute(text("SELECT nextval(pg_get_serial_sequence('alert_mails', 'id')) "
                                      "FROM generate_series(1, :count)"), {"count": len(mails)}).scalars().all()
        rows = [{**mail, "id": mail_id, "recipients": json.dumps(mail["recipients"])}
                for mail_id, mail in zip(ids, mails, strict=True)]
        connection.execute(unnest_insert(table, MAIL_COLUMNS), _as_arrays(rows, MAIL_COLUMNS))
    else:
        ids = connection.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), mails).scalars()
    messages = [{"alert_mail_id": mail_id, "recipient": email, "idempotency_key": f"alert-mail:{mail_id}:{email}",
                 "status": "queued", "attempts": 0, "next_attempt_at": mail["created_at"], "last_error": "",
                 "created_at": mail["created_at"]}
                for mail_id, mail in zip(ids, mails, strict=True) for email in mail["recipients"]]
    if messages and _postgresql():
        connection.execute(unnest_insert(OutboxMessage.__table__, MESSAGE_COLUMNS),
                           _as_arrays(messages, MESSAGE_COLUMNS))
    elif messages:
        connection.execute(OutboxMessage.__table__.insert(), messages)
    return len(messages)


def tick(now: datetime | None = None) -> TickResult:
    """One pass: what is due now is decided from the obligations as they are, so a tick after downtime
    catches up once, in the window it wakes up in. Commits."""
    # aware, checked here: on PostgreSQL the rows go in as plain arrays, past the UTC column type's check
    now = require_aware(now, "now") if now else now_utc()
    offsets = parse_offsets(current_app.config["REMINDER_OFFSETS"])
    escalated = select(Alert.id).where(Alert.obligation_id == Obligation.id, Alert.kind == ESCALATION).exists()
    candidates = db.session.execute(
        select(Obligation.id, Obligation.incident_id, Obligation.due_at, Obligation.regime, Obligation.stage,
               Obligation.recipient)
        .join(Incident, Incident.id == Obligation.incident_id)
        .where(Obligation.status == ObligationStatus.PENDING, Obligation.due_at.is_not(None),
               Obligation.due_at <= now + max(offsets), Incident.status != IncidentStatus.CLOSED, ~escalated)).all()
    wanted: dict[str, tuple[AlertDue, object]] = {}
    for row in candidates:
        due = alert_due(row.due_at, now, offsets)
        if due is not None:
            wanted[due.key(row.id)] = (due, row)
    result = TickResult()
    fresh = sorted(wanted.keys() - _known(list(wanted)))
    inserted = _insert_ignoring_duplicates([
        {"key": key, "kind": wanted[key][0].kind, "offset_minutes": wanted[key][0].offset_minutes,
         "obligation_id": wanted[key][1].id, "due_at": wanted[key][1].due_at, "created_at": now} for key in fresh])
    groups: dict[tuple[int, str, int], list] = defaultdict(list)
    for key in inserted:
        due, row = wanted[key]
        groups[row.incident_id, due.kind, due.offset_minutes].append(row)
    # the columns the mails need, as rows: thousands of incidents after downtime need no entity loading
    incidents = {i.id: i for i in db.session.execute(select(Incident.id, Incident.title, Incident.owner_id).where(
        Incident.id.in_({incident_id for incident_id, _, _ in groups})))} if groups else {}
    recipients = _Recipients()
    mails = []
    for (incident_id, kind, offset), duties in sorted(groups.items()):
        incident = incidents[incident_id]
        owners = [incident.owner_id] if incident.owner_id else []
        subject, text = _mail_text(kind, offset, incident, duties, now)
        mails.append({"kind": kind, "incident_id": incident_id, "subject": subject, "text_body": text,
                      "recipients": recipients(ESCALATE_TO if kind == ESCALATION else (), owners),
                      "created_at": now})
        result.by_kind[kind] = result.by_kind.get(kind, 0) + len(duties)
    result.messages += _send(mails)
    result.mails += len(mails)
    result.alerts = len(inserted)
    result.messages += _digest(now, result)
    if result.alerts or result.mails:
        append_events(db.session, [{"action": "reminders.tick", "entity_type": "alerts", "entity_id": "tick",
                                    "after": {"at": now.isoformat(), "alerts": result.alerts, "mails": result.mails,
                                              "messages": result.messages, "by_kind": result.by_kind}}])
    db.session.commit()
    return result


def _digest(now: datetime, result: TickResult) -> int:
    """Once a day, after DIGEST_HOUR_UTC: every open obligation, overdue first."""
    if now.hour < current_app.config["DIGEST_HOUR_UTC"]:
        return 0
    key = f"{DIGEST}:{now:%Y-%m-%d}"
    if not _insert_ignoring_duplicates([{"key": key, "kind": DIGEST, "offset_minutes": 0, "created_at": now}]):
        return 0
    rows = db.session.execute(
        select(Obligation.incident_id, Obligation.due_at, Obligation.regime, Obligation.stage)
        .join(Incident, Incident.id == Obligation.incident_id)
        .where(Obligation.status == ObligationStatus.PENDING, Incident.status != IncidentStatus.CLOSED)).all()
    overdue = sum(1 for r in rows if r.due_at is not None and r.due_at < now)
    soon = sum(1 for r in rows if r.due_at is not None and now <= r.due_at < now + timedelta(hours=24))
    per_incident: dict[int, int] = defaultdict(int)
    for row in rows:
        per_incident[row.incident_id] += 1
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    lines = [f"Open notification duties: {len(rows)}; overdue: {overdue}; due in the next 24 hours: {soon}.",
             f"Dashboard: {base}/dashboard", ""]
    lines += [f"- incident #{incident_id}: {count} open" for incident_id, count in sorted(per_incident.items())]
    mail = {"kind": DIGEST, "incident_id": None, "text_body": "\n".join(lines) + "\n",
            "subject": f"BreachDesk daily digest {now:%Y-%m-%d}: {overdue} overdue, {soon} due within 24 h",
            "recipients": _emails((Role.ADMIN, Role.PRIVACY)), "created_at": now}
    result.mails += 1
    result.by_kind[DIGEST] = 1
    return _send([mail])
