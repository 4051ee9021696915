"""Notice forms: the statement for recipients, editing a draft, confirming a review, resending to another contact,
acknowledging, editing a template."""

from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange
from wtforms.widgets import HiddenInput

from breachdesk.deadlines.rules import Fact
from breachdesk.notices.review import Confirmation
from breachdesk.notices.statements import MAX_LENGTH


class NoticeEditForm(FlaskForm):
    subject = StringField("Subject", validators=[DataRequired(), Length(max=300)])
    text_body = TextAreaField("Text", validators=[DataRequired(), Length(max=200_000)])
    html_body = TextAreaField("HTML", validators=[Length(max=400_000)])


def statement_form(facts: list[Fact], written: dict[str, str]) -> FlaskForm:
    """The statement's parts the incident's duties need, one text area each, labelled from the facts table;
    what is written shows as text (the page escapes it) and is never evaluated."""

    class StatementForm(FlaskForm):
        pass

    for fact in facts:
        setattr(StatementForm, fact.id, TextAreaField(fact.label, validators=[Length(max=MAX_LENGTH)]))
    return StatementForm(data={fact.id: written.get(fact.id, "") for fact in facts})


def _count() -> IntegerField:
    return IntegerField(widget=HiddenInput(), validators=[InputRequired(), NumberRange(min=0, max=10**9)])


class ApprovalForm(FlaskForm):
    """The one confirmation before notices leave. It carries back what the person reviewed (review.Confirmation):
    approval refuses, changing nothing, when that is no longer what would be approved."""

    confirmed = BooleanField(
        "I have reviewed the recipients, addresses, languages, rules, checklists and due times of these notices",
        validators=[DataRequired("Tick “I have reviewed …” to approve: nothing was approved.")],
    )
    fingerprint = HiddenField(validators=[DataRequired(), Length(min=64, max=64)])
    drafts = _count()
    approvable = _count()
    emails = _count()

    def seen(self) -> Confirmation:
        return Confirmation(self.fingerprint.data, self.drafts.data, self.approvable.data, self.emails.data)


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
