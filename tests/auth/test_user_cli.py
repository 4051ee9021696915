"""`breachdesk user ...` commands."""

from sqlalchemy import select

from breachdesk.audit.models import AuditEvent
from breachdesk.auth.models import Role, User
from breachdesk.extensions import db

GOOD = "a-Sturdy-passphrase-9"


def test_create_list_set_role_disable(runner):
    result = runner.invoke(
        args=["user", "create", "dana", "--email", "dana@example.com", "--role", "responder", "--password", GOOD]
    )
    assert result.exit_code == 0, result.output
    assert "dana\tresponder\tactive\tdana@example.com" in runner.invoke(args=["user", "list"]).output
    assert runner.invoke(args=["user", "set-role", "dana", "privacy"]).exit_code == 0
    assert runner.invoke(args=["user", "disable", "dana"]).exit_code == 0
    user = db.session.scalar(select(User).where(User.username == "dana"))
    assert user.role == Role.PRIVACY and not user.is_active
    actors = {e.actor for e in db.session.scalars(select(AuditEvent).where(AuditEvent.entity_type == "users"))}
    assert actors == {"cli"}


def test_weak_password_and_unknown_user_are_clear_errors(runner):
    weak = runner.invoke(
        args=["user", "create", "eve", "--email", "e@example.com", "--role", "viewer", "--password", "password"]
    )
    assert weak.exit_code == 1 and "needs at least 12 characters" in weak.output and "a digit" in weak.output
    assert db.session.scalar(select(User)) is None
    missing = runner.invoke(args=["user", "disable", "ghost"])
    assert missing.exit_code == 1 and "no user named 'ghost'" in missing.output


def test_a_users_alert_language_is_unknown_until_set_and_only_a_written_one_is_taken(runner):
    args = ["user", "create", "lea", "--email", "lea@example.com", "--role", "privacy", "--password", GOOD]
    assert runner.invoke(args=args).exit_code == 0
    assert (
        runner.invoke(
            args=[
                *args[:2],
                "max",
                "--email",
                "m@example.com",
                "--role",
                "privacy",
                "--language",
                "fr",
                "--password",
                GOOD,
            ]
        ).exit_code
        == 0
    )
    languages = dict(db.session.execute(select(User.username, User.language)).all())
    assert languages == {"lea": None, "max": "fr"}
    assert runner.invoke(args=["user", "set-language", "lea", "fr"]).output == "lea reads alerts in fr\n"
    refused = runner.invoke(args=["user", "set-language", "lea", "de"])
    assert refused.exit_code == 2 and "'de' is not one of 'en', 'fr'" in refused.output
    db.session.expire_all()
    assert db.session.scalar(select(User.language).where(User.username == "lea")) == "fr"
