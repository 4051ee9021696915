"""Taking, comparing and checking impact snapshots of an incident. Callers commit."""

from dataclasses import asdict
from typing import Any

from sqlalchemy import func, insert, select

from breachdesk.audit.models import AuditEvent
from breachdesk.audit.services import current_actor, record
from breachdesk.extensions import db
from breachdesk.impact.explain import difference
from breachdesk.impact.models import ImpactCustomer, ImpactSnapshot
from breachdesk.impact.queries import Impact, Scope, compute

#: audit entity types whose changes can change an impact
INVENTORY_ENTITIES = (
    "customers",
    "contacts",
    "systems",
    "processing_activities",
    "activity_data_categories",
    "activity_subject_categories",
    "volumes",
    "inventory",
)


def inventory_version() -> int:
    return db.session.scalar(
        select(func.coalesce(func.max(AuditEvent.id), 0)).where(AuditEvent.entity_type.in_(INVENTORY_ENTITIES))
    )


def scope_of(incident) -> tuple[Scope, dict[str, Any]]:
    systems = sorted(incident.systems, key=lambda s: s.key)
    categories = tuple(sorted(incident.data_categories or ()))
    return (
        Scope(tuple(s.id for s in systems), categories),
        {"systems": [s.key for s in systems], "data_categories": list(categories)},
    )


def current_snapshot(incident_id: int) -> ImpactSnapshot | None:
    return db.session.scalar(
        select(ImpactSnapshot)
        .where(ImpactSnapshot.incident_id == incident_id)
        .order_by(ImpactSnapshot.id.desc())
        .limit(1)
    )


def stale_reasons(incident, snapshot: ImpactSnapshot | None) -> list[str]:
    """Why the stored impact may no longer be right; empty when it is current."""
    if snapshot is None:
        return ["impact not computed yet"]
    reasons = []
    if scope_of(incident)[1] != snapshot.scope:
        reasons.append("the incident's systems or data categories changed")
    if inventory_version() > snapshot.inventory_version:
        reasons.append("the inventory changed")
    return reasons


def _customer_rows(snapshot_id: int, impact: Impact) -> list[dict[str, Any]]:
    return [
        {
            "snapshot_id": snapshot_id,
            "customer_id": c.customer_id,
            "key": c.key,
            "name": c.name,
            "people": c.people,
            "data_subjects": c.data_subjects,
            "records": c.records,
            "data_categories": c.data_categories,
            "sensitivity": c.sensitivity,
            "paths": c.paths,
            "activity_keys": sorted({path["activity"] for path in c.paths}),
            "counts_unknown": c.counts_unknown,
            "regions": c.regions,
        }
        for c in impact.customers
    ]


def _comparable(rows) -> dict[str, dict[str, Any]]:
    return {
        r["key"]: {k: r[k] for k in ("data_subjects", "records", "data_categories", "sensitivity", "regions")}
        for r in rows
    }


def take_snapshot(incident) -> ImpactSnapshot:
    """Compute the impact now and store it, with what changed since the previous snapshot."""
    scope, scope_dict = scope_of(incident)
    version = inventory_version()
    impact = compute(scope)
    previous = current_snapshot(incident.id)
    snapshot = ImpactSnapshot(
        incident_id=incident.id,
        computed_by=current_actor()[0],
        scope=scope_dict,
        inventory_version=version,
        totals=impact.totals,
        activities=[asdict(a) for a in impact.activities.values()],
        own=impact.own,
        own_regions=impact.own_regions,
    )
    db.session.add(snapshot)
    db.session.flush()
    rows = _customer_rows(snapshot.id, impact)
    if rows:
        db.session.execute(insert(ImpactCustomer), rows)
    if previous is not None:
        before = (
            db.session.execute(
                select(
                    ImpactCustomer.key,
                    ImpactCustomer.data_subjects,
                    ImpactCustomer.records,
                    ImpactCustomer.data_categories,
                    ImpactCustomer.sensitivity,
                    ImpactCustomer.regions,
                ).where(ImpactCustomer.snapshot_id == previous.id)
            )
            .mappings()
            .all()
        )
        snapshot.difference = difference(_comparable(before), _comparable(rows))
    record(
        db.session,
        "impact.computed",
        "incidents",
        incident.id,
        after={"snapshot": snapshot.id, "totals": impact.totals, "difference": snapshot.difference},
    )
    return snapshot
