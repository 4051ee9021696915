"""When to remind and when to escalate, and when an impact has grown. Pure: the scheduler asks this on every
tick, the alerts of things that happen to an incident on each.

Each reminder belongs to a window: with offsets 12 h, 4 h and 1 h, the "4 h" reminder is due from 4 h
before the deadline until 1 h before it. After downtime the scheduler therefore sends only the reminder of
the window it wakes up in, once (its key is unique), never a "4 hours left" once the deadline has passed:
then it escalates.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

REMINDER = "reminder"
ESCALATION = "escalation"


@dataclass(frozen=True)
class AlertDue:
    kind: str
    #: the reminder's offset in minutes before the deadline; 0 for an escalation
    offset_minutes: int

    def key(self, obligation_id: int) -> str:
        return f"{obligation_id}:{self.kind}:{self.offset_minutes}"


def alert_due(due_at: datetime, now: datetime, offsets: tuple[timedelta, ...]) -> AlertDue | None:
    """The alert an obligation due at `due_at` calls for at `now`, or None before its first window."""
    if now >= due_at:
        return AlertDue(ESCALATION, 0)
    left = due_at - now
    for offset in sorted(offsets):  # the narrowest window that contains now
        if left <= offset:
            return AlertDue(REMINDER, int(offset.total_seconds() // 60))
    return None


def parse_offsets(text: str) -> tuple[timedelta, ...]:
    """ "12h,4h,1h" (h or m units) as timedeltas; a bad entry is refused naming it."""
    offsets = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        unit, number = part[-1], part[:-1]
        if unit not in "hm" or not number.isdigit() or int(number) == 0:
            raise ValueError(f"REMINDER_OFFSETS: {part!r} is not like 12h or 30m")
        offsets.append(timedelta(hours=int(number)) if unit == "h" else timedelta(minutes=int(number)))
    if not offsets:
        raise ValueError("REMINDER_OFFSETS: at least one offset, like 12h,4h,1h")
    return tuple(sorted(set(offsets), reverse=True))


#: the languages alerts are written in; a user whose language is not known reads English
ALERT_LANGUAGES = ("en", "fr")
#: the alerts of things that happen to an incident (Alert.kind, AlertMail.kind)
FILED = "filed"
GREW = "grew"
#: what an impact is measured by, in the order an alert says them
MEASURES = ("customers", "people", "records", "sensitivity")


@dataclass(frozen=True)
class ImpactSummary:
    """How bad, in four numbers: the first things the privacy team asks."""

    customers: int
    people: int
    records: int
    #: the highest sensitivity class reached (inventory.taxonomy.Sensitivity), 0 when no personal data is
    sensitivity: int


def growth(before: ImpactSummary | None, after: ImpactSummary) -> list[str]:
    """The measures that grew since the previous computation; none for the first one, which filing announces."""
    if before is None:
        return []
    return [measure for measure in MEASURES if getattr(after, measure) > getattr(before, measure)]


def oncall_problems(language: str, zone: str, languages: tuple[str, ...]) -> list[str]:
    """The team's reading settings are checked at start: a bad one found while filing would stop the alert."""
    problems = []
    if language not in languages:
        problems.append(f"ONCALL_LANGUAGE: {language!r} is not one of {', '.join(languages)}")
    try:
        ZoneInfo(zone)
    except (ValueError, ZoneInfoNotFoundError):
        problems.append(f"ONCALL_TIME_ZONE: {zone!r} is not an IANA time zone like Europe/Paris")
    return problems
