"""Fixtures shared by the notice, reminder and dashboard tests (a pytest plugin named in the root conftest):
the hand-built inventory with contacts for the customers written to, a privacy officer, and an incident
on the main database that makes duties towards three controllers, with its statement for recipients in English and
French; `duty` finds one of them."""

import pytest

from breachdesk.auth.models import Role
from breachdesk.deadlines.models import Obligation
from breachdesk.extensions import db
from breachdesk.incidents.services import open_incident
from breachdesk.notices.statements import save_statement
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
    write_statements(found)
    db.session.commit()
    return found


#: what the privacy team tells recipients, per language: notices render from it, never from the incident
STATEMENTS = {
    "en": {
        "what_happened": "A copy of our customer directory was readable from the internet for two days.",
        "consequences": "Contact details may be used for unwanted messages or phishing.",
        "measures_taken": "We closed access and rotated the keys.",
        "measures_proposed": "We are reviewing every storage bucket.",
        "advice": "Be wary of messages asking for your password.",
        "contact_point": "privacy@parlons.example",
        "delay_reasons": "The exposure was found during a weekend audit and its scope took two days to establish.",
    },
    "fr": {
        "what_happened": "Une copie de notre annuaire clients était lisible depuis internet pendant deux jours.",
        "consequences": "Les coordonnées peuvent servir à des messages non sollicités ou à l'hameçonnage.",
        "measures_taken": "Nous avons fermé l'accès et changé les clés.",
        "measures_proposed": "Nous vérifions chaque espace de stockage.",
        "advice": "Méfiez-vous des messages qui demandent votre mot de passe.",
        "contact_point": "privacy@parlons.example",
        "delay_reasons": "Découverte lors d'un audit le week-end, l'exposition a demandé deux jours d'analyse.",
    },
}


def write_statements(incident, languages=("en", "fr")) -> None:
    for language in languages:
        save_statement(incident, language, STATEMENTS[language])


def duty(incident, key: str) -> Obligation:
    return db.session.scalar(
        db.select(Obligation).where(Obligation.incident_id == incident.id, Obligation.recipient_key == key)
    )
