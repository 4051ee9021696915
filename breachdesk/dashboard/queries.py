"""The read side for management: pending duties soonest first, per-incident totals, delivery status per
duty, metrics, the breach register. Aggregates run in SQL; pages fetch only what they show."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import contains_eager, load_only

from breachdesk.assessments.models import Assessment
from breachdesk.audit.services import chain_head
from breachdesk.core.clock import now_utc
from breachdesk.deadlines.models import Obligation, ObligationStatus
from breachdesk.extensions import db
from breachdesk.impact.models import ImpactSnapshot
from breachdesk.incidents.models import Incident, IncidentStatus
from breachdesk.notices.models import Notice, OutboxMessage, OutboxStatus

PENDING = ObligationStatus.PENDING
INCIDENTS_SHOWN = 20


def _open_pending():
    return (Obligation.status == PENDING, Incident.status != IncidentStatus.CLOSED)


def _page_columns():
    """What a row of the dashboard shows, and no more (a duty's frozen terms are JSON to decode)."""
    return (load_only(Obligation.incident_id, Obligation.recipient, Obligation.flag, Obligation.regime,
                      Obligation.stage, Obligation.due_at, Obligation.target_at),
            contains_eager(Obligation.incident).load_only(Incident.title))


def timed_pending():
    """Pending duties of open incidents that have a due time, soonest first, in the order of the index."""
    return (select(Obligation).join(Incident, Incident.id == Obligation.incident_id).options(*_page_columns())
            .where(*_open_pending(), Obligation.due_at.is_not(None)).order_by(Obligation.due_at, Obligation.id))


def untimed_pending():
    """Those without a due time: clock not started, or "without undue delay" (by internal target)."""
    return (select(Obligation).join(Incident, Incident.id == Obligation.incident_id).options(*_page_columns())
            .where(*_open_pending(), Obligation.due_at.is_(None))
            .order_by(Obligation.target_at.is_(None), Obligation.target_at, Obligation.id))


def pending_page(offset: int, limit: int) -> list[Obligation]:
    """Pending duties of open incidents, soonest first: overdue ones lead by nature; duties without a due
    time come after all the others. The timed ones are read in index order, so a page costs the rows it
    shows, not a sort of every pending duty."""
    rows = list(db.session.scalars(timed_pending().offset(offset).limit(limit)))
    if len(rows) == limit:
        return rows
    timed_count = db.session.scalar(select(func.count()).select_from(Obligation)
                                    .join(Incident, Incident.id == Obligation.incident_id)
                                    .where(*_open_pending(), Obligation.due_at.is_not(None)))
    skip = max(0, offset - timed_count)
    return rows + list(db.session.scalars(untimed_pending().offset(skip).limit(limit - len(rows))))


def _pending_of_open(*where) -> Any:
    """How many pending duties of open incidents match `where`: a count over an index range (every pending
    duty) less the same range within the closed incidents, so no count visits a duty's incident."""
    closed = select(Incident.id).where(Incident.status == IncidentStatus.CLOSED)
    everyone = select(func.count()).select_from(Obligation).where(Obligation.status == PENDING, *where)
    return everyone.scalar_subquery() - everyone.where(Obligation.incident_id.in_(closed)).scalar_subquery()


def delivery_of(obligation_ids: list[int]) -> dict[int, str]:
    """What the customer's e-mails say, per obligation: queued, sent, delivered, bounced (or failed)."""
    found: dict[int, set[str]] = defaultdict(set)
    if obligation_ids:
        for obligation_id, status, delivery in db.session.execute(
                select(Notice.obligation_id, OutboxMessage.status, OutboxMessage.delivery)
                .join(OutboxMessage, OutboxMessage.notice_id == Notice.id)
                .where(Notice.obligation_id.in_(obligation_ids))):
            if status == OutboxStatus.FAILED or delivery in ("bounce", "dropped"):
                found[obligation_id].add("bounced")
            elif delivery in ("delivered", "open"):
                found[obligation_id].add("delivered")
            else:
                found[obligation_id].add(status.value)
    order = ("bounced", "queued", "sent", "delivered")  # the worst state of its messages describes a duty
    return {oid: next(s for s in order if s in states) for oid, states in found.items()}


def _soonest_incidents(limit: int) -> dict[int, datetime | None]:
    """The first `limit` incidents met walking pending duties in due order (the index's order): each with
    its soonest due time. It reads about as many rows as incidents shown, not every pending duty."""
    shown: dict[int, datetime | None] = {}
    walk = (select(Obligation.incident_id, Obligation.due_at).join(Incident, Incident.id == Obligation.incident_id)
            .where(*_open_pending(), Obligation.due_at.is_not(None)).order_by(Obligation.due_at, Obligation.id)
            .execution_options(yield_per=500))
    rows = db.session.execute(walk)
    for incident_id, due_at in rows:
        shown.setdefault(incident_id, due_at)
        if len(shown) == limit:
            break
    rows.close()  # the rest is never read
    if len(shown) < limit:  # then incidents whose pending duties have no due time yet
        rest = (select(Obligation.incident_id).join(Incident, Incident.id == Obligation.incident_id)
                .where(*_open_pending(), Obligation.due_at.is_(None), Obligation.incident_id.not_in(shown or [0]))
                .group_by(Obligation.incident_id).order_by(Obligation.incident_id).limit(limit - len(shown)))
        shown |= dict.fromkeys(db.session.scalars(rest))
    return shown


@dataclass(frozen=True)
class Standing:
    """What the dashboard shows that moves with the data, not with the clock: how many duties are pending,
    and the soonest-due open incidents with their duties by status and their customers' e-mails by state;
    and a fixed point for the clock's counts: how many were due before the moment it was derived."""

    pending: int
    incidents: tuple[dict[str, Any], ...]
    #: when it was derived, and how many pending duties of open incidents were due before then
    as_of: datetime
    due_before: int


def standing() -> Standing:
    """Derived once per state of the data and kept by the process: the audit chain's head names that state
    (every change is audited in its own transaction). Read before the data, so a change committed in
    between makes the next view derive again rather than keep a stale answer."""
    head = chain_head(db.session)
    kept = current_app.extensions.get("dashboard.standing")
    if kept is not None and kept[0] == head:
        return kept[1]
    as_of = now_utc()
    pending, due_before = db.session.execute(
        select(_pending_of_open(), _pending_of_open(Obligation.due_at < as_of))).one()
    found = Standing(pending, tuple(_incidents(INCIDENTS_SHOWN)), as_of, due_before)
    current_app.extensions["dashboard.standing"] = (head, found)
    return found


def _incidents(limit: int) -> list[dict[str, Any]]:
    shown = _soonest_incidents(limit)
    if not shown:
        return []
    duties: dict[int, dict[ObligationStatus, int]] = defaultdict(dict)
    for incident_id, status, count in db.session.execute(
            select(Obligation.incident_id, Obligation.status, func.count()).where(Obligation.incident_id.in_(shown))
            .group_by(Obligation.incident_id, Obligation.status)):
        duties[incident_id][status] = count
    rows = db.session.execute(select(Incident.id, Incident.title, Incident.status).where(Incident.id.in_(shown))).all()
    mail: dict[int, dict[str, int]] = defaultdict(dict)
    for incident_id, status, delivery, count in db.session.execute(
            select(Notice.incident_id, OutboxMessage.status, OutboxMessage.delivery, func.count())
            .join(OutboxMessage, OutboxMessage.notice_id == Notice.id).where(Notice.incident_id.in_(shown))
            .group_by(Notice.incident_id, OutboxMessage.status, OutboxMessage.delivery)):
        state = ("bounced" if status == OutboxStatus.FAILED or delivery in ("bounce", "dropped") else
                 "delivered" if delivery in ("delivered", "open") else status.value)
        mail[incident_id][state] = mail[incident_id].get(state, 0) + count
    incidents = [{"id": i, "title": title, "status": status.value, "duties": sum(duties[i].values()),
                  "pending": duties[i].get(PENDING, 0), "sent": duties[i].get(ObligationStatus.SENT, 0),
                  "acknowledged": duties[i].get(ObligationStatus.ACKNOWLEDGED, 0), "next_due": shown[i],
                  "mail": mail.get(i, {})}
                 for i, title, status in rows]
    return sorted(incidents, key=lambda t: (t["next_due"] is None, t["next_due"] or datetime.max.replace(tzinfo=UTC)))


def counts(now: datetime, kept: Standing) -> dict[str, int]:
    """Pending duties of open incidents: all of them, overdue, due within 4 h and 24 h.

    `kept` (from `standing()`) knows how many were due before the moment it was derived (`as_of`), and the
    data has not changed since; so the count due before any moment is that number corrected by the duties
    due between `as_of` and the moment: ranges of the time since the last change, not of every overdue duty."""

    def due_before(moment: datetime) -> tuple[Any, int]:
        if moment >= kept.as_of:
            return _pending_of_open(Obligation.due_at >= kept.as_of, Obligation.due_at < moment), 1
        return _pending_of_open(Obligation.due_at >= moment, Obligation.due_at < kept.as_of), -1

    parts = [due_before(now + timedelta(hours=hours)) for hours in (0, 4, 24)]
    row = db.session.execute(select(*(count for count, _ in parts))).one()
    overdue, within_4h, within_24h = (kept.due_before + sign * n for (_, sign), n in zip(parts, row, strict=True))
    return {"pending": kept.pending, "overdue": overdue, "under_4h": within_4h - overdue,
            "under_24h": within_24h - overdue}


def incident_totals(now: datetime, kept: Standing) -> list[dict[str, Any]]:
    """The open incidents with pending duties, the soonest-due first (INCIDENTS_SHOWN): duties by status,
    overdue now (index ranges on (incident_id, status, due_at)), and the customers' e-mails by state."""
    incidents = kept.incidents
    overdue = dict(db.session.execute(
        select(Obligation.incident_id, func.count())
        .where(Obligation.incident_id.in_([i["id"] for i in incidents]), Obligation.status == PENDING,
               Obligation.due_at < now)
        .group_by(Obligation.incident_id)).all()) if incidents else {}
    return [{**i, "overdue": overdue.get(i["id"], 0)} for i in incidents]


# --- metrics ------------------------------------------------------------------------------------------------

def time_to_notify() -> list[dict[str, Any]]:
    """Per incident and duty kind: hours from clock start to sending (median, slowest) against the deadline."""
    rows = db.session.execute(
        select(Obligation.incident_id, Obligation.regime, Obligation.stage, Obligation.clock_start,
               Obligation.sent_at, Obligation.due_at, Obligation.target_at)
        .where(Obligation.sent_at.is_not(None), Obligation.clock_start.is_not(None))
        .order_by(Obligation.incident_id, Obligation.regime, Obligation.stage)).all()
    grouped: dict[tuple, list] = defaultdict(list)
    for row in rows:
        grouped[row.incident_id, row.regime, row.stage].append(row)
    result = []
    for (incident_id, regime, stage), items in grouped.items():
        taken = sorted((r.sent_at - r.clock_start).total_seconds() / 3600 for r in items)
        limits = [((r.due_at or r.target_at) - r.clock_start).total_seconds() / 3600 for r in items
                  if (r.due_at or r.target_at)]
        late = sum(1 for r in items if r.due_at and r.sent_at > r.due_at)
        result.append({"label": f"#{incident_id} {regime} {stage}", "median": taken[len(taken) // 2],
                       "slowest": taken[-1], "limit": min(limits) if limits else None, "count": len(items),
                       "late": late})
    return result


def on_time() -> dict[str, Any]:
    total, late = db.session.execute(
        select(func.count(), func.count().filter(Obligation.late_by_seconds > 0))
        .where(Obligation.sent_at.is_not(None), Obligation.due_at.is_not(None))).one()
    return {"sent": total, "late": late, "rate": (total - late) / total if total else None}


def incidents_by_cause_and_month() -> list[dict[str, Any]]:
    rows = db.session.execute(select(Incident.aware_at, Incident.cause)).all()
    months: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for aware_at, cause in rows:
        months[f"{aware_at:%Y-%m}"][cause.value if cause else "unknown"] += 1
    return [{"month": month, "causes": dict(causes)} for month, causes in sorted(months.items())]


# --- the breach register (Art. 33(5)) ---------------------------------------------------------------------------

def register(status: str = "", cause: str = "", aware_from: date | None = None, aware_to: date | None = None,
             notified: str = ""):
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
    """Per incident: the latest impact totals, the assessment with its decision, how many duties were sent."""
    details: dict[int, dict[str, Any]] = {i: {"totals": None, "assessment": None, "sent": 0} for i in incident_ids}
    if not incident_ids:
        return details
    latest = (select(func.max(ImpactSnapshot.id)).where(ImpactSnapshot.incident_id.in_(incident_ids))
              .group_by(ImpactSnapshot.incident_id))
    for incident_id, totals in db.session.execute(select(ImpactSnapshot.incident_id, ImpactSnapshot.totals)
                                                  .where(ImpactSnapshot.id.in_(latest))):
        details[incident_id]["totals"] = totals
    for assessment in db.session.scalars(select(Assessment).where(Assessment.incident_id.in_(incident_ids))):
        details[assessment.incident_id]["assessment"] = assessment
    for incident_id, count in db.session.execute(
            select(Obligation.incident_id, func.count()).where(Obligation.incident_id.in_(incident_ids),
                                                               Obligation.sent_at.is_not(None))
            .group_by(Obligation.incident_id)):
        details[incident_id]["sent"] = count
    return details
