"""`breachdesk token create|list|revoke`."""

import click
from flask.cli import AppGroup
from sqlalchemy import select

from breachdesk.api.models import ApiToken
from breachdesk.api.services import create_token, revoke_token
from breachdesk.audit.services import acting_as
from breachdesk.auth.services import user_by_name
from breachdesk.core.errors import DomainError
from breachdesk.extensions import db

token_cli = AppGroup("token", help="API tokens (Authorization: Bearer ...).")


@token_cli.command("create")
@click.option("--user", "username", required=True, help="The token acts with this user's role.")
@click.option("--name", default="", help="What the token is for, e.g. the alerting tool's name.")
def create(username, name):
    """Create a token for a user and print it once."""
    try:
        with acting_as("cli"):
            token, secret = create_token(user_by_name(username), name)
            db.session.commit()
    except DomainError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"token {token.id} for {username}: {secret}")
    click.echo("Store it now: only its hash is kept.", err=True)


@token_cli.command("list")
def list_tokens():
    """List tokens (id, user, name, hint, state)."""
    for token in db.session.scalars(select(ApiToken).order_by(ApiToken.id)):
        state = "revoked" if token.revoked_at else "active"
        click.echo(f"{token.id}\t{token.user.username}\t{token.name}\t{token.hint}…\t{state}")


@token_cli.command("revoke")
@click.argument("token_id", type=int)
def revoke(token_id):
    """Revoke a token at once."""
    try:
        with acting_as("cli"):
            revoke_token(token_id)
            db.session.commit()
    except DomainError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"token {token_id} revoked")
