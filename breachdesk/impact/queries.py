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

    @property
    def path(self) -> dict[str, Any]:
        """How this activity explains a customer's impact: system(s) -> activity -> categories."""
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
    the activities involved. Links without a volume row come through with a NULL subject category.
    Customers' names are joined after grouping, so the grouping sorts small keys only."""
    volumes = select(Volume.customer_id, Volume.activity_id, Volume.data_subject_category,
                     Volume.data_subjects, Volume.records).where(
        Volume.activity_id.in_(activity_ids), Volume.customer_id.is_not(None))
    # links without any volume row (usually none): an index probe each, instead of grouping every link
    has_volume = select(literal(1)).where(Volume.customer_id == activity_customers.c.customer_id,
                                          Volume.activity_id == activity_customers.c.activity_id).exists()
    links = select(activity_customers.c.customer_id, activity_customers.c.activity_id,
                   cast(null(), String), cast(null(), Integer), cast(null(), Integer)).where(
        activity_customers.c.activity_id.in_(activity_ids), ~has_volume)
    reached = union_all(volumes, links).subquery("reached")
    customer_id, activity_id, subject, people, records = reached.c
    # PostgreSQL sums bigints as numeric (Decimal in Python): cast back, counts are whole numbers
    grouped = (select(customer_id.label("customer_id"), subject.label("subject"), func.max(people).label("people"),
                      cast(func.sum(records), BigInteger).label("records"),
                      func.aggregate_strings(cast(activity_id, String), literal(",")).label("via"))
               .group_by(customer_id, subject).subquery("grouped"))
    # then one row per customer: "subject=people=records" items and the activity ids, as text, because
    # shipping ten thousand short rows costs less than sixty thousand
    item = (func.coalesce(grouped.c.subject, "") + "=" + func.coalesce(cast(grouped.c.people, String), "") + "="
            + func.coalesce(cast(grouped.c.records, String), ""))
    return (select(grouped.c.customer_id, Customer.key, Customer.name, func.aggregate_strings(item, literal(";")),
                   func.aggregate_strings(grouped.c.via, literal(",")))
            .join(Customer, Customer.id == grouped.c.customer_id)
            .group_by(grouped.c.customer_id, Customer.key, Customer.name))


@dataclass(frozen=True)
class _Reach:
    """What a given set of activities implies for any customer they reach."""

    data_categories: list[str]
    sensitivity: int
    paths: list[dict[str, Any]]


class _Reaches:
    """Builds a customer's categories, sensitivity and paths from the activities reaching it. Thousands of
    customers are assembled per impact, so per-activity parts are prepared once: categories become bits
    of one integer, so a customer's union of categories is a few ORs."""

    def __init__(self, activities: dict[int, AffectedActivity]):
        ordered = sorted(activities.values(), key=lambda a: a.key)
        bit = {c: 1 << i for i, c in enumerate(sorted({c for a in ordered for c in a.data_categories}))}
        self.categories_of_mask: dict[int, list[str]] = {}
        self.bit = bit
        self.by_id = {str(a.id): (rank, a.path, sum(bit[c] for c in a.data_categories), a.sensitivity)
                      for rank, a in enumerate(ordered)}

    def __call__(self, activity_ids: set[str]) -> _Reach:
        parts = sorted(self.by_id[a] for a in activity_ids)
        mask = 0
        for part in parts:
            mask |= part[2]
        categories = self.categories_of_mask.get(mask)
        if categories is None:
            categories = self.categories_of_mask[mask] = [c for c, b in self.bit.items() if mask & b]
        return _Reach(categories, max(p[3] for p in parts), [p[1] for p in parts])


def compute(scope: Scope) -> Impact:
    activities = affected_activities(scope)
    processor_ids = [a.id for a in activities.values() if a.role == OurRole.PROCESSOR]
    customers = []
    if processor_ids:
        reach_of = _Reaches(activities)
        # Core, not ORM: thousands of plain rows need no entity loading
        for cid, key, name, items, via in db.session.connection().execute(customer_aggregate(processor_ids)):
            subjects, records, unknown = combine_subject_counts(
                [(subject or None, int(people) if people else None, int(count) if count else None)
                 for subject, people, count in (item.split("=") for item in items.split(";"))])
            reach = reach_of(set(via.split(",")))
            customers.append(CustomerImpact(
                customer_id=cid, key=key, name=name, data_subjects=subjects, records=records,
                data_categories=reach.data_categories, sensitivity=reach.sensitivity, paths=reach.paths,
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
