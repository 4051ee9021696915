"""The JSON API: tokens, the public contract's names, errors that name the field and change nothing."""

import io

import jsonschema
import pytest
from openapi_spec_validator import validate
from sqlalchemy import select

from breachdesk.api import schemas
from breachdesk.auth.models import Role
from breachdesk.extensions import db
from breachdesk.incidents.models import Incident
from breachdesk.inventory.importer import import_inventory
from tests.conftest import create_user, table_fingerprint
from tests.inventories import PROFILE, SMALL, VOLUMES, import_text, load

BODY = {
    "title": "Alert: bucket public",
    "aware_at": "2026-03-29T01:30:00+01:00",
    "systems": ["db", "sms"],
    "nature": ["confidentiality"],
    "cause": "internal_error",
    "encrypted": False,
}


@pytest.fixture
def inventory(app):
    load()


def test_filing_answers_201_with_location_and_impact(client, token, inventory):
    response = client.post("/api/v1/incidents", json=BODY, headers=token())
    assert response.status_code == 201
    document = response.json
    jsonschema.validate(document, schemas.as_json_schema(schemas.INCIDENT))
    assert response.headers["Location"] == f"/api/v1/incidents/{document['id']}"
    assert document["aware_at"] == "2026-03-29T00:30:00Z"
    impact = document["impact"]
    assert impact["totals"] == {"customers": 3, "data_subjects": 170, "records": 1150, "activities": 2}
    acme = next(c for c in impact["customers"] if c["key"] == "acme")
    assert acme["data_subjects"] == {"customer": 100, "prospect": 20} and acme["records"] == 1100
    assert (
        acme["sensitivity"] == 2
        and {
            "systems": ["db"],
            "activity": "messages",
            "data_categories": ["user.contact.email", "user.content.private"],
        }
        in acme["paths"]
    )


def test_reading_one_and_listing_with_filters(client, token, inventory):
    headers = token(Role.RESPONDER)
    first = client.post("/api/v1/incidents", json=BODY, headers=headers).json["id"]
    client.post(
        "/api/v1/incidents", json={**BODY, "systems": ["crm"], "aware_at": "2026-05-01T00:00:00Z"}, headers=headers
    )
    viewer = token(Role.VIEWER)
    assert client.get(f"/api/v1/incidents/{first}", headers=viewer).json["id"] == first
    listing = client.get("/api/v1/incidents?system=crm", headers=viewer).json
    jsonschema.validate(listing, schemas.as_json_schema(schemas.INCIDENT_LIST))
    assert listing["total"] == 1 and listing["items"][0]["systems"] == ["crm"]
    assert client.get("/api/v1/incidents?customer=globex", headers=viewer).json["total"] == 1
    assert client.get("/api/v1/incidents?per_page=1&page=2", headers=viewer).json["items"][0]["id"] == first
    assert client.get("/api/v1/incidents/999", headers=viewer).status_code == 404


