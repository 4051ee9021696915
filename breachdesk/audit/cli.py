"""`breachdesk audit verify`."""

import click
from flask.cli import AppGroup

from breachdesk.audit.services import verify_chain
from breachdesk.extensions import db

audit_cli = AppGroup("audit", help="Check the audit log.")


@audit_cli.command("verify")
def verify():
    """Recompute the hash chain; exit 1 and list every edited or missing event."""
    checked, breaks = verify_chain(db.session)
    for found in breaks:
        click.echo(f"event {found.event_id}: {found.reason}", err=True)
    if breaks:
        raise click.ClickException(f"audit chain broken in {len(breaks)} place(s) over {checked} events")
    click.echo(f"audit chain intact: {checked} events")
