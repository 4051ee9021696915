"""The assessment form: ENISA inputs, Art. 34(3) exemptions, and the decision per recipient kind."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, SelectMultipleField, TextAreaField
from wtforms.validators import Length
from wtforms.widgets import CheckboxInput, ListWidget

from breachdesk.assessments import levels
from breachdesk.assessments.models import Decision, Exemption

EI_CHOICES = {level.value: f"{level.name}: {level.meaning}" for level in levels.EI_LEVELS}


def _cb_choices(loss: str) -> dict[str, str]:
    return {level.value: level.name for level in levels.CB_LEVELS[loss]}


DECISIONS = {d.value: d.value.replace("_", " ") for d in Decision}


class AssessmentForm(FlaskForm):
    dpc_category = SelectField(levels.DPC_NAME, choices={level.value: level.name for level in levels.DPC_LEVELS})
    dpc_adjustment = SelectField(
        "Adjust for context",
        choices={str(n): f"{n:+d}" for n in range(-3, 4)},
        default="0",
        description=levels.DPC_ADJUSTMENT,
    )
    dpc_reason = TextAreaField("Reason for the adjustment", validators=[Length(max=20000)])
    ei = SelectField(levels.EI_NAME, choices=EI_CHOICES, default="0.75")
    cb_confidentiality = SelectField("Loss of confidentiality", choices=_cb_choices("confidentiality"))
    cb_integrity = SelectField("Loss of integrity", choices=_cb_choices("integrity"))
    cb_availability = SelectField("Loss of availability", choices=_cb_choices("availability"))
    malicious = BooleanField("Malicious intent (+0.5)", description=levels.MALICIOUS_MEANING)
    exemptions = SelectMultipleField(
        "Art. 34(3) exemptions",
        choices={e.value: e.value.replace("_", " ") for e in Exemption},
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    decision_authority = SelectField("Supervisory authority", choices=DECISIONS)
    decision_data_subjects = SelectField("Data subjects", choices=DECISIONS)
    rationale = TextAreaField("Rationale (required for “not required”)", validators=[Length(max=20000)])

    def as_input(self) -> dict:
        """The same input the API takes, so both are validated by one service."""
        return {
            "dpc_category": self.dpc_category.data,
            "dpc_adjustment": int(self.dpc_adjustment.data),
            "dpc_reason": self.dpc_reason.data or "",
            "ei": self.ei.data,
            "cb": {
                "confidentiality": self.cb_confidentiality.data,
                "integrity": self.cb_integrity.data,
                "availability": self.cb_availability.data,
                "malicious": bool(self.malicious.data),
            },
            "exemptions": list(self.exemptions.data or []),
            "decision": {
                "authority": self.decision_authority.data,
                "data_subjects": self.decision_data_subjects.data,
                "rationale": self.rationale.data or "",
            },
        }
