"""Management's read side: the deadline dashboard, metrics, the breach register (page and CSV), and the
per-user calendar feed of pending deadlines."""

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from icalendar import Alarm, Calendar, Event
from sqlalchemy import func, select

from breachdesk.core.access import EVERYONE, PRIVACY_TEAM, PUBLIC, Role, allow
from breachdesk.core.clock import now_utc
from breachdesk.core.db import MAX_ROW_ID
from breachdesk.core.spreadsheet import csv_download
from breachdesk.core.tokens import digest, new_secret
from breachdesk.core.web import day_argument, say
from breachdesk.dashboard import charts, queries, words
from breachdesk.dashboard.models import CalendarFeed
from breachdesk.deadlines.models import Obligation, ObligationStatus
from breachdesk.deadlines.obligations import PAST_DEADLINE, PAST_TARGET, remaining, urgency
from breachdesk.extensions import db
from breachdesk.incidents.models import CAUSE_LABELS, STATUS_LABELS, Cause, Incident, IncidentStatus

bp = Blueprint("dashboard", __name__)
#: incidents a page of the dashboard shows, and the soonest duties each shows when expanded
PER_PAGE = 20
DUTIES_SHOWN = 5
#: one incident's pending duties, a page at a time (`/dashboard?incident=<id>`)
DUTIES_PER_PAGE = 50
MONTHS_SHOWN = 12


class Board:
    """What the dashboard shows for a time and a duty, in the viewer's zone, worked out once per request."""

    def __init__(self, now: datetime, zone: str):
        self.now, self.zone = now, zone

    @staticmethod
    def mail(state: str, count: int) -> str:
        return words.mail_state_in_words(state, count)

    def shown(self, instant: datetime) -> words.Shown:
        return words.shown(instant, self.zone, self.now)

    def moment(self, instant: datetime | None, target: bool = False) -> dict[str, Any] | None:
        """When something is owed, how long is left, its urgency band and whether it is an internal target;
        None for a clock that has not started."""
        if instant is None:
            return None
        return {
            "shown": self.shown(instant),
            "left": remaining(instant, self.now, target),
            "level": urgency(instant, self.now),
            "target": target,
            "past": PAST_TARGET if target else PAST_DEADLINE,
        }

    def duty(self, duty: Obligation, mail: dict[int, str]) -> dict[str, Any]:
        kind = words.recipient_kind_in_words(duty.recipient_kind)
        return {
            "id": duty.id,
            "words": words.duty_in_words(duty.regime, duty.stage, duty.recipient),
            "kind": None if kind == duty.recipient else kind,
            "flag": duty.flag,
            "when": self.moment(duty.due_at or duty.target_at, target=duty.due_at is None),
            "mail": mail.get(duty.id),
            "mail_words": words.mail_state_in_words(mail[duty.id]) if duty.id in mail else None,
        }

    def incident(self, row, duties: list[Obligation], figures: dict[str, Any], mail: dict[int, str]) -> dict:
        return {
            **row._asdict(),
            "status": row.status.value,
            "status_words": say(STATUS_LABELS[row.status]),
            "when": self.moment(row.next_at, target=row.next_due is None or row.next_at < row.next_due),
            "duties": [self.duty(d, mail) for d in duties],
            **figures,
        }


def _incidents(board: Board, rows: list, duties: dict[int, list[Obligation]]) -> list[dict[str, Any]]:
    """The page's incidents with their duties, what their customers' e-mails say, their sent and acknowledged."""
    ids = [row.id for row in rows]
    mail = queries.delivery_of([d.id for listed in duties.values() for d in listed])
    figures = queries.incident_figures(ids)
    return [board.incident(row, duties[row.id], figures[row.id], mail) for row in rows]


#: where each role's work is: the on-call engineer files, the privacy team decides and approves, management reads
LANDING = {
    Role.RESPONDER: "incidents.report",
    Role.PRIVACY: "dashboard.waiting",
    Role.ADMIN: "dashboard.waiting",
    Role.VIEWER: "dashboard.dashboard",
}


@bp.get("/")
@allow(EVERYONE)
def landing():
    """After login and on `/`, each role lands on its own work rather than on the inventory."""
    return redirect(url_for(LANDING[current_user.role]))


@bp.get("/waiting")
@allow(PRIVACY_TEAM)
def waiting():
    """What waits for the privacy team: incidents to decide on and drafts to review and approve."""
    board = Board(now_utc(), current_user.time_zone)
    return render_template(
        "dashboard/waiting.html",
        board=board,
        undecided=queries.awaiting_decision(),
        drafts=queries.awaiting_approval(),
        shown=queries.WAITING_SHOWN,
    )


@bp.get("/dashboard")
@allow(EVERYONE)
def dashboard():
    """Open incidents with duties pending, soonest first, each with its soonest duties; `?incident=<id>` shows
    one incident with all its pending duties, a page at a time."""
    board = Board(now_utc(), current_user.time_zone)
    counts = queries.counts(board.now)
    focus = request.args.get("incident", type=int)
    if focus is not None:
        return _one_incident(board, counts, focus)
    page, incidents = queue_page(board, counts)
    return render_template(
        "dashboard/index.html", board=board, counts=counts, page=page, incidents=incidents, focus=None
    )


