"""Incident pages: report, list, the incident with its impact and timeline, edits, status, notes, CSV.

The incident page also shows the assessment, the obligations and undelivered notices: the domains above add
those parts through `core.signals.incident_page`."""

from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from breachdesk.auth.models import User
from breachdesk.core.access import EVERYONE, PRIVACY_TEAM, RESPONDERS, allow
from breachdesk.core.clock import AmbiguousTime, local_to_utc, now_utc
from breachdesk.core.errors import ValidationFailed
from breachdesk.core.signals import incident_page, page_parts
from breachdesk.core.spreadsheet import csv_download
from breachdesk.core.web import commit_or_flash, day_argument, flash_problems, say
from breachdesk.extensions import db
from breachdesk.impact import services as impact
from breachdesk.impact.explain import exposure_window
from breachdesk.incidents import queries, services
from breachdesk.incidents.forms import IncidentForm, NoteForm, StatusForm
from breachdesk.incidents.models import STATUS_LABELS, Incident, IncidentStatus
from breachdesk.inventory.models import System

bp = Blueprint("incidents", __name__, url_prefix="/incidents")
INSTANT_FIELDS = ("aware_at", "detected_at", "occurred_from", "occurred_to")


def _form(**kwargs) -> IncidentForm:
    systems = db.session.execute(select(System.key, System.name).order_by(System.name)).all()
    owners = db.session.execute(
        select(User.id, User.username).where(User.disabled_at.is_(None)).order_by(User.username)
    ).all()
    return IncidentForm(system_choices=[(k, f"{n} ({k})") for k, n in systems], owner_choices=owners, **kwargs)


