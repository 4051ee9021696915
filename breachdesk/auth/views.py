"""Login, logout and user administration pages."""

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from breachdesk.auth import services
from breachdesk.auth.forms import LoginForm, UserForm
from breachdesk.auth.models import User
from breachdesk.core.access import ADMINS, EVERYONE, PUBLIC, allow
from breachdesk.core.errors import DomainError, ValidationFailed
from breachdesk.core.web import flash_problems
from breachdesk.extensions import db, limiter

bp = Blueprint("auth", __name__)


def safe_next(target: str | None) -> str:
    """Only same-origin paths: an open redirect after login is a phishing tool. Browsers read a backslash as a
    slash (`/\\evil.example`), and a control character cannot go into a Location header."""
    if target and target.isprintable() and "\\" not in target:
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and target.startswith("/") and not target.startswith("//"):
            return target
    return url_for("dashboard.landing")


@bp.route("/login", methods=["GET", "POST"])
@allow(PUBLIC)
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.username.data, form.password.data)
        except DomainError as error:
            db.session.commit()  # keep the failed-login audit event
            flash(str(error), "error")
            return render_template("auth/login.html", form=form), 401
        login_user(user)
        db.session.commit()
        return redirect(safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@allow(EVERYONE)
def logout():
    current_user.end_sessions()  # a copy of the cookie, kept or stolen, is worthless from now on
    db.session.commit()
    logout_user()
    flash("Logged out.", "info")
    return redirect(url_for("auth.login"))


@bp.get("/users")
@allow(ADMINS)
def users():
    rows = db.session.scalars(select(User).order_by(User.username)).all()
    return render_template("auth/users.html", users=rows)


@bp.route("/users/new", methods=["GET", "POST"])
@allow(ADMINS)
def user_new():
    form = UserForm()
    if form.validate_on_submit():
        try:
            user = services.create_user(
                form.username.data, form.email.data, form.password.data or "", form.role.data, form.time_zone.data
            )
            if form.disabled.data:
                services.disable_user(user)
        except ValidationFailed as error:
            flash_problems(error, form)
        else:
            db.session.commit()
            flash(f"User {user.username} created.", "info")
            return redirect(url_for("auth.users"))
    form.time_zone.from_browser = True  # a new colleague most likely works where the admin does
    return render_template("auth/user_form.html", form=form, user=None)


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@allow(ADMINS)
def user_edit(user_id: int):
    user = db.get_or_404(User, user_id)
    form = UserForm(obj=user, disabled=user.disabled_at is not None)
    del form.username
    if form.validate_on_submit():
        try:
            user.email = form.email.data
            user.time_zone = services.check_time_zone(form.time_zone.data)
            services.set_role(user, form.role.data)
            if form.password.data:
                services.change_password(user, form.password.data)
            (services.disable_user if form.disabled.data else services.enable_user)(user)
        except ValidationFailed as error:
            flash_problems(error, form)
        else:
            db.session.commit()
            flash(f"User {user.username} saved.", "info")
            return redirect(url_for("auth.users"))
    return render_template("auth/user_form.html", form=form, user=user)
