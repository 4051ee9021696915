"""Notice pages: the statement for recipients, an incident's notices with bulk generation, the review before
approval (one notice or all drafts) and its confirmation (progress on the page), one notice (edit, follow-up,
print), resending, template editing, and the two public endpoints: the acknowledgement page behind a signed link
and the SendGrid Event Webhook; the notices' parts of the incident and obligation pages (core.signals)."""

from dataclasses import asdict

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    stream_template,
    url_for,
)
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from breachdesk.audit.services import carrying_actor, record
from breachdesk.auth.models import User
from breachdesk.core.access import ADMINS, EVERYONE, PRIVACY_TEAM, PUBLIC, allow, can
from breachdesk.core.clock import now_utc
from breachdesk.core.db import MAX_ROW_ID
from breachdesk.core.errors import DomainError, ValidationFailed
from breachdesk.core.i18n import Label, localized_instant
from breachdesk.core.progress import NoProgress, run_in_background
from breachdesk.core.signals import incident_page, obligation_page
from breachdesk.core.web import commit_or_flash, flash_problems, request_language, say, use_language
from breachdesk.deadlines.models import Obligation, ObligationStatus
from breachdesk.deadlines.rules import RECIPIENT_KIND_LABELS, Rule, shipped_rules
from breachdesk.deadlines.services import mark_acknowledged, mark_sent
from breachdesk.extensions import csrf, db
from breachdesk.impact.models import ImpactSnapshot
from breachdesk.incidents.models import Incident
from breachdesk.inventory.models import Customer, Organisation
from breachdesk.notices import layout, rendering, review, services, statements
from breachdesk.notices.forms import (
    AcknowledgeForm,
    ApprovalForm,
    FollowUpForm,
    NoticeEditForm,
    ResendForm,
    TemplateForm,
    statement_form,
)
from breachdesk.notices.models import (
    NOTICE_STATUS_LABELS,
    OUTBOX_STATUS_LABELS,
    Acknowledgement,
    Notice,
    NoticeStatus,
    NoticeTemplate,
    OutboxMessage,
    OutboxStatus,
)
from breachdesk.notices.outbox import resend
from breachdesk.notices.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, record_events, verified
from breachdesk.notices.words import REGIME, STAGE, words_in

bp = Blueprint("notices", __name__)
LANGUAGES = ("en", "fr")


@bp.app_template_filter("language_name")
def language_name(code: str) -> str:
    """A language by its name in the page's language ("French"), never its code."""
    return words_in(request_language()).language_name(code)


@bp.app_template_global()
def rule_words(regime: str, stage: str) -> str:
    """A duty's regime and stage in words of the page's language: "GDPR · notification"."""
    return f"{say(Label(REGIME, regime))} · {say(Label(STAGE, stage))}"


def _problems_of(form) -> ValidationFailed:
    return ValidationFailed([f"{name}: {'; '.join(errors)}" for name, errors in form.errors.items()])


# --- an incident's notices --------------------------------------------------------------------------------


@bp.get("/incidents/<int:incident_id>/notices")
@allow(EVERYONE)
def incident_notices(incident_id: int):
    incident = db.get_or_404(Incident, incident_id)
    page = db.paginate(
        select(Notice)
        .where(Notice.incident_id == incident.id)
        .options(selectinload(Notice.obligation), selectinload(Notice.messages))
        .order_by(Notice.id),
        per_page=100,
        max_per_page=500,
    )
    outbox = dict(
        db.session.execute(
            select(OutboxMessage.status, func.count())
            .join(Notice)
            .where(Notice.incident_id == incident.id)
            .group_by(OutboxMessage.status)
        ).all()
    )
    trouble = db.session.scalars(
        select(OutboxMessage)
        .join(Notice)
        .where(
            Notice.incident_id == incident.id,
            (OutboxMessage.status == OutboxStatus.FAILED) | OutboxMessage.delivery.in_(services.UNDELIVERED),
        )
        .order_by(OutboxMessage.id)
    ).all()
    counts = services.notice_counts(incident.id)
    return render_template(
        "notices/incident.html",
        incident=incident,
        page=page,
        outbox=outbox,
        trouble=trouble,
        counts=counts,
        resend_form=ResendForm(),
        to_generate=len(services.customer_obligations_without_notice(incident.id)),
        drafts=counts.get(NoticeStatus.DRAFT, 0),
        statement_languages=LANGUAGES,
        notice_status=NOTICE_STATUS_LABELS,
        outbox_status=OUTBOX_STATUS_LABELS,
    )


