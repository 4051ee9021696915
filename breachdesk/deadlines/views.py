"""Obligation pages: an incident's duties, one duty explaining its deadline, recording a send or a receipt, a
fact that starts or stops clocks, and the obligations' part of the incident page."""

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, select

from breachdesk.core.access import EVERYONE, PRIVACY_TEAM, allow
from breachdesk.core.clock import now_utc
from breachdesk.core.signals import incident_page, obligation_page, page_parts
from breachdesk.core.web import commit_or_flash, say
from breachdesk.deadlines import services
from breachdesk.deadlines.events import record_event
from breachdesk.deadlines.forms import AcknowledgedForm, EventForm, SentForm, when_form, when_utc
from breachdesk.deadlines.models import OVERDUE, Obligation, ObligationStatus
from breachdesk.deadlines.obligations import PER_CUSTOMER, duration, remaining, urgency
from breachdesk.deadlines.rules import (
    ANCHOR_WORDS,
    CONDITION_WORDS,
    NEGATION,
    RECIPIENT_KIND_LABELS,
    STAGE_FILED,
    STAGE_FILED_LATEST,
    Terms,
    anchored_stage,
    shipped_rules,
)
from breachdesk.extensions import db
from breachdesk.incidents.models import Incident
from breachdesk.incidents.views import incident_page_html

bp = Blueprint("deadlines", __name__)
bp.add_app_template_filter(remaining)
bp.add_app_template_filter(urgency)
bp.add_app_template_filter(duration)


@bp.app_template_filter("kind_words")
def kind_words(kind: str) -> str:
    """A kind of recipient in words ("national CSIRT ..."), never its key."""
    return say(RECIPIENT_KIND_LABELS[kind])


@bp.app_template_filter("anchor_words")
def anchor_words(anchor: str) -> str:
    """What starts a clock, in words; a stage filed, or whose deadline ends, is named by its regime and stage, not
    its rule id."""
    if (found := anchored_stage(anchor)) is not None:
        kind, stage = found
        return {
            STAGE_FILED: f"when {stage} is filed",
            STAGE_FILED_LATEST: f"when {stage} is filed (its latest filing)",
        }.get(kind, f"when the deadline of {stage} ends")
    return ANCHOR_WORDS.get(anchor, anchor.replace("_", " "))


@bp.app_template_filter("condition_words")
def condition_words(condition: str) -> str:
    """When a duty is owed, in words: "once the incident is judged significant and unless ..." ."""
    parts = condition.split(" and ")
    if len(parts) == 1 and parts[0] in ("always", "unless_unlikely_risk", "high_risk"):
        return CONDITION_WORDS[parts[0]]
    said = [
        f"unless {CONDITION_WORDS[part.removeprefix(NEGATION)]}" if part.startswith(NEGATION) else CONDITION_WORDS[part]
        for part in parts
    ]
    return "once " + " and ".join(said) + " (an incident event)"


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
    query = query.order_by(
        Obligation.due_at.is_(None),
        Obligation.due_at,
        Obligation.target_at,
        Obligation.rule_id,
        Obligation.recipient_key,
    )
    page = db.paginate(query, per_page=100, max_per_page=500)
    return render_template(
        "deadlines/incident.html",
        incident=incident,
        page=page,
        status=status,
        q=q,
        statuses=SHOWN_STATUSES,
        summary=services.summary_of(incident.id),
        now=now_utc(),
    )


@bp.get("/obligations/<int:obligation_id>")
@allow(EVERYONE)
def obligation(obligation_id: int):
    found = db.get_or_404(Obligation, obligation_id)
    return _obligation_page(found, when_form(SentForm), when_form(AcknowledgedForm))


def _obligation_page(found: Obligation, sent_form: SentForm, ack_form: AcknowledgedForm):
    return render_template(
        "deadlines/obligation.html",
        obligation=found,
        terms=Terms.from_dict(found.terms),
        note=next((r.note for r in shipped_rules() if r.id == found.rule_id), None),
        now=now_utc(),
        sent_form=sent_form,
        ack_form=ack_form,
        **page_parts(obligation_page, found),
    )


def _record(obligation_id: int, form_class, action) -> object:
    """Record what happened; a refused form comes back with each problem beside its field (and, for a time in the
    daylight-saving gap or fold, the instants it may mean), the other form fresh."""
    found = db.get_or_404(Obligation, obligation_id)
    form = form_class()
    if form.validate_on_submit():
        done, _ = commit_or_flash(lambda: action(found, form), lambda _: f"Obligation {found.shown_status()}.", form)
        if done:
            return redirect(url_for("deadlines.obligation", obligation_id=found.id))
    sent = form if form_class is SentForm else when_form(SentForm)
    ack = form if form_class is AcknowledgedForm else when_form(AcknowledgedForm)
    return _obligation_page(found, sent, ack), 422


