"""Declarative base with a naming convention, and a UTC date-time type that never returns a naive value."""

import enum
import hashlib
from datetime import UTC, datetime

from sqlalchemy import DateTime, Enum, MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

from breachdesk.core.clock import require_aware

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: the largest id a row can have: ids are SQL INTEGER, 32 bits on PostgreSQL, which refuses a query comparing one
#: with a larger number (SQLite's go to 2**63 - 1, past which its driver refuses it), so a larger id names no row
MAX_ROW_ID = 2**31 - 1
#: the last page a list answers, past any register's size: a larger page number only asks the database for an offset
#: it may not hold (past 2**63 neither database does)
MAX_PAGE = 100_000


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def str_enum(kind: type[enum.StrEnum], length: int = 32) -> Enum:
    """A StrEnum stored as its values in a VARCHAR: portable, and readable in SQL."""
    return Enum(kind, native_enum=False, length=length, values_callable=lambda members: [m.value for m in members])


class UTCDateTime(TypeDecorator):
    """Stores UTC; refuses naive input; returns aware UTC on every backend (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        aware = require_aware(value, "date-time")
        return aware.replace(tzinfo=None) if dialect.name == "sqlite" else aware

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record):
    """WAL lets readers work while one writer writes; SQLite ignores foreign keys unless told. SQLite has no
    md5(): it is given PostgreSQL's, so one statement digests rows on both."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()
        dbapi_connection.create_function("md5", 1, md5, deterministic=True)


def md5(text: str | None) -> str | None:
    """PostgreSQL's md5(text): the hex digest of its UTF-8 bytes. It tells a change, it does not sign anything."""
    return None if text is None else hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()
