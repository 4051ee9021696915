"""An incident's impact from the inventory: the activities it reached, then their customers and our own data."""

from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from sqlalchemy import Row, func, select

from breachdesk.extensions import db
from breachdesk.impact.explain import (
    CustomerImpact,
    Regions,
    count_row,
    resolve,
    settle,
    subjects_of,
    touched_categories,
    unrecorded,
)
from breachdesk.inventory.models import (
    ActivityDataCategory,
    Customer,
    Organisation,
    OurRole,
    ProcessingActivity,
    System,
    Volume,
    activity_customers,
    activity_systems,
)
from breachdesk.inventory.regions import region_of
from breachdesk.inventory.taxonomy import sensitivity_of

#: customer ids per statement when reading where their people live
BATCH = 5000


@dataclass(frozen=True)
class Scope:
    """What the incident reached: systems (ids), optionally only some data categories (fides keys)."""

    system_ids: tuple[int, ...]
    data_categories: tuple[str, ...] = ()


@dataclass
class AffectedActivity:
    id: int
    key: str
    name: str
    role: str
    retention_days: int | None
    systems: list[str] = field(default_factory=list)
    data_categories: list[str] = field(default_factory=list)
    sensitivity: int = 0

    @cached_property
    def path(self) -> dict[str, Any]:
        """How this activity explains a customer's impact: system(s) -> activity -> categories. Built once,
        shared by the impacts of every customer it reaches."""
        return {"systems": self.systems, "activity": self.key, "data_categories": self.data_categories}


@dataclass
class Impact:
    activities: dict[int, AffectedActivity]
    customers: list[CustomerImpact]
    #: controller-side activities: these drive authority and data-subject duties, not customer notices
    own: list[dict[str, Any]]
    #: their people per region where they live (`explain.Regions`): whose laws apply to them
    own_regions: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def totals(self) -> dict[str, int]:
        own_people = sum(sum(o["data_subjects"].values()) for o in self.own)
        return {
            "customers": len(self.customers),
            "data_subjects": sum(c.people for c in self.customers) + own_people,
            "records": sum(c.records for c in self.customers) + sum(o["records"] for o in self.own),
            "activities": len(self.activities),
        }


def affected_activities(scope: Scope) -> dict[int, AffectedActivity]:
    """Activities that use any reached system and hold at least one reached data category."""
    rows = db.session.execute(
        select(
            ProcessingActivity.id,
            ProcessingActivity.key,
            ProcessingActivity.name,
            ProcessingActivity.role,
            ProcessingActivity.retention_days,
            System.key,
        )
        .join(activity_systems, activity_systems.c.activity_id == ProcessingActivity.id)
        .join(System, System.id == activity_systems.c.system_id)
        .where(activity_systems.c.system_id.in_(scope.system_ids))
        .order_by(ProcessingActivity.key, System.key)
    )
    activities: dict[int, AffectedActivity] = {}
    for activity_id, key, name, role, retention, system_key in rows:
        activity = activities.setdefault(activity_id, AffectedActivity(activity_id, key, name, str(role), retention))
        activity.systems.append(system_key)
    if not activities:
        return {}
    held: dict[int, dict[str, int]] = defaultdict(dict)
    for activity_id, category, sensitivity in db.session.execute(
        select(
            ActivityDataCategory.activity_id, ActivityDataCategory.data_category, ActivityDataCategory.sensitivity
        ).where(ActivityDataCategory.activity_id.in_(activities))
    ):
        held[activity_id][category] = sensitivity
    for activity_id in list(activities):
        categories = touched_categories(list(held[activity_id]), list(scope.data_categories))
        if scope.data_categories and not categories:
            del activities[activity_id]  # the incident did not reach what this activity holds
            continue
        activity = activities[activity_id]
        activity.data_categories = categories
        # a narrower category named by the incident is classed by the taxonomy rule itself
        activity.sensitivity = max((held[activity_id].get(c) or sensitivity_of(c) for c in categories), default=0)
    return activities


def affected_customers(activities: dict[int, AffectedActivity]) -> list[CustomerImpact]:
    """The customers the processor activities reach, by name then key as Python compares strings (the
    same on every database, whatever its locale). A customer is reached through its links, which cover
    its volume rows (see `activity_customers`): one linked without any volume row is affected all the
    same, its counts unknown."""
    processors = {i: a for i, a in activities.items() if a.role == OurRole.PROCESSOR}
    if not processors:
        return []
    links = activity_customers.c
    linked = select(links.customer_id).where(links.activity_id.in_(processors))
    # Core rows on the session's connection, not ORM rows: ten thousand customers need no ORM loading
    connection = db.session.connection()
    reached_by: dict[int, list[AffectedActivity]] = defaultdict(list)
    for customer_id, activity_id in connection.execute(linked.add_columns(links.activity_id)):
        reached_by[customer_id].append(processors[activity_id])
    counts = customer_volumes(list(processors))
    held = _activities_by_region(list(processors), counts)
    found = [
        _customer_impact(customer, reached_by[customer.id], counts.get(customer.id), held.get(customer.id))
        for customer in connection.execute(
            select(Customer.id, Customer.key, Customer.name, Customer.country).where(Customer.id.in_(linked))
        )
    ]
    return sorted(found, key=lambda c: (c.name, c.key))


