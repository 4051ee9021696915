"""Incident forms. Times are typed as wall-clock time in a chosen zone and stored in UTC."""

from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from breachdesk.core.forms import TimeZoneField
from breachdesk.incidents.models import STATUS_LABELS, Cause, IncidentStatus, Nature
from breachdesk.inventory.taxonomy import data_categories

TRISTATE = {"": "unknown", "yes": "yes", "no": "no"}
WHEN_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]


class IncidentForm(FlaskForm):
    """The intake: the first five fields are enough; the rest can wait."""

    title = StringField("What happened", validators=[DataRequired(), Length(max=200)])
    aware_at = DateTimeLocalField("When we became aware", format=WHEN_FORMATS, validators=[DataRequired()])
    time_zone = TimeZoneField("Time zone of the times above", validators=[DataRequired(), Length(max=64)])
    systems = SelectMultipleField("Affected systems", choices={}, validators=[DataRequired()])
    nature = SelectMultipleField("Nature", choices={n.value: n.value for n in Nature})
    description = TextAreaField("Short description", validators=[Length(max=20000)])
    detected_at = DateTimeLocalField("Detected at", format=WHEN_FORMATS, validators=[Optional()])
    occurred_from = DateTimeLocalField("Occurred from", format=WHEN_FORMATS, validators=[Optional()])
    occurred_to = DateTimeLocalField("Occurred until", format=WHEN_FORMATS, validators=[Optional()])
    cause = SelectField("Cause", choices={"": "not known yet"} | {c.value: c.value.replace("_", " ") for c in Cause})
    data_categories = SelectMultipleField("Only these data categories were touched", choices={})
    encrypted = SelectField("Data encrypted?", choices=TRISTATE)
    key_compromised = SelectField("Key compromised?", choices=TRISTATE)
    containment = TextAreaField("Containment actions", validators=[Length(max=20000)])
    owner_id = SelectField("Owner", choices={}, validators=[Optional()])
    reason = StringField("Reason for changing the time of awareness", validators=[Length(max=1000)])

    def __init__(self, *args, system_choices=(), owner_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.systems.choices = dict(system_choices)
        self.owner_id.choices = {"": "—"} | {str(i): name for i, name in owner_choices}
        self.data_categories.choices = {k: f"{k} — {v}" for k, v in data_categories().items()}


class StatusForm(FlaskForm):
    status = SelectField("Status", choices={s.value: STATUS_LABELS[s].english for s in IncidentStatus})
    reason = StringField("Reason (to reopen, or to close with duties pending)", validators=[Length(max=1000)])


class NoteForm(FlaskForm):
    text = TextAreaField("Add a note", validators=[DataRequired(), Length(max=20000)])