def _stream(title: str, job, back: str):
    events = run_in_background(current_app._get_current_object(), carrying_actor(job), name=title)
    return Response(stream_template("notices/progress.html", title=title, events=events, back=back))


@bp.post("/incidents/<int:incident_id>/notices/generate")
@allow(PRIVACY_TEAM)
def generate_all(incident_id: int):
    incident = db.get_or_404(Incident, incident_id)
    author_id = current_user.id

    def job(progress) -> str:
        count = services.generate_all(incident.id, db.session.get(User, author_id), progress)
        return f"{count} notices generated as drafts"

    return _stream("Generating notices", job, url_for("notices.incident_notices", incident_id=incident.id))


@bp.get("/incidents/<int:incident_id>/notices/review")
@allow(PRIVACY_TEAM)
def review_all(incident_id: int):
    """Every draft of the incident before it is approved and sent: a summary over all, a page of them at a time,
    and the one confirmation."""
    incident = db.get_or_404(Incident, incident_id)
    found = review.of_incident(incident.id, current_user, now_utc())
    page = db.paginate(
        select(Notice.id)
        .where(Notice.incident_id == incident.id, Notice.status == NoticeStatus.DRAFT)
        .order_by(Notice.id),
        per_page=request.args.get("per_page", 100, type=int),
        max_per_page=500,
    )
    return _review_page(
        found,
        [found.drafts[i] for i in page.items if i in found.drafts],
        page,
        incident,
        url_for("notices.approve_all", incident_id=incident.id),
        url_for("notices.incident_notices", incident_id=incident.id),
    )


@bp.post("/incidents/<int:incident_id>/notices/approve")
@allow(PRIVACY_TEAM)
def approve_all(incident_id: int):
    """The confirmation of the review: approves the drafts reviewed, as they were reviewed, or nothing."""
    incident = db.get_or_404(Incident, incident_id)
    found = _confirmed(review.of_incident, incident.id)
    if found is None:
        return redirect(url_for("notices.review_all", incident_id=incident.id))
    approver_id, reviewed = current_user.id, found.reviewed()

    def job(progress) -> str:
        done = services.approve_reviewed(incident.id, reviewed, db.session.get(User, approver_id), progress)
        left = f"; {done.left} left as drafts: they changed while approving, review them again" if done.left else ""
        return f"{done.approved} notices approved, {done.queued} e-mails queued{left}"

    return _stream("Approving and sending notices", job, url_for("notices.incident_notices", incident_id=incident.id))


def _confirmed(review_of, scope_id: int) -> review.Review | None:
    """The review a confirmation approves: the form ticked and carrying exactly what would be approved now.
    Otherwise None, the reason flashed, and nothing changed."""
    form = ApprovalForm()
    if not form.validate_on_submit():
        for name, errors in form.errors.items():
            flash(f"{'; '.join(errors)}" if name == "confirmed" else f"{name}: {'; '.join(errors)}", "error")
        return None
    found = review_of(scope_id, current_user, now_utc())
    refused = found.refusal(form.seen())
    if refused:
        flash(refused, "error")
        return None
    return found


def _review_page(found: review.Review, rows: list, page, incident: Incident, action: str, back: str):
    form = ApprovalForm(data=asdict(found.confirmation()))
    return render_template(
        "notices/review.html",
        review=found,
        rows=rows,
        page=page,
        incident=incident,
        form=form,
        action=action,
        back=back,
        now=now_utc(),
    )


# --- the statement for recipients --------------------------------------------------------------------------


