"""Deriving an incident's obligations from its impact, assessment, events and the organisation profile,
and recording what people do with them. Callers commit.

Derivation runs after every change that can move a duty (filing, awareness moved, impact recomputed,
assessment saved, an event recorded, a stage sent). Thousands of customer duties are written in bulk with
one summary audit event; what a person does to one obligation is audited row by row.
"""

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, func, insert, select, update

from breachdesk.assessments.models import Assessment, Decision
from breachdesk.assessments.services import assessment_of
from breachdesk.audit.services import record
from breachdesk.core.clock import now_utc
from breachdesk.core.errors import DomainError, ValidationFailed
from breachdesk.core.signals import incident_changed, incident_closing, organisation_changed
from breachdesk.deadlines.applicability import Population, Residents
from breachdesk.deadlines.calendar import year_end
from breachdesk.deadlines.diff import FROZEN, STATE, Changes, Filing, Stored, diff, lateness, withdrawal
from breachdesk.deadlines.models import OVERDUE, Obligation, ObligationStatus, obligation_label
from breachdesk.deadlines.obligations import (
    AffectedCustomer,
    Facts,
    Profile,
    Ruling,
    customers_residence_matters,
    declined,
    plan,
    rulings_from,
)
from breachdesk.deadlines.rules import (
    CUSTOMER_STATUSES,
    DETERMINATIONS,
    STAGE_FILED,
    STAGE_FILED_LATEST,
    filed_stage,
    shipped_rules,
)
from breachdesk.extensions import db
from breachdesk.impact.models import ImpactCustomer, ImpactSnapshot
from breachdesk.impact.services import current_snapshot
from breachdesk.incidents.models import Incident, IncidentEvent, IncidentStatus
from breachdesk.incidents.queries import events_of
from breachdesk.inventory.models import Customer, NoticeTerms, Organisation
from breachdesk.inventory.regions import UNKNOWN

#: events that start a clock; their negatives (not_significant ...) only stop a duty
POSITIVE_EVENTS = {positive for positive, _ in DETERMINATIONS.values()} | {"high_risk_established"}
NEGATIVE_EVENTS = {negative for _, negative in DETERMINATIONS.values()}
#: events that only start a clock: NIS2's final report after an ongoing incident counts from the end of its handling
MOMENTS = {"incident_handled"}
EVENT_KINDS = POSITIVE_EVENTS | NEGATIVE_EVENTS | MOMENTS | {"stage_filed"}
AUDIT_SAMPLE = 50


def organisation_profile() -> Profile | None:
    row = db.session.get(Organisation, 1)
    if row is None:
        return None
    return Profile(
        row.name,
        tuple(row.regimes),
        row.lead_supervisory_authority,
        dict(row.authorities),
        dict(row.entity_status),
        row.undue_delay_target_hours,
        row.country or "",
    )


def anchors_of(incident: Incident, events: list[IncidentEvent], sent: dict[str, datetime]) -> dict[str, datetime]:
    """Every fact that can start a clock, at its earliest instant. A stage counts as filed when it was sent
    through BreachDesk or recorded as filed elsewhere, whichever came first; `stage_filed_latest:` is its last
    filing (an updated report recorded as filed again)."""
    anchors: dict[str, datetime] = {"awareness": incident.aware_at, "discovery_year_end": year_end(incident.aware_at)}
    if incident.detected_at:
        anchors["detection"] = incident.detected_at
    filed = [(event.stage, event.occurred_at) for event in events if event.kind == "stage_filed"]
    for event in events:
        if event.kind in POSITIVE_EVENTS or event.kind in MOMENTS:
            anchors[event.kind] = min(anchors.get(event.kind, event.occurred_at), event.occurred_at)
    for rule_id, at in [*filed, *sent.items()]:
        first, latest = f"{STAGE_FILED}{rule_id}", f"{STAGE_FILED_LATEST}{rule_id}"
        anchors[first] = min(anchors.get(first, at), at)
        anchors[latest] = max(anchors.get(latest, at), at)
    return anchors


