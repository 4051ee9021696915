"""Pure impact rules: category matching, how counts combine, retention windows, snapshot differences.

No Flask, no database: the SQL in `queries.py` hands plain rows to these functions.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any


def covers(selected: str, held: str) -> bool:
    """A Fides key covers itself and its descendants: `user.contact` covers `user.contact.email`."""
    return held == selected or held.startswith(selected + ".")


def touched_categories(held: list[str], subset: list[str]) -> list[str]:
    """The categories of an activity reached by an incident limited to `subset` (all when empty).

    When the incident names a narrower category than the activity records (`user.contact.email` against
    `user.contact`), the narrower one is what was exposed.
    """
    if not subset:
        return sorted(held)
    found = {h for h in held for s in subset if covers(s, h)}
    found |= {s for h in held for s in subset if covers(h, s)}
    return sorted(found)


@dataclass(frozen=True)
class ExposureWindow:
    """The span of data an activity can have exposed: its retention period before the breach ended."""

    data_from: datetime | None
    data_to: datetime | None
    retention_days: int | None


def exposure_window(
    retention_days: int | None, occurred_from: datetime | None, occurred_to: datetime | None, aware_at: datetime
) -> ExposureWindow:
    """Data kept N days that leaked between `from` and `to` was created at most N days before `from`."""
    end = occurred_to or aware_at
    start = occurred_from or end
    if retention_days is None:
        return ExposureWindow(None, end, None)
    return ExposureWindow(start - timedelta(days=retention_days), end, retention_days)


@dataclass(slots=True)
class CustomerImpact:
    """One affected controller: its own people and records only, and the paths that explain it."""

    customer_id: int
    key: str
    name: str
    #: subject category -> people; the largest count among the activities reaching it, because the same
    #: people sit in several activities (a sum would count a person once per activity)
    data_subjects: dict[str, int] = field(default_factory=dict)
    #: records add up: each activity holds its own records
    records: int = 0
    data_categories: list[str] = field(default_factory=list)
    sensitivity: int = 0
    #: [{"systems": [...], "activity": key, "data_categories": [...]}]
    paths: list[dict[str, Any]] = field(default_factory=list)
    #: linked to an affected activity but no volume recorded: counts unknown, still owed a notice
    counts_unknown: bool = False

    @property
    def people(self) -> int:
        return sum(self.data_subjects.values())


def difference(before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Customers added, removed and changed between two snapshots, keyed by customer key."""
    added = sorted(after.keys() - before.keys())
    removed = sorted(before.keys() - after.keys())
    changed = sorted(k for k in before.keys() & after.keys() if before[k] != after[k])
    return {"added": added, "removed": removed, "changed": changed}
