"""Account services: create, change role, disable, authenticate. Callers commit."""

import logging
from datetime import timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app
from sqlalchemy import select

from breachdesk.audit.services import acting_as, record
from breachdesk.auth.models import Role, User
from breachdesk.auth.policy import password_problems
from breachdesk.core.clock import now_utc
from breachdesk.core.errors import DomainError, NotFound, ValidationFailed
from breachdesk.extensions import db

log = logging.getLogger(__name__)


def user_by_name(username: str) -> User:
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"no user named {username!r}")
    return user


def check_time_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationFailed([f"time_zone: unknown IANA time zone {name!r}"]) from None
    return name


def create_user(
    username: str, email: str, password: str, role: Role, time_zone: str = "UTC", language: str | None = None
) -> User:
    problems = [f"password: needs {p}" for p in password_problems(password, (username, email))]
    if db.session.scalar(select(User.id).where(User.username == username)):
        problems.append(f"username: {username!r} is taken")
    if problems:
        raise ValidationFailed(problems)
    user = User(
        username=username, email=email, role=Role(role), time_zone=check_time_zone(time_zone), language=language
    )
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def change_password(user: User, password: str) -> None:
    problems = password_problems(password, (user.username, user.email))
    if problems:
        raise ValidationFailed([f"password: needs {p}" for p in problems])
    user.set_password(password)
    user.end_sessions()  # whoever held the old password's sessions is out


def set_role(user: User, role: Role) -> None:
    if user.role != Role(role):
        user.role = Role(role)
        user.end_sessions()  # a session carries no role of its own, but a new role starts afresh


def disable_user(user: User) -> None:
    if user.disabled_at is None:
        user.disabled_at = now_utc()
        user.end_sessions()


def enable_user(user: User) -> None:
    user.disabled_at = None


def authenticate(username: str, password: str) -> User:
    """Check credentials and record the attempt either way; the same error for every failure. The caller
    commits on failure too, so that the attempt and the count towards a lockout are kept."""
    user = db.session.scalar(select(User).where(User.username == username))
    reason = _refusal(user, password)
    if reason:
        record(db.session, "login.failed", "users", username[:200], after={"reason": reason})
        log.warning("login failed (%s)", reason)  # no username: it is personal data
        raise DomainError("Unknown user name or wrong password.")
    with acting_as(f"user:{user.username}", user.id):  # not yet logged in, but it is this user acting
        user.failed_logins = 0
        record(db.session, "login.success", "users", user.username)
    log.info("login succeeded for user id %s", user.id)
    return user


def _refusal(user: User | None, password: str) -> str | None:
    """Why a login is refused, or None. A locked account is refused even with the right password; the
    LOGIN_LOCK_AFTER-th wrong one in a row locks it for LOGIN_LOCK_MINUTES, whoever is guessing from where."""
    if user is None:
        return "unknown user"
    if not user.is_active:
        return "disabled"
    now = now_utc()
    if user.locked_until is not None and user.locked_until > now:
        return "locked"
    if user.check_password(password):
        return None
    user.failed_logins += 1
    if user.failed_logins >= current_app.config["LOGIN_LOCK_AFTER"]:
        user.locked_until = now + timedelta(minutes=current_app.config["LOGIN_LOCK_MINUTES"])
        user.failed_logins = 0
        return "bad password; account locked"
    return "bad password"


def session_user(session_id: str) -> User | None:
    """The user a session names (`User.get_id()`: id and session version), while the session is still theirs:
    none after logout, a new password or role, or a disabled account."""
    user_id, _, version = session_id.partition(".")
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    if user is None or not user.is_active or version != str(user.session_version):
        return None
    return user
