"""Notice forms: editing a draft, resending to another contact, acknowledging, editing a template."""

from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length


class NoticeEditForm(FlaskForm):
    subject = StringField("Subject", validators=[DataRequired(), Length(max=300)])
    text_body = TextAreaField("Text", validators=[DataRequired(), Length(max=200_000)])
    html_body = TextAreaField("HTML", validators=[Length(max=400_000)])


class ResendForm(FlaskForm):
    recipient = EmailField("Send to", validators=[DataRequired(), Email(check_deliverability=False), Length(max=254)])


class FollowUpForm(FlaskForm):
    follow_up = HiddenField(default="1")


class AcknowledgeForm(FlaskForm):
    """On the customer's page, in the customer's language (WTForms' own messages come in it too)."""

    name = StringField(
        lazy_gettext("Your name"), validators=[DataRequired(), Length(max=200)], render_kw={"autocomplete": "name"}
    )


class TemplateForm(FlaskForm):
    source = TextAreaField(
        "Template (Jinja: blocks subject, text, html)", validators=[DataRequired(), Length(max=200_000)]
    )
    note = StringField("What changed", validators=[Length(max=300)])
