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
    #: region where the people live -> {"people", "data_subjects", "records", "data_categories", "counts_unknown"}
    #: (`Counts.regions`)
    regions: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def people(self) -> int:
        return sum(self.data_subjects.values())


@dataclass(slots=True)
class Counts:
    """People and records per region where the people live and subject category, over several activities (those
    reaching one customer, or our controller-side ones)."""

    #: (region, subject category) -> people: the largest count among the activities, because the same people sit
    #: in several
    people: dict[tuple[str, str], int] = field(default_factory=dict)
    #: region -> records: they add up, each activity holds its own
    records: dict[str, int] = field(default_factory=dict)
    #: region -> ids of the activities holding its people, where they were read (`regions`)
    activities: dict[str, set[int]] = field(default_factory=dict)

    def add(self, region: str, subject: str, people: int, records: int) -> None:
        key = (region, subject)
        self.people[key] = max(self.people.get(key, 0), people)
        self.records[region] = self.records.get(region, 0) + records

    def held_by(self, region: str, activity_id: int) -> None:
        self.activities.setdefault(region, set()).add(activity_id)

    def data_subjects(self) -> dict[str, int]:
        """People per subject category: those of each region add up, since a person lives in one region."""
        found: dict[str, int] = {}
        for (_, subject), people in self.people.items():
            found[subject] = found.get(subject, 0) + people
        return found

    def regions(self, categories: list[str], categories_of: dict[int, list[str]]) -> dict[str, dict[str, Any]]:
        """Region -> its people (in all and per subject category), records and the data categories of the
        activities holding its people (the laws of a region look at what its residents lost); where those activities
        were not read (people of a single region), every category reached."""
        subjects: dict[str, dict[str, int]] = {}
        for (region, subject), count in self.people.items():
            subjects.setdefault(region, {})[subject] = count
        return {
            region: {
                "people": sum(subjects.get(region, {}).values()),
                "data_subjects": subjects.get(region, {}),
                "records": records,
                "data_categories": sorted({c for a in self.activities[region] for c in categories_of[a]})
                if region in self.activities
                else categories,
                "counts_unknown": False,
            }
            for region, records in sorted(self.records.items())
        }


def unrecorded(categories: list[str]) -> dict[str, Any]:
    """A region's entry when no volume row counts its people: they are affected, how many is not known."""
    return {"people": 0, "data_subjects": {}, "records": 0, "data_categories": categories, "counts_unknown": True}


def difference(before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Customers added, removed and changed between two snapshots, keyed by customer key."""
    added = sorted(after.keys() - before.keys())
    removed = sorted(before.keys() - after.keys())
    changed = sorted(k for k in before.keys() & after.keys() if before[k] != after[k])
    return {"added": added, "removed": removed, "changed": changed}
