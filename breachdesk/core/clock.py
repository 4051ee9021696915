"""The only way code reads "now": aware UTC, so tests can freeze it and nothing is ever naive."""

from datetime import UTC, date, datetime

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


def local_to_utc(local: datetime, zone_name: str, field: str) -> datetime:
    """A wall-clock time typed in a zone, as UTC. Times that do not exist (the spring-forward gap) or
    happen twice (the autumn fold) are refused naming the field: a legal clock cannot start on a guess. So is a
    year outside YEARS, before its conversion overflows (year 1 east of UTC, year 9999 west of it)."""
    from zoneinfo import ZoneInfo

    if local.tzinfo is not None:
        return require_aware(local, field)
    _require_recordable(local.year, local.isoformat(timespec="minutes"), field)
    zone = ZoneInfo(zone_name)
    first, second = local.replace(tzinfo=zone, fold=0), local.replace(tzinfo=zone, fold=1)
    if first.utcoffset() != second.utcoffset():
        gap = first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != local
        problem = "does not exist (clocks jumped forward)" if gap else "happens twice (clocks went back)"
        raise ValueError(f"{field}: {local:%Y-%m-%d %H:%M} {problem} in {zone_name}; give it in UTC or with an offset")
    return first.astimezone(UTC)


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