def test_the_incident_answer_carries_the_first_page_of_customers_and_obligations_and_where_the_rest_are(
    app, client, token, inventory
):
    import_text(PROFILE)
    app.config.update(PAGE_SIZE=2)
    headers = token()
    filed = client.post("/api/v1/incidents", json=BODY, headers=headers).json
    read = client.get(f"/api/v1/incidents/{filed['id']}", headers=headers).json
    for document in filed, read:
        jsonschema.validate(document, schemas.as_json_schema(schemas.INCIDENT))
        impact = document["impact"]
        assert [c["key"] for c in impact["customers"]] == ["acme", "globex"]  # by name
        assert impact["totals"]["customers"] == 3  # the totals are the whole impact's
        customers = f"/api/v1/incidents/{filed['id']}/customers"
        assert impact["customers_page"] == {
            "per_page": 2,
            "total": 3,
            "pages": 2,
            "next": f"{customers}?page=2&per_page=2",
        }
    second = client.get(impact["customers_page"]["next"], headers=headers).json
    jsonschema.validate(second, schemas.as_json_schema(schemas.CUSTOMER_LIST))
    assert (second["page"], second["total"], [c["key"] for c in second["items"]]) == (2, 3, ["initech"])
    assert second["items"][0] == client.get(f"{customers}?per_page=3", headers=headers).json["items"][2]

    obligations = client.get(f"/api/v1/incidents/{filed['id']}/obligations?per_page=200", headers=headers).json
    jsonschema.validate(obligations, schemas.as_json_schema(schemas.OBLIGATION_LIST))
    assert len(obligations["items"]) == obligations["total"] > 2
    assert read["obligations"] == obligations["items"][:2]  # soonest due first
    assert read["obligations_page"]["total"] == obligations["total"]
    assert read["obligations_page"]["next"] == f"/api/v1/incidents/{filed['id']}/obligations?page=2&per_page=2"
    event = {"kind": "high_risk_established", "at": "2026-03-30T10:00:00Z"}
    recorded = client.post(f"/api/v1/incidents/{filed['id']}/events", json=event, headers=token(Role.PRIVACY)).json
    assert len(recorded["obligations"]) == 2 and recorded["obligations_page"]["total"] >= obligations["total"]


def test_a_page_past_the_end_is_empty_and_a_bad_page_is_refused_naming_it(client, token, inventory):
    headers = token()
    incident = client.post("/api/v1/incidents", json=BODY, headers=headers).json["id"]
    for listing in ("customers", "obligations"):
        past = client.get(f"/api/v1/incidents/{incident}/{listing}?page=9", headers=headers).json
        assert past["items"] == [] and past["page"] == 9
        refused = client.get(f"/api/v1/incidents/{incident}/{listing}?per_page=201", headers=headers)
        assert refused.status_code == 422 and refused.json["problems"] == ["per_page: a whole number from 1 to 200"]
        assert client.get(f"/api/v1/incidents/999/{listing}", headers=headers).status_code == 404


def customers_inventory(count: int) -> str:
    """`count` customers (keys and names of one length) holding people in one activity on one system."""
    customers = "".join(f"  - {{key: c{n:04d}, name: Customer {n:04d}, country: FR}}\n" for n in range(count))
    return (
        "format: breachdesk-inventory/1\ncustomers:\n" + customers + "systems:\n"
        "  - {key: store, name: Store, hosting_country: FR}\n"
        "activities:\n"
        "  - {key: hosting, name: Hosting, role: processor, systems: [store],\n"
        "     data_categories: [user.contact.email], data_subject_categories: [customer]}\n"
    )


def test_no_answer_grows_with_the_number_of_customers(client, token, app):
    """Filed on a system holding 50 customers, then on one holding 500: each answer about the incident is the
    same size, give or take its figures' digits."""
    import_text(PROFILE)
    headers, privacy = token(), token(Role.PRIVACY)
    sizes = {}
    for count in (50, 500):
        volumes = "customer,activity,data_subject_category,data_subjects,records\n" + "".join(
            f"c{n:04d},hosting,customer,10,10\n" for n in range(count)
        )
        data = volumes.encode()
        import_inventory(("many.yaml", customers_inventory(count)), ("volumes.csv", io.BytesIO(data), len(data)))
        db.session.commit()
        filed = client.post("/api/v1/incidents", json={**BODY, "systems": ["store"]}, headers=headers)
        incident = filed.json["id"]
        assert filed.json["impact"]["totals"]["customers"] == count
        event = {"kind": "high_risk_established", "at": "2026-03-30T10:00:00Z"}
        sizes[count] = {
            "POST incidents": len(filed.data),
            "GET incident": len(client.get(f"/api/v1/incidents/{incident}", headers=headers).data),
            "GET customers": len(client.get(f"/api/v1/incidents/{incident}/customers", headers=headers).data),
            "GET obligations": len(client.get(f"/api/v1/incidents/{incident}/obligations", headers=headers).data),
            "POST events": len(client.post(f"/api/v1/incidents/{incident}/events", json=event, headers=privacy).data),
        }
    assert all(sizes[500][answer] <= sizes[50][answer] * 1.02 + 64 for answer in sizes[50]), sizes
    assert sizes[50]["GET customers"] > 25 * 100  # a full page of customers: the comparison means something


