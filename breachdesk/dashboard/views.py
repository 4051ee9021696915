"""Management's read side: the deadline dashboard, metrics, the breach register (page and CSV), and the
per-user calendar feed of pending deadlines."""

from datetime import timedelta

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from icalendar import Alarm, Calendar, Event
from sqlalchemy import func, select

from breachdesk.core.access import EVERYONE, PUBLIC, allow
from breachdesk.core.clock import now_utc
from breachdesk.core.spreadsheet import csv_download
from breachdesk.core.tokens import digest, new_secret
from breachdesk.core.web import day_argument
from breachdesk.dashboard import charts, queries
from breachdesk.dashboard.models import CalendarFeed
from breachdesk.deadlines.models import Obligation, ObligationStatus
from breachdesk.extensions import db
from breachdesk.incidents.models import Cause, Incident, IncidentStatus

bp = Blueprint("dashboard", __name__)
PER_PAGE = 50


@bp.get("/dashboard")
@allow(EVERYONE)
def dashboard():
    now = now_utc()
    counts = queries.counts(now)
    page = db.paginate(queries.pending_duties(), per_page=PER_PAGE, count=False)
    page.total = counts["pending"]  # the tiles' statement counted them already
    return render_template(
        "dashboard/index.html",
        page=page,
        rows=page.items,
        now=now,
        counts=counts,
        delivery=queries.delivery_of([o.id for o in page.items]),
        incidents=queries.incident_totals(now),
    )


@bp.get("/dashboard/metrics")
@allow(EVERYONE)
def metrics():
    bars, scale_hours, height = charts.notify_bars(queries.time_to_notify())
    columns, tallest = charts.month_columns(queries.incidents_by_cause_and_month())
    return render_template(
        "dashboard/metrics.html",
        bars=bars,
        scale_hours=scale_hours,
        bars_height=height,
        columns=columns,
        tallest=tallest,
        on_time=queries.on_time(),
        colours=charts.CAUSE_COLOURS,
    )


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
]


def _utc(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else ""


def _register_row(incident: Incident, totals, assessment, sent, late, delay_reasons) -> list:
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
