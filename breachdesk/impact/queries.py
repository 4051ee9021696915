"""Set-wise SQL over the inventory: affected activities, then one grouped pass over volumes and links."""

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import BigInteger, Integer, String, cast, func, literal, null, select, union_all

from breachdesk.extensions import db
from breachdesk.impact.explain import CustomerImpact, combine_subject_counts, touched_categories
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


@dataclass
class Impact:
    activities: dict[int, AffectedActivity]
    customers: list[CustomerImpact]
    #: controller-side activities: these drive authority and data-subject duties, not customer notices
    own: list[dict[str, Any]]

    @property
    def totals(self) -> dict[str, int]:
        own_people = sum(sum(o["data_subjects"].values()) for o in self.own)
        return {"customers": len(self.customers),
                "data_subjects": sum(c.people for c in self.customers) + own_people,
                "records": sum(c.records for c in self.customers) + sum(o["records"] for o in self.own),
                "activities": len(self.activities)}


def affected_activities(scope: Scope) -> dict[int, AffectedActivity]:
    """Activities that use any reached system and hold at least one reached data category."""
    rows = db.session.execute(
        select(ProcessingActivity.id, ProcessingActivity.key, ProcessingActivity.name, ProcessingActivity.role,
               ProcessingActivity.retention_days, System.key)
        .join(activity_systems, activity_systems.c.activity_id == ProcessingActivity.id)
        .join(System, System.id == activity_systems.c.system_id)
        .where(activity_systems.c.system_id.in_(scope.system_ids))
        .order_by(ProcessingActivity.key, System.key))
    activities: dict[int, AffectedActivity] = {}
    for activity_id, key, name, role, retention, system_key in rows:
        activity = activities.setdefault(activity_id, AffectedActivity(activity_id, key, name, str(role), retention))
        activity.systems.append(system_key)
    if not activities:
        return {}
    held: dict[int, dict[str, int]] = defaultdict(dict)
    for activity_id, category, sensitivity in db.session.execute(
            select(ActivityDataCategory.activity_id, ActivityDataCategory.data_category,
                   ActivityDataCategory.sensitivity).where(ActivityDataCategory.activity_id.in_(activities))):
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


def customer_aggregate(activity_ids: list[int]):
    """One grouped pass: per (customer, subject category) the largest people count, the summed records and
    the activities involved. Links without any volume row come through with a NULL subject category."""
    volumes = select(Volume.customer_id, Volume.activity_id, Volume.data_subject_category,
                     Volume.data_subjects, Volume.records).where(
        Volume.activity_id.in_(activity_ids), Volume.customer_id.is_not(None))
    links = select(activity_customers.c.customer_id, activity_customers.c.activity_id,
                   cast(null(), String), cast(null(), Integer), cast(null(), Integer)).where(
        activity_customers.c.activity_id.in_(activity_ids))
    reached = union_all(volumes, links).subquery("reached")
    customer_id, activity_id, subject, people, records = reached.c
    # PostgreSQL sums bigints as numeric (Decimal in Python): cast back, counts are whole numbers
    return (select(customer_id, Customer.key, Customer.name, subject, func.max(people),
                   cast(func.sum(records), BigInteger),
                   func.aggregate_strings(cast(activity_id, String), literal(",")))
            .join(Customer, Customer.id == customer_id)
            .group_by(customer_id, Customer.key, Customer.name, subject))


def compute(scope: Scope) -> Impact:
    activities = affected_activities(scope)
    processor_ids = [a.id for a in activities.values() if a.role == OurRole.PROCESSOR]
    rows: dict[int, list] = defaultdict(list)
    names: dict[int, tuple[str, str]] = {}
    activity_sets: dict[int, set[int]] = defaultdict(set)
    if processor_ids:
        for cid, key, name, subject, people, records, via in db.session.execute(customer_aggregate(processor_ids)):
            rows[cid].append((subject, people, records))
            names[cid] = (key, name)
            activity_sets[cid].update(int(a) for a in via.split(","))
    customers = []
    for cid, customer_rows in rows.items():
        subjects, records, unknown = combine_subject_counts(customer_rows)
        reached = sorted((activities[a] for a in activity_sets[cid]), key=lambda a: a.key)
        categories = sorted({c for a in reached for c in a.data_categories})
        customers.append(CustomerImpact(
            customer_id=cid, key=names[cid][0], name=names[cid][1], data_subjects=subjects, records=records,
            data_categories=categories, sensitivity=max(a.sensitivity for a in reached),
            paths=[{"systems": a.systems, "activity": a.key, "data_categories": a.data_categories} for a in reached],
            counts_unknown=unknown))
    customers.sort(key=lambda c: (c.name, c.key))
    return Impact(activities, customers, _own(activities))


def _own(activities: dict[int, AffectedActivity]) -> list[dict[str, Any]]:
    own_ids = [a.id for a in activities.values() if a.role == OurRole.CONTROLLER]
    counts: dict[int, dict[str, Any]] = {i: {"data_subjects": {}, "records": 0} for i in own_ids}
    if own_ids:
        for activity_id, subject, people, records in db.session.execute(
                select(Volume.activity_id, Volume.data_subject_category, Volume.data_subjects, Volume.records)
                .where(Volume.activity_id.in_(own_ids), Volume.customer_id.is_(None))):
            counts[activity_id]["data_subjects"][subject] = people
            counts[activity_id]["records"] += records
    return [{"activity": activities[i].key, "name": activities[i].name, "systems": activities[i].systems,
             "data_categories": activities[i].data_categories, "sensitivity": activities[i].sensitivity,
             "retention_days": activities[i].retention_days, **counts[i]}
            for i in sorted(own_ids, key=lambda i: activities[i].key)]