def _determinations(events: list[IncidentEvent]) -> dict[str, Ruling]:
    """The latest determination per condition decides (a person may revise one)."""
    rulings: dict[str, Ruling] = {}
    for event in sorted(events, key=lambda e: e.id):
        for condition, (positive, negative) in DETERMINATIONS.items():
            if event.kind in (positive, negative):
                who = event.recorded_by.username if event.recorded_by else "unknown"
                rulings[condition] = Ruling(event.kind == positive, who, event.note)
    return rulings


def _decisions(assessment: Assessment | None) -> dict[str, Ruling]:
    if assessment is None:
        return {}
    who = assessment.decided_by.username if assessment.decided_by else ""

    def ruling(decision: Decision) -> Ruling:
        required = {Decision.REQUIRED: True, Decision.NOT_REQUIRED: False}.get(decision)
        return Ruling(required, who if required is not None else "", assessment.rationale if required is False else "")

    return {
        "authority": ruling(assessment.decision_authority),
        "data_subjects": ruling(assessment.decision_data_subjects),
    }


def population(regions: dict[str, dict], categories: list[str]) -> Population:
    """Where the people of a snapshot's row live, as the planner reads it. A snapshot taken before regions were
    recorded has none: its people are of an unknown region, so that a person answers the question."""
    if not regions:
        return {UNKNOWN: Residents(0, frozenset(categories), counts_unknown=True)}
    return {
        region: Residents(entry["people"], frozenset(entry["data_categories"]), entry["counts_unknown"])
        for region, entry in regions.items()
    }


def _affected(snapshot: ImpactSnapshot | None, residence: bool) -> tuple[frozenset[str], tuple[AffectedCustomer, ...]]:
    """The roles and customers of the snapshot; where each customer's people live only when a rule needs it
    (`residence`): ten thousand customers' regions are not read for nothing at every derivation."""
    if snapshot is None:
        return frozenset(), ()
    roles = frozenset(a["role"] for a in snapshot.activities)
    statuses = [getattr(Customer, status) for status in CUSTOMER_STATUSES]
    regions = [ImpactCustomer.regions, ImpactCustomer.data_categories] if residence else []
    rows = db.session.execute(
        select(
            ImpactCustomer.key,
            ImpactCustomer.name,
            ImpactCustomer.customer_id,
            *regions,
            Customer.notice_hours,
            Customer.notice_terms,
            *statuses,
        )
        .outerjoin(Customer, Customer.id == ImpactCustomer.customer_id)
        .where(ImpactCustomer.snapshot_id == snapshot.id)
        .order_by(ImpactCustomer.key)
    )
    # a customer deleted since the snapshot keeps the default contract term of 24 hours, and no status
    return roles, tuple(
        AffectedCustomer(
            row.key,
            row.name,
            row.customer_id,
            row.notice_hours or 24,
            row.notice_terms != NoticeTerms.WITHOUT_UNDUE_DELAY,
            frozenset(status for status in CUSTOMER_STATUSES if getattr(row, status)),
            population(row.regions, row.data_categories) if residence else {},
        )
        for row in rows
    )


def facts_of(incident: Incident, events: list[IncidentEvent], residence: bool) -> Facts:
    assessment = assessment_of(incident.id)
    snapshot = current_snapshot(incident.id)
    roles, customers = _affected(snapshot, residence)
    exemptions = set(assessment.exemptions) if assessment else set()
    return Facts(
        roles,
        customers,
        rulings_from(_decisions(assessment), _determinations(events)),
        public_communication="disproportionate_effort" in exemptions,
        own_regions=population(snapshot.own_regions, sorted({c for o in snapshot.own for c in o["data_categories"]}))
        if snapshot and snapshot.own
        else {},
        aware_at=incident.aware_at,
    )


