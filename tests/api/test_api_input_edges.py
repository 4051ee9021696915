"""Input at the edges of what the database and the date type hold, as the generated requests of test_api_fuzz.py
found it: each is a 4xx JSON error naming the field, never a server error, and API paths that match no route
answer JSON too."""

import io

import jsonschema
import pytest

from breachdesk.api import schemas
from breachdesk.auth.models import Role
from tests.conftest import table_fingerprint
from tests.inventories import PROFILE, VOLUMES

BODY = {"title": "Bucket public", "aware_at": "2026-03-29T01:30:00+01:00", "systems": ["db"]}
EVENT = {"kind": "high_risk_established", "at": "2026-10-25T08:00:00Z"}


@pytest.fixture
def privacy(token):
    return token(Role.PRIVACY)


def problems_of(response, status: int = 422) -> list[str]:
    assert response.status_code == status, response.get_data(as_text=True)
    jsonschema.validate(response.json, schemas.as_json_schema(schemas.ERROR))
    return response.json.get("problems", [response.json["error"]])


# PostgreSQL's INTEGER ends at 2**31 - 1 and refuses to compare a larger number; SQLite's ends at 2**63 - 1.
@pytest.mark.parametrize("too_large", [2**31, 2**63])
@pytest.mark.parametrize(
    "method, path, body",
    [
        ("get", "/api/v1/incidents/{}", None),
        ("put", "/api/v1/incidents/{}/assessment", {"ei": 1}),
        ("post", "/api/v1/incidents/{}/events", EVENT),
    ],
)
def test_an_id_past_the_database_integer_range_answers_404(client, incident, privacy, method, path, body, too_large):
    response = client.open(path.format(too_large), method=method, json=body, headers=privacy)
    assert problems_of(response, 404)


@pytest.mark.parametrize("owner_id", [2**31, 2**63])
def test_an_owner_id_past_the_database_integer_range_is_refused_naming_it(client, incident, privacy, owner_id):
    response = client.post("/api/v1/incidents", json={**BODY, "owner_id": owner_id}, headers=privacy)
    assert problems_of(response) == [f"owner_id: no active user with id {owner_id}"]


# PostgreSQL text cannot hold a NUL character: it refuses the query outright.
@pytest.mark.parametrize("name", ["status", "customer", "system"])
def test_a_nul_byte_in_a_filter_is_refused_naming_it(client, incident, privacy, name):
    response = client.get(f"/api/v1/incidents?{name}=db%00", headers=privacy)
    assert problems_of(response) == [f"{name}: contains a NUL character"]


def send(client, path: str, body: dict, headers: dict):
    """POST to a collection or an event list; PUT an assessment."""
    return client.open(path, method="PUT" if path.endswith("/assessment") else "POST", json=body, headers=headers)


@pytest.mark.parametrize(
    "path, body, field",
    [
        ("/api/v1/incidents", {**BODY, "title": "Bucket\x00public"}, "title"),
        ("/api/v1/incidents", {**BODY, "systems": ["db", "d\x00b"]}, "systems[1]"),
        ("/api/v1/incidents/{}/events", {**EVENT, "note": "\x00"}, "note"),
        ("/api/v1/incidents/{}/assessment", {"ei": 1, "decision": {"rationale": "\x00"}}, "decision.rationale"),
    ],
)
def test_a_nul_byte_in_a_body_is_refused_naming_the_field(client, incident, privacy, path, body, field):
    response = send(client, path.format(incident.id), body, privacy)
    assert problems_of(response) == [f"{field}: contains a NUL character"]


@pytest.mark.parametrize(
    "path, body, field",
    [
        ("/api/v1/incidents", {**BODY, "cause": {}}, "cause"),
        ("/api/v1/incidents", {**BODY, "cause": ["internal_error"]}, "cause"),
        ("/api/v1/incidents/{}/events", {**EVENT, "kind": {}}, "kind"),
        ("/api/v1/incidents/{}/events", {**EVENT, "kind": "stage_filed", "stage": ["art33-1"]}, "stage"),
        ("/api/v1/incidents/{}/assessment", {"ei": 1, "dpc_category": ["simple"]}, "dpc_category"),
    ],
)
def test_an_object_or_a_list_where_text_is_expected_is_refused_naming_the_field(
    client, incident, privacy, path, body, field
):
    response = send(client, path.format(incident.id), body, privacy)
    assert [problem.split(":")[0] for problem in problems_of(response)] == [field]


