"""The read side for management: open incidents with pending duties soonest first (one aggregate row each), the
duties of the incidents a page shows, delivery status per duty, metrics, the breach register. Each figure is one
aggregate statement; pages fetch only what they show."""

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import load_only

from breachdesk.assessments.models import Assessment, Decision
from breachdesk.deadlines.models import Obligation, ObligationStatus
from breachdesk.extensions import db
from breachdesk.impact.models import ImpactSnapshot
from breachdesk.incidents.models import Incident, IncidentNote, IncidentStatus
from breachdesk.notices.models import Notice, NoticeStatus, OutboxMessage, OutboxStatus, Statement

PENDING = ObligationStatus.PENDING
#: when a duty is next owed: its deadline, or for "without undue delay" its internal target (never both)
NEXT_AT = func.coalesce(Obligation.due_at, Obligation.target_at)


def _open_pending():
    return (Obligation.status == PENDING, Incident.status != IncidentStatus.CLOSED)


class RowPagination(Pagination):
    """`db.paginate` for a statement of columns (it returns the first column only): a page of rows; the total
    is given by the caller, who counted it already."""

    def _query_items(self) -> list[Any]:
        statement = self._query_args["select"].limit(self.per_page).offset(self._query_offset)
        return db.session.execute(statement).all()


def counts(now: datetime) -> dict[str, int]:
    """Pending duties of open incidents: all of them, the incidents they belong to, overdue, due within 4 h and
    within 24 h; and the "without undue delay" ones (an internal target, not a deadline) whose target has passed."""
    due_at, target_at = Obligation.due_at, Obligation.target_at
    row = db.session.execute(
        select(
            func.count().label("pending"),
            func.count(func.distinct(Obligation.incident_id)).label("incidents"),
            func.count().filter(due_at < now).label("overdue"),
            func.count().filter(due_at >= now, due_at < now + timedelta(hours=4)).label("under_4h"),
            func.count().filter(due_at >= now, due_at < now + timedelta(hours=24)).label("under_24h"),
            func.count().filter(due_at.is_(None), target_at < now).label("targets_passed"),
        )
        .select_from(Obligation)
        .join(Incident, Incident.id == Obligation.incident_id)
        .where(*_open_pending())
    ).one()
    return row._asdict()


def incident_queue(now: datetime, incident_id: int | None = None) -> Select:
    """One row per open incident with pending duties: how many duties and recipients wait, how many are overdue,
    the soonest deadline and the soonest time anything is owed (a deadline or a target). Soonest first, so what
    is overdue leads; incidents whose clocks have not started come last."""
    next_at = func.min(NEXT_AT)
    query = (
        select(
            Incident.id,
            Incident.title,
            Incident.status,
            func.count().label("pending"),
            func.count(func.distinct(Obligation.recipient)).label("recipients"),
            func.count().filter(Obligation.due_at < now).label("overdue"),
            func.min(Obligation.due_at).label("next_due"),
            next_at.label("next_at"),
        )
        .join(Obligation, Obligation.incident_id == Incident.id)
        .where(*_open_pending())
        .group_by(Incident.id, Incident.title, Incident.status)
        .order_by(next_at.asc().nulls_last(), Incident.id)
    )
    return query if incident_id is None else query.where(Incident.id == incident_id)


def _duty_columns():
    return load_only(
        Obligation.incident_id,
        Obligation.recipient,
        Obligation.recipient_kind,
        Obligation.flag,
        Obligation.regime,
        Obligation.stage,
        Obligation.due_at,
        Obligation.target_at,
    )


def _duty_order():
    return NEXT_AT.asc().nulls_last(), Obligation.id


def soonest_duties(incident_ids: list[int], limit: int) -> Select:
    """The `limit` soonest pending duties of each of these incidents, in one statement (ranked per incident):
    what a page of the queue shows when its incidents are expanded, however many duties they have."""
    rank = func.row_number().over(partition_by=Obligation.incident_id, order_by=_duty_order()).label("rank")
    ranked = (
        select(Obligation.id, rank)
        .where(Obligation.incident_id.in_(incident_ids), Obligation.status == PENDING)
        .subquery()
    )
    return (
        select(Obligation)
        .options(_duty_columns())
        .join(ranked, ranked.c.id == Obligation.id)
        .where(ranked.c.rank <= limit)
        .order_by(Obligation.incident_id, ranked.c.rank)
    )


def first_duties(incident_ids: list[int], limit: int) -> dict[int, list[Obligation]]:
    """`soonest_duties`, per incident."""
    found: dict[int, list[Obligation]] = {i: [] for i in incident_ids}
    if incident_ids:
        for duty in db.session.scalars(soonest_duties(incident_ids, limit)):
            found[duty.incident_id].append(duty)
    return found


def incident_duties(incident_id: int) -> Select:
    """Every pending duty of one incident, soonest first: the expanded incident, a page at a time."""
    return (
        select(Obligation)
        .options(_duty_columns())
        .where(Obligation.incident_id == incident_id, Obligation.status == PENDING)
        .order_by(*_duty_order())
    )


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


