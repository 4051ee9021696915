"""The read side for management: pending duties soonest first, per-incident totals, delivery status per
duty, metrics, the breach register. Each figure is one aggregate statement; pages fetch only what they show."""

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import contains_eager, load_only

from breachdesk.assessments.models import Assessment
from breachdesk.deadlines.models import Obligation, ObligationStatus
from breachdesk.extensions import db
from breachdesk.impact.models import ImpactSnapshot
from breachdesk.incidents.models import Incident, IncidentStatus
from breachdesk.notices.models import Notice, OutboxMessage, OutboxStatus, Statement

PENDING = ObligationStatus.PENDING
INCIDENTS_SHOWN = 20


def _open_pending():
    return (Obligation.status == PENDING, Incident.status != IncidentStatus.CLOSED)


def pending_duties() -> Select:
    """Pending duties of open incidents, soonest first: overdue ones lead by nature; duties without a due time
    (clock not started, or "without undue delay") come after all the others, by internal target. In the order
    of the (status, due_at) index, so a page reads the rows it shows, not a sort of every pending duty; loads
    what a row of the dashboard shows, and no more (a duty's frozen terms are JSON to decode)."""
    return (
        select(Obligation)
        .join(Obligation.incident)
        .options(
            load_only(
                Obligation.incident_id,
                Obligation.recipient,
                Obligation.flag,
                Obligation.regime,
                Obligation.stage,
                Obligation.due_at,
                Obligation.target_at,
            ),
            contains_eager(Obligation.incident).load_only(Incident.title),
        )
        .where(*_open_pending())
        .order_by(Obligation.due_at.asc().nulls_last(), Obligation.target_at.asc().nulls_last(), Obligation.id)
    )


def counts(now: datetime) -> dict[str, int]:
    """Pending duties of open incidents: all of them, overdue, due within 4 h and within 24 h."""
    due_at = Obligation.due_at
    pending, overdue, under_4h, under_24h = db.session.execute(
        select(
            func.count(),
            func.count().filter(due_at < now),
            func.count().filter(due_at >= now, due_at < now + timedelta(hours=4)),
            func.count().filter(due_at >= now, due_at < now + timedelta(hours=24)),
        )
        .select_from(Obligation)
        .join(Incident, Incident.id == Obligation.incident_id)
        .where(*_open_pending())
    ).one()
    return {"pending": pending, "overdue": overdue, "under_4h": under_4h, "under_24h": under_24h}


def _mail_state(status: OutboxStatus, delivery: str | None) -> str:
    """What an e-mail's outbox status and the provider's last event say: queued, sent, delivered, bounced."""
    if status == OutboxStatus.FAILED or delivery in ("bounce", "dropped"):
        return "bounced"
    if delivery in ("delivered", "open"):
        return "delivered"
    return status.value


def delivery_of(obligation_ids: list[int]) -> dict[int, str]:
    """What the customer's e-mails say, per obligation: queued, sent, delivered, bounced (or failed)."""
    found: dict[int, set[str]] = defaultdict(set)
    if obligation_ids:
        for obligation_id, status, delivery in db.session.execute(
            select(Notice.obligation_id, OutboxMessage.status, OutboxMessage.delivery)
            .join(OutboxMessage, OutboxMessage.notice_id == Notice.id)
            .where(Notice.obligation_id.in_(obligation_ids))
        ):
            found[obligation_id].add(_mail_state(status, delivery))
    order = ("bounced", "queued", "sent", "delivered")  # the worst state of its messages describes a duty
    return {oid: next(s for s in order if s in states) for oid, states in found.items()}


def incident_totals(now: datetime) -> list[dict[str, Any]]:
    """The open incidents with pending duties, the soonest-due first (INCIDENTS_SHOWN): their duties by
    status, how many are overdue now, the soonest due time, and the customers' e-mails by state."""
    pending = Obligation.status == PENDING
    next_due = func.min(Obligation.due_at).filter(pending)
    rows = db.session.execute(
        select(
            Incident.id,
            Incident.title,
            Incident.status,
            func.count().label("duties"),
            func.count().filter(pending).label("pending"),
            func.count().filter(Obligation.status == ObligationStatus.SENT).label("sent"),
            func.count().filter(Obligation.status == ObligationStatus.ACKNOWLEDGED).label("acknowledged"),
            func.count().filter(pending, Obligation.due_at < now).label("overdue"),
            next_due.label("next_due"),
        )
        .join(Obligation, Obligation.incident_id == Incident.id)
        .where(Incident.status != IncidentStatus.CLOSED)
        .group_by(Incident.id, Incident.title, Incident.status)
        .having(func.count().filter(pending) > 0)
        .order_by(next_due.asc().nulls_last(), Incident.id)
        .limit(INCIDENTS_SHOWN)
    ).all()
    mail: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    if rows:
        for incident_id, status, delivery, count in db.session.execute(
            select(Notice.incident_id, OutboxMessage.status, OutboxMessage.delivery, func.count())
            .join(OutboxMessage, OutboxMessage.notice_id == Notice.id)
            .where(Notice.incident_id.in_([row.id for row in rows]))
            .group_by(Notice.incident_id, OutboxMessage.status, OutboxMessage.delivery)
        ):
            mail[incident_id][_mail_state(status, delivery)] += count
    return [{**row._asdict(), "status": row.status.value, "mail": dict(mail[row.id])} for row in rows]