@bp.route("/incidents/<int:incident_id>/statement/<language>", methods=["GET", "POST"])
@allow(PRIVACY_TEAM)
def statement(incident_id: int, language: str):
    """What recipients are told, in one language: exactly the parts the incident's duties need."""
    incident = db.get_or_404(Incident, incident_id)
    if language not in LANGUAGES:
        abort(404)
    facts = statements.facts_asked(statements.rules_of(incident.id))
    found = statements.statement_of(incident.id, language)
    form = statement_form(facts, found.facts() if found else {})
    if form.validate_on_submit():
        try:
            statements.save_statement(incident, language, {fact.id: form[fact.id].data or "" for fact in facts})
        except ValidationFailed as error:
            db.session.rollback()
            for problem in error.problems:
                name, _, message = problem.partition(": ")
                form[name].errors.append(message) if name in form else flash(problem, "error")
        else:
            db.session.commit()
            flash("Statement saved.", "info")
            return redirect(url_for("notices.statement", incident_id=incident.id, language=language))
    return render_template(
        "notices/statement.html",
        incident=incident,
        language=language,
        languages=LANGUAGES,
        form=form,
        statement=found,
        written={lang: statements.statement_of(incident.id, lang) is not None for lang in LANGUAGES},
    )


# --- one notice -------------------------------------------------------------------------------------------


@bp.post("/obligations/<int:obligation_id>/notice")
@allow(PRIVACY_TEAM)
def generate(obligation_id: int):
    obligation = db.get_or_404(Obligation, obligation_id)
    follow_up = bool(FollowUpForm().follow_up.data)
    ok, notice = commit_or_flash(lambda: services.generate_notice(obligation, current_user, follow_up=follow_up))
    if not ok:
        return redirect(url_for("deadlines.obligation", obligation_id=obligation.id))
    for line in services.missing_items(services.notice_checklist(notice), notice.language):
        flash(line, "error")
    return redirect(url_for("notices.notice", notice_id=notice.id))


@bp.get("/notices/<int:notice_id>")
@allow(EVERYONE)
def notice(notice_id: int):
    found = db.get_or_404(Notice, notice_id)
    acknowledgement = db.session.scalar(select(Acknowledgement).where(Acknowledgement.notice_id == found.id))
    later = db.session.scalar(select(func.max(Notice.sequence)).where(Notice.obligation_id == found.obligation_id))
    stale = found.status == NoticeStatus.APPROVED and later == found.sequence and _impact_moved(found)
    checks, refused, held = [], None, []
    if found.status == NoticeStatus.DRAFT:
        try:
            checks = services.notice_checklist(found)
        except DomainError as error:
            refused = str(error)
        if can("notices.review_one"):
            held = services.holds([found], current_user, now_utc())[found.id]
    return render_template(
        "notices/notice.html",
        notice=found,
        snapshot=db.session.get(ImpactSnapshot, found.snapshot_id) if found.snapshot_id else None,
        checks=checks,
        checklist_refused=refused,
        held=held,
        acknowledgement=acknowledgement,
        follow_up_form=FollowUpForm(),
        resend_form=ResendForm(),
        offer_follow_up=stale,
    )


def _impact_moved(found: Notice) -> bool:
    """Whether the impact changed for this recipient since the notice was written: then offer a follow-up."""
    from breachdesk.impact.services import current_snapshot

    snapshot = current_snapshot(found.incident_id)
    if snapshot is None or snapshot.id == found.snapshot_id:
        return False
    return bool(services.changes_since(found, found.obligation, snapshot))


@bp.get("/notices/<int:notice_id>/html")
@allow(EVERYONE)
def notice_html(notice_id: int):
    """The e-mail's HTML part exactly as the outbox sends it (notices/layout.py), sandboxed: no script, no
    request to anywhere."""
    found = db.get_or_404(Notice, notice_id)
    response = Response(
        layout.email_html(
            subject=found.subject,
            html_body=found.html_body,
            text_body=found.text_body,
            language=found.language,
            organisation=found.sender_name,
        ),
        mimetype="text/html",
    )
    response.headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    return response


