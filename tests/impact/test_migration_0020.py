"""Migration 0020: an affected controller keeps the keys of the activities its paths go through, which a notice
names without reading the paths; the rows written before are filled in from their paths."""

from flask_migrate import downgrade, upgrade

from breachdesk.extensions import db
from breachdesk.impact.services import current_snapshot
from breachdesk.incidents.services import open_incident
from tests.inventories import load


def keys_and_paths(incident_id: int) -> dict[str, tuple[list[str], list[str]]]:
    db.session.expire_all()
    found = {
        c.key: (c.activity_keys, sorted({path["activity"] for path in c.paths}))
        for c in current_snapshot(incident_id).customers
    }
    db.session.rollback()  # on PostgreSQL a migration's ALTER TABLE would wait for this session's read locks
    return found


def test_an_affected_controllers_activity_keys_are_those_its_paths_go_through_before_and_after_0020(app):
    load()
    # acme is held by the messages (db) and the directory (db, sms)
    incident = open_incident({"title": "Both", "aware_at": "2026-10-24T22:00:00Z", "systems": ["db", "sms"]}, None)
    db.session.commit()
    taken = keys_and_paths(incident.id)
    assert taken and all(keys == from_paths for keys, from_paths in taken.values())
    assert taken["acme"][0] == ["directory", "messages"]
    directory = app.extensions["migrate"].directory
    try:
        downgrade(directory=directory, revision="0019")
    finally:
        upgrade(directory=directory)
    assert keys_and_paths(incident.id) == taken
