"""Inventory forms. They carry CSRF and render fields; the rules themselves live in fileformat/rules."""

import re

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField
from wtforms import (
    BooleanField,
    EmailField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from breachdesk.core.errors import ValidationFailed
from breachdesk.core.forms import TimeZoneField
from breachdesk.inventory.fileformat import MAX_COUNT, MAX_NOTICE_HOURS, MAX_RETENTION_DAYS
from breachdesk.inventory.models import ContactRole, Language, LegalBasis, NoticeTerms, OurRole
from breachdesk.inventory.regions import MAX_LENGTH
from breachdesk.inventory.taxonomy import data_categories, data_subject_categories


def _choices(kind, blank: bool = False) -> dict[str, str]:
    """WTForms' {value: label} shorthand (tuples are deprecated)."""
    return ({"": "—"} if blank else {}) | {m.value: m.value.replace("_", " ") for m in kind}


def split_keys(text: str) -> list[str]:
    return [k for k in re.split(r"[\s,]+", text or "") if k]


class ContactForm(Form):
    role = SelectField("Role", choices=_choices(ContactRole))
    name = StringField("Name", validators=[Length(max=200)])
    email = EmailField("Email", validators=[Length(max=254)])


class CustomerForm(FlaskForm):
    key = StringField(
        "Key",
        validators=[DataRequired(), Length(max=64)],
        description="Stable identifier used by imports and the API; cannot change later.",
    )
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    country = StringField("Country (ISO code)", validators=[DataRequired(), Length(min=2, max=2)])
    language = SelectField("Notice language", choices=_choices(Language))
    time_zone = TimeZoneField("Time zone", default="UTC", validators=[DataRequired(), Length(max=64)])
    notice_terms = SelectField("Notice terms", choices=_choices(NoticeTerms))
    notice_hours = IntegerField(
        "Notice deadline (hours after we become aware)",
        default=24,
        validators=[InputRequired(), NumberRange(min=1, max=MAX_NOTICE_HOURS)],
    )
    hipaa_covered_entity = BooleanField(
        "HIPAA covered entity",
        description="We signed a business associate agreement with it: HIPAA breach notices are owed to it.",
    )
    financial_entity = BooleanField(
        "DORA financial entity", description="We serve it as an ICT third-party service provider under DORA."
    )
    contacts = FieldList(FormField(ContactForm), min_entries=1, max_entries=10)


class SystemForm(FlaskForm):
    key = StringField("Key", validators=[DataRequired(), Length(max=64)])
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    is_subprocessor = BooleanField("Run by a sub-processor")
    vendor = StringField("Vendor", validators=[Length(max=200)])
    hosting_country = StringField("Hosting country (ISO code)", validators=[Optional(), Length(min=2, max=2)])
    hosting_region = StringField("Hosting region", validators=[Length(max=100)])
    encrypted_at_rest = BooleanField("Encrypted at rest")
    description = TextAreaField("Description", validators=[Length(max=5000)])


class ActivityForm(FlaskForm):
    key = StringField("Key", validators=[DataRequired(), Length(max=64)])
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    role = SelectField("Our role", choices=_choices(OurRole))
    purpose = TextAreaField("Purpose", validators=[Length(max=5000)])
    legal_basis = SelectField("Legal basis (Art. 6)", choices=_choices(LegalBasis, blank=True))
    retention_days = IntegerField(
        "Retention (days)",
        validators=[Optional(), NumberRange(min=0, max=MAX_RETENTION_DAYS)],
        description="Empty: kept while the relationship lasts (explain below).",
    )
    retention_note = StringField("Retention note", validators=[Length(max=300)])
    systems = SelectMultipleField("Systems", choices={})
    customers = TextAreaField(
        "Customers (keys, for processor activities)",
        description="One key per line or separated by commas. A customer with volume rows in "
        "this activity stays linked to it.",
    )
    data_categories = SelectMultipleField("Data categories (Fides)", choices={})
    data_subject_categories = SelectMultipleField("Data subject categories (Fides)", choices={})
    transfers = TextAreaField("Transfers outside the EEA", description="One per line: COUNTRY: safeguard")

    def __init__(self, *args, system_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.systems.choices = dict(system_choices)
        self.data_categories.choices = {k: f"{k} — {v}" for k, v in data_categories().items()}
        self.data_subject_categories.choices = dict(data_subject_categories())


class VolumeForm(FlaskForm):
    customer = StringField("Customer key (empty for controller activities)", validators=[Length(max=64)])
    activity = SelectField("Activity", choices={})
    data_subject_category = SelectField("Data subject category", choices={})
    region = StringField(
        "Where they live (ISO code)",
        validators=[Length(max=MAX_LENGTH)],
        description="A country (FR) or a subdivision (US-TX), or “unknown”. Empty: the customer's country, or ours "
        "for our own activities.",
    )
    data_subjects = IntegerField("Data subjects", validators=[InputRequired(), NumberRange(min=0, max=MAX_COUNT)])
    records = IntegerField("Records", validators=[InputRequired(), NumberRange(min=0, max=MAX_COUNT)])

    def __init__(self, *args, activity_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.activity.choices = dict(activity_choices)
        self.data_subject_category.choices = dict(data_subject_categories())


class ImportForm(FlaskForm):
    structure = FileField(
        "Inventory file (YAML or JSON, ours or a Fides manifest)",
        validators=[FileAllowed(["yaml", "yml", "json"], "a .yaml, .yml or .json file")],
    )
    volumes = FileField("Volumes (CSV)", validators=[FileAllowed(["csv"], "a .csv file")])


class OrganisationForm(FlaskForm):
    """Who we are, for the deadline rules. Maps are typed one "Regime: value" per line."""

    name = StringField("Organisation name", validators=[DataRequired(), Length(max=200)])
    country = StringField("Country (ISO code)", validators=[DataRequired(), Length(min=2, max=2)])
    lead_supervisory_authority = StringField("Lead supervisory authority (GDPR Art. 56)", validators=[Length(max=200)])
    regimes = SelectMultipleField(
        "Regimes we are subject to", choices={}, description="A regime not ticked produces no obligation."
    )
    authorities = TextAreaField(
        "Receiving authority per regime, where the rules name none",
        description="One per line, e.g. “NIS2: CERT-FR (ANSSI)”",
        validators=[Length(max=5000)],
    )
    entity_status = TextAreaField(
        "Our entity status per regime (NIS2, DORA, HIPAA, LGPD)",
        description="One per line, e.g. “NIS2: important”; “LGPD: small-scale processing agent” doubles LGPD's periods",
        validators=[Length(max=5000)],
    )
    undue_delay_target_hours = IntegerField(
        "Internal target for “without undue delay” (hours)",
        default=72,
        validators=[InputRequired(), NumberRange(min=1, max=MAX_NOTICE_HOURS)],
    )
    dpo_name = StringField("Data protection officer (named in notices)", validators=[Length(max=200)])
    dpo_email = StringField("DPO e-mail", validators=[Length(max=254)])

    def __init__(self, *args, regime_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.regimes.choices = {r: r for r in regime_choices}


def regime_lines(field: str, text: str) -> dict[str, str]:
    """ "Regime: value" lines as a mapping; a malformed line is refused naming its number."""
    found: dict[str, str] = {}
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        regime, sep, value = line.partition(":")
        if not sep or not regime.strip() or not value.strip():
            raise ValidationFailed([f"{field} line {number}: expected “Regime: value”, got {line.strip()!r}"])
        found[regime.strip()] = value.strip()
    return found


def as_lines(mapping: dict[str, str]) -> str:
    return "\n".join(f"{k}: {v}" for k, v in sorted(mapping.items()))