def incident_figures(incident_ids: list[int]) -> dict[int, dict[str, Any]]:
    """For the incidents a page shows: their duties sent and acknowledged, and the customers' e-mails by state."""
    figures: dict[int, dict[str, Any]] = {i: {"sent": 0, "acknowledged": 0, "mail": {}} for i in incident_ids}
    if not incident_ids:
        return figures
    done = (ObligationStatus.SENT, ObligationStatus.ACKNOWLEDGED)
    for incident_id, status, count in db.session.execute(
        select(Obligation.incident_id, Obligation.status, func.count())
        .where(Obligation.incident_id.in_(incident_ids), Obligation.status.in_(done))
        .group_by(Obligation.incident_id, Obligation.status)
    ):
        figures[incident_id][status.value] = count
    for incident_id, status, delivery, count in db.session.execute(
        select(Notice.incident_id, OutboxMessage.status, OutboxMessage.delivery, func.count())
        .join(OutboxMessage, OutboxMessage.notice_id == Notice.id)
        .where(Notice.incident_id.in_(incident_ids))
        .group_by(Notice.incident_id, OutboxMessage.status, OutboxMessage.delivery)
    ):
        mail = figures[incident_id]["mail"]
        state = _mail_state(status, delivery)
        mail[state] = mail.get(state, 0) + count
    return figures


# --- metrics ------------------------------------------------------------------------------------------------


def time_to_notify() -> dict[tuple[str, str, str, bool], list[tuple[float, float]]]:
    """Per kind of duty (regime, stage, recipient kind; "without undue delay" duties apart, as their limit is
    our internal target): each sent duty's hours from its clock start to the send, and the hours it had."""
    rows = db.session.execute(
        select(
            Obligation.regime,
            Obligation.stage,
            Obligation.recipient_kind,
            Obligation.clock_start,
            Obligation.sent_at,
            Obligation.due_at,
            Obligation.target_at,
        )
        .where(Obligation.sent_at.is_not(None), NEXT_AT.is_not(None))
        .order_by(Obligation.regime, Obligation.stage, Obligation.recipient_kind)
    ).all()
    kinds: dict[tuple[str, str, str, bool], list[tuple[float, float]]] = defaultdict(list)
    for row in rows:
        limit = row.due_at or row.target_at
        kinds[row.regime, row.stage, row.recipient_kind, row.due_at is None].append(
            ((row.sent_at - row.clock_start).total_seconds() / 3600, (limit - row.clock_start).total_seconds() / 3600)
        )
    return kinds


def on_time() -> dict[str, Any]:
    """Duties sent that had a deadline (not an internal target): how many, how many after it, the share on time."""
    total, late = db.session.execute(
        select(func.count(), func.count().filter(Obligation.late_by_seconds > 0)).where(
            Obligation.sent_at.is_not(None), Obligation.due_at.is_not(None)
        )
    ).one()
    return {"sent": total, "late": late, "rate": (total - late) / total if total else None}


def incidents_between(start: datetime, end: datetime) -> list[tuple[datetime, str | None]]:
    """When we became aware of each incident from `start` to `end`, and its cause (None when not known yet)."""
    return [
        (aware_at, cause.value if cause else None)
        for aware_at, cause in db.session.execute(
            select(Incident.aware_at, Incident.cause).where(Incident.aware_at >= start, Incident.aware_at <= end)
        )
    ]


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
    many were sent late and the reasons for the delay its statement gives (Art. 33(1), by language), and why it
    was closed with duties still pending."""
    details: dict[int, dict[str, Any]] = {
        i: {"totals": None, "assessment": None, "sent": 0, "late": 0, "delay_reasons": {}, "closing": ""}
        for i in incident_ids
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
    for incident_id, text in db.session.execute(
        select(IncidentNote.incident_id, IncidentNote.text)
        .where(IncidentNote.incident_id.in_(incident_ids), IncidentNote.kind == "close")
        .order_by(IncidentNote.id)
    ):
        details[incident_id]["closing"] = text  # the latest closing, when reopened and closed again
    return details


#: how many incidents each list of the privacy team's "waiting for you" page shows
WAITING_SHOWN = 50


def awaiting_decision() -> list:
    """Incidents not closed whose assessment is missing or leaves the authority or the data subjects undecided:
    the authority's 72 hours run from awareness meanwhile (Art. 33(1)). Oldest awareness first."""
    undecided = Decision.UNDECIDED
    return db.session.execute(
        select(Incident.id, Incident.title, Incident.aware_at, Assessment.id.label("assessment_id"))
        .outerjoin(Assessment, Assessment.incident_id == Incident.id)
        .where(
            Incident.status != IncidentStatus.CLOSED,
            or_(
                Assessment.id.is_(None),
                Assessment.decision_authority == undecided,
                Assessment.decision_data_subjects == undecided,
            ),
        )
        .order_by(Incident.aware_at, Incident.id)
        .limit(WAITING_SHOWN)
    ).all()


def awaiting_approval() -> list:
    """Incidents with draft notices, each with how many drafts wait for review and approval; the incident
    whose soonest duty with a draft is due first comes first."""
    return db.session.execute(
        select(
            Incident.id,
            Incident.title,
            func.count(Notice.id).label("drafts"),
            func.min(NEXT_AT).label("next_at"),
        )
        .join(Notice, Notice.incident_id == Incident.id)
        .join(Obligation, Obligation.id == Notice.obligation_id)
        .where(Notice.status == NoticeStatus.DRAFT, Incident.status != IncidentStatus.CLOSED)
        .group_by(Incident.id, Incident.title)
        .order_by(func.min(NEXT_AT), Incident.id)
        .limit(WAITING_SHOWN)
    ).all()
