"""The only way code reads "now": aware UTC, so tests can freeze it and nothing is ever naive."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

#: the years a date or date-time given to BreachDesk may fall in: no record of ours predates the Unix epoch, and the
#: last one leaves a year before the largest date Python holds, so deadline arithmetic on it cannot overflow
YEARS = range(1970, 9999)


def now_utc() -> datetime:
    return datetime.now(UTC)


def require_aware(value: datetime, field: str) -> datetime:
    """Return `value` in UTC; a naive datetime is refused, naming the field, because its zone is a guess."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{field}: a time zone is required (got a naive date-time {value.isoformat()})")
    return value.astimezone(UTC)


@dataclass(frozen=True)
class WallClockChoice:
    """One instant a person may have meant by a wall-clock time that does not exist or happens twice."""

    label: str  # "02:30 CEST (00:30 UTC)"
    utc: datetime


class AmbiguousTime(ValueError):
    """A wall-clock time in the daylight-saving gap or fold: the field, and the instants to choose from."""

    def __init__(self, field: str, message: str, choices: list[WallClockChoice]):
        super().__init__(f"{field}: {message}")
        self.field, self.message, self.choices = field, message, choices


def local_to_utc(local: datetime, zone_name: str, field: str, chosen: str = "") -> datetime:
    """A wall-clock time typed in a zone, as UTC. Times that do not exist (the spring-forward gap) or
    happen twice (the autumn fold) are refused naming the field, with the instants a person may choose from
    (AmbiguousTime): a legal clock cannot start on a guess. `chosen`, the ISO form of one of those instants, is the
    person's choice. A year outside YEARS is refused too, before its conversion overflows (year 1 east of UTC, year
    9999 west of it)."""
    from zoneinfo import ZoneInfo

    if local.tzinfo is not None:
        return require_aware(local, field)
    _require_recordable(local.year, local.isoformat(timespec="minutes"), field)
    zone = ZoneInfo(zone_name)
    first, second = local.replace(tzinfo=zone, fold=0), local.replace(tzinfo=zone, fold=1)
    if first.utcoffset() == second.utcoffset():
        return first.astimezone(UTC)
    gap = first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != local
    choices = _gap_choices(first, second, zone) if gap else [_choice(first), _choice(second)]
    picked = [choice.utc for choice in choices if choice.utc.isoformat() == chosen]
    if picked:
        return picked[0]
    problem = "doesn't exist" if gap else "happens twice"
    why = "the clocks jumped forward" if gap else "the clocks went back"
    offered = " or ".join(choice.label for choice in choices)
    message = f"{local:%Y-%m-%d %H:%M} {problem} in {zone_name} ({why}): did you mean {offered}?"
    raise AmbiguousTime(field, message, choices)


def _choice(instant: datetime) -> WallClockChoice:
    utc = instant.astimezone(UTC)
    return WallClockChoice(f"{instant:%H:%M %Z} ({utc:%H:%M} UTC)", utc)


def _gap_choices(first: datetime, second: datetime, zone) -> list[WallClockChoice]:
    """The last minute before the clocks jumped and the first after: the jump happened between the two readings of
    the missing time (offset before, offset after), found to the minute."""
    before, after = sorted((first.astimezone(UTC), second.astimezone(UTC)))
    offset_before = before.astimezone(zone).utcoffset()
    while after - before > timedelta(minutes=1):
        middle = before + (after - before) / 2
        middle = middle.replace(second=0, microsecond=0)
        if middle.astimezone(zone).utcoffset() == offset_before:
            before = middle
        else:
            after = middle
    return [_choice(before.astimezone(zone)), _choice(after.astimezone(zone))]


def parse_instant(text: str, field: str) -> datetime:
    """RFC 3339 with an offset (`2026-03-29T01:30:00+01:00`, `...Z`); a naive time is refused."""
    try:
        value = datetime.fromisoformat(text.strip().replace("z", "Z"))
    except (ValueError, AttributeError):
        raise ValueError(f"{field}: {text!r} is not an RFC 3339 date-time") from None
    _require_recordable(value.year, text, field)
    return require_aware(value, field)


def parse_day(text: str, field: str) -> date:
    """A calendar day, `YYYY-MM-DD`."""
    try:
        value = date.fromisoformat(text.strip())
    except (ValueError, AttributeError):
        raise ValueError(f"{field}: {text!r} is not a date YYYY-MM-DD") from None
    _require_recordable(value.year, text, field)
    return value


def _require_recordable(year: int, text: str, field: str) -> None:
    """Year 1 or 9999 is a typo, and converting it to UTC or adding a deadline to it would overflow."""
    if year not in YEARS:
        raise ValueError(f"{field}: {text!r} is not between the years {YEARS.start} and {YEARS.stop - 1}")
