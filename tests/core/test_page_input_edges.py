"""Input at the edges of what the database and the date type hold, sent to the pages (the API's twin is
tests/api/test_api_input_edges.py): each is a 4xx answer naming the field, never a server error, and changes nothing."""

import re

import pytest
from sqlalchemy import select

from breachdesk.api.services import create_token
from breachdesk.auth.models import Role, User
from breachdesk.extensions import db
from breachdesk.notices.rendering import default_source
from tests.conftest import error_next_to, table_fingerprint


@pytest.fixture
def admin(login):
    """A client logged in as an admin (every page's role), and the headers of a token of the same user for the API."""
    client = login(Role.ADMIN)
    _, secret = create_token(db.session.scalar(select(User).where(User.username == "admin-user")))
    db.session.commit()
    return client, {"Authorization": f"Bearer {secret}"}


# PostgreSQL's INTEGER ends at 2**31 - 1 and refuses to compare a larger number; SQLite's ends at 2**63 - 1.
@pytest.mark.parametrize("too_large", [2**31, 2**63])
def test_every_route_with_an_id_answers_404_past_the_database_integer_range(app, incident, admin, too_large):
    client, token = admin
    answered = {}
    for rule in app.url_map.iter_rules():
        if "<int:" not in rule.rule:
            continue
        path = re.sub(r"<\w+>", "x", re.sub(r"<int:\w+>", str(too_large), rule.rule))
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(path, method=method, headers=token)
            answered[f"{method} {path}"] = response.status_code
            if path.startswith("/api/"):
                assert response.is_json, path
    assert len(answered) > 30  # every route with an id, each with its methods
    assert set(answered.values()) == {404}, {request: status for request, status in answered.items() if status != 404}


@pytest.mark.parametrize(
    "path",
    [
        "/incidents/?to=9999-12-31",  # its next midnight would be past the largest date
        "/incidents/?from=0001-01-01",
        "/register?to=9999-12-31",
        "/register.csv?from=0001-01-01",
    ],
)
def test_a_date_filter_outside_the_years_we_record_is_refused_naming_it(client, login, incident, path):
    login(Role.VIEWER)
    name, day = path.split("?")[1].split("=")
    response = client.get(path)
    assert response.status_code == 400
    assert f"{name}: &#39;{day}&#39; is not between the years 1970 and 9998" in response.text


def test_a_malformed_date_filter_is_refused_not_ignored(client, login, incident):
    login(Role.VIEWER)
    response = client.get("/incidents/?from=2026-02-30")
    assert response.status_code == 400 and "from: &#39;2026-02-30&#39; is not a date YYYY-MM-DD" in response.text


# Wall-clock times typed in a zone: year 1 east of UTC and year 9999 west of it overflowed in the conversion to UTC.
UNKNOWNS = {"cause": "", "encrypted": "", "key_compromised": "", "owner_id": ""}  # the form's "not known yet"
WHEN = [("0001-01-01T00:30", "Europe/Paris"), ("9999-12-31T23:00", "America/New_York"), ("9999-12-31T23:00", "UTC")]


@pytest.mark.parametrize("when, zone", WHEN)
def test_an_incident_time_outside_the_years_we_record_is_refused_naming_it(client, login, inventory, when, zone):
    login(Role.RESPONDER)
    form = {"title": "Bucket public", "aware_at": when, "time_zone": zone, "systems": ["db"], **UNKNOWNS}
    before = table_fingerprint()
    response = client.post("/incidents/new", data=form)
    assert response.status_code == 200
    assert f"'{when}' is not between the years 1970 and 9998" in error_next_to(response.text, "aware_at")
    assert table_fingerprint() == before


@pytest.mark.parametrize("when, zone", WHEN)
def test_an_event_time_outside_the_years_we_record_is_refused_naming_it(client, login, incident, when, zone):
    login(Role.PRIVACY)
    form = {"kind": "high_risk_established", "at": when, "time_zone": zone}
    before = table_fingerprint()
    response = client.post(f"/incidents/{incident.id}/events", data=form)
    assert response.status_code == 422  # the incident page again, the error beside the field
    assert f"'{when}' is not between the years 1970 and 9998" in error_next_to(response.text, "at")
    assert table_fingerprint() == before


# PostgreSQL text cannot hold a NUL character: it refused every query or row carrying one (500); SQLite stored it.
@pytest.mark.parametrize(
    "method, path, data, field",
    [
        ("post", "/incidents/new", {"title": "Bucket\x00public", "aware_at": "2026-10-24T22:00"}, "title"),
        ("post", "/incidents/{id}/notes", {"text": "\x00"}, "text"),
        ("post", "/customers/new", {"key": "acme", "name": "Acme\x00", "country": "FR"}, "name"),
        ("post", "/login", {"username": "dpo\x00", "password": "x"}, "username"),
        ("get", "/incidents/?customer=acme%00", None, "customer"),
        ("get", "/customers?q=acme%00", None, "q"),
        ("get", "/audit/?action=create%00", None, "action"),
        ("get", "/customers/acme%00", None, "key"),
    ],
)
def test_a_nul_character_anywhere_in_a_request_is_refused_naming_its_field(
    client, login, incident, method, path, data, field
):
    login(Role.ADMIN)
    before = table_fingerprint()
    response = client.open(path.format(id=incident.id), method=method, data=data)
    assert response.status_code == 400 and f"{field}: contains a NUL character" in response.text
    assert table_fingerprint() == before


@pytest.mark.parametrize("path", ["/incidents/", "/incidents/{id}", "/customers", "/audit/", "/register"])
def test_a_page_number_past_the_last_page_answers_404(client, login, incident, path):
    login(Role.ADMIN)
    assert client.get(path.format(id=incident.id) + "?page=9223372036854775808").status_code == 404
    assert client.get(path.format(id=incident.id) + "?page=100000").status_code == 404  # past the rows, as ever


@pytest.mark.parametrize("too_large", [2**31, 2**63])
def test_a_template_preview_against_an_id_past_the_integer_range_renders_the_sample(admin, too_large):
    client, _ = admin
    source = default_source("gdpr-art33-2", "en")
    answer = client.post(
        "/settings/templates/gdpr-art33-2/en/preview", data={"source": source, "obligation": str(too_large)}
    )
    assert answer.status_code == 200 and answer.json["problems"] == [] and "Example SAS" in answer.json["text"]
