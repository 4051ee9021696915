"""Where the affected people live: the impact counts people and records per region, for each customer and for our
controller-side data, with the data categories each region's people lost; pages and the API say the region in
words. Volume rows with a region are written directly until the volumes file carries the column."""

import pytest
from sqlalchemy import select

from breachdesk.api.services import create_token
from breachdesk.auth.models import Role
from breachdesk.extensions import db
from breachdesk.impact.queries import Scope, compute
from breachdesk.incidents.services import open_incident
from breachdesk.inventory.models import Customer, Organisation, ProcessingActivity, System, Volume
from tests.conftest import create_user
from tests.inventories import PROFILE, import_text, load


def add_volume(customer: str | None, activity: str, subject: str, people: int, records: int, region: str) -> None:
    db.session.add(
        Volume(
            customer=db.session.scalar(select(Customer).where(Customer.key == customer)) if customer else None,
            activity=db.session.scalar(select(ProcessingActivity).where(ProcessingActivity.key == activity)),
            data_subject_category=subject,
            data_subjects=people,
            records=records,
            region=region,
        )
    )
    db.session.commit()


def scope(*keys: str) -> Scope:
    return Scope(tuple(db.session.scalars(select(System.id).where(System.key.in_(keys)).order_by(System.id))))


@pytest.fixture
def inventory(app):
    load()
    import_text(PROFILE)  # the organisation: Parlons SAS, in France


def test_a_customers_people_are_counted_per_region_and_a_row_without_one_lives_in_its_country(inventory):
    add_volume("acme", "directory", "customer", 30, 45, "US-TX")
    [acme] = [c for c in compute(scope("db")).customers if c.key == "acme"]
    # France (Acme's country): the rows naming no region; customers once (largest of messages 100, directory 80)
    assert acme.regions == {
        "FR": {
            "people": 120,
            "data_subjects": {"customer": 100, "prospect": 20},
            "records": 1100,
            "data_categories": ["user.contact.email", "user.content.private", "user.name"],
            "counts_unknown": False,
        },
        # only the directory holds Texans: the messages' private content is not theirs
        "US-TX": {
            "people": 30,
            "data_subjects": {"customer": 30},
            "records": 45,
            "data_categories": ["user.contact.email", "user.name"],
            "counts_unknown": False,
        },
    }
    # a person lives in one region: the regions add up to the customer's people and records
    assert acme.data_subjects == {"customer": 130, "prospect": 20} and acme.people == 150 and acme.records == 1145


def test_a_customer_without_volume_rows_lives_in_its_country_uncounted(inventory):
    [initech] = [c for c in compute(scope("db")).customers if c.key == "initech"]
    assert initech.counts_unknown
    assert initech.regions == {
        "US": {
            "people": 0,
            "data_subjects": {},
            "records": 0,
            "data_categories": ["user.contact.email", "user.content.private"],
            "counts_unknown": True,
        }
    }


def test_our_own_people_live_in_the_organisations_country_unless_a_row_says_where(inventory):
    add_volume(None, "prospects", "prospect", 50, 60, "US-TX")
    impact = compute(scope("crm"))
    assert impact.own[0]["data_subjects"] == {"prospect": 350} and impact.own[0]["records"] == 370
    assert impact.own_regions == {
        "FR": {
            "people": 300,
            "data_subjects": {"prospect": 300},
            "records": 310,
            "data_categories": ["user.contact.email"],
            "counts_unknown": False,
        },
        "US-TX": {
            "people": 50,
            "data_subjects": {"prospect": 50},
            "records": 60,
            "data_categories": ["user.contact.email"],
            "counts_unknown": False,
        },
    }


def test_without_an_organisation_profile_our_people_live_in_a_region_not_recorded(app):
    load()
    assert db.session.get(Organisation, 1) is None
    assert list(compute(scope("crm")).own_regions) == ["unknown"]


def test_the_snapshot_page_and_api_show_people_per_region_in_words(inventory, client, login):
    add_volume("acme", "directory", "customer", 30, 45, "US-TX")
    add_volume(None, "prospects", "prospect", 50, 60, "US-TX")
    incident = open_incident({"title": "Leak", "aware_at": "2026-10-24T22:00:00Z", "systems": ["db", "crm"]}, None)
    db.session.commit()
    login(Role.VIEWER)
    page = client.get(f"/incidents/{incident.id}").data.decode()
    assert "Texas (US-TX): 30" in page and "France (FR): 120" in page  # Acme's row
    assert "United States (US)" in page  # Initech: its country, people not counted
    assert "Where those people live" in page and "Texas (US-TX)</td>" in page
    _, secret = create_token(create_user("api-viewer", Role.VIEWER), "test")
    db.session.commit()
    headers = {"Authorization": f"Bearer {secret}"}
    found = client.get(f"/api/v1/incidents/{incident.id}", headers=headers).get_json()["impact"]
    [acme] = [c for c in found["customers"] if c["key"] == "acme"]
    assert acme["regions"]["US-TX"]["name"] == "Texas (US-TX)" and acme["regions"]["US-TX"]["people"] == 30
    assert found["controller_regions"]["US-TX"] == {
        "name": "Texas (US-TX)",
        "people": 50,
        "data_subjects": {"prospect": 50},
        "records": 60,
        "data_categories": ["user.contact.email"],
        "counts_unknown": False,
    }
