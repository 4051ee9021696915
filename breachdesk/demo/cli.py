"""`breachdesk demo` (migrate, load the demo inventory, create demo accounts, file the demo incident) and
`breachdesk serve`."""

import json
import os
import secrets
import string
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade
from sqlalchemy import select
from werkzeug.serving import run_simple

from breachdesk.audit.services import acting_as
from breachdesk.auth.models import Role, User
from breachdesk.auth.services import create_user
from breachdesk.core.clock import now_utc
from breachdesk.demo.incident import file_demo_incident
from breachdesk.extensions import db
from breachdesk.inventory.cli import run_import
from breachdesk.reminders.scheduler import start_in_process

DEMO_DIR = Path(__file__).resolve().parent
DEMO_USERS = [("admin", Role.ADMIN), ("privacy", Role.PRIVACY), ("oncall", Role.RESPONDER), ("board", Role.VIEWER)]


def _new_password() -> str:
    alphabet = string.ascii_letters + string.digits
    return "-".join("".join(secrets.choice(alphabet) for _ in range(5)) for _ in range(4)) + "!7"


def ensure_demo_users(credentials_file: Path) -> dict[str, str]:
    """Create missing demo accounts; passwords live in a 0600 file in the instance folder so a rerun can show them."""
    known = json.loads(credentials_file.read_text()) if credentials_file.exists() else {}
    for username, role in DEMO_USERS:
        if db.session.scalar(select(User.id).where(User.username == username)):
            continue
        known[username] = _new_password()
        create_user(username, f"{username}@parlons.example", known[username], role, "Europe/Paris")
    fd = os.open(credentials_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(known, handle, indent=1)
    return known


@click.command("demo")
@with_appcontext
def demo_command():
    """Apply migrations, load the demo inventory, create demo accounts, file the demo incident (safe to run again)."""
    upgrade(directory=current_app.extensions["migrate"].directory)
    with acting_as("demo"):
        summary = run_import(DEMO_DIR / "inventory.yaml", None)
        credentials = ensure_demo_users(Path(current_app.instance_path) / "demo_credentials.json")
        incident, filed = file_demo_incident(now_utc())
        db.session.commit()
    click.echo(f"demo inventory: {summary}")
    state = "filed" if filed else "filed before, left as it is"
    click.echo(f"demo incident #{incident.id}: {state} (aware {incident.aware_at:%Y-%m-%d %H:%M} UTC)")
    click.echo("demo accounts (user / password / role):")
    for username, role in DEMO_USERS:
        click.echo(f"  {username:8} {credentials.get(username, '(set before; unchanged)'):28} {role.value}")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@with_appcontext
def serve_command(host, port):
    """Serve BreachDesk with the embedded server (production: gunicorn "breachdesk:create_app()")."""
    app = current_app._get_current_object()
    if start_in_process(app):  # no reloader below: this process is the only one, so it starts once
        click.echo("scheduler started in-process (reminders, escalations, digest, dispatch)")
    click.echo(f"BreachDesk on http://{host}:{port}/")
    # werkzeug directly: Flask ignores app.run() inside its own CLI
    run_simple(host, port, app, use_reloader=False, threaded=True)
