"""The reminder tick: from database rows only, decide the alerts due now, record each once, and queue the
e-mails that carry them through the same outbox as notices. Safe to run from several processes at once."""

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import Row, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from breachdesk.audit.services import append_events
from breachdesk.auth.models import Role, User
from breachdesk.core.clock import now_utc, require_aware
from breachdesk.deadlines.models import Obligation, ObligationStatus
from breachdesk.deadlines.obligations import duration
from breachdesk.extensions import db
from breachdesk.incidents.models import Incident, IncidentStatus
from breachdesk.notices.models import AlertMail, OutboxMessage
from breachdesk.reminders.models import Alert
from breachdesk.reminders.rules import ESCALATION, AlertDue, alert_due, parse_offsets

DIGEST = "digest"
#: who hears of an overdue obligation besides the owner and on-call: management (viewers) and the privacy team
ESCALATE_TO = (Role.ADMIN, Role.PRIVACY, Role.VIEWER)
#: duties (one incident) or incidents (several) listed in one mail; the rest are a link away
LISTED = 50
#: keys per IN lookup: a catch-up can ask about more keys than a statement may carry parameters (SQLite: 32,766)
LOOKUP_BATCH = 10_000

log = logging.getLogger(__name__)


@dataclass
class TickResult:
    alerts: int = 0
    mails: int = 0
    messages: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)


def insert_alerts(alerts: list[dict]) -> set[str]:
    """Insert the alerts; those another process (or an earlier tick) recorded already are skipped by the
    database itself, on the unique key. Returns the keys this call inserted."""
    if not alerts:
        return set()
    dialect_insert = postgresql.insert if db.session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = (
        dialect_insert(Alert.__table__).on_conflict_do_nothing(index_elements=["key"]).returning(Alert.__table__.c.key)
    )
    return set(db.session.execute(statement, alerts).scalars())


def _known(keys: list[str]) -> set[str]:
    """Alert keys recorded already: the reminders of the current windows are decided again on every tick."""
    known: set[str] = set()
    for start in range(0, len(keys), LOOKUP_BATCH):
        known.update(db.session.scalars(select(Alert.key).where(Alert.key.in_(keys[start : start + LOOKUP_BATCH]))))
    return known


class _Recipients:
    """Who gets a mail: the active users of the roles asked and the owner, and the on-call address. The
    users are read once per tick (a catch-up names hundreds of owners); each answer is kept."""

    def __init__(self) -> None:
        self.users: list | None = None
        self.known: dict[tuple, list[str]] = {}

    def __call__(self, roles=(), owner_id: int | None = None) -> list[str]:
        key = (tuple(roles), owner_id)
        if key not in self.known:
            if self.users is None:
                self.users = db.session.execute(
                    select(User.id, User.role, User.email).where(User.disabled_at.is_(None))
                ).all()
            oncall = current_app.config["ONCALL_EMAIL"]
            self.known[key] = sorted(
                {email for user_id, role, email in self.users if role in roles or user_id == owner_id}
                | ({oncall} if oncall else set())
            )
        return self.known[key]


