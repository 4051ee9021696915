"""The demo command is idempotent and shows the real flow (an incident filed, its statement written); /healthz
reports the database."""

import json
import socket
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import time_machine
from sqlalchemy import func, select

from breachdesk.auth.models import Role, User
from breachdesk.deadlines.models import Obligation
from breachdesk.demo.incident import demo_incident_data
from breachdesk.extensions import db
from breachdesk.impact.models import ImpactCustomer
from breachdesk.incidents.models import Incident, IncidentNote
from breachdesk.inventory.models import Customer, System, Volume
from breachdesk.notices.models import Statement
from breachdesk.notices.statements import facts_asked, rules_of, statement_of

LOADED = datetime(2026, 11, 9, 10, 30, 45, tzinfo=UTC)
#: parts written only when they apply: the reasons for a delay (a late notice), what became known since a first
#: notice (a follow-up)
WRITTEN_LATER = {"delay_reasons", "newly_known"}


def counts():
    models = (Customer, System, Volume, User, Incident, IncidentNote, Statement, Obligation)
    return [db.session.scalar(select(func.count()).select_from(m)) for m in models]


def test_demo_twice_reuses_what_exists(app, runner):
    with time_machine.travel(LOADED, tick=False):
        first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    assert (
        "16 customers created" in first.output
        and "demo incident #1: filed (aware 2026-11-09 08:00 UTC)" in first.output
    )
    after_first = counts()
    credentials = json.loads((Path(app.instance_path) / "demo_credentials.json").read_text())
    with time_machine.travel(LOADED + timedelta(days=2), tick=False):
        second = runner.invoke(args=["demo"])
    assert second.exit_code == 0 and "created" not in second.output.split("demo accounts")[0]
    assert "demo incident #1: filed before, left as it is (aware 2026-11-09 08:00 UTC)" in second.output
    # 16 customers owed a notice each, the three NIS2 stages to CERT-FR and its notice to the recipients of our
    # services (until a person decides they need not be told), and HIPAA's business associate notice to the covered
    # entity among them (Lone Star Pediatrics)
    assert counts() == after_first == [16, 9, 118, 4, 1, 3, 2, 21]
    assert credentials["admin"] in second.output  # the same login is shown again
    admin = db.session.scalar(select(User).where(User.username == "admin"))
    assert admin.check_password(credentials["admin"])


def test_the_demo_incident_is_live_and_its_statement_answers_what_the_form_asks(app, runner):
    """Its clocks start when the demo is loaded; the statement, in both languages the customers read, says every
    part the incident's duties need, except those that only apply later."""
    with time_machine.travel(LOADED, tick=False):
        assert runner.invoke(args=["demo"]).exit_code == 0
    incident = db.session.scalar(select(Incident))
    hours = demo_incident_data()["incident"]["hours_before_loading"]
    loaded = LOADED.replace(second=0)
    assert {name: getattr(incident, name) for name in hours} == {
        name: loaded - timedelta(hours=value) for name, value in hours.items()
    }
    assert incident.reported_by.username == "oncall" and len(incident.notes) == 3
    due = sorted(o.due_at for o in db.session.scalars(select(Obligation)) if o.due_at)
    assert due[0] == incident.aware_at + timedelta(hours=12)  # Milano Moda's contract: 12 hours
    asked = {fact.id for fact in facts_asked(rules_of(incident.id))}
    for language in ("en", "fr"):
        written = {fact for fact, text in statement_of(incident.id, language).facts().items() if text}
        assert written == asked - WRITTEN_LATER, language


def test_the_demo_incident_shows_where_each_customers_people_live(app, runner, client, login):
    """The demo's volume rows say where people live: states of the US, São Paulo state, and rows that state nothing,
    whose people live in the customer's country (Singapore)."""
    with time_machine.travel(LOADED, tick=False):
        assert runner.invoke(args=["demo"]).exit_code == 0
    regions = {
        c.key: {code: r["people"] for code, r in c.regions.items()} for c in db.session.scalars(select(ImpactCustomer))
    }
    assert regions["lone-star-pediatrics"] == {"US-TX": 8420, "US-NM": 610, "US-OK": 390}
    assert regions["harbor-coffee"] == {"US-NY": 10642 + 3743, "US-NJ": 4434 + 1560, "US-CA": 2661 + 936}
    assert regions["calcados-paulista"] == {"BR-SP": 21400 + 7300, "BR": 6200}
    assert regions["lion-city-florist"] == {"SG": 3120 + 940}
    assert regions["maison-lemaire"] == {"FR": 2303 + 867}
    covered = db.session.scalars(select(Customer.key).where(Customer.hipaa_covered_entity)).all()
    assert covered == ["lone-star-pediatrics"]
    page = login(Role.VIEWER).get("/incidents/1").text
    assert "Texas (US-TX): 8,420" in page and "São Paulo (BR-SP): 28,700" in page and "Singapore (SG): 4,060" in page


def test_healthz_checks_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok", "database": "ok"}


def test_healthz_reports_an_unreachable_database(app_factory, tmp_path):
    app = app_factory(DATABASE_URL="postgresql+psycopg://nobody@127.0.0.1:1/none")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503 and response.json["database"] == "unreachable"


def test_healthz_answers_when_the_database_host_takes_the_connection_and_never_replies(app_factory):
    """A bound on waiting, not a measure of speed: without a connect timeout the request never returns."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # the kernel completes the handshake; nobody ever speaks
        port = silent.getsockname()[1]
        app = app_factory(DATABASE_URL=f"postgresql+psycopg://nobody@127.0.0.1:{port}/none", DATABASE_CONNECT_TIMEOUT=1)
        answers = []
        request = threading.Thread(target=lambda: answers.append(app.test_client().get("/healthz")), daemon=True)
        request.start()
        request.join(timeout=120)
    assert answers, "/healthz hung on a silent database host"
    assert answers[0].status_code == 503 and answers[0].json["database"] == "unreachable"