@bp.post("/obligations/<int:obligation_id>/sent")
@allow(PRIVACY_TEAM)
def sent(obligation_id: int):
    """Sent outside BreachDesk (a portal, a phone call confirmed in writing): record when, and the reference."""
    return _record(
        obligation_id,
        SentForm,
        lambda found, form: services.mark_sent(found, when_utc(form), form.reference.data or ""),
    )


@bp.post("/obligations/<int:obligation_id>/acknowledged")
@allow(PRIVACY_TEAM)
def acknowledged(obligation_id: int):
    return _record(
        obligation_id, AcknowledgedForm, lambda found, form: services.mark_acknowledged(found, when_utc(form))
    )


@bp.post("/incidents/<int:incident_id>/events")
@allow(PRIVACY_TEAM)
def event(incident_id: int):
    """A determination or a stage filed elsewhere: a dated fact that starts or stops clocks."""
    incident = db.get_or_404(Incident, incident_id)
    form = EventForm()
    if form.validate_on_submit():
        done, _ = commit_or_flash(
            lambda: record_event(
                incident,
                {
                    "kind": form.kind.data,
                    "at": when_utc(form),
                    "stage": form.stage.data or None,
                    "note": form.note.data or "",
                    "reference": form.reference.data or "",
                },
                current_user,
            ),
            "Event recorded; obligations updated.",
            form,
        )
        if done:
            return redirect(url_for("incidents.show", incident_id=incident.id) + "#obligations")
    return incident_page_html(incident, event_form=form), 422


@incident_page.connect
def _incident_page(incident: Incident) -> dict:
    """The incident page's obligations: the authorities' and controllers' duties one by one, the customers'
    by stage, and the form recording a fact that starts or stops clocks."""
    obligations = db.session.scalars(
        select(Obligation)
        .where(
            Obligation.incident_id == incident.id,
            Obligation.customer_id.is_(None),
            Obligation.recipient_kind.not_in(PER_CUSTOMER),
        )
        .order_by(Obligation.due_at.is_(None), Obligation.due_at, Obligation.target_at, Obligation.rule_id)
    ).all()
    return {
        "obligations": obligations,
        "customer_duties": _customer_duties(incident.id),
        "obligation_summary": services.summary_of(incident.id),
        "event_form": when_form(EventForm),
        "has_profile": services.organisation_profile() is not None,
        "duty_names": lambda labels: _duty_names(incident.id, labels),
        "stage_names": {rule.id: f"{rule.regime} {rule.stage}" for rule in shipped_rules()},
    }


def _duty_names(incident_id: int, labels: set[str]) -> dict[str, str]:
    """The timeline's duties in words ("GDPR Art. 33(2) notification to Acme"), by their audit label."""
    keys = {tuple(label.split(":", 2)[1:]) for label in labels}
    rows = db.session.execute(
        select(
            Obligation.rule_id, Obligation.recipient_key, Obligation.regime, Obligation.stage, Obligation.recipient
        ).where(Obligation.incident_id == incident_id, Obligation.rule_id.in_({rule for rule, _ in keys}))
    ).all()
    return {
        f"{incident_id}:{row.rule_id}:{row.recipient_key}": f"{row.regime} {row.stage} to {row.recipient}"
        for row in rows
        if (row.rule_id, row.recipient_key) in keys
    }


def _customer_duties(incident_id: int) -> list[dict]:
    """Per-customer duties in one line each for the page: how many, the soonest due, how many overdue."""
    now = now_utc()
    rows = db.session.execute(
        select(
            Obligation.regime,
            Obligation.stage,
            func.count(),
            func.min(Obligation.due_at),
            func.min(Obligation.target_at),
            func.count().filter(Obligation.status == ObligationStatus.PENDING, Obligation.due_at < now),
            func.count().filter(Obligation.status == ObligationStatus.PENDING),
        )
        .where(Obligation.incident_id == incident_id, Obligation.recipient_kind.in_(PER_CUSTOMER))
        .group_by(Obligation.regime, Obligation.stage)
        .order_by(Obligation.regime, Obligation.stage)
    ).all()
    return [
        {
            "regime": r[0],
            "stage": r[1],
            "count": r[2],
            "first_due": r[3],
            "first_target": r[4],
            "overdue": r[5],
            "pending": r[6],
        }
        for r in rows
    ]