def customer_volumes(activity_ids: list[int]) -> dict[int, Regions]:
    """Customer id -> its people and records in these activities, by the region the rows state."""
    counts: dict[int, Regions] = {}
    for customer_id, subject, stated, people, records in db.session.connection().execute(
        select(
            Volume.customer_id,
            Volume.data_subject_category,
            Volume.region,
            func.max(Volume.data_subjects).label("people"),
            func.sum(Volume.records).label("records"),
        )
        .where(Volume.activity_id.in_(activity_ids), Volume.customer_id.is_not(None))
        .group_by(Volume.customer_id, Volume.data_subject_category, Volume.region)
    ):
        regions = counts.get(customer_id)
        if regions is None:
            regions = counts[customer_id] = {}
        count_row(regions, stated, subject, people, int(records))  # PostgreSQL sums bigints as numeric (a Decimal)
    return counts


def _activities_by_region(activity_ids: list[int], counts: dict[int, Regions]) -> dict[int, dict[str, set[int]]]:
    """Customer id -> region -> the activities holding its people there, for the customers whose rows state
    several regions: the data categories a region's residents lost decide which of its laws apply. (With one
    region, that region holds every activity reaching the customer.)"""
    several = [customer_id for customer_id, regions in counts.items() if len(regions) > 1]
    held: dict[int, dict[str, set[int]]] = defaultdict(dict)
    for start in range(0, len(several), BATCH):
        for customer_id, stated, country, activity_id in db.session.connection().execute(
            select(Volume.customer_id, Volume.region, Customer.country, Volume.activity_id)
            .join(Customer, Customer.id == Volume.customer_id)
            .where(Volume.activity_id.in_(activity_ids), Volume.customer_id.in_(several[start : start + BATCH]))
            .distinct()
        ):
            held[customer_id].setdefault(region_of(stated, country), set()).add(activity_id)
    return held


def _customer_impact(
    customer: Row, reached_by: list[AffectedActivity], regions: Regions | None, held: dict[str, set[int]] | None
) -> CustomerImpact:
    """One customer's impact: the union of its activities' categories, the highest sensitivity among
    them, one path per activity, in activity key order, and its people per region."""
    reached_by = sorted(reached_by, key=lambda a: a.key)
    categories = sorted(set().union(*(a.data_categories for a in reached_by)))
    uncounted = regions is None
    if uncounted:
        regions = {region_of("", customer.country): unrecorded(categories)}
        subjects, records = {}, 0
    else:
        regions = resolve(regions, customer.country)
        regions = settle(regions, categories, held, {a.id: a.data_categories for a in reached_by} if held else {})
        subjects, records = subjects_of(regions), sum(entry["records"] for entry in regions.values())
    return CustomerImpact(
        customer.id,
        customer.key,
        customer.name,
        data_subjects=subjects,
        records=records,
        data_categories=categories,
        sensitivity=max(a.sensitivity for a in reached_by),
        paths=[a.path for a in reached_by],
        counts_unknown=uncounted,
        regions=regions,
    )


def compute(scope: Scope) -> Impact:
    activities = affected_activities(scope)
    return Impact(activities, affected_customers(activities), *_own(activities))


def _own(activities: dict[int, AffectedActivity]) -> tuple[list[dict[str, Any]], Regions]:
    """Our controller-side activities with their people per subject category, and where all those people live
    (a row naming no region: the organisation's country), counted as a customer's are."""
    own = {a.id: a for a in activities.values() if a.role == OurRole.CONTROLLER}
    if not own:
        return [], {}
    country = db.session.scalar(select(Organisation.country).where(Organisation.id == 1)) or ""
    each: dict[int, Regions] = {i: {} for i in own}
    together: Regions = {}
    held: dict[str, set[int]] = {}
    for activity_id, subject, stated, people, records in db.session.execute(
        select(
            Volume.activity_id, Volume.data_subject_category, Volume.region, Volume.data_subjects, Volume.records
        ).where(Volume.activity_id.in_(own), Volume.customer_id.is_(None))
    ):
        count_row(each[activity_id], stated, subject, people, records)
        count_row(together, stated, subject, people, records)
        held.setdefault(region_of(stated, country), set()).add(activity_id)
    categories = sorted({c for a in own.values() for c in a.data_categories})
    regions = settle(resolve(together, country), categories, held, {i: a.data_categories for i, a in own.items()})
    if uncounted := [a for i, a in own.items() if not each[i]]:
        _not_counted(regions, region_of("", country), uncounted)
    listed = [
        {
            "activity": own[i].key,
            "name": own[i].name,
            "systems": own[i].systems,
            "data_categories": own[i].data_categories,
            "sensitivity": own[i].sensitivity,
            "retention_days": own[i].retention_days,
            "data_subjects": subjects_of(resolve(each[i], country)) if each[i] else {},
            "records": sum(entry["records"] for entry in each[i].values()),
        }
        for i in sorted(own, key=lambda i: own[i].key)
    ]
    return listed, regions


def _not_counted(regions: dict[str, dict[str, Any]], home: str, activities: list[AffectedActivity]) -> None:
    """Activities without a volume row: their people are affected, how many is not known, and they live where a
    row naming no region says (the organisation's country)."""
    entry = regions.setdefault(home, unrecorded([]))
    entry["data_categories"] = sorted({*entry["data_categories"], *(c for a in activities for c in a.data_categories)})
    entry["counts_unknown"] = True