@bp.get("/notices/<int:notice_id>/document")
@allow(PRIVACY_TEAM)
def document(notice_id: int):
    """Print-ready: the notice's text version as a document (the very text, so the two cannot diverge)."""
    found = db.get_or_404(Notice, notice_id)
    return render_template("notices/document.html", notice=found, printed_at=now_utc())


@bp.route("/notices/<int:notice_id>/edit", methods=["GET", "POST"])
@allow(PRIVACY_TEAM)
def edit(notice_id: int):
    found = db.get_or_404(Notice, notice_id)
    form = NoticeEditForm(obj=found)
    if form.validate_on_submit():
        ok, _ = commit_or_flash(
            lambda: services.edit_notice(
                found, form.subject.data, form.text_body.data, form.html_body.data or "", current_user
            ),
            "Notice saved.",
        )
        if ok:
            return redirect(url_for("notices.notice", notice_id=found.id))
    return render_template("notices/edit.html", notice=found, form=form)


@bp.get("/notices/<int:notice_id>/review")
@allow(PRIVACY_TEAM)
def review_one(notice_id: int):
    """One draft before it is approved and sent, and the confirmation."""
    found = db.get_or_404(Notice, notice_id)
    if found.status != NoticeStatus.DRAFT:
        flash("This notice is approved already: it is frozen.", "info")
        return redirect(url_for("notices.notice", notice_id=found.id))
    reviewed = review.of_notice(found.id, current_user, now_utc())
    return _review_page(
        reviewed,
        list(reviewed.drafts.values()),
        None,
        found.obligation.incident,
        url_for("notices.approve", notice_id=found.id),
        url_for("notices.notice", notice_id=found.id),
    )


@bp.post("/notices/<int:notice_id>/approve")
@allow(PRIVACY_TEAM)
def approve(notice_id: int):
    """The confirmation of one draft's review: approves it as it was reviewed, or nothing."""
    found = db.get_or_404(Notice, notice_id)
    reviewed = _confirmed(review.of_notice, found.id)
    if reviewed is None:
        return redirect(url_for("notices.review_one", notice_id=found.id))
    done = services.approve_reviewed(found.incident_id, reviewed.reviewed(), current_user, NoProgress())
    if not done.approved:
        flash("Nothing was approved: the draft changed while approving it. Review it again.", "error")
        return redirect(url_for("notices.review_one", notice_id=found.id))
    if done.queued:
        flash(f"Approved; {done.queued} e-mail(s) queued.", "info")
    else:
        flash(
            "Approved. It has no e-mail recipient: submit it yourself, then record it as sent with its reference.",
            "info",
        )
    return redirect(url_for("notices.notice", notice_id=found.id))


@bp.post("/outbox/<int:message_id>/resend")
@allow(PRIVACY_TEAM)
def resend_message(message_id: int):
    message = db.get_or_404(OutboxMessage, message_id)
    form = ResendForm()
    try:
        if not form.validate_on_submit():
            raise _problems_of(form)
        copy = resend(message, form.recipient.data.strip())
    except ValidationFailed as error:
        flash_problems(error)
    else:
        record(
            db.session,
            "outbox.resend",
            "outbox_messages",
            message.id,
            after={"copy": copy.id, "recipient": copy.recipient},
        )
        db.session.commit()
        flash(f"Queued again, to {copy.recipient}.", "info")
    back = (
        url_for("notices.notice", notice_id=message.notice_id) if message.notice_id else url_for("dashboard.dashboard")
    )
    return redirect(request.referrer or back)


# --- templates --------------------------------------------------------------------------------------------


def _written_by(kind: str, language: str) -> list[str]:
    """The rules whose notices in `language` the template writes: one rule, or every rule naming a shared one."""
    return [r.id for r in shipped_rules() if rendering.template_kind(r, language) == kind]


