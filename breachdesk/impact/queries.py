"""Set-wise SQL over the inventory: affected activities, then one statement grouping volumes and links."""

import gc
import json
import operator
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import reduce
from itertools import chain
from typing import Any

from sqlalchemy import JSON, BigInteger, String, cast, func, select

from breachdesk.core.db import per_dialect
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


#: (key, value) pairs aggregated into one JSON object
json_object_agg = per_dialect("json_object_agg", JSON(), sqlite="json_group_object({})",
                              postgresql="json_object_agg({})")
#: integer ids aggregated into comma-separated text: SQLite's group_concat takes the integers as they are
#: (a CAST per row cost it 10 ms of 230 over 70,000 links), PostgreSQL's string_agg wants text
id_list = per_dialect("id_list", String(), sqlite="group_concat({}, ',')",
                      postgresql="string_agg(CAST({} AS TEXT), ',')")
#: a text column compared by code point, as Python compares strings: SQLite's default (BINARY) already
#: does; PostgreSQL follows the database's locale unless told COLLATE "C"
in_code_point_order = per_dialect("in_code_point_order", default="{}", postgresql='{} COLLATE "C"')


def affected_customers(activity_ids: list[int]):
    """One row per customer the activities reach, by name then key: id, key, name, people per subject
    category (JSON text; the largest count among the activities, because the same people sit in several),
    records summed (NULL for a customer linked without any volume row: affected all the same, counts
    unknown), and the ids of the activities reaching it, comma-separated, from its links (a customer with
    volume rows in an activity is always linked to it: see `activity_customers`).

    Volumes are grouped twice, (customer, subject) then customer, links once, so that ten thousand
    customers come back as ten thousand rows of one statement; names are joined after grouping, so that
    the grouping sorts small keys only."""
    grouped = (select(Volume.customer_id, Volume.data_subject_category.label("subject"),
                      func.max(Volume.data_subjects).label("people"), func.sum(Volume.records).label("records"))
               .where(Volume.activity_id.in_(activity_ids), Volume.customer_id.is_not(None))
               .group_by(Volume.customer_id, Volume.data_subject_category).subquery("grouped"))
    # PostgreSQL sums bigints as numeric (Decimal in Python): cast back, counts are whole numbers;
    # the JSON as text: compute() decodes every customer's in one call
    counted = (select(grouped.c.customer_id,
                      cast(json_object_agg(grouped.c.subject, grouped.c.people), String).label("subjects"),
                      cast(func.sum(grouped.c.records), BigInteger).label("records"))
               .group_by(grouped.c.customer_id).subquery("counted"))
    links = activity_customers.c
    linked = (select(links.customer_id, id_list(links.activity_id).label("via"))
              .where(links.activity_id.in_(activity_ids)).group_by(links.customer_id).subquery("linked"))
    return (select(Customer.id, Customer.key, Customer.name, counted.c.subjects, counted.c.records, linked.c.via)
            .join(linked, linked.c.customer_id == Customer.id)
            .outerjoin(counted, counted.c.customer_id == Customer.id)
            .order_by(in_code_point_order(Customer.name), in_code_point_order(Customer.key)))


class _Reaches:
    """A customer's categories, highest sensitivity and paths from the activities reaching it. Ten thousand
    customers are assembled per impact, so per-activity parts are prepared once, by rank in key order:
    categories become bits of one integer (in sorted order), a customer's union of categories is ORs,
    read back a byte at a time."""

    def __init__(self, activities: dict[int, AffectedActivity]):
        ordered = sorted(activities.values(), key=lambda a: a.key)
        names = sorted({c for a in ordered for c in a.data_categories})
        bit = {c: 1 << i for i, c in enumerate(names)}
        #: for each byte of a mask, each of its 256 values -> the categories of its set bits, in order
        chunks = [names[start:start + 8] for start in range(0, len(names), 8)]
        self.names_of_byte = [[[c for i, c in enumerate(chunk) if value >> i & 1] for value in range(256)]
                              for chunk in chunks]
        self.mask_bytes = len(chunks)
        self.rank_of = {str(a.id): rank for rank, a in enumerate(ordered)}
        self.path_at = [a.path for a in ordered]
        self.bits_at = [sum(bit[c] for c in a.data_categories) for a in ordered]
        self.level_at = [a.sensitivity for a in ordered]

    def __call__(self, via: str) -> tuple[list[str], int, list[dict[str, Any]]]:
        """Categories, sensitivity and paths (in activity key order) of the activities listed: distinct
        ids as comma-separated text."""
        ranks = sorted(map(self.rank_of.__getitem__, via.split(",")))
        mask = reduce(operator.or_, map(self.bits_at.__getitem__, ranks))
        # each byte of the mask picks its categories from its table: C loops, not a Python loop per bit
        categories = list(chain.from_iterable(map(list.__getitem__, self.names_of_byte,
                                                  mask.to_bytes(self.mask_bytes, "little"))))
        return categories, max(map(self.level_at.__getitem__, ranks)), list(map(self.path_at.__getitem__, ranks))


@contextmanager
def gc_paused():
    """The cyclic garbage collector off while an answer's tens of thousands of objects are built: they
    hold no cycles, yet every few hundred allocations would start a collection that walks them again."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def compute(scope: Scope) -> Impact:
    activities = affected_activities(scope)
    processor_ids = [a.id for a in activities.values() if a.role == OurRole.PROCESSOR]
    customers = []
    if processor_ids:
        reach_of = _Reaches(activities)
        # Core rows, not ORM entities: thousands of customers need no entity loading
        rows = db.session.connection().execute(affected_customers(processor_ids)).all()
        # one JSON document for every customer's subject counts: a json.loads per row costs more in its
        # wrapper than in parsing; null for a customer only linked (counts unknown)
        subjects_of = json.loads("[" + ",".join(row[3] or "null" for row in rows) + "]")
        with gc_paused():
            for (cid, key, name, _, records, via), subjects in zip(rows, subjects_of, strict=True):
                categories, sensitivity, paths = reach_of(via)
                customers.append(CustomerImpact(cid, key, name, subjects or {}, records or 0, categories,
                                                sensitivity, paths, subjects is None))
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