def queue_page(board: Board, counts: dict[str, int], number: int | None = None):
    """A page of the queue (the request's, or `number`) and its incidents with their soonest duties."""
    page = queries.RowPagination(select=queries.incident_queue(board.now), page=number, per_page=PER_PAGE, count=False)
    page.total = counts["incidents"]  # the tiles' statement counted them already
    duties = queries.first_duties([row.id for row in page.items], DUTIES_SHOWN)
    return page, _incidents(board, page.items, duties)


def _one_incident(board: Board, counts: dict[str, int], incident_id: int):
    if not 1 <= incident_id <= MAX_ROW_ID:
        abort(404)
    row = db.session.execute(queries.incident_queue(board.now, incident_id)).one_or_none()
    page, incidents = None, []  # closed, or nothing pending any more: nothing to page through
    if row is not None:
        page = db.paginate(queries.incident_duties(incident_id), per_page=DUTIES_PER_PAGE, count=False)
        page.total = row.pending
        incidents = _incidents(board, [row], {incident_id: page.items})
    return render_template(
        "dashboard/index.html", board=board, counts=counts, page=page, incidents=incidents, focus=incident_id
    )


@bp.get("/dashboard/metrics")
@allow(EVERYONE)
def metrics():
    """On-time rate, time to notify against the deadline by kind of duty, incidents by month and cause."""
    now = now_utc()
    bars = [
        charts.notify_bar(words.duty_kind_in_words(regime, stage, kind, target), sends, target)
        for (regime, stage, kind, target), sends in queries.time_to_notify().items()
    ]
    return render_template(
        "dashboard/metrics.html",
        on_time=queries.on_time(),
        bars=bars,
        deadline_at=charts.DEADLINE_AT,
        months=_months(now, current_user.time_zone),
        zone=current_user.time_zone,
        causes=_cause_words(),
        colours=charts.CAUSE_COLOURS,
    )


def _cause_words() -> dict[str, str]:
    """Each cause key, and "unknown" for an incident whose cause is not recorded yet, in words."""
    return {**{cause.value: CAUSE_LABELS[cause].english for cause in Cause}, "unknown": "cause not known yet"}


def _months(now: datetime, zone: str) -> list[charts.MonthRow]:
    """The last MONTHS_SHOWN months on the viewer's clock, newest first, with their incidents by cause."""
    local = now.astimezone(ZoneInfo(zone))
    months = charts.last_months(local.year, local.month, MONTHS_SHOWN)
    oldest = datetime(*months[-1], 1, tzinfo=local.tzinfo)
    found: dict[tuple[int, int], dict[str, int]] = {month: {} for month in months}
    for aware_at, cause in queries.incidents_between(oldest, now):
        when, key = aware_at.astimezone(local.tzinfo), cause or "unknown"
        causes = found[when.year, when.month]
        causes[key] = causes.get(key, 0) + 1
    return charts.month_rows([(words.month_name(*month), found[month]) for month in months], _cause_words())


def _register_filters() -> dict:
    args = request.args
    return {
        "status": args.get("status", "") if args.get("status") in {s.value for s in IncidentStatus} else "",
        "cause": args.get("cause", "") if args.get("cause") in {c.value for c in Cause} else "",
        "aware_from": day_argument("from"),
        "aware_to": day_argument("to"),
        "notified": args.get("notified", "") if args.get("notified") in ("yes", "no") else "",
    }


@bp.get("/register")
@allow(EVERYONE)
def register():
    page = db.paginate(queries.register(**_register_filters()), per_page=50, max_per_page=500)
    details = queries.register_details([i.id for i in page.items])
    return render_template(
        "dashboard/register.html",
        page=page,
        details=details,
        args=request.args,
        statuses=list(IncidentStatus),
        causes=list(Cause),
    )


REGISTER_COLUMNS = [
    "incident",
    "title",
    "status",
    "aware_at_utc",
    "detected_at_utc",
    "occurred_from_utc",
    "occurred_to_utc",
    "nature",
    "cause",
    "systems",
    "customers_affected",
    "data_subjects",
    "records",
    "description",
    "remedial_action",
    "severity",
    "band",
    "authority_decision",
    "data_subjects_decision",
    "decided_by",
    "decided_at_utc",
    "rationale",
    "exemptions",
    "notices_sent",
    "duties_sent_late",
    "delay_reasons",
    "closed_with_duties_pending",
]


