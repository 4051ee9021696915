"""Read side of incidents: the filtered list, the affected-customers table, the timeline, the dated events."""

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, func, or_, select

from breachdesk.audit.models import AuditEvent
from breachdesk.extensions import db
from breachdesk.impact.models import ImpactCustomer, ImpactSnapshot
from breachdesk.incidents import timeline as words
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


def timeline(
    incident: Incident,
    duty_names: Callable[[set[str]], dict[str, str]] | None = None,
    stage_names: dict[str, str] | None = None,
) -> list[dict]:
    """Every recorded change of the incident and every note, oldest first, each in a sentence. `duty_names` gives
    the words of the duties the events name (by audit label); `stage_names` those of the stages (by rule id): both come
    from the domains that own them, through the incident page's signal."""
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
    ).all()
    duties = {e.entity_id for e in events if e.entity_type == "obligations"}
    duty_words = duty_names(duties) if duty_names and duties else {}
    return [_entry(event, duty_words, stage_names or {}) for event in events]


def _entry(event: AuditEvent, duty_words: dict[str, str], stage_names: dict[str, str]) -> dict:
    after = event.after or {}
    entry = {"at": event.occurred_at, "who": event.actor, "text": "", "changes": []}
    if event.entity_type == "incident_notes":
        return entry | {"sentence": words.NOTE_WORDS.get(after.get("kind"), "Note"), "text": after.get("text", "")}
    if event.entity_type == "obligations":
        duty = duty_words.get(event.entity_id, "A duty")
        return entry | {"sentence": words.duty_sentence(event.action, after, duty)}
    if event.entity_type == "incident_events":
        entry["text"] = after.get("note", "")
    if event.entity_type == "incidents" and event.action == "update" and set(after) != {"status"}:
        before = event.before or {}
        entry["changes"] = [
            (
                words.FIELD_WORDS.get(k, k.replace("_", " ")),
                words.value_words(k, before.get(k)),
                words.value_words(k, v),
            )
            for k, v in after.items()
        ]
    return entry | {"sentence": words.sentence(event.entity_type, event.action, after, stage_names)}


def events_of(incident_id: int) -> list[IncidentEvent]:
    """The facts that anchor clocks (determinations, stages filed elsewhere), in the order they happened."""
    return list(
        db.session.scalars(
            select(IncidentEvent)
            .where(IncidentEvent.incident_id == incident_id)
            .order_by(IncidentEvent.occurred_at, IncidentEvent.id)
        )
    )
