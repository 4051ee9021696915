"""Read side of incidents: the filtered list, the affected-customers table, the timeline, the dated events."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, func, or_, select

from breachdesk.audit.models import AuditEvent
from breachdesk.extensions import db
from breachdesk.impact.models import ImpactCustomer, ImpactSnapshot
from breachdesk.incidents.models import Incident, IncidentEvent, incident_systems
from breachdesk.inventory.models import System

SORTS = {
    "name": (ImpactCustomer.name,),
    "people": (ImpactCustomer.people.desc(), ImpactCustomer.name),
    "records": (ImpactCustomer.records.desc(), ImpactCustomer.name),
    "sensitivity": (ImpactCustomer.sensitivity.desc(), ImpactCustomer.name),
}


def latest_snapshot_ids() -> Select:
    return select(ImpactSnapshot.incident_id, func.max(ImpactSnapshot.id).label("snapshot_id")).group_by(
        ImpactSnapshot.incident_id
    )


def incidents(
    status: str = "",
    customer: str = "",
    system: str = "",
    aware_from: date | None = None,
    aware_to: date | None = None,
    zone: str = "UTC",
) -> Select:
    """Newest awareness first; dates are whole days in the viewer's zone."""
    query = select(Incident).order_by(Incident.aware_at.desc(), Incident.id.desc())
    if status:
        query = query.where(Incident.status == status)
    if system:
        query = query.where(
            Incident.id.in_(select(incident_systems.c.incident_id).join(System).where(System.key == system))
        )
    if customer:
        latest = latest_snapshot_ids().subquery()
        query = query.where(
            Incident.id.in_(
                select(latest.c.incident_id)
                .join(ImpactCustomer, ImpactCustomer.snapshot_id == latest.c.snapshot_id)
                .where(
                    or_(ImpactCustomer.key == customer, func.lower(ImpactCustomer.name).like(f"%{customer.lower()}%"))
                )
            )
        )
    if aware_from:
        query = query.where(Incident.aware_at >= _day_start(aware_from, zone))
    if aware_to:
        query = query.where(Incident.aware_at < _day_start(aware_to + timedelta(days=1), zone))
    return query


def _day_start(day: date, zone: str) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(zone))


def affected_customers(snapshot_id: int, sort: str = "name", q: str = "") -> Select:
    query = select(ImpactCustomer).where(ImpactCustomer.snapshot_id == snapshot_id)
    if q:
        pattern = f"%{q.lower()}%"
        query = query.where(or_(func.lower(ImpactCustomer.name).like(pattern), ImpactCustomer.key.like(pattern)))
    return query.order_by(*SORTS.get(sort, SORTS["name"]), ImpactCustomer.id)


def timeline(incident: Incident) -> list[dict]:
    """Every recorded change of the incident and every note, oldest first."""
    events = db.session.scalars(
        select(AuditEvent)
        .where(
            or_(
                and_(
                    AuditEvent.entity_type.in_(("incidents", "assessments")), AuditEvent.entity_id == str(incident.id)
                ),
                and_(
                    AuditEvent.entity_type.in_(("incident_notes", "incident_events", "obligations")),
                    AuditEvent.entity_id.like(f"{incident.id}:%"),
                ),
            )
        )
        .order_by(AuditEvent.id)
    )
    entries = []
    for event in events:
        if event.entity_type == "incident_notes":
            text = (event.after or {}).get("text", "")
            entries.append(
                {"at": event.occurred_at, "who": event.actor, "kind": (event.after or {}).get("kind"), "text": text}
            )
        else:
            kind = event.action if event.entity_type == "incidents" else f"{event.entity_type[:-1]} {event.action}"
            entries.append(
                {
                    "at": event.occurred_at,
                    "who": event.actor,
                    "kind": kind,
                    "changes": {k: ((event.before or {}).get(k), v) for k, v in (event.after or {}).items()}
                    if event.action == "update"
                    else None,
                    "text": _summary(event),
                }
            )
    return entries


def _summary(event: AuditEvent) -> str:
    after = event.after or {}
    if event.entity_type == "incident_events":
        return f"{after.get('kind', '').replace('_', ' ')} at {after.get('occurred_at', '')} {after.get('note', '')}"
    if event.entity_type == "obligations":
        return event.entity_id.split(":", 1)[1]
    if event.entity_type == "assessments" and event.action == "create":
        return (
            f"Severity {after.get('score')} ({after.get('band')}); decision: authority "
            f"{after.get('decision_authority')}, data subjects {after.get('decision_data_subjects')}"
        )
    if event.action == "create" and event.entity_type == "incidents":
        return f"Incident filed: {after.get('title', '')}"
    if event.action == "obligations.derived":
        return (
            f"Obligations derived: {after.get('created', 0)} created, {after.get('changed', 0)} changed, "
            f"{after.get('withdrawn', 0)} withdrawn"
        )
    if event.action == "impact.computed":
        totals = after.get("totals", {})
        return (
            f"Impact computed: {totals.get('customers', 0)} customers, {totals.get('data_subjects', 0):,} "
            f"data subjects, {totals.get('records', 0):,} records"
        )
    return ""


def events_of(incident_id: int) -> list[IncidentEvent]:
    """The facts that anchor clocks (determinations, stages filed elsewhere), in the order they happened."""
    return list(
        db.session.scalars(
            select(IncidentEvent)
            .where(IncidentEvent.incident_id == incident_id)
            .order_by(IncidentEvent.occurred_at, IncidentEvent.id)
        )
    )
