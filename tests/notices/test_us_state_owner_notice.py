"""A US state's service-provider duty towards the data owner (the rules table's `-owner` rows): our customer, told in
its own language. A French-speaking customer whose people live in Florida gets the duty, and its notice is written
in French from beginning to end (the statute's own words quoted in English aside), on its page as in the API."""

import io

import pytest
from markupsafe import escape
from sqlalchemy import select

from breachdesk.api.services import create_token
from breachdesk.auth.models import Role
from breachdesk.core.i18n import Label
from breachdesk.deadlines.models import Obligation
from breachdesk.deadlines.rules import rule
from breachdesk.extensions import db
from breachdesk.incidents.services import open_incident
from breachdesk.inventory.importer import import_inventory
from breachdesk.inventory.models import Organisation
from breachdesk.inventory.services import save_organisation
from breachdesk.notices.models import Notice
from breachdesk.notices.rendering import default_source
from breachdesk.notices.words import CONTENT_ITEM, LEGAL_SOURCE, REGIME, words_in
from tests.conftest import create_user
from tests.incident_fixtures import write_statements
from tests.inventories import import_text
from tests.notices.reading import appears, phrases, reads, without_quotations

OWNER = "us-fl-501-171-6-owner"
#: the online shop accounts we keep for Acme (French-speaking): a login with its password, a combination of data
#: elements Florida's law names; 40 of the shoppers live in Florida
SHOP_ACCOUNTS = """\
format: breachdesk-inventory/1
activities:
  - {key: shop-accounts, name: Shop accounts, role: processor, systems: [db], customers: [acme],
     data_categories: [user.name, user.contact.email, user.authorization.password], data_subject_categories: [customer]}
"""
SHOPPERS = (
    b"customer,activity,data_subject_category,region,data_subjects,records\nacme,shop-accounts,customer,US-FL,40,40\n"
)


def _with_us_state_laws() -> None:
    organisation = db.session.get(Organisation, 1)
    names = ("name", "country", "lead_supervisory_authority", "authorities", "entity_status", "dpo_name", "dpo_email")
    save_organisation(
        {
            **{name: getattr(organisation, name) for name in names},
            "undue_delay_target_hours": organisation.undue_delay_target_hours,
            "regimes": [*organisation.regimes, "US state laws"],
        }
    )


@pytest.fixture
def floridians(inventory):
    """An incident on the database that holds Acme's shop accounts, some of whose shoppers live in Florida."""
    import_text(SHOP_ACCOUNTS, "activities.yaml")
    import_inventory(None, ("volumes.csv", io.BytesIO(SHOPPERS), len(SHOPPERS)))
    _with_us_state_laws()
    incident = open_incident(
        {
            "title": "Shop database copied",
            "aware_at": "2026-10-24T22:00:00Z",
            "systems": ["db"],
            "nature": ["confidentiality"],
        },
        None,
    )
    write_statements(incident)
    db.session.commit()
    return incident


def _owner_duty(incident) -> Obligation:
    return db.session.scalar(
        select(Obligation).where(Obligation.incident_id == incident.id, Obligation.rule_id == OWNER)
    )


def test_a_french_customer_with_people_in_a_us_state_is_owed_the_providers_notice(floridians):
    duty = _owner_duty(floridians)
    assert duty is not None and duty.recipient_key == "acme" and duty.recipient_kind == "controller"
    assert any("US-FL" in fact for fact in duty.triggered_by), duty.triggered_by


def test_its_notice_is_written_in_french_throughout_and_shown_on_its_page(floridians, login):
    client = login(Role.PRIVACY)
    duty = _owner_duty(floridians)
    assert client.post(f"/obligations/{duty.id}/notice").status_code == 302
    notice = db.session.scalar(select(Notice).where(Notice.obligation_id == duty.id))
    assert (notice.kind, notice.language) == ("us-state-owner", "fr")
    read = reads(notice.subject, notice.text_body, notice.html_body)
    french = words_in("fr")
    found = rule(OWNER)
    said = [
        (found.regime, french.say(Label(REGIME, found.regime))),
        (found.source, french.say(Label(LEGAL_SOURCE, found.source))),
    ]
    said += [(item.label, french.say(Label(CONTENT_ITEM, item.label))) for item in found.content]
    for english, translated in said:
        assert translated in read and not appears(english, without_quotations(read)), english
    assert "Floride" in read and "Violation de la sécurité de données que nous conservons pour vous" in notice.subject
    assert [p for p in phrases(default_source("us-state-owner", "en")) if appears(p, without_quotations(read))] == []

    page = client.get(f"/notices/{notice.id}").text
    assert str(escape(notice.subject)) in page and "in French" in page
    assert str(escape(french.say(Label(CONTENT_ITEM, found.content[0].label)))) in page


def test_the_api_lists_the_duty_towards_the_customer(floridians, client):
    _, secret = create_token(create_user("api-viewer", Role.VIEWER), "alerting")
    db.session.commit()
    answer = client.get(
        f"/api/v1/incidents/{floridians.id}/obligations?per_page=200", headers={"Authorization": f"Bearer {secret}"}
    )
    assert answer.status_code == 200
    owed = [item for item in answer.json["items"] if item["rule"] == OWNER]
    assert [(item["recipient"], item["regime"], item["recipient_kind"]) for item in owed] == [
        ("acme", "Florida", "controller")
    ]
