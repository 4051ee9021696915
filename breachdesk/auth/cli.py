"""`breachdesk user ...`: manage accounts from the shell."""

import click
from flask.cli import AppGroup
from sqlalchemy import select

from breachdesk.audit.services import acting_as
from breachdesk.auth import services
from breachdesk.auth.models import Role, User
from breachdesk.core.errors import DomainError
from breachdesk.extensions import db

user_cli = AppGroup("user", help="Manage user accounts.")
ROLE = click.Choice([r.value for r in Role])
#: the languages alerts are written in
LANGUAGE = click.Choice(["en", "fr"])


def _commit_or_fail(action):
    try:
        with acting_as("cli"):
            result = action()
            db.session.commit()
        return result
    except DomainError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None


@user_cli.command("create")
@click.argument("username")
@click.option("--email", required=True)
@click.option("--role", type=ROLE, required=True)
@click.option("--time-zone", default="UTC", show_default=True)
@click.option("--language", type=LANGUAGE, help="The language of the alerts this user reads (default: English).")
@click.password_option(prompt="Password (12+ characters, a letter, a digit, a special character)")
def create(username, email, role, time_zone, language, password):
    """Create a user with a role."""
    _commit_or_fail(lambda: services.create_user(username, email, password, Role(role), time_zone, language))
    click.echo(f"created {username} ({role})")


@user_cli.command("set-language")
@click.argument("username")
@click.argument("language", type=LANGUAGE)
def set_language(username, language):
    """Set the language a user reads alerts in."""

    def change():
        services.user_by_name(username).language = language

    _commit_or_fail(change)
    click.echo(f"{username} reads alerts in {language}")


@user_cli.command("list")
def list_users():
    """List users with their role and status."""
    for user in db.session.scalars(select(User).order_by(User.username)):
        status = "disabled" if user.disabled_at else "active"
        click.echo(f"{user.username}\t{user.role.value}\t{status}\t{user.email}")


@user_cli.command("set-role")
@click.argument("username")
@click.argument("role", type=ROLE)
def set_role(username, role):
    """Change a user's role."""
    _commit_or_fail(lambda: services.set_role(services.user_by_name(username), Role(role)))
    click.echo(f"{username} is now {role}")


@user_cli.command("disable")
@click.argument("username")
def disable(username):
    """Disable a user: no more logins, current sessions end."""
    _commit_or_fail(lambda: services.disable_user(services.user_by_name(username)))
    click.echo(f"{username} disabled")
