"""Fixtures shared by the notice, reminder and dashboard tests (a pytest plugin named in the root conftest):
the hand-built inventory with contacts for the customers written to, a privacy officer, and an incident
on the main database that makes duties towards three controllers; `duty` finds one of them."""

import pytest

from breachdesk.auth.models import Role
from breachdesk.deadlines.models import Obligation
from breachdesk.extensions import db
from breachdesk.incidents.services import open_incident
from tests.conftest import create_user
from tests.inventories import PROFILE, import_text, load

CONTACTS = (
    "  - {key: acme, name: Acme, country: FR, language: fr, time_zone: Europe/Paris,\n"
    "     contacts: [{role: dpo, name: Alice Acme, email: dpo@acme.example},\n"
    "                {role: security, name: Sam Acme, email: security@acme.example}]}\n"
    "  - {key: umbrella, name: Umbrella, country: GB,\n"
    "     contacts: [{role: dpo, name: Uma Brella, email: dpo@umbrella.example}]}\n"
    "  - {key: globex, name: Globex, country: DE, notice_hours: 48,\n"
    "     contacts: [{role: dpo, name: Gus Globex, email: dpo@globex.example}]}\n"
)


@pytest.fixture
def inventory(app):
    """The hand-built inventory, its profile (with our DPO), and contacts for the customers written to."""
    load()
    profile = PROFILE.replace(
        "  undue_delay_target_hours: 48\n",
        "  undue_delay_target_hours: 48\n  dpo_name: Camille DPO\n  dpo_email: dpo@parlons.example\n",
    )
    import_text(profile.replace("  - {key: globex, name: Globex, country: DE, notice_hours: 48}\n", CONTACTS))


@pytest.fixture
def privacy(app):
    return create_user("dpo", Role.PRIVACY)


@pytest.fixture
def incident(inventory):
    found = open_incident(
        {
            "title": "Directory export left public",
            "aware_at": "2026-10-24T22:00:00Z",
            "systems": ["db"],
            "nature": ["confidentiality"],
            "containment": "Bucket made private; access keys rotated.",
        },
        None,
    )
    db.session.commit()
    return found


def duty(incident, key: str) -> Obligation:
    return db.session.scalar(
        db.select(Obligation).where(Obligation.incident_id == incident.id, Obligation.recipient_key == key)
    )