def _utc(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else ""


def _register_row(incident: Incident, totals, assessment, sent, late, delay_reasons, closing) -> list:
    totals = totals or {}
    return [
        incident.id,
        incident.title,
        incident.status.value,
        _utc(incident.aware_at),
        _utc(incident.detected_at),
        _utc(incident.occurred_from),
        _utc(incident.occurred_to),
        "; ".join(incident.nature or []),
        incident.cause.value if incident.cause else "",
        "; ".join(s.key for s in incident.systems),
        totals.get("customers", ""),
        totals.get("data_subjects", ""),
        totals.get("records", ""),
        incident.description,
        incident.containment,
        assessment.score if assessment else "",
        assessment.band if assessment else "",
        assessment.decision_authority.value if assessment else "undecided",
        assessment.decision_data_subjects.value if assessment else "undecided",
        assessment.decided_by.username if assessment and assessment.decided_by else "",
        _utc(assessment.decided_at) if assessment else "",
        assessment.rationale if assessment else "",
        "; ".join(assessment.exemptions) if assessment else "",
        sent,
        late,
        " | ".join(f"[{language}] {reasons}" for language, reasons in delay_reasons.items()),
        closing,
    ]


@bp.get("/register.csv")
@allow(EVERYONE)
def register_csv():
    """One row per incident, times in UTC."""
    return csv_download("breach-register.csv", REGISTER_COLUMNS, _register_rows(_register_filters()))


def _register_rows(filters: dict):
    incidents = db.session.scalars(queries.register(**filters)).all()
    for start in range(0, len(incidents), 500):
        chunk = incidents[start : start + 500]
        details = queries.register_details([i.id for i in chunk])
        for incident in chunk:
            yield _register_row(incident, **details[incident.id])


# --- the calendar feed ------------------------------------------------------------------------------------------


@bp.route("/account/calendar", methods=["GET", "POST"])
@allow(EVERYONE)
def calendar_settings():
    """Create (or replace) one's secret feed URL; it is shown once, stored hashed."""
    feed_url = None
    if request.method == "POST":
        _revoke_feeds(current_user.id)
        secret = new_secret()
        db.session.add(CalendarFeed(user_id=current_user.id, token_hash=digest(secret)))
        db.session.commit()
        feed_url = url_for("dashboard.calendar_feed", token=secret, _external=True)
    active = db.session.scalar(
        select(CalendarFeed).where(CalendarFeed.user_id == current_user.id, CalendarFeed.revoked_at.is_(None))
    )
    return render_template("dashboard/calendar.html", active=active, feed_url=feed_url)


@bp.post("/account/calendar/revoke")
@allow(EVERYONE)
def calendar_revoke():
    _revoke_feeds(current_user.id)
    db.session.commit()
    flash("Calendar feed revoked: its URL no longer answers.", "info")
    return redirect(url_for("dashboard.calendar_settings"))


def _revoke_feeds(user_id: int) -> None:
    for feed in db.session.scalars(
        select(CalendarFeed).where(CalendarFeed.user_id == user_id, CalendarFeed.revoked_at.is_(None))
    ):
        feed.revoked_at = now_utc()


@bp.get("/calendar/<token>.ics")
@allow(PUBLIC)
def calendar_feed(token: str):
    """Every pending deadline of open incidents, one event per incident, duty and due time (ten thousand
    customers due at the same instant are one event, not ten thousand)."""
    feed = db.session.scalar(
        select(CalendarFeed).where(CalendarFeed.token_hash == digest(token), CalendarFeed.revoked_at.is_(None))
    )
    if feed is None or not feed.user.is_active:
        abort(404)
    calendar = Calendar()
    calendar.add("prodid", "-//BreachDesk//deadlines//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "BreachDesk deadlines")
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    rows = db.session.execute(
        select(
            Obligation.incident_id,
            Incident.title,
            Obligation.rule_id,
            Obligation.regime,
            Obligation.stage,
            Obligation.due_at,
            func.count(),
            func.min(Obligation.recipient),
            func.min(Obligation.source),
        )
        .join(Incident, Incident.id == Obligation.incident_id)
        .where(
            Obligation.status == ObligationStatus.PENDING,
            Obligation.due_at.is_not(None),
            Incident.status != IncidentStatus.CLOSED,
        )
        .group_by(
            Obligation.incident_id,
            Incident.title,
            Obligation.rule_id,
            Obligation.regime,
            Obligation.stage,
            Obligation.due_at,
        )
        .order_by(Obligation.due_at)
    )
    stamp = now_utc()
    for incident_id, title, rule_id, regime, stage, due_at, count, recipient, source in rows:
        event = Event()
        event.add("uid", f"{incident_id}-{rule_id}-{int(due_at.timestamp())}@breachdesk")
        event.add("dtstamp", stamp)
        event.add("dtstart", due_at)
        event.add("dtend", due_at + timedelta(minutes=15))
        who = recipient if count == 1 else f"{count} recipients"
        event.add("summary", f"Due: {regime} {stage} → {who} (incident #{incident_id})")
        event.add("description", f"{title}\n{source}\n{base}/incidents/{incident_id}#obligations")
        event.add("url", f"{base}/incidents/{incident_id}")
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", f"{regime} {stage} due in 1 hour")
        alarm.add("trigger", timedelta(hours=-1))
        event.add_component(alarm)
        calendar.add_component(event)
    return Response(
        calendar.to_ical(),
        mimetype="text/calendar",
        headers={"Content-Disposition": "inline; filename=breachdesk.ics", "Cache-Control": "no-store"},
    )