# --- metrics ------------------------------------------------------------------------------------------------


def time_to_notify() -> list[dict[str, Any]]:
    """Per incident and duty kind: hours from clock start to sending (median, slowest) against the deadline."""
    rows = db.session.execute(
        select(
            Obligation.incident_id,
            Obligation.regime,
            Obligation.stage,
            Obligation.clock_start,
            Obligation.sent_at,
            Obligation.due_at,
            Obligation.target_at,
        )
        .where(Obligation.sent_at.is_not(None), Obligation.clock_start.is_not(None))
        .order_by(Obligation.incident_id, Obligation.regime, Obligation.stage)
    ).all()
    grouped: dict[tuple, list] = defaultdict(list)
    for row in rows:
        grouped[row.incident_id, row.regime, row.stage].append(row)
    result = []
    for (incident_id, regime, stage), items in grouped.items():
        taken = sorted((r.sent_at - r.clock_start).total_seconds() / 3600 for r in items)
        limits = [
            ((r.due_at or r.target_at) - r.clock_start).total_seconds() / 3600
            for r in items
            if (r.due_at or r.target_at)
        ]
        late = sum(1 for r in items if r.due_at and r.sent_at > r.due_at)
        result.append(
            {
                "label": f"#{incident_id} {regime} {stage}",
                "median": taken[len(taken) // 2],
                "slowest": taken[-1],
                "limit": min(limits) if limits else None,
                "count": len(items),
                "late": late,
            }
        )
    return result


def on_time() -> dict[str, Any]:
    total, late = db.session.execute(
        select(func.count(), func.count().filter(Obligation.late_by_seconds > 0)).where(
            Obligation.sent_at.is_not(None), Obligation.due_at.is_not(None)
        )
    ).one()
    return {"sent": total, "late": late, "rate": (total - late) / total if total else None}


def incidents_by_cause_and_month() -> list[dict[str, Any]]:
    rows = db.session.execute(select(Incident.aware_at, Incident.cause)).all()
    months: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for aware_at, cause in rows:
        months[f"{aware_at:%Y-%m}"][cause.value if cause else "unknown"] += 1
    return [{"month": month, "causes": dict(causes)} for month, causes in sorted(months.items())]


# --- the breach register (Art. 33(5)) ---------------------------------------------------------------------------


def register(
    status: str = "", cause: str = "", aware_from: date | None = None, aware_to: date | None = None, notified: str = ""
):
    """Every incident, notified or not, newest first, filtered; `register_details` adds what the register
    shows beside the facts (effects, decisions, notices sent) for a page of them."""
    sent = select(Obligation.id).where(Obligation.incident_id == Incident.id, Obligation.sent_at.is_not(None)).exists()
    query = select(Incident).order_by(Incident.aware_at.desc(), Incident.id.desc())
    if status:
        query = query.where(Incident.status == status)
    if cause:
        query = query.where(Incident.cause == cause)
    if aware_from:
        query = query.where(Incident.aware_at >= datetime.combine(aware_from, time.min, UTC))
    if aware_to:
        query = query.where(Incident.aware_at <= datetime.combine(aware_to, time.max, UTC))
    if notified == "yes":
        query = query.where(sent)
    elif notified == "no":
        query = query.where(~sent)
    return query


def register_details(incident_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Per incident: the latest impact totals, the assessment with its decision, how many duties were sent, how
    many were sent late and the reasons for the delay its statement gives (Art. 33(1), by language)."""
    details: dict[int, dict[str, Any]] = {
        i: {"totals": None, "assessment": None, "sent": 0, "late": 0, "delay_reasons": {}} for i in incident_ids
    }
    if not incident_ids:
        return details
    latest = (
        select(func.max(ImpactSnapshot.id))
        .where(ImpactSnapshot.incident_id.in_(incident_ids))
        .group_by(ImpactSnapshot.incident_id)
    )
    for incident_id, totals in db.session.execute(
        select(ImpactSnapshot.incident_id, ImpactSnapshot.totals).where(ImpactSnapshot.id.in_(latest))
    ):
        details[incident_id]["totals"] = totals
    for assessment in db.session.scalars(select(Assessment).where(Assessment.incident_id.in_(incident_ids))):
        details[assessment.incident_id]["assessment"] = assessment
    for incident_id, count in db.session.execute(
        select(Obligation.incident_id, func.count())
        .where(Obligation.incident_id.in_(incident_ids), Obligation.sent_at.is_not(None))
        .group_by(Obligation.incident_id)
    ):
        details[incident_id]["sent"] = count
    for incident_id, count in db.session.execute(
        select(Obligation.incident_id, func.count())
        .where(Obligation.incident_id.in_(incident_ids), Obligation.late_by_seconds > 0)
        .group_by(Obligation.incident_id)
    ):
        details[incident_id]["late"] = count
    for incident_id, language, reasons in db.session.execute(
        select(Statement.incident_id, Statement.language, Statement.delay_reasons)
        .where(Statement.incident_id.in_(incident_ids), Statement.delay_reasons != "")
        .order_by(Statement.language)
    ):
        details[incident_id]["delay_reasons"][language] = reasons
    return details
