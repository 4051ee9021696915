"""Inventory pages: search and pagination, dependents of a system, forms that validate like the importer."""

import io
import re

import pytest
from sqlalchemy import select

from breachdesk.audit.models import AuditEvent
from breachdesk.auth.models import Role
from breachdesk.extensions import db
from breachdesk.inventory.models import Customer, Organisation, ProcessingActivity, Volume
from tests.conftest import error_next_to, table_fingerprint
from tests.inventory.test_import_export import STRUCTURE, VOLUMES

CUSTOMER = {
    "key": "nouvelle",
    "name": "Nouvelle Boutique",
    "country": "fr",
    "language": "fr",
    "time_zone": "Europe/Paris",
    "notice_terms": "contract_hours",
    "notice_hours": "24",
    "contacts-0-role": "dpo",
    "contacts-0-name": "Inès",
    "contacts-0-email": "dpo@nouvelle.example",
}


def test_customer_search_finds_by_name_and_paginates(client, login, demo_inventory):
    login(Role.VIEWER)
    page = client.get("/customers?q=lyon").data.decode()
    assert "Vélo Lyon Services" in page and "Maison Lemaire" not in page
    first = client.get("/customers").data.decode()
    assert "Page 1 of 1" not in first and "16 in all" in first
    for i in range(30):
        db.session.add(Customer(key=f"extra-{i:02d}", name=f"Extra {i}", country="FR"))
    db.session.commit()
    assert "Page 2 of 2" in client.get("/customers?page=2").data.decode()


def test_system_page_shows_the_activities_and_customers_that_depend_on_it(client, login, demo_inventory):
    login(Role.RESPONDER)
    page = client.get("/systems/twilio").data.decode()
    assert "Customer conversations" in page
    assert "Maison Lemaire" in page and "Harbor Coffee Co." in page
    assert "Sales CRM" not in page
    crm = client.get("/systems/crm").data.decode()
    assert "Prospection and newsletters" in crm and "No customer depends on it." in crm


def test_customer_form_creates_a_customer_and_audits_who_did_it(client, login):
    login(Role.PRIVACY)
    response = client.post("/customers/new", data=CUSTOMER)
    assert response.status_code == 302 and response.location == "/customers/nouvelle"
    customer = db.session.scalar(select(Customer).where(Customer.key == "nouvelle"))
    assert customer.country == "FR" and customer.contacts[0].email == "dpo@nouvelle.example"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.entity_type == "customers"))
    assert (event.action, event.actor) == ("create", "user:privacy-user")


def test_customer_form_records_the_regulated_statuses_and_the_page_shows_them_in_words(client, login):
    login(Role.PRIVACY)
    assert client.post("/customers/new", data={**CUSTOMER, "hipaa_covered_entity": "y"}).status_code == 302
    customer = db.session.scalar(select(Customer).where(Customer.key == "nouvelle"))
    assert (customer.hipaa_covered_entity, customer.financial_entity) == (True, False)
    page = client.get("/customers/nouvelle").data.decode()
    assert "HIPAA covered entity (business associate agreement)" in page and "DORA" not in page
    client.post("/customers/nouvelle/edit", data={**CUSTOMER, "financial_entity": "y"})
    db.session.refresh(customer)
    assert (customer.hipaa_covered_entity, customer.financial_entity) == (False, True)
    # the edit form shows what is recorded, so saving it unchanged keeps the status
    form = client.get("/customers/nouvelle/edit").text
    assert " checked" in re.search(r'<input[^>]*id="financial_entity"[^>]*>', form).group(0)
    assert " checked" not in re.search(r'<input[^>]*id="hipaa_covered_entity"[^>]*>', form).group(0)


def test_customer_form_names_the_bad_field_and_changes_nothing(client, login):
    login(Role.PRIVACY)
    before = table_fingerprint()
    page = client.post("/customers/new", data={**CUSTOMER, "time_zone": "Mars/Olympus"}).text
    assert error_next_to(page, "time_zone") == (
        "no time zone is called “Mars/Olympus”: choose one from the list, such as Europe/Paris"
    )
    page = client.post("/customers/new", data={**CUSTOMER, "contacts-0-email": "not-an-address"}).text
    assert "not-an-address" in error_next_to(page, "contacts-0-email")  # the import rules' check, beside the field
    assert table_fingerprint() == before


