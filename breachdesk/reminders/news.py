"""Alerts when something happens to an incident: it is filed, or a recomputation finds its impact grown. Queued
at once, in the transaction that made them, through the outbox that sends notices (the same backends, retries
and proof), to the privacy team, the incident's owner, the on-call address and the chat channels, each in the
reader's language and time zone; each event once, by its key. Also the incident page's first screen: how bad,
who must be told by when, and who has been alerted."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from babel.numbers import format_decimal
from flask import current_app
from sqlalchemy import func, or_, select

from breachdesk.auth.models import Role, User
from breachdesk.core.clock import now_utc
from breachdesk.core.i18n import Label, localized_instant
from breachdesk.core.signals import impact_recomputed, incident_filed, incident_page
from breachdesk.deadlines.models import Obligation, ObligationStatus
from breachdesk.deadlines.obligations import span_parts
from breachdesk.extensions import db
from breachdesk.impact.models import ImpactCustomer, ImpactSnapshot
from breachdesk.impact.services import current_snapshot
from breachdesk.incidents.models import Incident
from breachdesk.incidents.services import incident_link
from breachdesk.inventory.taxonomy import SENSITIVITY_LABELS, Sensitivity
from breachdesk.notices.chat import CHANNEL_LABELS, channels
from breachdesk.notices.models import OUTBOX_STATUS_LABELS, AlertMail, OutboxMessage
from breachdesk.notices.words import REGIME, STAGE
from breachdesk.reminders.rules import ALERT_LANGUAGES, FILED, GREW, ImpactSummary, growth
from breachdesk.reminders.services import insert_alerts, queue_mails

#: who hears of a new incident or a grown impact, besides the owner, the on-call address and the chat channels
TOLD = (Role.PRIVACY,)
#: duties the first screen shows
NEXT_DUTIES = 3

SUBJECTS = {
    FILED: Label("incident alert", "New incident #{number}: {title}"),
    GREW: Label("incident alert", "Incident #{number}: its impact grew ({measures})"),
}
IMPACT = Label(
    "incident alert",
    "Affected: {customers} customers, {people} people, {records} records; most sensitive: {sensitivity}.",
)
NO_PERSONAL_DATA = Label("incident alert", "no personal data found")
GREW_LINE = Label("incident alert", "What grew: {changes}.")
CHANGE = Label("incident alert", "{measure} from {before} to {after}")
MEASURE_LABELS = {
    "customers": Label("impact measure", "customers"),
    "people": Label("impact measure", "people"),
    "records": Label("impact measure", "records"),
    "sensitivity": Label("impact measure", "most sensitive data"),
}
SOONEST = Label("incident alert", "Soonest duty: {duty}, due {when}, {left}.")
SOONEST_TARGET = Label("incident alert", "Soonest duty: {duty}, our target {when}, {left}.")
NO_DUTY = Label("incident alert", "No dated duty yet: the risk assessment decides the rest.")
DUTY = Label("incident alert", "{regime} {stage} to {recipient}")
OPEN = Label("incident alert", "Open the incident: {link}")
#: between the items of a list in a sentence (French puts a space before a semicolon)
SEPARATOR = Label("list separator", "; ")
LEFT = Label("time left", "in {span}")
OVERDUE = Label("time left", "overdue by {span}")
TARGET_PASSED = Label("time left", "target passed by {span}")
SPANS = (
    Label("time span", "{days} d {hours} h"),
    Label("time span", "{hours} h {minutes} min"),
    Label("time span", "{minutes} min"),
)


@dataclass(frozen=True)
class Reader:
    address: str
    language: str
    zone: str


@dataclass(frozen=True)
class Duty:
    """A pending duty as the first screen and the alerts show it: its instant is the legal deadline, or our
    own target where the law says "without undue delay"."""

    obligation: Obligation
    when: datetime | None
    target: bool


def readers(owner_id: int | None) -> list[Reader]:
    """The privacy team and the owner in their own language and zone; the on-call address and the chat channels
    in the team's."""
    config = current_app.config
    users = db.session.execute(
        select(User.email, User.language, User.time_zone).where(
            User.disabled_at.is_(None), or_(User.role.in_(TOLD), User.id == owner_id)
        )
    ).all()
    found = [Reader(email, language if language in ALERT_LANGUAGES else "en", zone) for email, language, zone in users]
    team = (config["ONCALL_LANGUAGE"], config["ONCALL_TIME_ZONE"])  # checked when the app starts
    if config["ONCALL_EMAIL"]:
        found.append(Reader(config["ONCALL_EMAIL"], *team))
    return found + [Reader(channel, *team) for channel in channels(config)]