def _mail_text(kind: str, per_incident: dict[int, list], incidents: dict, now: datetime) -> tuple[str, str]:
    """One incident: its duties. Several (a busy tick, or the catch-up after downtime): one line per incident,
    soonest first, so that the same people get one mail per tick and kind, not one per incident."""
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    soonest = {incident_id: min(d.due_at for d in duties) for incident_id, duties in per_incident.items()}
    count = sum(map(len, per_incident.values()))
    whose = (
        f"of incident #{next(iter(per_incident))}" if len(per_incident) == 1 else f"of {len(per_incident)} incidents"
    )
    if kind == ESCALATION:
        subject = f"OVERDUE: {count} notification duty(ies) {whose} passed their deadline"
    else:
        left = duration((min(soonest.values()) - now).total_seconds())
        subject = f"Reminder: {count} notification duty(ies) {whose} due in {left}"
    if len(per_incident) == 1:
        [(incident_id, duties)] = per_incident.items()
        lines = [
            f"Incident #{incident_id}: {incidents[incident_id].title}",
            f"{base}/incidents/{incident_id}#obligations",
            "",
        ]
        lines += [
            f"- {d.regime} {d.stage} to {d.recipient}: due {d.due_at:%Y-%m-%d %H:%M} UTC"
            for d in sorted(duties, key=lambda d: (d.due_at, d.recipient))[:LISTED]
        ]
        if len(duties) > LISTED:
            lines.append(f"... and {len(duties) - LISTED} more: {base}/incidents/{incident_id}/obligations")
    else:
        ordered = sorted(per_incident, key=lambda i: (soonest[i], i))
        lines = [f"Dashboard: {base}/dashboard", ""]
        lines += [
            f"- Incident #{i}: {incidents[i].title}: {len(per_incident[i])} duty(ies), soonest due "
            f"{soonest[i]:%Y-%m-%d %H:%M} UTC, {base}/incidents/{i}#obligations"
            for i in ordered[:LISTED]
        ]
        if len(ordered) > LISTED:
            lines.append(f"... and {len(ordered) - LISTED} more incidents: {base}/dashboard")
    return subject[:300], "\n".join(lines) + "\n"


def queue_mails(mails: list[dict]) -> int:
    """Write the mails and queue an outbox message per recipient. Returns the messages queued."""
    if not mails:
        return 0
    table, connection = AlertMail.__table__, db.session.connection()
    ids = connection.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), mails).scalars()
    messages = [
        {
            "alert_mail_id": mail_id,
            "recipient": email,
            "idempotency_key": f"alert-mail:{mail_id}:{email}",
            "status": "queued",
            "attempts": 0,
            "next_attempt_at": mail["created_at"],
            "last_error": "",
            "created_at": mail["created_at"],
        }
        for mail_id, mail in zip(ids, mails, strict=True)
        for email in mail["recipients"]
    ]
    if messages:
        connection.execute(OutboxMessage.__table__.insert(), messages)
    return len(messages)