@pytest.mark.parametrize(
    "change, status, field",
    [
        ({"aware_at": "2026-03-29T01:30:00"}, 422, "aware_at: a time zone is required"),
        ({"systems": ["db", "mainframe"]}, 422, "systems: unknown system key(s) 'mainframe'"),
        ({"systems": []}, 422, "systems: is required"),
        ({"nature": ["secrecy"]}, 422, "nature: 'secrecy' is not one of"),
        ({"aware_at": None}, 422, "aware_at: is required"),
        ({"encrypted": "no"}, 422, "encrypted: expected true or false"),
        ({"owner_id": 99999}, 422, "owner_id: no active user with id 99999"),
        ({"description": "x" * 70_000}, 413, "body: larger than"),
    ],
)
def test_bad_bodies_are_4xx_json_naming_the_field_and_change_nothing(client, token, inventory, change, status, field):
    headers = token()
    before = table_fingerprint()
    response = client.post("/api/v1/incidents", json={**BODY, **change}, headers=headers)
    assert response.status_code == status
    jsonschema.validate(response.json, schemas.as_json_schema(schemas.ERROR))
    assert field in response.json["error"] + " ".join(response.json.get("problems", []))
    assert {k: v for k, v in table_fingerprint().items() if k != "audit_events"} == {
        k: v for k, v in before.items() if k != "audit_events"
    }
    assert db.session.scalar(select(Incident)) is None


def test_malformed_json_is_a_clear_422(client, token, inventory):
    response = client.post(
        "/api/v1/incidents", data="{not json", headers={**token(), "Content-Type": "application/json"}
    )
    assert response.status_code == 422 and "body: expected a JSON object" in response.json["problems"][0]


def test_tokens_authenticate_and_revoked_or_missing_ones_do_not(client, token, runner, inventory):
    assert client.get("/api/v1/incidents").status_code == 401
    assert set(client.get("/api/v1/incidents").json) == {"error"}
    assert client.get("/api/v1/incidents", headers={"Authorization": "Bearer bd_wrong"}).status_code == 401
    create_user("ops", Role.RESPONDER)
    created = runner.invoke(args=["token", "create", "--user", "ops", "--name", "pager"])
    secret = created.output.split(": ")[1].split()[0]
    headers = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/incidents", headers=headers).status_code == 200
    token_id = created.output.split()[1]
    assert "active" in runner.invoke(args=["token", "list"]).output
    assert runner.invoke(args=["token", "revoke", token_id]).exit_code == 0
    assert client.get("/api/v1/incidents", headers=headers).status_code == 401


def test_a_browser_session_does_not_authenticate_the_api(client, login, inventory):
    login(Role.ADMIN)
    assert client.get("/customers").status_code == 200
    assert client.post("/api/v1/incidents", json=BODY).status_code == 401


def test_roles_apply_to_tokens(client, token, inventory):
    viewer = token(Role.VIEWER)
    assert client.post("/api/v1/incidents", json=BODY, headers=viewer).status_code == 403
    assert client.post("/api/v1/inventory", data=SMALL, headers=token(Role.RESPONDER)).status_code == 403


def test_inventory_import_over_the_api_is_all_or_nothing(client, token, app):
    headers = token(Role.PRIVACY)
    bad = client.post(
        "/api/v1/inventory",
        headers=headers,
        content_type="multipart/form-data",
        data={
            "structure": (io.BytesIO(SMALL.encode()), "small.yaml"),
            "volumes": (io.BytesIO(VOLUMES.replace("100,1000", "100,lots").encode()), "volumes.csv"),
        },
    )
    assert bad.status_code == 422 and "volumes.csv:2: records: 'lots'" in bad.json["problems"][0]
    assert db.session.scalar(select(Incident)) is None
    good = client.post(
        "/api/v1/inventory",
        headers=headers,
        content_type="multipart/form-data",
        data={
            "structure": (io.BytesIO(SMALL.encode()), "small.yaml"),
            "volumes": (io.BytesIO(VOLUMES.encode()), "volumes.csv"),
        },
    )
    assert good.status_code == 200 and good.json["created"]["customers"] == 4
    assert (
        client.post("/api/v1/inventory", headers=headers, data=SMALL, content_type="application/yaml").json["created"][
            "customers"
        ]
        == 0
    )


