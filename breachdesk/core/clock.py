"""The only way code reads "now": aware UTC, so tests can freeze it and nothing is ever naive."""

from datetime import UTC, datetime


def now_utc() -> datetime:
    return datetime.now(UTC)


def require_aware(value: datetime, field: str) -> datetime:
    """Return `value` in UTC; a naive datetime is refused, naming the field, because its zone is a guess."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{field}: a time zone is required (got a naive date-time {value.isoformat()})")
    return value.astimezone(UTC)