def sync_obligations(incident: Incident) -> dict[str, int]:
    """Bring the incident's obligations in line with what is owed now: plan, diff against what is stored,
    write the difference (see `deadlines.diff` for what moves and what stays)."""
    profile = organisation_profile()
    db.session.flush()
    stored = stored_obligations(incident.id)
    events = events_of(incident.id)
    anchors = anchors_of(incident, events, first_sent(stored))
    facts = facts_of(incident, events, bool(profile) and customers_residence_matters(shipped_rules(), profile))
    planned = plan(shipped_rules(), profile, facts) if profile else []
    changes = diff(
        planned,
        stored,
        anchors,
        filings(events),
        lambda key: declined(shipped_rules(), profile, facts, key) if profile else "there is no organisation profile",
    )
    counts = {"created": len(changes.created), "changed": len(changes.changed), "withdrawn": len(changes.withdrawn)}
    if any(counts.values()):
        write_changes(incident, changes)
        record(
            db.session,
            "obligations.derived",
            "incidents",
            incident.id,
            after={
                **counts,
                "anchors": {k: v.isoformat() for k, v in sorted(anchors.items())},
                **audit_sample(changes),
            },
        )
    return counts


def stored_obligations(incident_id: int) -> list[Stored]:
    rows = db.session.execute(
        select(
            Obligation.id,
            Obligation.rule_id,
            Obligation.recipient_key,
            Obligation.terms,
            *(getattr(Obligation, name) for name in STATE),
        ).where(Obligation.incident_id == incident_id)
    )
    return [
        Stored(row.id, (row.rule_id, row.recipient_key), row.terms, {name: getattr(row, name) for name in STATE})
        for row in rows
    ]


def first_sent(stored: list[Stored]) -> dict[str, datetime]:
    """When each rule's stage was first sent through BreachDesk: a filed stage starts the next one's clock."""
    sent: dict[str, datetime] = {}
    for row in stored:
        rule_id, at = row.key[0], row.state["sent_at"]
        if at is not None:
            sent[rule_id] = min(sent.get(rule_id, at), at)
    return sent


def filings(events: list[IncidentEvent]) -> dict[str, Filing]:
    """Stages recorded as filed outside BreachDesk, by rule id; the first filing wins."""
    return {e.stage: Filing(e.occurred_at, e.reference) for e in reversed(events) if e.kind == "stage_filed"}


def write_changes(incident: Incident, changes: Changes) -> None:
    """Thousands of customer duties are written in executemany statements, not object by object."""
    now = now_utc()
    if changes.created:
        db.session.execute(
            insert(Obligation), [{**row, "incident_id": incident.id, "created_at": now} for row in changes.created]
        )
    if changes.changed:
        db.session.execute(update(Obligation), [{"id": row.id, **moved} for row, moved in changes.changed])
    if changes.withdrawn:
        db.session.execute(
            update(Obligation),
            [{"id": row.id, **withdrawal(changes.reasons.get(row.key, ""))} for row in changes.withdrawn],
        )
    db.session.expire_all()  # the bulk statements bypass loaded objects


def audit_sample(changes: Changes) -> dict[str, list[str]]:
    """The first entries of each kind, so the log shows what moved without copying ten thousand rows."""

    def due(state: dict) -> str | None:
        at = state["due_at"] or state["target_at"]
        return at.isoformat() if at else None

    changed = []
    for row, moved in changes.changed[:AUDIT_SAMPLE]:
        state = row.state | moved
        changed.append(f"{':'.join(row.key)} {state['status'].value} due {due(state)}")
    return {
        "created_first": [f"{c['rule_id']}:{c['recipient_key']} due {due(c)}" for c in changes.created[:AUDIT_SAMPLE]],
        "changed_first": changed,
        "withdrawn_first": [
            f"{':'.join(row.key)} {changes.reasons.get(row.key, '')}".strip()
            for row in changes.withdrawn[:AUDIT_SAMPLE]
        ],
    }


def resync_open_incidents() -> int:
    """After the organisation profile changed: regimes added or dropped change what open incidents owe."""
    incidents = db.session.scalars(select(Incident).where(Incident.status != IncidentStatus.CLOSED)).all()
    for incident in incidents:
        sync_obligations(incident)
    return len(incidents)