ACTIVITY = {"key": "support-desk", "name": "Support desk", "role": "controller", "legal_basis": "contract"}
VOLUME = {
    "customer": "optique-vidal",
    "activity": "location-features",
    "data_subject_category": "customer",
    "records": "1",
}
PROFILE = {"name": "Parlons SAS", "country": "FR", "authorities": "", "entity_status": "", "regimes": ["GDPR"]}


@pytest.mark.parametrize(
    "path, data, field, largest",
    [
        ("/customers/new", CUSTOMER, "notice_hours", 2160),
        ("/activities/new", ACTIVITY, "retention_days", 36500),
        ("/volumes/new", VOLUME, "data_subjects", 10**12),
        ("/settings/organisation/edit", PROFILE, "undue_delay_target_hours", 2160),
    ],
)
def test_inventory_forms_take_the_numbers_the_import_takes(client, login, demo_inventory, path, data, field, largest):
    login(Role.ADMIN)
    before = table_fingerprint()
    refused = client.post(path, data={**data, field: str(largest + 1)})
    assert refused.status_code == 200 and f" and {largest}." in refused.data.decode()
    assert table_fingerprint() == before
    assert client.post(path, data={**data, field: str(largest)}).status_code == 302


def test_the_profile_form_reads_a_post_without_its_maps_as_empty(client, login, demo_inventory):
    """A browser always sends the text areas; a script may leave them out (this answered 500)."""
    login(Role.ADMIN)
    data = {"name": "Parlons SAS", "country": "FR", "regimes": ["GDPR"], "undue_delay_target_hours": "48"}
    assert client.post("/settings/organisation/edit", data=data).status_code == 302
    assert db.session.get(Organisation, 1).authorities == {}
    del data["undue_delay_target_hours"]  # nor is a number left out taken from the stored profile
    response = client.post("/settings/organisation/edit", data=data)
    assert response.status_code == 200 and "This field is required." in response.text


def test_a_customer_key_cannot_be_changed_by_editing(client, login, demo_inventory):
    login(Role.ADMIN)
    form = client.get("/customers/maison-lemaire/edit").data.decode()
    assert "readonly" in form
    client.post("/customers/maison-lemaire/edit", data={**CUSTOMER, "key": "renamed", "name": "Maison L."})
    customer = db.session.scalar(select(Customer).where(Customer.key == "maison-lemaire"))
    assert customer.name == "Maison L." and customer.contacts[0].email == "dpo@nouvelle.example"


def test_activity_form_saves_taxonomy_categories_and_links(client, login, demo_inventory):
    login(Role.PRIVACY)
    response = client.post(
        "/activities/new",
        data={
            "key": "support-desk",
            "name": "Support desk",
            "role": "processor",
            "purpose": "Answer tickets",
            "legal_basis": "contract",
            "retention_days": "30",
            "systems": ["messaging-db"],
            "customers": "maison-lemaire, tienda-sol",
            "data_categories": ["user.contact.email", "user.name"],
            "data_subject_categories": ["customer"],
            "transfers": "US: SCCs",
        },
    )
    assert response.status_code == 302
    activity = db.session.scalar(select(ProcessingActivity).where(ProcessingActivity.key == "support-desk"))
    assert [c.key for c in activity.customers] == ["maison-lemaire", "tienda-sol"]
    assert activity.transfers == [{"country": "US", "safeguard": "SCCs"}]
    refused = client.post(
        "/activities/new",
        data={"key": "bad", "name": "Bad", "role": "processor", "legal_basis": "", "customers": "nobody-we-know"},
    )
    assert error_next_to(refused.text, "customers") == "unknown customer 'nobody-we-know'"


def test_volume_form_checks_the_subject_category_against_the_activity(client, login, demo_inventory):
    login(Role.PRIVACY)
    bad = client.post(
        "/volumes/new",
        data={
            "customer": "maison-lemaire",
            "activity": "location-features",
            "data_subject_category": "employee",
            "data_subjects": "5",
            "records": "5",
        },
    )
    assert b"is not a data subject category of activity" in bad.data
    volume = db.session.scalar(select(Volume).join(Volume.activity).where(ProcessingActivity.key == "suppliers"))
    ok = client.post(
        f"/volumes/{volume.id}/edit",
        data={
            "customer": "",
            "activity": "suppliers",
            "data_subject_category": "supplier_vendor",
            "data_subjects": "150",
            "records": "2000",
        },
    )
    assert ok.status_code == 302
    db.session.refresh(volume)
    assert (volume.data_subjects, volume.records) == (150, 2000)


