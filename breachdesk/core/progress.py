"""Progress of long work: the protocol every long job reports through, and running a job beside the request
that streams its progress to the browser.

The thread belongs to the request: the response ends when the job ends. Events flow one way through a
queue: progress, then exactly one outcome.
"""

import logging
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from flask import Flask

from breachdesk.core.errors import DomainError, ValidationFailed
from breachdesk.extensions import db

log = logging.getLogger(__name__)


class Progress(Protocol):
    def start(self, label: str, total: int) -> None: ...
    def advance(self, amount: int) -> None: ...
    def finish(self) -> None: ...


class NoProgress:
    def start(self, label: str, total: int) -> None:
        pass

    def advance(self, amount: int) -> None:
        pass

    def finish(self) -> None:
        pass


class QueueProgress:
    """Progress events, at most one per whole percent, so a large file does not flood the page."""

    def __init__(self, events: queue.Queue):
        self.events, self.label, self.total, self.done, self.shown = events, "", 1, 0, -1

    def start(self, label: str, total: int) -> None:
        self.label, self.total, self.done, self.shown = label.strip(), max(total, 1), 0, -1
        self._emit()

    def advance(self, amount: int) -> None:
        self.done += amount
        self._emit()

    def finish(self) -> None:
        self.done = self.total
        self._emit()

    def _emit(self) -> None:
        percent = min(100, self.done * 100 // self.total)
        if percent != self.shown:
            self.shown = percent
            self.events.put({"kind": "progress", "stage": self.label, "percent": percent})


def run_in_background(
    app: Flask, job: Callable[[Progress], str], name: str, cleanup: Callable[[], None] | None = None
) -> Iterator[dict[str, Any]]:
    """Start `job(progress)` and return the events as they come; the last one is `done` (with the summary the
    job returns), `problems` or `failed`. The job commits its own work, and says who acts (the thread has no
    request to ask: `audit.services.carrying_actor`)."""
    events: queue.Queue = queue.Queue()

    def work() -> None:
        with app.app_context():
            try:
                events.put({"kind": "done", "summary": job(QueueProgress(events))})
            except ValidationFailed as error:
                db.session.rollback()
                events.put({"kind": "problems", "problems": error.problems})
            except DomainError as error:
                db.session.rollback()
                events.put({"kind": "problems", "problems": [str(error)]})
            except Exception:  # the page must end with an answer whatever went wrong
                db.session.rollback()
                log.exception("%s failed", name)
                events.put({"kind": "failed"})
            finally:
                if cleanup:
                    cleanup()

    worker = threading.Thread(target=work, name=name, daemon=True)

    def iterate() -> Iterator[dict[str, Any]]:
        worker.start()
        while True:
            event = events.get()
            yield event
            if event["kind"] != "progress":
                break
        worker.join()

    return iterate()
