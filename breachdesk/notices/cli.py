"""`breachdesk dispatch`: send the outbox from the command line (the scheduler does it on every tick)."""

import logging
import time

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlalchemy.exc import DBAPIError

from breachdesk.extensions import db
from breachdesk.notices.mail import backend_from
from breachdesk.notices.outbox import dispatch_round, worker_name
from breachdesk.notices.pacing import lease_problem

log = logging.getLogger(__name__)


@click.command("dispatch")
@click.option(
    "--once", is_flag=True, help="One round (what is due, a batch at a time), then exit (default: until none is due)."
)
@click.option(
    "--batch", type=click.IntRange(min=1), default=None, help="Messages claimed per round (default DISPATCH_BATCH)."
)
@click.option("--forever", is_flag=True, help="Keep polling for new messages every --interval seconds.")
@click.option("--interval", type=float, default=5.0, show_default=True)
@with_appcontext
def dispatch_command(once: bool, batch: int | None, forever: bool, interval: float) -> None:
    """Send due outbox messages through the configured mail backend."""
    if batch is not None and (problem := lease_problem(current_app.config, batch)):
        raise click.BadParameter(problem, param_hint="--batch")
    backend = backend_from(current_app.config, current_app.instance_path)
    worker = worker_name()
    totals = {"sent": 0, "retried": 0, "failed": 0}
    while True:
        try:
            result = dispatch_round(backend, worker, batch)
        except DBAPIError as error:
            if not forever:
                raise
            # a dropped or restarted database: what was claimed comes back when its lease ends
            db.session.rollback()
            log.warning(
                "dispatch: database unavailable (%s); trying again in %s s", type(error.orig).__name__, interval
            )
            time.sleep(interval)
            continue
        for name in totals:
            totals[name] += getattr(result, name)
        if result.claimed:
            click.echo(
                f"claimed {result.claimed}: sent {result.sent}, retry later {result.retried}, failed {result.failed}",
                err=True,
            )
        if once or (not result.claimed and not forever):
            break
        if not result.claimed:
            time.sleep(interval)
    click.echo(f"sent {totals['sent']}, retry later {totals['retried']}, failed {totals['failed']}")