def obligations_of(incident_id: int) -> list[Obligation]:
    """Soonest first; customer duties after the authorities' at the same instant, by recipient."""
    return list(db.session.scalars(obligations_in_order(incident_id)))


def obligations_in_order(incident_id: int) -> Select:
    """The incident's obligations in the order of `obligations_of`, whole (the id last), so pages of it hold."""
    return (
        select(Obligation)
        .where(Obligation.incident_id == incident_id)
        .order_by(
            Obligation.due_at.is_(None),
            Obligation.due_at,
            Obligation.target_at,
            Obligation.rule_id,
            Obligation.recipient_key,
            Obligation.id,
        )
    )


def summary_of(incident_id: int, now: datetime | None = None) -> dict[str, int]:
    """Duties by shown status (overdue apart from pending), counted in SQL: an incident may owe thousands."""
    now = now or now_utc()
    overdue = (Obligation.status == ObligationStatus.PENDING) & (Obligation.due_at < now)
    counts: dict[str, int] = defaultdict(int)
    for status, late, count in db.session.execute(
        select(Obligation.status, overdue, func.count())
        .where(Obligation.incident_id == incident_id)
        .group_by(Obligation.status, overdue)
    ):
        counts[OVERDUE if late else status.value] += count
    return dict(counts)


def mark_sent(obligation: Obligation, sent_at: datetime, reference: str = "") -> None:
    """Sent means fulfilled as of the send time: lateness is frozen at the first send, the earliest one even
    when several messages sent at once are recorded in another order."""
    mark_all_sent([(obligation, sent_at, reference)])


def mark_all_sent(sends: list[tuple[Obligation, datetime, str]]) -> None:
    """`mark_sent` for each (obligation, sent_at, reference), written in one flush (and so one audit append)."""
    now = now_utc()
    for obligation, sent_at, reference in sends:
        current = {column: getattr(obligation, column) for column in _SENDING_READS}
        for column, value in sending(current, sent_at, reference, now).items():
            setattr(obligation, column, value)
    db.session.flush()
    filing = _rules_filing_a_stage()
    _start_next_stages({o.incident for o, *_ in sends if o.rule_id in filing})


#: what deciding a send's changes reads of an obligation
_SENDING_READS = ("status", "sent_at", "due_at", "target_at")


def sending(current: dict[str, Any], sent_at: datetime, reference: str, now: datetime) -> dict[str, Any]:
    """What a send at `sent_at` writes on an obligation whose columns are `current` (`_SENDING_READS`): sent
    means fulfilled as of the send time; lateness is frozen at the first send, the earliest one even when several
    messages sent at once are recorded in another order."""
    if current["status"] == ObligationStatus.NOT_REQUIRED:
        raise DomainError("status: this obligation is not required; nothing to send")
    if sent_at > now:
        raise ValidationFailed(["sent_at: is in the future"])
    changes: dict[str, Any] = {}
    if current["status"] == ObligationStatus.PENDING:
        changes["status"] = ObligationStatus.SENT
    if current["sent_at"] is None or sent_at < current["sent_at"]:
        changes["sent_at"] = sent_at
        changes["late_by_seconds"] = lateness(sent_at, current["due_at"] or current["target_at"])
    if reference.strip():
        changes["sent_reference"] = reference.strip()[:200]
    return changes


def _rules_filing_a_stage() -> set[str]:
    """The rules whose filing starts another stage's clock (an anchor `stage_filed:<rule id>`)."""
    return {stage for r in shipped_rules() if (stage := filed_stage(r.anchor)) is not None}


def _start_next_stages(incidents: set[Incident]) -> None:
    for incident in incidents:
        sync_obligations(incident)  # a filed stage starts the next stage's clock


#: the columns a send writes, in the table's order (the order the flush audits them in)
_WRITTEN = ("status", "sent_at", "late_by_seconds", "sent_reference")
_RECORDED_SEND = (
    update(Obligation.__table__)
    .where(Obligation.__table__.c.id == bindparam("obligation_id"))
    .values(**{column: bindparam(f"new_{column}") for column in _WRITTEN})
)


