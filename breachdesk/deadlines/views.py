"""Obligation pages: an incident's duties, one duty explaining its deadline, and recording a send or a receipt."""


from flask import Blueprint, redirect, render_template, request, url_for
from sqlalchemy import select

from breachdesk.auth.access import EVERYONE, PRIVACY_TEAM, allow
from breachdesk.core.clock import now_utc
from breachdesk.core.errors import ValidationFailed
from breachdesk.core.web import commit_or_flash, flash_problems
from breachdesk.deadlines import services
from breachdesk.deadlines.forms import AcknowledgedForm, SentForm, when_form, when_utc
from breachdesk.deadlines.models import OVERDUE, Obligation, ObligationStatus
from breachdesk.deadlines.obligations import duration, remaining, urgency
from breachdesk.deadlines.rules import Terms
from breachdesk.extensions import db
from breachdesk.incidents.models import Incident
from breachdesk.notices.models import Notice

bp = Blueprint("deadlines", __name__)
bp.add_app_template_filter(remaining)
bp.add_app_template_filter(urgency)
bp.add_app_template_filter(duration)
SHOWN_STATUSES = [s.value for s in ObligationStatus] + [OVERDUE]


@bp.get("/incidents/<int:incident_id>/obligations")
@allow(EVERYONE)
def incident_obligations(incident_id: int):
    incident = db.get_or_404(Incident, incident_id)
    status = request.args.get("status", "")
    q = request.args.get("q", "").strip()
    query = select(Obligation).where(Obligation.incident_id == incident.id)
    if status == OVERDUE:
        query = query.where(Obligation.status == ObligationStatus.PENDING, Obligation.due_at < now_utc())
    elif status in SHOWN_STATUSES:
        query = query.where(Obligation.status == status)
    if q:
        query = query.where(Obligation.recipient.ilike(f"%{q}%") | Obligation.recipient_key.ilike(f"%{q}%"))
    query = query.order_by(Obligation.due_at.is_(None), Obligation.due_at, Obligation.target_at, Obligation.rule_id,
                           Obligation.recipient_key)
    page = db.paginate(query, per_page=100, max_per_page=500)
    return render_template("deadlines/incident.html", incident=incident, page=page, status=status, q=q,
                           statuses=SHOWN_STATUSES, summary=services.summary_of(incident.id), now=now_utc())


@bp.get("/obligations/<int:obligation_id>")
@allow(EVERYONE)
def obligation(obligation_id: int):
    found = db.get_or_404(Obligation, obligation_id)
    terms = Terms.from_dict(found.terms)
    notices = db.session.scalars(select(Notice).where(Notice.obligation_id == found.id).order_by(Notice.sequence)).all()
    return render_template("deadlines/obligation.html", obligation=found, terms=terms, now=now_utc(), notices=notices,
                           sent_form=when_form(SentForm),
                           ack_form=when_form(AcknowledgedForm))


def _record(obligation_id: int, form_class, action) -> object:
    found = db.get_or_404(Obligation, obligation_id)
    form = form_class()
    if form.validate_on_submit():
        commit_or_flash(lambda: action(found, form), lambda _: f"Obligation {found.shown_status()}.")
    else:
        flash_problems(ValidationFailed([f"{name}: {'; '.join(errors)}" for name, errors in form.errors.items()]))
    return redirect(url_for("deadlines.obligation", obligation_id=found.id))


@bp.post("/obligations/<int:obligation_id>/sent")
@allow(PRIVACY_TEAM)
def sent(obligation_id: int):
    """Sent outside BreachDesk (a portal, a phone call confirmed in writing): record when, and the reference."""
    return _record(obligation_id, SentForm,
                   lambda found, form: services.mark_sent(found, when_utc(form), form.reference.data or ""))


@bp.post("/obligations/<int:obligation_id>/acknowledged")
@allow(PRIVACY_TEAM)
def acknowledged(obligation_id: int):
    return _record(obligation_id, AcknowledgedForm,
                   lambda found, form: services.mark_acknowledged(found, when_utc(form)))
