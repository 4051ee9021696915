"""Pure impact rules: category matching, how counts combine, retention windows, snapshot differences.

No Flask, no database: the SQL in `queries.py` hands plain rows to these functions.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from breachdesk.inventory.regions import region_of


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
    #: where its people live (`Regions`)
    regions: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def people(self) -> int:
        return sum(self.data_subjects.values())


#: where people live -> {"people", "data_subjects", "records", "data_categories", "counts_unknown"}: the impact's
#: people per region, counted as the volume rows are read (`count_row`, by the region each row states), keyed by
#: where they live (`resolve`), then given their categories (`settle`)
Regions = dict[str, dict[str, Any]]


def count_row(regions: Regions, region: str, subject: str, people: int, records: int) -> None:
    """One volume row (or the largest of an activity group's) into its region's entry. People count once per
    subject category, as the largest count among the activities, because the same people sit in several; a person
    lives in one region, so the regions' people add up; records add up, each activity holds its own."""
    entry = regions.get(region)
    if entry is None:
        entry = regions[region] = {
            "people": 0,
            "data_subjects": {},
            "records": 0,
            "data_categories": None,
            "counts_unknown": False,
        }
    subjects = entry["data_subjects"]
    before = subjects.get(subject)
    if before is None or people > before:
        subjects[subject] = people
        entry["people"] += people - (before or 0)
    entry["records"] += records


def resolve(regions: Regions, home: str) -> Regions:
    """Entries counted by the region their rows state ("" where they state none) rekeyed, in place, by where the
    people live (`region_of`: a row stating none lives in `home`), merged where two mean the same region."""
    for stated in [stated for stated in regions if region_of(stated, home) != stated]:
        entry, region = regions.pop(stated), region_of(stated, home)
        if region not in regions:
            regions[region] = entry
            continue
        for subject, people in entry["data_subjects"].items():
            count_row(regions, region, subject, people, 0)
        regions[region]["records"] += entry["records"]
    return regions


def subjects_of(regions: Regions) -> dict[str, int]:
    """People per subject category over the regions."""
    if len(regions) == 1:
        return next(iter(regions.values()))["data_subjects"]
    found: dict[str, int] = {}
    for entry in regions.values():
        for subject, people in entry["data_subjects"].items():
            found[subject] = found.get(subject, 0) + people
    return found


def settle(
    regions: Regions, categories: list[str], held: dict[str, set[int]] | None, categories_of: dict[int, list[str]]
) -> Regions:
    """Each region's data categories (the laws of a region look at what its residents lost): those of the
    activities `held` its people, where its people are not the only ones; else every category reached. Returns
    the regions in code order."""
    several = len(regions) > 1
    for region, entry in regions.items():
        if several and held and region in held:
            entry["data_categories"] = sorted({c for a in held[region] for c in categories_of[a]})
        else:
            entry["data_categories"] = categories
    return regions if len(regions) == 1 else dict(sorted(regions.items()))


def unrecorded(categories: list[str]) -> dict[str, Any]:
    """A region's entry when no volume row counts its people: they are affected, how many is not known."""
    return {"people": 0, "data_subjects": {}, "records": 0, "data_categories": categories, "counts_unknown": True}


def difference(before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Customers added, removed and changed between two snapshots, keyed by customer key."""
    added = sorted(after.keys() - before.keys())
    removed = sorted(before.keys() - after.keys())
    changed = sorted(k for k in before.keys() & after.keys() if before[k] != after[k])
    return {"added": added, "removed": removed, "changed": changed}