def record_first_sends(sends: dict[int, tuple[datetime, str]]) -> list[dict[str, Any]]:
    """The dispatcher's `mark_all_sent`: obligation id -> (its earliest message sent in a group of outcomes, the
    reference), read and written with one statement each. Returns the audit events the flush would have written,
    for the caller to append with its own in one go. Obligations no longer required stay as they are, and a send
    later than the one on record changes nothing."""
    columns = (Obligation.id, Obligation.incident_id, Obligation.rule_id, Obligation.recipient_key)
    reads = [getattr(Obligation, column) for column in _SENDING_READS]
    rows = db.session.execute(
        select(*columns, *reads, Obligation.late_by_seconds, Obligation.sent_reference).where(
            Obligation.id.in_(sends), Obligation.status != ObligationStatus.NOT_REQUIRED
        )
    ).mappings()
    now, writes, events, filing = now_utc(), [], [], set()
    filing_rules = _rules_filing_a_stage()
    for row in rows:
        sent_at, reference = sends[row["id"]]
        if row["sent_at"] is not None and row["sent_at"] <= sent_at:
            continue
        changes = sending(dict(row), sent_at, reference, now)
        writes.append({"obligation_id": row["id"], **{f"new_{k}": changes.get(k, row[k]) for k in _WRITTEN}})
        changed = [k for k in _WRITTEN if k in changes and changes[k] != row[k]]
        events.append(
            {
                "action": "update",
                "entity_type": Obligation.__tablename__,
                "entity_id": obligation_label(row["incident_id"], row["rule_id"], row["recipient_key"]),
                "before": {k: row[k] for k in changed},
                "after": {k: changes[k] for k in changed},
            }
        )
        if row["rule_id"] in filing_rules:
            filing.add(row["incident_id"])
    if writes:
        db.session.execute(_RECORDED_SEND, writes)
    _start_next_stages({db.session.get(Incident, incident_id) for incident_id in filing})
    return events


def mark_acknowledged(obligation: Obligation, acknowledged_at: datetime) -> None:
    if obligation.status not in FROZEN:
        raise DomainError("status: only a sent notice can be acknowledged")
    if acknowledged_at > now_utc():
        raise ValidationFailed(["acknowledged_at: is in the future"])
    if obligation.sent_at and acknowledged_at < obligation.sent_at:
        raise ValidationFailed(["acknowledged_at: is before the notice was sent"])
    if obligation.acknowledged_at is None:
        obligation.acknowledged_at = acknowledged_at
        obligation.status = ObligationStatus.ACKNOWLEDGED
    db.session.flush()


# --- what the domains below announce (core.signals) ----------------------------------------------


@incident_changed.connect
def _rederive_incident(incident: Incident) -> None:
    sync_obligations(incident)


@organisation_changed.connect
def _rederive_open_incidents(_sender: None) -> None:
    resync_open_incidents()


#: pending duties named one by one when an incident is closed; the rest are counted
NAMED_WHEN_CLOSING = 10


@incident_closing.connect
def _pending_when_closing(incident: Incident) -> list[str]:
    """The duties an incident still owes, soonest first: closing it leaves them unmet."""
    rows = db.session.execute(
        select(Obligation.regime, Obligation.stage, Obligation.recipient, Obligation.due_at)
        .where(Obligation.incident_id == incident.id, Obligation.status == ObligationStatus.PENDING)
        .order_by(Obligation.due_at.is_(None), Obligation.due_at, Obligation.target_at, Obligation.id)
    ).all()
    lines = [
        f"{regime} {stage} to {recipient}" + (f", due {due_at:%Y-%m-%d %H:%M} UTC" if due_at else "")
        for regime, stage, recipient, due_at in rows[:NAMED_WHEN_CLOSING]
    ]
    if len(rows) > NAMED_WHEN_CLOSING:
        lines.append(f"and {len(rows) - NAMED_WHEN_CLOSING} more")
    return lines