def test_customer_statuses_and_regions_come_in_through_the_api_and_a_bad_one_changes_nothing(client, token, app):
    from breachdesk.inventory.models import Customer, Volume

    headers = token(Role.PRIVACY)
    structure = SMALL.replace("country: US}", "country: US, hipaa_covered_entity: true, financial_entity: true}")
    regional = VOLUMES.replace("\n", ",\n").replace("data_subjects,records,", "data_subjects,records,region")
    regional = regional.replace("globex,directory,customer,50,50,", "globex,directory,customer,50,50,DE-BY")

    def post(structure: str, volumes: str):
        return client.post(
            "/api/v1/inventory",
            headers=headers,
            content_type="multipart/form-data",
            data={
                "structure": (io.BytesIO(structure.encode()), "small.yaml"),
                "volumes": (io.BytesIO(volumes.encode()), "volumes.csv"),
            },
        )

    before = table_fingerprint()
    word = post(structure.replace("hipaa_covered_entity: true", 'hipaa_covered_entity: "yes"'), regional)
    assert word.status_code == 422
    assert word.json["problems"] == [
        "small.yaml:5: customers[initech].hipaa_covered_entity: expected bool, got str 'yes'"
    ]
    region = post(structure, regional.replace("DE-BY", "DE-TX"))
    assert region.status_code == 422
    assert region.json["problems"] == [
        "volumes.csv:5: region: 'DE-TX': 'TX' is not an ISO 3166-2 subdivision of Germany (DE)"
    ]
    assert table_fingerprint() == before
    assert post(structure, regional).status_code == 200
    initech = db.session.scalar(select(Customer).where(Customer.key == "initech"))
    assert (initech.hipaa_covered_entity, initech.financial_entity) == (True, True)
    assert db.session.scalars(select(Volume.region).order_by(Volume.region)).all() == [""] * 5 + ["DE-BY"]


def test_the_openapi_document_is_valid_and_names_the_contract(client):
    document = client.get("/api/v1/openapi.json").json
    validate(document)
    assert set(document["paths"]) == {
        "/api/v1/incidents",
        "/api/v1/incidents/{incident_id}",
        "/api/v1/inventory",
        "/api/v1/incidents/{incident_id}/assessment",
        "/api/v1/incidents/{incident_id}/events",
        "/api/v1/incidents/{incident_id}/customers",
        "/api/v1/incidents/{incident_id}/obligations",
    }
    assessment = document["paths"]["/api/v1/incidents/{incident_id}/assessment"]["put"]
    assert {"dpc", "dpc_category", "dpc_adjustment", "dpc_reason", "ei", "cb", "exemptions", "decision"} == set(
        assessment["requestBody"]["content"]["application/json"]["schema"]["properties"]
    )
    incident = document["paths"]["/api/v1/incidents/{incident_id}"]["get"]["responses"]["200"]
    obligation = incident["content"]["application/json"]["schema"]["properties"]["obligations"]["items"]
    assert {
        "id",
        "recipient_kind",
        "recipient",
        "regime",
        "stage",
        "anchor",
        "clock_start",
        "due_at",
        "target_at",
        "status",
        "source",
    } <= set(obligation["required"])
    body = document["paths"]["/api/v1/incidents"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert {
        "title",
        "aware_at",
        "systems",
        "nature",
        "description",
        "detected_at",
        "occurred_from",
        "occurred_to",
        "cause",
        "data_categories",
        "encrypted",
        "key_compromised",
    } <= set(body["properties"])
