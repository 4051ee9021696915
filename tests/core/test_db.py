"""The database layer: UTC everywhere, SQLite pragmas, and migrations that match the models."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.exc import StatementError

from breachdesk.auth.models import Role, User
from breachdesk.core.clock import require_aware
from breachdesk.extensions import db


def test_migrations_and_models_agree(app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, db.metadata) == []


def test_sqlite_runs_in_wal_mode_with_foreign_keys(app):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite pragmas")
    assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
    assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_naive_datetime_is_refused_when_stored(app):
    user = User(
        username="naive",
        email="n@example.com",
        password_hash="x",
        role=Role.VIEWER,
        created_at=datetime(2026, 3, 29, 1, 30),
    )
    db.session.add(user)
    with pytest.raises(StatementError, match="time zone is required"):
        db.session.flush()
    db.session.rollback()


def test_datetimes_come_back_aware_utc(app):
    paris_summer = timezone(timedelta(hours=2))
    user = User(
        username="tz",
        email="t@example.com",
        password_hash="x",
        role=Role.VIEWER,
        created_at=datetime(2024, 2, 29, 23, 30, tzinfo=paris_summer),
    )
    db.session.add(user)
    db.session.commit()
    db.session.expire_all()
    stored = db.session.get(User, user.id).created_at
    assert stored.tzinfo is not None and stored.utcoffset() == timedelta(0)
    assert stored == datetime(2024, 2, 29, 21, 30, tzinfo=UTC)  # leap day, converted to UTC


@settings(max_examples=200)
@given(st.datetimes(timezones=st.timezones()))
def test_require_aware_keeps_the_instant(value):
    # compare instants, not datetimes: Python never calls a time in a DST gap or fold equal across zones
    converted = require_aware(value, "aware_at")
    assert converted.tzinfo is UTC and converted.timestamp() == value.timestamp()


@given(st.datetimes())
def test_require_aware_names_the_field_for_naive_input(value):
    with pytest.raises(ValueError, match="aware_at"):
        require_aware(value, "aware_at")
