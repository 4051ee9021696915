"""Fixtures: a migrated database (SQLite by default, PostgreSQL when BREACHDESK_DATABASE_URL names one),
a fresh app and clean tables per test, clients logged in by role."""

import os
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from flask_migrate import upgrade
from hypothesis import HealthCheck, settings
from sqlalchemy import create_engine, text

from breachdesk import create_app
from breachdesk.auth.models import Role
from breachdesk.extensions import db

#: fixtures shared across test folders live in plugin modules, never imported from another folder's conftest
pytest_plugins = ["tests.incident_fixtures"]

PASSWORD = "correct-Horse-7-battery"
#: the audit chain's key in every test app; a process a test starts must be given the same one
AUDIT_KEY = "test-audit-key"

# Hypothesis fails an example slower than 200 ms, or data drawn slowly: on a busy machine that is the machine,
# not the code. A property holds however long an example takes.
settings.register_profile("breachdesk", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("breachdesk")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("BREACHDESK_DATABASE_URL")
    if url:
        _drop_everything(url)
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'breachdesk.db'}"


def _drop_everything(url: str) -> None:
    """The PostgreSQL test database is ours: start each session from an empty schema."""
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def make_app(database_url: str, instance_path: Path, **overrides):
    config = {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret",
        "AUDIT_KEY": AUDIT_KEY,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "LOG_LEVEL": "WARNING",
    }
    config.update(overrides)
    os.environ["BREACHDESK_INSTANCE_PATH"] = str(instance_path)
    try:
        return create_app(config)
    finally:
        del os.environ["BREACHDESK_INSTANCE_PATH"]


@pytest.fixture(scope="session")
def migrated(database_url, tmp_path_factory) -> str:
    """Build the schema once, through the migrations, as production does."""
    app = make_app(database_url, tmp_path_factory.mktemp("instance"))
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        db.engine.dispose()
    return database_url


def clean_tables() -> None:
    tables = [t for t in reversed(db.metadata.sorted_tables)]
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("TRUNCATE " + ", ".join(t.name for t in tables) + " RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            db.session.execute(table.delete())
    db.session.commit()


@pytest.fixture
def app_factory(migrated, tmp_path):
    """Build an app with extra configuration; tables are emptied after the test."""
    apps = []

    def build(**overrides):
        app = make_app(migrated, tmp_path / "instance", **overrides)
        apps.append(app)
        return app

    yield build
    for app in apps:
        with app.app_context():
            db.session.rollback()
            db.engine.dispose()
    if apps:
        cleaner = make_app(migrated, tmp_path / "instance")
        with cleaner.app_context():
            clean_tables()
            db.engine.dispose()


@pytest.fixture
def app(app_factory):
    app = app_factory()
    with app.app_context():
        yield app


class IsolatedClient(FlaskClient):
    """Each request in its own app context, as in production: otherwise `g` (and the user Flask-Login caches
    there) would leak from one request to the next through the test's own context."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def client(app):
    app.test_client_class = IsolatedClient
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def create_user(username: str, role: Role, password: str = PASSWORD):
    from breachdesk.auth.services import create_user as create

    user = create(username, f"{username}@example.com", password, role)
    db.session.commit()
    return user


def log_in(client, username: str, password: str = PASSWORD):
    return client.post("/login", data={"username": username, "password": password})


@pytest.fixture
def login(client):
    """login(role) -> the client, logged in as a fresh user with that role."""

    def as_role(role: Role):
        name = f"{role.value}-user"
        create_user(name, role)
        response = log_in(client, name)
        assert response.status_code == 302, response.data
        return client

    return as_role


@pytest.fixture
def demo_inventory(app):
    """The shipped demo inventory, imported through the real importer."""
    from breachdesk.demo.cli import DEMO_DIR
    from breachdesk.inventory.cli import run_import

    summary = run_import(DEMO_DIR / "inventory.yaml", None)
    db.session.commit()
    return summary


@pytest.fixture
def demo(demo_inventory):
    """The whole demo, as `breachdesk demo` leaves it: the inventory, the on-call account that reported the demo
    incident, and that incident (aware two and a half hours ago) with its statements for recipients."""
    from breachdesk.core.clock import now_utc
    from breachdesk.demo.incident import file_demo_incident

    create_user("oncall", Role.RESPONDER)
    incident, _ = file_demo_incident(now_utc())
    db.session.commit()
    return incident


def table_fingerprint() -> dict[str, list]:
    """Every row of every table, to prove that a refused operation changed nothing."""
    result = {}
    for table in db.metadata.sorted_tables:
        rows = db.session.execute(table.select()).all()
        result[table.name] = sorted(map(repr, rows))
    return result


def error_next_to(page: str, field_id: str) -> str:
    """The words a refused form shows next to one field, after checking that the field says it is invalid and is
    described by them (aria-invalid, aria-describedby): what a screen reader reads on reaching it."""
    import html
    import re

    control = re.search(rf'<(?:input|select|textarea)\b[^>]*\bid="{re.escape(field_id)}"[^>]*>', page)
    assert control, f"no field {field_id}"
    assert 'aria-invalid="true"' in control.group(0), control.group(0)
    described = re.search(r'aria-describedby="([^"]*)"', control.group(0))
    assert described and f"{field_id}-error" in described.group(1).split(), control.group(0)
    error = re.search(rf'<span class="error" id="{re.escape(field_id)}-error">([^<]*)</span>', page)
    assert error, f"no error beside {field_id}"
    return html.unescape(error.group(1))
