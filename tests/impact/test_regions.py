"""Where the affected people live: the impact counts people and records per region, for each customer and for our
controller-side data, with the data categories each region's people lost; pages and the API say the region in
words. Volume rows with a region are written directly until the volumes file carries the column."""

import random

import pytest
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from breachdesk.api.services import create_token
from breachdesk.auth.models import Role
from breachdesk.extensions import db
from breachdesk.impact.queries import Scope, compute
from breachdesk.incidents.services import open_incident
from breachdesk.inventory.models import Customer, Organisation, ProcessingActivity, System, Volume
from tests.conftest import create_user
from tests.inventories import PROFILE, import_random_inventory, import_text, load, random_inventory


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


def plain_regions(inventory: dict, placed: dict[tuple[str, str, str], str]) -> dict[str, dict]:
    """Each affected customer's people per region worked out from the inventory's own description, in Python."""
    scope = set(inventory["scope"])
    reached = {k: a for k, a in inventory["activities"].items() if scope & set(a["systems"])}
    found = {}
    for customer in inventory["customers"]:
        via = [k for k, a in reached.items() if customer in a["linked"]]
        rows = [(placed[v[:3]] or "FR", *v[1:]) for v in inventory["volumes"] if v[0] == customer and v[1] in reached]
        if not via or not rows:
            continue
        regions = {}
        for region in sorted({r[0] for r in rows}):
            here = [r for r in rows if r[0] == region]
            subjects = {s: max(r[3] for r in here if r[2] == s) for s in {r[2] for r in here}}
            lost = [
                reached[k]["data_categories"] for k in (via if len({r[0] for r in rows}) == 1 else {r[1] for r in here})
            ]
            regions[region] = {
                "people": sum(subjects.values()),
                "data_subjects": subjects,
                "records": sum(r[4] for r in here),
                "data_categories": sorted(set().union(*lost)),
                "counts_unknown": False,
            }
        found[customer] = regions
    return found


@pytest.mark.parametrize("seed", range(3))
def test_every_customers_people_per_region_are_the_plain_reading_of_the_inventory(app, seed):
    """Volume rows placed at random in Texas, Brazil, France or nowhere (the customer's country, France: the same
    people as those placed there, not more): per region, people per
    subject are the largest count, records the sum, categories those of the activities holding the region's people
    (all reached, for people of one region); the regions add up to the customer."""
    inventory = random_inventory(seed)
    import_random_inventory(inventory)
    rng = random.Random(f"regions-{seed}")
    placed = {v[:3]: rng.choice(["", "", "FR", "US-TX", "BR-SP"]) for v in inventory["volumes"]}
    for volume in db.session.scalars(select(Volume).options(joinedload(Volume.customer), joinedload(Volume.activity))):
        volume.region = placed[(volume.customer.key, volume.activity.key, volume.data_subject_category)]
    db.session.commit()
    ids = {s.key: s.id for s in db.session.scalars(select(System))}
    impact = compute(Scope(tuple(ids[k] for k in inventory["scope"])))
    assert {c.key: c.regions for c in impact.customers if not c.counts_unknown} == plain_regions(inventory, placed)
    for customer in impact.customers:
        assert sum(r["people"] for r in customer.regions.values()) == customer.people
        assert sum(r["records"] for r in customer.regions.values()) == customer.records