def _tristate(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


def _submitted(form: IncidentForm, only_changed_from: Incident | None = None) -> dict:
    """Form fields as service input; wall-clock times become UTC in the chosen zone."""
    data: dict = {
        "title": form.title.data,
        "systems": form.systems.data,
        "nature": form.nature.data,
        "description": form.description.data or "",
        "cause": form.cause.data or None,
        "data_categories": form.data_categories.data,
        "encrypted": _tristate(form.encrypted.data),
        "key_compromised": _tristate(form.key_compromised.data),
        "containment": form.containment.data or "",
        "owner_id": int(form.owner_id.data) if form.owner_id.data else None,
    }
    problems = []
    for name in INSTANT_FIELDS:
        value = form[name].data
        if value is not None:
            try:
                data[name] = local_to_utc(value, form.time_zone.data, name, request.form.get(f"{name}_instant", ""))
            except AmbiguousTime as error:
                form[name].offers = error.choices
                problems.append(str(error))
            except ValueError as error:
                problems.append(str(error))
        elif only_changed_from is not None:
            data[name] = None
    if problems:
        raise ValidationFailed(problems)
    if only_changed_from is not None and data["aware_at"] == only_changed_from.aware_at:
        del data["aware_at"]
    return data


@bp.get("/")
@allow(EVERYONE)
def index():
    args = request.args
    zone = current_user.time_zone
    page = db.paginate(
        queries.incidents(
            status=args.get("status", ""),
            customer=args.get("customer", "").strip(),
            system=args.get("system", "").strip(),
            aware_from=day_argument("from"),
            aware_to=day_argument("to"),
            zone=zone,
        ),
        per_page=current_app.config["PAGE_SIZE"],
    )
    return render_template("incidents/index.html", page=page, statuses=list(IncidentStatus), args=args)


@bp.route("/new", methods=["GET", "POST"])
@allow(RESPONDERS)
def report():
    form = _form()
    if request.method == "GET":
        form.time_zone.data = current_user.time_zone
        form.time_zone.from_browser = True  # the zone of the times the reporter types now, as the phone knows it
        form.aware_at.render_kw = {"data-local-now": ""}
        form.aware_at.data = (
            now_utc().astimezone(ZoneInfo(current_user.time_zone)).replace(tzinfo=None, second=0, microsecond=0)
        )
    if form.validate_on_submit():
        try:
            incident = services.open_incident(_submitted(form), current_user.id)
        except ValidationFailed as error:
            flash_problems(error, form)
        else:
            db.session.commit()
            flash(f"Incident #{incident.id} filed; impact computed.", "info")
            return redirect(url_for("incidents.show", incident_id=incident.id))
    return render_template("incidents/form.html", form=form, incident=None)


@bp.get("/<int:incident_id>")
@allow(EVERYONE)
def show(incident_id: int):
    return incident_page_html(db.get_or_404(Incident, incident_id))


def incident_page_html(incident: Incident, **refused_forms) -> str:
    """The incident page; a form that was refused (by the module it posts to) comes back with its errors."""
    snapshot = impact.current_snapshot(incident.id)
    customers = None
    if snapshot is not None:
        customers = db.paginate(
            queries.affected_customers(
                snapshot.id, request.args.get("sort", "name"), request.args.get("q", "").strip()
            ),
            per_page=50,
            max_per_page=500,
        )
    parts = page_parts(incident_page, incident)
    forms = {"status_form": StatusForm(status=incident.status.value), "note_form": NoteForm()}
    return render_template(
        "incidents/show.html",
        incident=incident,
        snapshot=snapshot,
        customers=customers,
        now=now_utc(),
        events=queries.events_of(incident.id),
        stale=impact.stale_reasons(incident, snapshot),
        timeline=queries.timeline(incident, parts.get("duty_names"), parts.get("stage_names")),
        exposure=lambda days: exposure_window(days, incident.occurred_from, incident.occurred_to, incident.aware_at),
        sort=request.args.get("sort", "name"),
        q=request.args.get("q", ""),
        **(parts | forms | refused_forms),
    )


@bp.get("/link/<token>")
@allow(EVERYONE)
def link(token: str):
    """Where an alert's signed link lands: the incident, for whoever may read it."""
    incident_id = services.incident_of_link(token)
    if incident_id is None:
        abort(404)
    return redirect(url_for("incidents.show", incident_id=incident_id))


@bp.route("/<int:incident_id>/edit", methods=["GET", "POST"])
@allow(RESPONDERS)
def edit(incident_id: int):
    incident = db.get_or_404(Incident, incident_id)
    form = _form(obj=incident)
    if request.method == "GET":
        zone = ZoneInfo(current_user.time_zone)
        form.time_zone.data = current_user.time_zone
        for name in INSTANT_FIELDS:
            value = getattr(incident, name)
            form[name].data = value.astimezone(zone).replace(tzinfo=None) if value else None
        form.systems.data = [s.key for s in incident.systems]
        form.cause.data = incident.cause.value if incident.cause else ""
        form.encrypted.data = {True: "yes", False: "no"}.get(incident.encrypted, "")
        form.key_compromised.data = {True: "yes", False: "no"}.get(incident.key_compromised, "")
        form.owner_id.data = str(incident.owner_id) if incident.owner_id else ""
    if form.validate_on_submit():
        try:
            services.update_incident(
                incident, _submitted(form, only_changed_from=incident), current_user.id, reason=form.reason.data or ""
            )
        except ValidationFailed as error:
            flash_problems(error, form)
        else:
            db.session.commit()
            flash("Incident saved.", "info")
            return redirect(url_for("incidents.show", incident_id=incident.id))
    return render_template("incidents/form.html", form=form, incident=incident)


@bp.post("/<int:incident_id>/status")
@allow(PRIVACY_TEAM)
def status(incident_id: int):
    incident = db.get_or_404(Incident, incident_id)
    form = StatusForm()
    if form.validate_on_submit():
        done, _ = commit_or_flash(
            lambda: services.change_status(incident, form.status.data, current_user.id, form.reason.data or ""),
            lambda _: f"Status: {say(STATUS_LABELS[incident.status])}.",
            form,
        )
        if done:
            return redirect(url_for("incidents.show", incident_id=incident.id))
    return incident_page_html(incident, status_form=form), 422


@bp.post("/<int:incident_id>/notes")
@allow(RESPONDERS)
def note(incident_id: int):
    incident = db.get_or_404(Incident, incident_id)
    form = NoteForm()
    if form.validate_on_submit():
        services.add_note(incident, form.text.data, current_user.id)
        db.session.commit()
    return redirect(url_for("incidents.show", incident_id=incident.id) + "#timeline")


@bp.post("/<int:incident_id>/impact")
@allow(RESPONDERS)
def recompute(incident_id: int):
    incident = db.get_or_404(Incident, incident_id)
    snapshot = services.recompute_impact(incident)
    db.session.commit()
    diff = snapshot.difference or {}
    flash(
        f"Impact recomputed: {len(diff.get('added', []))} customers added, {len(diff.get('removed', []))} "
        f"removed, {len(diff.get('changed', []))} changed.",
        "info",
    )
    return redirect(url_for("incidents.show", incident_id=incident.id))


def _path_text(path: dict) -> str:
    return f"{'+'.join(path['systems'])} > {path['activity']} > {', '.join(path['data_categories'])}"


@bp.get("/<int:incident_id>/customers.csv")
@allow(EVERYONE)
def customers_csv(incident_id: int):
    incident = db.get_or_404(Incident, incident_id)
    snapshot = impact.current_snapshot(incident.id)
    rows = db.session.scalars(queries.affected_customers(snapshot.id)) if snapshot is not None else []
    return csv_download(
        f"incident-{incident.id}-customers.csv",
        [
            "customer_key",
            "customer",
            "data_subjects",
            "records",
            "regions",
            "data_subject_categories",
            "data_categories",
            "sensitivity",
            "paths",
        ],
        (
            [
                row.key,
                row.name,
                row.people,
                row.records,
                "; ".join(f"{k}={v['people']}" for k, v in sorted(row.regions.items())),
                "; ".join(f"{k}={v}" for k, v in sorted(row.data_subjects.items())),
                "; ".join(row.data_categories),
                row.sensitivity,
                " | ".join(_path_text(p) for p in row.paths),
            ]
            for row in rows
        ),
    )