def summary_of(snapshot: ImpactSnapshot) -> ImpactSummary:
    customers = db.session.scalar(
        select(func.max(ImpactCustomer.sensitivity)).where(ImpactCustomer.snapshot_id == snapshot.id)
    )
    own = max((row.get("sensitivity", 0) for row in snapshot.own), default=0)
    totals = snapshot.totals
    return ImpactSummary(totals["customers"], totals["data_subjects"], totals["records"], max(customers or 0, own or 0))


def next_duties(incident_id: int, limit: int = NEXT_DUTIES) -> list[Duty]:
    """The pending duties soonest first, by deadline or target; those whose clock has not started last."""
    when = func.coalesce(Obligation.due_at, Obligation.target_at)
    obligations = db.session.scalars(
        select(Obligation)
        .where(Obligation.incident_id == incident_id, Obligation.status == ObligationStatus.PENDING)
        .order_by(when.is_(None), when, Obligation.id)
        .limit(limit)
    )
    return [Duty(o, o.due_at or o.target_at, o.due_at is None and o.target_at is not None) for o in obligations]


def span(seconds: float, language: str) -> str:
    days, hours, mins = span_parts(seconds)
    shape = SPANS[0] if days else SPANS[1] if hours else SPANS[2]
    return shape.translated(language).format(days=days, hours=hours, minutes=mins)


def time_left(duty: Duty, now: datetime, language: str) -> str:
    seconds = (duty.when - now).total_seconds()
    shape = LEFT if seconds >= 0 else TARGET_PASSED if duty.target else OVERDUE
    return shape.translated(language).format(span=span(seconds, language))


def _number(value: int, language: str) -> str:
    return format_decimal(value, locale=language)


def _sensitivity(value: int, language: str) -> str:
    return (
        SENSITIVITY_LABELS[Sensitivity(value)].translated(language) if value else NO_PERSONAL_DATA.translated(language)
    )


def _measure(measure: str, value: int, language: str) -> str:
    return _sensitivity(value, language) if measure == "sensitivity" else _number(value, language)


def _duty_words(duty: Duty, now: datetime, language: str, zone: str) -> str:
    obligation = duty.obligation
    if duty.when is None:
        return NO_DUTY.translated(language)
    name = DUTY.translated(language).format(
        regime=Label(REGIME, obligation.regime).translated(language),
        stage=Label(STAGE, obligation.stage).translated(language),
        recipient=obligation.recipient,
    )
    return (
        (SOONEST_TARGET if duty.target else SOONEST)
        .translated(language)
        .format(duty=name, when=localized_instant(duty.when, zone, language), left=time_left(duty, now, language))
    )


