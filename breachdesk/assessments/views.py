"""The assessment page of an incident: ENISA aid, exemptions, and the decision a person takes; the
assessment's part of the incident page."""

from fractions import Fraction

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from breachdesk.assessments import levels, services
from breachdesk.assessments.forms import AssessmentForm
from breachdesk.assessments.models import Assessment
from breachdesk.core.access import PRIVACY_TEAM, allow
from breachdesk.core.errors import ValidationFailed
from breachdesk.core.signals import incident_page
from breachdesk.core.web import flash_problems
from breachdesk.extensions import db
from breachdesk.incidents.models import Incident

bp = Blueprint("assessments", __name__, url_prefix="/incidents")


def _prefilled(incident: Incident) -> AssessmentForm:
    assessment = services.assessment_of(incident.id)
    form = AssessmentForm()
    if assessment is None:
        form.dpc_category.data = services.prefilled_category(incident) or "simple"
        for loss in incident.nature:
            form[f"cb_{loss}"].data = "0.25"
        form.malicious.data = incident.cause is not None and incident.cause.value == "external_attack"
        form.exemptions.data = ["unintelligible"] if incident.encrypted and incident.key_compromised is False else []
        return form
    form.dpc_category.data = assessment.dpc_category or services.CATEGORY_OF_SENSITIVITY[assessment.dpc]
    form.dpc_adjustment.data = str(assessment.dpc_adjustment)
    form.dpc_reason.data = assessment.dpc_reason
    form.ei.data = assessment.ei
    form.cb_confidentiality.data = assessment.cb_confidentiality
    form.cb_integrity.data = assessment.cb_integrity
    form.cb_availability.data = assessment.cb_availability
    form.malicious.data = assessment.malicious
    form.exemptions.data = assessment.exemptions
    form.decision_authority.data = assessment.decision_authority.value
    form.decision_data_subjects.data = assessment.decision_data_subjects.value
    form.rationale.data = assessment.rationale
    return form


@bp.route("/<int:incident_id>/assessment", methods=["GET", "POST"])
@allow(PRIVACY_TEAM)
def assess(incident_id: int):
    incident = db.get_or_404(Incident, incident_id)
    form = AssessmentForm() if request.method == "POST" else _prefilled(incident)
    if form.validate_on_submit():
        try:
            services.save_assessment(incident, form.as_input(), current_user)
        except ValidationFailed as error:
            db.session.rollback()
            flash_problems(error, form)
        else:
            db.session.commit()
            flash("Assessment saved; obligations updated.", "info")
            return redirect(url_for("incidents.show", incident_id=incident.id) + "#obligations")
    assessment = services.assessment_of(incident.id)
    return render_template(
        "assessments/form.html",
        incident=incident,
        form=form,
        current=services.as_dict(assessment, incident) if assessment else None,
        arithmetic=_arithmetic(assessment) if assessment else "",
        levels=levels,
    )


def _arithmetic(assessment: Assessment) -> str:
    """The stored score, worked out in words from the stored inputs."""
    losses = (assessment.cb_confidentiality, assessment.cb_integrity, assessment.cb_availability)
    return levels.arithmetic_in_words(
        assessment.dpc, Fraction(assessment.ei), tuple(Fraction(v) for v in losses), assessment.malicious
    )


@incident_page.connect
def _incident_page(incident: Incident) -> dict:
    """The incident page's assessment, as the API shows it."""
    assessment = services.assessment_of(incident.id)
    return {"assessment": services.as_dict(assessment, incident) if assessment else None}