@bp.get("/settings/templates")
@allow(ADMINS)
def templates():
    versions = dict(
        ((k, lang), v)
        for k, lang, v in db.session.execute(
            select(NoticeTemplate.kind, NoticeTemplate.language, func.max(NoticeTemplate.version)).group_by(
                NoticeTemplate.kind, NoticeTemplate.language
            )
        ).all()
    )
    return render_template(
        "notices/templates.html",
        rules=shipped_rules(),
        # the template each rule writes with in each language: its own, or the shared one it names
        shipped={
            (r.id, lang): kind
            for r in shipped_rules()
            for lang in LANGUAGES
            if rendering.has_default(kind := rendering.template_kind(r, lang), lang)
        },
        labels=RECIPIENT_KIND_LABELS,
        languages=LANGUAGES,
        versions=versions,
    )


def _kind_and_language(kind: str, language: str) -> Rule:
    """A rule's template, or a shared one (the first rule naming it stands for them), in a language it is shipped
    in: no other exists."""
    found = next((r for r in shipped_rules() if kind in (r.id, r.template)), None)
    if found is None or language not in LANGUAGES or not rendering.has_default(kind, language):
        abort(404)
    return found


@bp.route("/settings/templates/<kind>/<language>", methods=["GET", "POST"])
@allow(ADMINS)
def template_edit(kind: str, language: str):
    rule = _kind_and_language(kind, language)
    version, source = services.current_template(kind, language)
    form = TemplateForm(source=source)
    problems: list[str] = []
    if form.validate_on_submit():
        try:
            saved = services.save_template(kind, language, form.source.data, form.note.data or "", current_user)
        except ValidationFailed as error:
            db.session.rollback()
            problems = error.problems
        else:
            db.session.commit()
            flash(f"Template saved as version {saved.version}.", "info")
            return redirect(url_for("notices.template_edit", kind=kind, language=language))
    history = db.session.scalars(
        select(NoticeTemplate)
        .where(NoticeTemplate.kind == kind, NoticeTemplate.language == language)
        .order_by(NoticeTemplate.version.desc())
    ).all()
    samples = db.session.scalars(
        select(Obligation)
        .where(Obligation.status != ObligationStatus.NOT_REQUIRED, Obligation.rule_id.in_(_written_by(kind, language)))
        .order_by(Obligation.id.desc())
        .limit(30)
    ).all()
    return render_template(
        "notices/template_edit.html",
        kind=kind,
        rule=rule,
        shared=kind != rule.id,
        language=language,
        version=version,
        form=form,
        problems=problems,
        history=history,
        variables=rendering.VARIABLES,
        samples=samples,
    )


@bp.post("/settings/templates/<kind>/<language>/preview")
@allow(ADMINS)
def template_preview(kind: str, language: str):
    """Live preview: the source as typed, against a real obligation or the sample; nothing is saved."""
    _kind_and_language(kind, language)
    source = request.form.get("source", "")
    chosen = request.form.get("obligation", type=int) or 0
    obligation = db.session.get(Obligation, chosen) if 1 <= chosen <= MAX_ROW_ID else None
    try:
        rendered = services.preview(source, language, obligation)
    except ValidationFailed as error:
        return jsonify({"problems": error.problems}), 422
    return jsonify({"subject": rendered.subject, "text": rendered.text, "html": rendered.html, "problems": []})


@bp.post("/settings/templates/<kind>/<language>/restore/<int:version>")
@allow(ADMINS)
def template_restore(kind: str, language: str, version: int):
    _kind_and_language(kind, language)
    old = db.first_or_404(
        select(NoticeTemplate).where(
            NoticeTemplate.kind == kind, NoticeTemplate.language == language, NoticeTemplate.version == version
        )
    )
    saved = services.save_template(kind, language, old.source, f"restored version {version}", current_user)
    db.session.commit()
    flash(f"Version {version} restored as version {saved.version}.", "info")
    return redirect(url_for("notices.template_edit", kind=kind, language=language))


# --- public: acknowledgement and the provider's webhook -------------------------------------------------------


