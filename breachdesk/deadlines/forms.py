"""Forms recording what happened to an obligation, and the facts that start clocks."""

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import request
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from breachdesk.core.clock import AmbiguousTime, local_to_utc, now_utc
from breachdesk.core.errors import ValidationFailed
from breachdesk.core.forms import TimeZoneField
from breachdesk.deadlines.rules import RECIPIENT_KIND_LABELS, shipped_rules
from breachdesk.deadlines.services import EVENT_KINDS
from breachdesk.incidents.forms import WHEN_FORMATS


class WhenForm(FlaskForm):
    """A wall-clock time in a zone; the view turns it into UTC and refuses the DST gap and fold."""

    at = DateTimeLocalField("When", format=WHEN_FORMATS, validators=[DataRequired()])
    time_zone = TimeZoneField("Time zone", validators=[DataRequired(), Length(max=64)])


class SentForm(WhenForm):
    reference = StringField("Reference (the authority's number, the message id ...)", validators=[Length(max=200)])


class AcknowledgedForm(WhenForm):
    pass


class EventForm(WhenForm):
    kind = SelectField("Fact", choices={k: k.replace("_", " ") for k in sorted(EVENT_KINDS)})
    stage = SelectField("Stage filed (for “stage filed”)", validators=[Optional()])
    note = TextAreaField("Note (required for a negative determination)", validators=[Length(max=20000)])
    reference = StringField("Reference", validators=[Length(max=200)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.stage.choices = {"": "—"} | {
            r.id: f"{r.regime}: {r.stage} to the {RECIPIENT_KIND_LABELS[r.recipient_kind].english}"
            for r in shipped_rules()
        }


def when_utc(form: WhenForm) -> datetime:
    try:
        return local_to_utc(form.at.data, form.time_zone.data, "at", request.form.get("at_instant", ""))
    except AmbiguousTime as error:  # the daylight-saving gap or fold: the page offers the instants it may mean
        form.at.offers = error.choices
        raise ValidationFailed([str(error)]) from None
    except ValueError as error:
        raise ValidationFailed([str(error)]) from None


def when_form(form_class: type[WhenForm]) -> WhenForm:
    """A fresh form prefilled with now in the viewer's zone (usually the time being recorded); the browser's zone
    replaces the viewer's when they differ (forms.js)."""
    form = form_class(formdata=None)
    form.time_zone.data = current_user.time_zone
    form.time_zone.from_browser = True
    form.at.render_kw = {"data-local-now": ""}
    form.at.data = now_utc().astimezone(ZoneInfo(current_user.time_zone)).replace(tzinfo=None, second=0, microsecond=0)
    return form
