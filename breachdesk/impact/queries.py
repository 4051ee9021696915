"""Set-wise SQL over the inventory: affected activities, then one grouped pass over volumes and one over links."""

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import JSON, BigInteger, String, cast, func, literal, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

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


class json_object_agg(FunctionElement):
    """An aggregate of (key, value) pairs into one JSON object: json_group_object on SQLite,
    json_object_agg on PostgreSQL. Decoded in C by the JSON type, not parsed from text in Python."""

    type = JSON()
    inherit_cache = True


@compiles(json_object_agg, "sqlite")
def _json_group_object(element, compiler, **kw):
    return f"json_group_object({compiler.process(element.clauses, **kw)})"


@compiles(json_object_agg, "postgresql")
def _json_object_agg(element, compiler, **kw):
    return f"json_object_agg({compiler.process(element.clauses, **kw)})"


def customer_aggregate(activity_ids: list[int]):
    """Per customer with volume rows in the activities: people per subject category (the largest count
    among the activities, because the same people sit in several), records summed, and the activities, as
    text. Grouped twice in SQL, (customer, subject) then customer, so ten thousand customers come back as
    ten thousand rows; names joined after grouping, so the grouping sorts small keys only."""
    grouped = (select(Volume.customer_id, Volume.data_subject_category.label("subject"),
                      func.max(Volume.data_subjects).label("people"), func.sum(Volume.records).label("records"),
                      func.aggregate_strings(cast(Volume.activity_id, String), literal(",")).label("via"))
               .where(Volume.activity_id.in_(activity_ids), Volume.customer_id.is_not(None))
               .group_by(Volume.customer_id, Volume.data_subject_category).subquery("grouped"))
    # PostgreSQL sums bigints as numeric (Decimal in Python): cast back, counts are whole numbers
    per_customer = (select(grouped.c.customer_id,
                           json_object_agg(grouped.c.subject, grouped.c.people).label("subjects"),
                           cast(func.sum(grouped.c.records), BigInteger).label("records"),
                           func.aggregate_strings(grouped.c.via, literal(",")).label("via"))
                    .group_by(grouped.c.customer_id).subquery("per_customer"))
    return (select(per_customer.c.customer_id, Customer.key, Customer.name, per_customer.c.subjects,
                   per_customer.c.records, per_customer.c.via)
            .join(Customer, Customer.id == per_customer.c.customer_id))


def customer_links(activity_ids: list[int]):
    """Per customer linked to the activities: the activities, as text. A linked customer without any volume
    row is affected all the same (counts unknown); one grouped pass over the links, no probe per link."""
    links = activity_customers.c
    linked = (select(links.customer_id, func.aggregate_strings(cast(links.activity_id, String), literal(","))
                     .label("via"))
              .where(links.activity_id.in_(activity_ids)).group_by(links.customer_id).subquery("linked"))
    return (select(linked.c.customer_id, Customer.key, Customer.name, linked.c.via)
            .join(Customer, Customer.id == linked.c.customer_id))


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
        parts = sorted(map(self.by_id.__getitem__, activity_ids))
        mask = sensitivity = 0
        paths = []
        for _, path, bits, level in parts:
            mask |= bits
            sensitivity = level if level > sensitivity else sensitivity
            paths.append(path)
        categories = self.categories_of_mask.get(mask)
        if categories is None:
            categories = self.categories_of_mask[mask] = [c for c, b in self.bit.items() if mask & b]
        return _Reach(categories, sensitivity, paths)


def compute(scope: Scope) -> Impact:
    activities = affected_activities(scope)
    processor_ids = [a.id for a in activities.values() if a.role == OurRole.PROCESSOR]
    customers = []
    if processor_ids:
        reach_of = _Reaches(activities)
        # Core, not ORM: thousands of plain rows need no entity loading
        connection = db.session.connection()
        counted = {row[0]: row for row in connection.execute(customer_aggregate(processor_ids)).all()}
        for cid, key, name, link_via in connection.execute(customer_links(processor_ids)).all():
            customers.append(_customer(cid, key, name, counted.pop(cid, None), link_via, reach_of))
        for counts in counted.values():  # volume rows without a link (the links edited since)
            customers.append(_customer(*counts[:3], counts, "", reach_of))
    customers.sort(key=lambda c: (c.name, c.key))
    return Impact(activities, customers, _own(activities))


def _customer(cid: int, key: str, name: str, counts, link_via: str, reach_of: _Reaches) -> CustomerImpact:
    """One customer from its volume row (subjects, records, activities) and its links (activities)."""
    via = set(link_via.split(",")) if link_via else set()
    if counts is None:  # linked, no volume row: still owed a notice, counts unknown
        reach = reach_of(via)
        return CustomerImpact(cid, key, name, {}, 0, reach.data_categories, reach.sensitivity, reach.paths, True)
    via.update(counts[5].split(","))
    reach = reach_of(via)
    return CustomerImpact(cid, key, name, counts[3], counts[4], reach.data_categories, reach.sensitivity, reach.paths)


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