#: the page of a refused link, said in the notice's language, or in each language when the link names none
REFUSED = Label("acknowledgement page", "This link cannot be used")
NOTHING_RECORDED = Label("acknowledgement page", "Nothing was recorded.")


@bp.route("/ack/<token>", methods=["GET", "POST"])
@allow(PUBLIC)
@csrf.exempt  # the form checks its own token, so a stale form is answered here, in the reader's language
def acknowledge(token: str):
    """The customer's page: in the notice's language, under the organisation's name, times on the customer's
    clock with UTC beside them, the notice as it was sent."""
    try:
        found = services.notice_of_token(token)
    except services.LinkRefused as error:
        return _refused(error), 400
    use_language(found.language)
    existing = db.session.scalar(select(Acknowledgement).where(Acknowledgement.notice_id == found.id))
    form = AcknowledgeForm()
    if existing is None and form.validate_on_submit():
        existing = Acknowledgement(
            notice_id=found.id,
            name=form.name.data.strip(),
            acknowledged_at=now_utc(),
            ip_address=request.remote_addr or "",
            user_agent=(request.user_agent.string or "")[:300],
        )
        db.session.add(existing)
        obligation = found.obligation
        if obligation.status == ObligationStatus.PENDING:
            mark_sent(obligation, services.first_sent(obligation) or existing.acknowledged_at)
        if obligation.status == ObligationStatus.SENT:
            mark_acknowledged(obligation, existing.acknowledged_at)
        db.session.commit()
    zone = _reader_zone(found)
    return render_template(
        "notices/ack.html",
        notice=found,
        form=form,
        form_expired="csrf_token" in form.errors,
        acknowledgement=existing,
        language=found.language,
        organisation=found.sender_name,
        when=lambda instant: localized_instant(instant, zone, found.language),
    )


def _reader_zone(found: Notice) -> str:
    """The customer's clock, the one the notice itself reads."""
    obligation = found.obligation
    customer = db.session.get(Customer, obligation.customer_id) if obligation.customer_id else None
    return services.zone_for(obligation, customer, db.session.get(Organisation, 1))


def _refused(error: services.LinkRefused) -> str:
    """In the language of the notice the link names; when it names none, in each language notices are written
    in, under today's name of the organisation."""
    named = error.notice
    languages = [named.language] if named is not None else list(LANGUAGES)
    organisation = named.sender_name if named is not None else db.session.scalar(select(Organisation.name))
    sections = [
        {
            "language": language,
            "title": REFUSED.translated(language),
            "reason": error.reason.translated(language),
            "nothing_recorded": NOTHING_RECORDED.translated(language),
        }
        for language in languages
    ]
    return render_template(
        "notices/ack_refused.html", sections=sections, language=languages[0], organisation=organisation or ""
    )


@bp.post("/webhooks/sendgrid")
@allow(PUBLIC)
@csrf.exempt
def sendgrid_webhook():
    payload = request.get_data(as_text=True)
    if not verified(
        payload,
        request.headers.get(SIGNATURE_HEADER),
        request.headers.get(TIMESTAMP_HEADER),
        current_app.config["SENDGRID_WEBHOOK_PUBLIC_KEY"],
        current_app.config["SENDGRID_WEBHOOK_MAX_AGE_SECONDS"],
        now_utc(),
    ):
        return jsonify({"error": "signature: missing or invalid"}), 403
    try:
        counts = record_events(request.get_json(force=True, silent=True))
    except ValidationFailed as error:
        db.session.rollback()
        return jsonify({"error": str(error), "problems": error.problems}), 400
    db.session.commit()
    return jsonify(counts)


@incident_page.connect
def _incident_page(incident: Incident) -> dict:
    """The incident page warns of notice e-mails that did not arrive."""
    return {"undelivered": services.undelivered_count(incident.id)}


@obligation_page.connect
def _obligation_page(obligation: Obligation) -> dict:
    """An obligation's page lists the notices written for it."""
    return {
        "notices": db.session.scalars(
            select(Notice).where(Notice.obligation_id == obligation.id).order_by(Notice.sequence)
        ).all()
    }
