"""`breachdesk scheduler`: reminders, escalations, the daily digest and dispatch, in their own process."""

import click
from flask import current_app
from flask.cli import with_appcontext

from breachdesk.audit.services import acting_as
from breachdesk.reminders import scheduler
from breachdesk.reminders.services import tick


@click.command("scheduler")
@click.option("--once", is_flag=True, help="One reminder tick, then exit (cron-style use, and tests).")
@with_appcontext
def scheduler_command(once: bool) -> None:
    """Run the scheduler (the production shape: one or more of these beside the web workers)."""
    if once:
        with acting_as("scheduler:reminders"):
            result = tick()
        click.echo(f"alerts {result.alerts}, mails {result.mails}, messages {result.messages}")
        return
    click.echo(
        "scheduler running: reminders every {SCHEDULER_TICK_SECONDS} s, dispatch every "
        "{DISPATCH_INTERVAL_SECONDS} s".format(**current_app.config),
        err=True,
    )
    scheduler.build(current_app._get_current_object(), blocking=True).start()