def tick(now: datetime | None = None) -> TickResult:
    """One pass: what is due now is decided from the obligations as they are, so a tick after downtime
    catches up once, in the window it wakes up in. Commits."""
    now = require_aware(now, "now") if now else now_utc()
    offsets = parse_offsets(current_app.config["REMINDER_OFFSETS"])
    escalated = select(Alert.id).where(Alert.obligation_id == Obligation.id, Alert.kind == ESCALATION).exists()
    candidates = db.session.execute(
        select(
            Obligation.id,
            Obligation.incident_id,
            Obligation.due_at,
            Obligation.regime,
            Obligation.stage,
            Obligation.recipient,
        )
        .join(Incident, Incident.id == Obligation.incident_id)
        .where(
            Obligation.status == ObligationStatus.PENDING,
            Obligation.due_at.is_not(None),
            Obligation.due_at <= now + max(offsets),
            Incident.status != IncidentStatus.CLOSED,
            ~escalated,
        )
    ).all()
    wanted: dict[str, tuple[AlertDue, Row]] = {}
    for row in candidates:
        due = alert_due(row.due_at, now, offsets)
        if due is not None:
            wanted[due.key(row.id)] = (due, row)
    result = TickResult()
    alerts = []
    for key in sorted(wanted.keys() - _known(list(wanted))):
        due, row = wanted[key]
        alerts.append(
            {
                "key": key,
                "kind": due.kind,
                "offset_minutes": due.offset_minutes,
                "obligation_id": row.id,
                "due_at": row.due_at,
                "created_at": now,
            }
        )
    inserted = insert_alerts(alerts)
    by_incident: dict[tuple[str, int, int], list] = defaultdict(list)
    for due, row in map(wanted.__getitem__, inserted):
        by_incident[due.kind, due.offset_minutes, row.incident_id].append(row)
    # the columns the mails need, as rows: thousands of incidents after downtime need no entity loading
    incidents = (
        {
            i.id: i
            for i in db.session.execute(
                select(Incident.id, Incident.title, Incident.owner_id).where(
                    Incident.id.in_({incident_id for _, _, incident_id in by_incident})
                )
            )
        }
        if by_incident
        else {}
    )
    recipients = _Recipients()
    #: (kind, offset, recipients) -> incident -> duties: the same people get one mail per tick and kind
    groups: dict[tuple[str, int, tuple[str, ...]], dict[int, list]] = defaultdict(dict)
    for (kind, offset, incident_id), duties in by_incident.items():
        to = recipients(ESCALATE_TO if kind == ESCALATION else (), incidents[incident_id].owner_id)
        groups[kind, offset, tuple(to)][incident_id] = duties
        result.by_kind[kind] = result.by_kind.get(kind, 0) + len(duties)
    mails = []
    for (kind, _, to), per_incident in sorted(groups.items()):
        subject, text = _mail_text(kind, per_incident, incidents, now)
        mails.append(
            {
                "kind": kind,
                "incident_id": next(iter(per_incident)) if len(per_incident) == 1 else None,
                "subject": subject,
                "text_body": text,
                "recipients": list(to),
                "created_at": now,
            }
        )
    result.messages += queue_mails(mails)
    result.mails += len(mails)
    result.alerts = len(inserted)
    result.messages += _digest(now, result)
    if result.alerts or result.mails:
        append_events(
            db.session,
            [
                {
                    "action": "reminders.tick",
                    "entity_type": "alerts",
                    "entity_id": "tick",
                    "after": {
                        "at": now.isoformat(),
                        "alerts": result.alerts,
                        "mails": result.mails,
                        "messages": result.messages,
                        "by_kind": result.by_kind,
                    },
                }
            ],
        )
    db.session.commit()
    log.log(
        logging.INFO if result.alerts or result.messages else logging.DEBUG,
        "reminder tick: %d alert(s) (%s), %d mail(s), %d message(s) queued",
        result.alerts,
        ", ".join(f"{count} {kind}" for kind, count in sorted(result.by_kind.items())) or "none",
        result.mails,
        result.messages,
    )
    return result


def _digest(now: datetime, result: TickResult) -> int:
    """Once a day, after DIGEST_HOUR_UTC: every open obligation, overdue first."""
    if now.hour < current_app.config["DIGEST_HOUR_UTC"]:
        return 0
    key = f"{DIGEST}:{now:%Y-%m-%d}"
    if not insert_alerts(
        [{"key": key, "kind": DIGEST, "offset_minutes": 0, "obligation_id": None, "due_at": None, "created_at": now}]
    ):
        return 0
    rows = db.session.execute(
        select(Obligation.incident_id, Obligation.due_at, Obligation.regime, Obligation.stage)
        .join(Incident, Incident.id == Obligation.incident_id)
        .where(Obligation.status == ObligationStatus.PENDING, Incident.status != IncidentStatus.CLOSED)
    ).all()
    overdue = sum(1 for r in rows if r.due_at is not None and r.due_at < now)
    soon = sum(1 for r in rows if r.due_at is not None and now <= r.due_at < now + timedelta(hours=24))
    per_incident: dict[int, int] = defaultdict(int)
    for row in rows:
        per_incident[row.incident_id] += 1
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    lines = [
        f"Open notification duties: {len(rows)}; overdue: {overdue}; due in the next 24 hours: {soon}.",
        f"Dashboard: {base}/dashboard",
        "",
    ]
    lines += [f"- incident #{incident_id}: {count} open" for incident_id, count in sorted(per_incident.items())]
    mail = {
        "kind": DIGEST,
        "incident_id": None,
        "text_body": "\n".join(lines) + "\n",
        "subject": f"BreachDesk daily digest {now:%Y-%m-%d}: {overdue} overdue, {soon} due within 24 h",
        "recipients": _Recipients()((Role.ADMIN, Role.PRIVACY)),
        "created_at": now,
    }
    result.mails += 1
    result.by_kind[DIGEST] = 1
    return queue_mails([mail])
