"""Forms for logging in and managing accounts."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, Length, Optional, Regexp

from breachdesk.auth.models import Role
from breachdesk.core.forms import TimeZoneField

ROLE_CHOICES = {r.value: r.value for r in Role}


class LoginForm(FlaskForm):
    username = StringField("User name", validators=[DataRequired(), Length(max=80)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


class UserForm(FlaskForm):
    username = StringField(
        "User name",
        validators=[
            DataRequired(),
            Length(max=80),
            Regexp(r"^[A-Za-z0-9_.-]+$", message="letters, digits, . _ - only"),
        ],
    )
    email = EmailField("Email", validators=[DataRequired(), Email(check_deliverability=False), Length(max=254)])
    role = SelectField("Role", choices=ROLE_CHOICES)
    time_zone = TimeZoneField("Time zone", default="UTC", validators=[DataRequired(), Length(max=64)])
    password = PasswordField(
        "Password",
        validators=[Optional(), Length(max=200)],
        description="12+ characters with a letter, a digit and a special character",
    )
    disabled = BooleanField("Disabled")