@pytest.mark.parametrize("status", ["closd", "OPEN", ""])
def test_an_unknown_status_filter_is_refused_listing_the_known_ones(client, incident, privacy, status):
    response = client.get(f"/api/v1/incidents?status={status}", headers=privacy)
    assert problems_of(response) == [f"status: {status!r} is not one of open, assessed, notifying, closed"]


def test_a_known_status_filters_the_list(client, incident, privacy):
    listed = {s: client.get(f"/api/v1/incidents?status={s}", headers=privacy).json["items"] for s in ("open", "closed")}
    assert [i["id"] for i in listed["open"]] == [incident.id] and listed["closed"] == []


@pytest.mark.parametrize(
    "query, field",
    [("page=9223372036854775808", "page"), ("page=0", "page"), ("page=two", "page"), ("per_page=201", "per_page")],
)
def test_a_page_outside_its_bounds_is_refused_naming_it(client, incident, privacy, query, field):
    response = client.get(f"/api/v1/incidents?{query}", headers=privacy)
    assert problems_of(response)[0].startswith(f"{field}: a whole number from 1 to ")


def test_the_last_page_is_answered(client, incident, privacy):
    response = client.get("/api/v1/incidents?page=100000&per_page=200", headers=privacy)
    assert response.status_code == 200 and response.json["items"] == []


@pytest.mark.parametrize(
    "field, value",
    [
        ("aware_at", "0001-01-01T00:00:00+01:00"),  # in UTC: before year 1
        ("detected_at", "0001-01-01T00:00:00Z"),
        ("occurred_to", "9999-12-31T23:00:00-01:00"),  # in UTC: after year 9999
    ],
)
def test_a_date_time_outside_the_years_we_record_is_refused_naming_it(client, incident, privacy, field, value):
    response = client.post("/api/v1/incidents", json={**BODY, field: value}, headers=privacy)
    assert problems_of(response) == [f"{field}: {value!r} is not between the years 1970 and 9998"]


@pytest.mark.parametrize("name, day", [("aware_to", "9999-12-31"), ("aware_from", "0001-01-01")])
def test_a_date_filter_outside_the_years_we_record_is_refused_naming_it(client, incident, privacy, name, day):
    response = client.get(f"/api/v1/incidents?{name}={day}", headers=privacy)
    assert problems_of(response) == [f"{name}: {day!r} is not between the years 1970 and 9998"]


@pytest.mark.parametrize(
    "name, text, problem",
    [
        (
            "profile.yaml",
            PROFILE.replace("target_hours: 48", "target_hours: 2147483648"),
            "profile.yaml:9: organisation.undue_delay_target_hours: must be at most 2,160",
        ),
        (
            "profile.yaml",
            PROFILE.replace("notice_hours: 36", f"notice_hours: {2**63}"),
            "profile.yaml:12: customers[initech].notice_hours: must be at most 2,160",
        ),
        (
            "volumes.csv",
            VOLUMES.replace("100,1000", f"100,{2**63}"),
            "volumes.csv:2: records: must be at most 1,000,000,000,000",
        ),
    ],
)
def test_an_inventory_number_past_its_bound_is_refused_naming_its_line(client, inventory, privacy, name, text, problem):
    before = table_fingerprint()
    part = "volumes" if name.endswith(".csv") else "structure"
    response = client.post(
        "/api/v1/inventory",
        data={part: (io.BytesIO(text.encode()), name)},
        content_type="multipart/form-data",
        headers=privacy,
    )
    assert problems_of(response) == [problem]
    assert table_fingerprint() == before


@pytest.mark.parametrize(
    "method, path, status",
    [
        ("get", "/api/v1/no-such-thing", 404),
        ("get", "/api/v2/incidents", 404),
        ("get", "/api/v1/incidents/-1", 404),
        ("get", "/api/v1/incidents/null", 404),
        ("delete", "/api/v1/incidents", 405),
    ],
)
def test_api_paths_that_match_no_route_answer_json(client, privacy, method, path, status):
    response = client.open(path, method=method, headers=privacy)
    assert response.content_type == "application/json"
    assert problems_of(response, status)
    if status == 405:
        assert set(response.headers["Allow"].split(", ")) >= {"GET", "POST"}


def test_pages_that_match_no_route_stay_pages(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404 and response.content_type.startswith("text/html")
