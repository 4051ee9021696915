"""An incident's impact from the inventory: the activities it reached, then their customers and our own data."""

from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from sqlalchemy import Row, func, select

from breachdesk.extensions import db
from breachdesk.impact.explain import CustomerImpact, touched_categories
from breachdesk.inventory.models import (
    ActivityDataCategory,
    Customer,
    OurRole,
    ProcessingActivity,
    System,
    Volume,
    activity_customers,
    activity_systems,
)
from breachdesk.inventory.taxonomy import sensitivity_of


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
    found = [
        _customer_impact(customer, reached_by[customer.id], counts.get(customer.id))
        for customer in connection.execute(
            select(Customer.id, Customer.key, Customer.name).where(Customer.id.in_(linked))
        )
    ]
    return sorted(found, key=lambda c: (c.name, c.key))


@dataclass
class Counts:
    """A customer's people per subject category and its records, over the activities reaching it."""

    data_subjects: dict[str, int] = field(default_factory=dict)
    records: int = 0


def customer_volumes(activity_ids: list[int]) -> dict[int, Counts]:
    """Customer id -> its counts in these activities. People per subject category are the largest count
    among the activities, because the same people sit in several; records add up."""
    counts: dict[int, Counts] = defaultdict(Counts)
    for customer_id, subject, people, records in db.session.connection().execute(
        select(
            Volume.customer_id,
            Volume.data_subject_category,
            func.max(Volume.data_subjects).label("people"),
            func.sum(Volume.records).label("records"),
        )
        .where(Volume.activity_id.in_(activity_ids), Volume.customer_id.is_not(None))
        .group_by(Volume.customer_id, Volume.data_subject_category)
    ):
        found = counts[customer_id]
        found.data_subjects[subject] = people
        found.records += int(records)  # PostgreSQL sums bigints as numeric (a Decimal)
    return counts


def _customer_impact(customer: Row, reached_by: list[AffectedActivity], counts: Counts | None) -> CustomerImpact:
    """One customer's impact: the union of its activities' categories, the highest sensitivity among
    them, and one path per activity, in activity key order."""
    reached_by = sorted(reached_by, key=lambda a: a.key)
    return CustomerImpact(
        customer.id,
        customer.key,
        customer.name,
        data_subjects=counts.data_subjects if counts else {},
        records=counts.records if counts else 0,
        data_categories=sorted(set().union(*(a.data_categories for a in reached_by))),
        sensitivity=max(a.sensitivity for a in reached_by),
        paths=[a.path for a in reached_by],
        counts_unknown=counts is None,
    )


def compute(scope: Scope) -> Impact:
    activities = affected_activities(scope)
    return Impact(activities, affected_customers(activities), _own(activities))


def _own(activities: dict[int, AffectedActivity]) -> list[dict[str, Any]]:
    own_ids = [a.id for a in activities.values() if a.role == OurRole.CONTROLLER]
    counts: dict[int, dict[str, Any]] = {i: {"data_subjects": {}, "records": 0} for i in own_ids}
    if own_ids:
        for activity_id, subject, people, records in db.session.execute(
            select(Volume.activity_id, Volume.data_subject_category, Volume.data_subjects, Volume.records).where(
                Volume.activity_id.in_(own_ids), Volume.customer_id.is_(None)
            )
        ):
            counts[activity_id]["data_subjects"][subject] = people
            counts[activity_id]["records"] += records
    return [
        {
            "activity": activities[i].key,
            "name": activities[i].name,
            "systems": activities[i].systems,
            "data_categories": activities[i].data_categories,
            "sensitivity": activities[i].sensitivity,
            "retention_days": activities[i].retention_days,
            **counts[i],
        }
        for i in sorted(own_ids, key=lambda i: activities[i].key)
    ]
