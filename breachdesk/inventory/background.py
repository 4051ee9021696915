"""Running one upload's import beside the request that streams its progress to the browser.

The thread belongs to the request: the response ends when the import ends, and the import is still one
all-or-nothing transaction. Events flow one way through a queue: progress, then exactly one outcome.
"""

import logging
import queue
import threading
from collections.abc import Iterator
from typing import Any

from flask import Flask

from breachdesk.audit.services import acting_as
from breachdesk.core.errors import ValidationFailed
from breachdesk.extensions import db
from breachdesk.inventory.importer import import_inventory

log = logging.getLogger(__name__)


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


def run_in_background(app: Flask, structure, volumes, actor: tuple[str, int | None]) -> Iterator[dict[str, Any]]:
    """Start the import and return the events as they come; the last one is `done`, `problems` or `failed`."""
    events: queue.Queue = queue.Queue()

    def work() -> None:
        with app.app_context(), acting_as(*actor):
            try:
                summary = import_inventory(structure, volumes, QueueProgress(events))
                db.session.commit()
                events.put({"kind": "done", "summary": str(summary)})
            except ValidationFailed as error:
                db.session.rollback()
                events.put({"kind": "problems", "problems": error.problems})
            except Exception:  # the page must end with an answer whatever went wrong
                db.session.rollback()
                log.exception("inventory import failed")
                events.put({"kind": "failed"})
            finally:
                if volumes:
                    volumes[1].close()

    worker = threading.Thread(target=work, name="inventory-import", daemon=True)

    def iterate() -> Iterator[dict[str, Any]]:
        worker.start()
        while True:
            event = events.get()
            yield event
            if event["kind"] != "progress":
                break
        worker.join()

    return iterate()