def test_a_volume_row_for_a_customer_new_to_the_activity_links_it(client, login, demo_inventory):
    """The link is written before the row: the database refuses a customer's volume row without it."""
    login(Role.PRIVACY)
    activity = db.session.scalar(select(ProcessingActivity).where(ProcessingActivity.key == "location-features"))
    assert "optique-vidal" not in [c.key for c in activity.customers]
    added = client.post(
        "/volumes/new",
        data={
            "customer": "optique-vidal",
            "activity": "location-features",
            "data_subject_category": "customer",
            "data_subjects": "12",
            "records": "40",
        },
    )
    assert added.status_code == 302
    db.session.expire_all()
    assert "optique-vidal" in [c.key for c in activity.customers]


def test_the_volume_form_keeps_one_row_per_region_and_refuses_a_code_iso_does_not_know(client, login, demo_inventory):
    login(Role.PRIVACY)
    row = {
        "customer": "maison-lemaire",
        "activity": "location-features",
        "data_subject_category": "customer",
        "data_subjects": "12",
        "records": "40",
    }
    before = table_fingerprint()
    refused = client.post("/volumes/new", data={**row, "region": "US-ZZ"})
    assert "'ZZ' is not an ISO 3166-2 subdivision of United States (US)" in error_next_to(refused.text, "region")
    assert table_fingerprint() == before
    assert client.post("/volumes/new", data={**row, "region": "us-tx"}).status_code == 302
    again = client.post("/volumes/new", data={**row, "region": "US-TX"})
    assert "a row for this customer, activity, subject category and region exists already" in again.text
    rows = db.session.execute(
        select(Volume.region, Volume.data_subjects)
        .join(Volume.customer)
        .where(Customer.key == "maison-lemaire", Volume.activity.has(key="location-features"))
        .order_by(Volume.region)
    ).all()
    assert rows == [("", 2261), ("US-TX", 12)]  # the row in the customer's country stays beside the new one
    texas = db.session.scalar(select(Volume).where(Volume.region == "US-TX"))
    assert 'value="US-TX"' in client.get(f"/volumes/{texas.id}/edit").text


def test_upload_page_streams_progress_and_imports_all_or_nothing(client, login):
    login(Role.PRIVACY)
    bad = client.post(
        "/inventory/import",
        content_type="multipart/form-data",
        data={
            "structure": (io.BytesIO(STRUCTURE.encode()), "inventory.yaml"),
            "volumes": (io.BytesIO(VOLUMES.replace("1200", "many").encode()), "volumes.csv"),
        },
    )
    page = bad.data.decode()
    assert "Nothing was imported: 1 problem(s)" in page
    assert "volumes.csv:2: data_subjects: &#39;many&#39; is not a whole number" in page
    assert db.session.scalar(select(Customer)) is None  # the structure part was rolled back too
    good = client.post(
        "/inventory/import",
        content_type="multipart/form-data",
        data={
            "structure": (io.BytesIO(STRUCTURE.encode()), "inventory.yaml"),
            "volumes": (io.BytesIO(VOLUMES.encode()), "volumes.csv"),
        },
    )
    page = good.data.decode()
    assert 'customers <progress value="100" max="100">' in page and 'volumes <progress value="100"' in page
    assert "Imported: 2 customers created" in page
    assert len(db.session.scalars(select(Volume)).all()) == 3
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "import"))
    assert event.actor == "user:privacy-user"


def test_upload_page_refuses_an_empty_form(client, login):
    login(Role.PRIVACY)
    response = client.post("/inventory/import", content_type="multipart/form-data", data={})
    assert response.status_code == 422 and b"choose an inventory file" in response.data


def test_volume_list_searches_across_customer_and_activity(client, login, demo_inventory):
    login(Role.VIEWER)
    page = client.get("/volumes?q=tienda").data.decode()
    assert "tienda-sol" in page and "maison-lemaire" not in page
    assert "supplier_vendor" not in page
    assert "Suppliers" in client.get("/volumes?q=supplier").text  # Fides's "Supplier/Vendor" in plain words
