"""The demo command is idempotent; /healthz reports the database."""

import json
import socket
import threading
from pathlib import Path

from sqlalchemy import func, select

from breachdesk.auth.models import User
from breachdesk.extensions import db
from breachdesk.inventory.models import Customer, System, Volume


def counts():
    return [db.session.scalar(select(func.count()).select_from(m)) for m in (Customer, System, Volume, User)]


def test_demo_twice_reuses_what_exists(app, runner):
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    assert "13 customers created" in first.output
    after_first = counts()
    credentials = json.loads((Path(app.instance_path) / "demo_credentials.json").read_text())
    second = runner.invoke(args=["demo"])
    assert second.exit_code == 0 and "created" not in second.output.split("demo accounts")[0]
    assert counts() == after_first == [13, 9, 88, 4]
    assert credentials["admin"] in second.output  # the same login is shown again
    admin = db.session.scalar(select(User).where(User.username == "admin"))
    assert admin.check_password(credentials["admin"])


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