def alert_text(kind: str, incident: Incident, facts: dict, language: str, zone: str, now: datetime) -> tuple[str, str]:
    """An alert's subject and body, in the readers' language, times in their zone with UTC."""
    summary = facts["summary"]
    grew = [
        CHANGE.translated(language).format(
            measure=MEASURE_LABELS[m].translated(language),
            before=_measure(m, getattr(facts["before"], m), language),
            after=_measure(m, getattr(summary, m), language),
        )
        for m in facts["grew"]
    ]
    subject = (
        SUBJECTS[kind]
        .translated(language)
        .format(
            number=incident.id,
            title=incident.title,
            measures=", ".join(MEASURE_LABELS[m].translated(language) for m in facts["grew"]),
        )
    )
    lines = [
        IMPACT.translated(language).format(
            customers=_number(summary.customers, language),
            people=_number(summary.people, language),
            records=_number(summary.records, language),
            sensitivity=_sensitivity(summary.sensitivity, language),
        )
    ]
    if grew:
        lines.append(GREW_LINE.translated(language).format(changes=SEPARATOR.translated(language).join(grew)))
    soonest = facts["soonest"]
    lines.append(_duty_words(soonest, now, language, zone) if soonest else NO_DUTY.translated(language))
    lines += ["", OPEN.translated(language).format(link=facts["link"])]
    return subject[:300], "\n".join(lines) + "\n"


def announce(kind: str, key: str, incident: Incident, facts: dict) -> int:
    """Record the event once by its key and queue its alert to every reader, one mail per language and zone.
    Returns the messages queued: none when nobody is there to tell, or when the event was announced already."""
    now = now_utc()
    everyone = readers(incident.owner_id)
    if not everyone or not insert_alerts(
        [{"key": key, "kind": kind, "offset_minutes": 0, "obligation_id": None, "due_at": None, "created_at": now}]
    ):
        return 0
    facts |= {"soonest": next(iter(next_duties(incident.id, 1)), None), "link": incident_link(incident.id)}
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    for reader in everyone:
        groups[reader.language, reader.zone].append(reader.address)
    mails = []
    for (language, zone), addresses in sorted(groups.items()):
        subject, text = alert_text(kind, incident, facts, language, zone, now)
        mails.append(
            {
                "kind": kind,
                "incident_id": incident.id,
                "subject": subject,
                "text_body": text,
                "recipients": sorted(set(addresses)),
                "link": facts["link"],
                "created_at": now,
            }
        )
    return queue_mails(mails)


@incident_filed.connect
def _filed(incident: Incident) -> None:
    snapshot = current_snapshot(incident.id)
    facts = {"summary": summary_of(snapshot), "before": None, "grew": []}
    announce(FILED, f"incident:{incident.id}:{FILED}", incident, facts)


@impact_recomputed.connect
def _recomputed(incident: Incident, before: ImpactSnapshot | None, after: ImpactSnapshot) -> None:
    """Only a grown impact is news at 3 a.m.: a smaller or equal one waits for the page."""
    previous = summary_of(before) if before is not None else None
    summary = summary_of(after)
    grew = growth(previous, summary)
    if grew:
        facts = {"summary": summary, "before": previous, "grew": grew}
        announce(GREW, f"incident:{incident.id}:{GREW}:{after.id}", incident, facts)


@dataclass(frozen=True)
class Alerted:
    """Who an alert of this incident went to, and what became of it."""

    who: str | Label
    state: Label


def alerted(incident_id: int) -> list[Alerted]:
    """Everyone alerted that the incident was filed or grew, with the state of the latest message to them."""
    rows = db.session.execute(
        select(OutboxMessage.recipient, OutboxMessage.status)
        .join(AlertMail, AlertMail.id == OutboxMessage.alert_mail_id)
        .where(AlertMail.incident_id == incident_id, AlertMail.kind.in_((FILED, GREW)))
        .order_by(OutboxMessage.id)
    ).all()
    latest = {recipient: status for recipient, status in rows}
    return [Alerted(CHANNEL_LABELS.get(who, who), OUTBOX_STATUS_LABELS[state]) for who, state in sorted(latest.items())]


@incident_page.connect
def _first_screen(incident: Incident) -> dict:
    """How bad, and who must be told by when: the first screen after filing, on a phone too."""
    snapshot = current_snapshot(incident.id)
    summary = summary_of(snapshot) if snapshot is not None else None
    return {
        "first_screen": {
            "summary": summary,
            "sensitivity": _sensitivity(summary.sensitivity, "en") if summary else "",
            "duties": next_duties(incident.id),
            "alerted": alerted(incident.id),
        }
    }
