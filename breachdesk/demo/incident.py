"""The demo's incident (incident.yaml): filed once, through the services the pages use, with its statement for
recipients in each language, so that the demo shows live deadlines and notices ready to generate. Callers commit."""

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select

from breachdesk.auth.services import user_by_name
from breachdesk.extensions import db
from breachdesk.incidents.models import Incident
from breachdesk.incidents.services import add_note, open_incident
from breachdesk.notices.statements import save_statement

INCIDENT_FILE = Path(__file__).resolve().parent / "incident.yaml"


def demo_incident_data(path: Path = INCIDENT_FILE) -> dict[str, Any]:
    """The file as it is: `incident` (the record, times as hours before loading) and `statements` by language."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def file_demo_incident(now: datetime, path: Path = INCIDENT_FILE) -> tuple[Incident, bool]:
    """(the demo incident, whether it was filed now). Its title names it: once filed, a rerun of the demo leaves
    it, its clocks and its statements as they are. Its times are `now` less the hours the file gives."""
    document = demo_incident_data(path)
    record = dict(document["incident"])
    found = db.session.scalar(select(Incident).where(Incident.title == record["title"]))
    if found is not None:
        return found, False
    reporter = user_by_name(record.pop("reported_by"))
    notes = record.pop("notes", [])
    start = now.replace(second=0, microsecond=0)
    for name, hours in record.pop("hours_before_loading").items():
        record[name] = start - timedelta(hours=hours)
    incident = open_incident(record, reporter.id)
    for text in notes:
        add_note(incident, text, reporter.id)
    for language, parts in document["statements"].items():
        save_statement(incident, language, parts)
    return incident, True
