"""APScheduler 3 wiring. The scheduler holds no truth of its own: every job reads the database each time, so
a restart catches up and two schedulers do not send anything twice (the rows' unique keys decide)."""

import logging
from collections.abc import Callable
from datetime import UTC

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask

from breachdesk.audit.services import acting_as
from breachdesk.core.clock import now_utc
from breachdesk.extensions import db
from breachdesk.notices.outbox import dispatch_round
from breachdesk.reminders.services import tick

log = logging.getLogger(__name__)
EXTENSION = "breachdesk.scheduler"


def _in_app(app: Flask, job: Callable[[], object], name: str) -> Callable[[], None]:
    def run() -> None:
        with app.app_context(), acting_as(f"scheduler:{name}"):
            try:
                job()
            except Exception:  # a failed tick is logged and retried at the next one; the scheduler lives on
                db.session.rollback()
                log.exception("scheduled job %s failed", name)

    return run


def build(app: Flask, blocking: bool) -> BaseScheduler:
    scheduler = (BlockingScheduler if blocking else BackgroundScheduler)(timezone=UTC)
    config = app.config
    scheduler.add_job(
        _in_app(app, tick, "reminders"),
        IntervalTrigger(seconds=config["SCHEDULER_TICK_SECONDS"]),
        id="reminders",
        max_instances=1,
        coalesce=True,
        next_run_time=now_utc(),
    )
    scheduler.add_job(
        _in_app(app, dispatch_round, "dispatch"),
        IntervalTrigger(seconds=config["DISPATCH_INTERVAL_SECONDS"]),
        id="dispatch",
        max_instances=1,
        coalesce=True,
        next_run_time=now_utc(),
    )
    return scheduler


def start_in_process(app: Flask) -> BaseScheduler | None:
    """For `serve`: start the scheduler beside the web server, once per process, never twice."""
    if not app.config["SCHEDULER_IN_SERVE"]:
        return None
    if EXTENSION not in app.extensions:
        app.extensions[EXTENSION] = build(app, blocking=False)
        app.extensions[EXTENSION].start()
    return app.extensions[EXTENSION]
