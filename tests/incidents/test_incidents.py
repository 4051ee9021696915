"""Filing incidents, the awareness clock, status moves, snapshots that go stale and the differences."""

import csv
import io
import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update

from breachdesk.auth.models import Role
from breachdesk.core.clock import AmbiguousTime, local_to_utc
from breachdesk.core.errors import DomainError, ValidationFailed
from breachdesk.extensions import db
from breachdesk.impact.services import current_snapshot, stale_reasons, take_snapshot
from breachdesk.incidents import services
from breachdesk.incidents.models import Incident, IncidentStatus
from breachdesk.inventory.importer import import_inventory
from breachdesk.inventory.models import ActivityDataCategory, ProcessingActivity
from breachdesk.inventory.taxonomy import Sensitivity
from tests.conftest import error_next_to
from tests.inventories import VOLUMES, load

AWARE = "2026-03-29T01:30:00+01:00"  # Paris, half an hour before the spring-forward jump


@pytest.fixture
def inventory(app):
    load()


def file(**changes) -> Incident:
    data = {
        "title": "Exposed database snapshot",
        "aware_at": AWARE,
        "systems": ["db"],
        "nature": ["confidentiality"],
        **changes,
    }
    incident = services.open_incident(data, None)
    db.session.commit()
    return incident


def test_filing_stores_utc_and_computes_the_impact_at_once(inventory):
    incident = file()
    assert incident.aware_at == datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    snapshot = current_snapshot(incident.id)
    assert snapshot.totals["customers"] == 3 and snapshot.scope == {"systems": ["db"], "data_categories": []}
    assert stale_reasons(incident, snapshot) == []


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"aware_at": "2026-03-29T01:30:00"}, "aware_at: a time zone is required"),
        ({"aware_at": "yesterday"}, "aware_at: 'yesterday' is not an RFC 3339 date-time"),
        ({"systems": []}, "systems: is required"),
        ({"systems": ["db", "mainframe"]}, "systems: unknown system key(s) 'mainframe'"),
        ({"nature": ["confidentiality", "secrecy"]}, "nature: 'secrecy' is not one of"),
        ({"cause": "aliens"}, "cause: 'aliens' is not one of"),
        ({"data_categories": ["user.contact.emial"]}, "data_categories: 'user.contact.emial' is not a data category"),
        (
            {"occurred_from": "2026-03-02T00:00:00Z", "occurred_to": "2026-03-01T00:00:00Z"},
            "occurred_to: is before occurred_from",
        ),
        ({"title": "x" * 201}, "title: longer than 200 characters"),
        ({"encrypted": "yes"}, "encrypted: expected true or false"),
        ({"colour": "red"}, "colour: unknown field"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_nothing_is_filed(inventory, changes, message):
    with pytest.raises(ValidationFailed) as refused:
        file(**changes)
    db.session.rollback()
    assert any(message in problem for problem in refused.value.problems), refused.value.problems
    assert db.session.scalar(select(Incident)) is None


def test_moving_awareness_needs_a_reason_which_joins_the_timeline(inventory):
    incident = file()
    later = "2026-03-29T09:00:00+02:00"
    with pytest.raises(ValidationFailed, match="reason: required"):
        services.update_incident(incident, {"aware_at": later}, None)
    db.session.rollback()
    services.update_incident(incident, {"aware_at": later}, None, reason="log review: alert was seen at 09:00")
    db.session.commit()
    assert incident.aware_at == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)
    assert "log review" in incident.notes[0].text and incident.notes[0].kind == "aware_at"


def test_status_moves_forward_and_reopening_needs_a_reason(inventory):
    incident = file()
    services.change_status(incident, IncidentStatus.CLOSED, None)
    with pytest.raises(DomainError, match="cannot go back"):
        services.change_status(incident, IncidentStatus.ASSESSED, None)
    with pytest.raises(ValidationFailed, match="reason: required to reopen"):
        services.change_status(incident, IncidentStatus.OPEN, None)
    services.change_status(incident, IncidentStatus.OPEN, None, "a second exposed bucket was found")
    assert incident.status == IncidentStatus.OPEN and incident.notes[-1].kind == "reopen"


def test_impact_goes_stale_when_the_inventory_changes_and_recomputing_shows_the_difference(inventory):
    incident = file(systems=["db"])
    load(VOLUMES + "umbrella,directory,customer,5,5\n")
    assert stale_reasons(incident, current_snapshot(incident.id)) == ["the inventory changed"]
    snapshot = take_snapshot(incident)
    db.session.commit()
    assert snapshot.difference == {"added": ["umbrella"], "removed": [], "changed": []}
    assert stale_reasons(incident, snapshot) == []


def test_impact_goes_stale_when_the_scope_changes(inventory):
    incident = file(systems=["db"])
    services.update_incident(incident, {"data_categories": ["user.content.private"]}, None)
    db.session.commit()
    assert stale_reasons(incident, current_snapshot(incident.id)) == [
        "the incident's systems or data categories changed"
    ]
    snapshot = take_snapshot(incident)
    # globex holds no private content; acme and initech keep only that category
    assert snapshot.difference == {"added": [], "removed": ["globex"], "changed": ["acme", "initech"]}


def test_a_change_of_sensitivity_alone_is_a_change_of_impact(inventory):
    """A follow-up must say when the exposed data turned out more sensitive, even with the same categories
    and counts (here the class stored for the directory's e-mail addresses is revised upwards)."""
    incident = file(systems=["db"])
    directory = db.session.scalar(select(ProcessingActivity).where(ProcessingActivity.key == "directory"))
    db.session.execute(
        update(ActivityDataCategory)
        .where(
            ActivityDataCategory.activity_id == directory.id, ActivityDataCategory.data_category == "user.contact.email"
        )
        .values(sensitivity=int(Sensitivity.SENSITIVE))
    )
    snapshot = take_snapshot(incident)
    # acme and globex hold the directory; initech only the messages, whose classes did not move
    assert snapshot.difference == {"added": [], "removed": [], "changed": ["acme", "globex"]}


@pytest.mark.parametrize(
    "local, zone, expected",
    [
        (datetime(2026, 3, 29, 1, 30), "Europe/Paris", datetime(2026, 3, 29, 0, 30, tzinfo=UTC)),
        (datetime(2026, 3, 29, 3, 30), "Europe/Paris", datetime(2026, 3, 29, 1, 30, tzinfo=UTC)),
        (datetime(2024, 2, 29, 23, 59), "America/New_York", datetime(2024, 3, 1, 4, 59, tzinfo=UTC)),
        (datetime(2026, 11, 22, 12, 0), "UTC", datetime(2026, 11, 22, 12, 0, tzinfo=UTC)),
    ],
)
def test_wall_clock_times_become_utc(local, zone, expected):
    assert local_to_utc(local, zone, "aware_at") == expected


def test_times_in_the_dst_gap_or_fold_are_refused_offering_the_instants_meant():
    with pytest.raises(AmbiguousTime, match="aware_at: 2026-03-29 02:30 doesn't exist in Europe/Paris") as gap:
        local_to_utc(datetime(2026, 3, 29, 2, 30), "Europe/Paris", "aware_at")
    # the last minute before the clocks jumped from 02:00 CET to 03:00 CEST, and the first after
    assert [c.label for c in gap.value.choices] == ["01:59 CET (00:59 UTC)", "03:00 CEST (01:00 UTC)"]
    assert [c.utc for c in gap.value.choices] == [
        datetime(2026, 3, 29, 0, 59, tzinfo=UTC),
        datetime(2026, 3, 29, 1, 0, tzinfo=UTC),
    ]
    with pytest.raises(AmbiguousTime, match="aware_at: 2026-10-25 02:30 happens twice in Europe/Paris") as fold:
        local_to_utc(datetime(2026, 10, 25, 2, 30), "Europe/Paris", "aware_at")
    assert [c.label for c in fold.value.choices] == ["02:30 CEST (00:30 UTC)", "02:30 CET (01:30 UTC)"]


def test_a_time_in_the_fold_is_taken_only_as_one_of_the_instants_offered():
    local = datetime(2026, 10, 25, 2, 30)
    assert local_to_utc(local, "Europe/Paris", "aware_at", "2026-10-25T01:30:00+00:00") == datetime(
        2026, 10, 25, 1, 30, tzinfo=UTC
    )
    with pytest.raises(AmbiguousTime):  # an instant the typed time cannot mean is no choice
        local_to_utc(local, "Europe/Paris", "aware_at", "2026-10-25T05:00:00+00:00")


# --- pages ---


def intake(**changes):
    return {
        "title": "Laptop stolen",
        "aware_at": "2026-10-25T01:15",
        "time_zone": "Europe/Paris",
        "systems": ["db"],
        "nature": ["confidentiality"],
        "description": "",
        "cause": "",
        "encrypted": "",
        "key_compromised": "",
        "owner_id": "",
        **changes,
    }


def test_intake_form_files_in_the_reporters_zone(client, login, inventory):
    login(Role.RESPONDER)
    response = client.post("/incidents/new", data=intake())
    assert response.status_code == 302
    incident = db.session.scalar(select(Incident))
    assert incident.aware_at == datetime(2026, 10, 24, 23, 15, tzinfo=UTC)  # still summer time (+02:00)
    page = client.get(response.location).data.decode()
    assert "3</strong> customers to notify" in page and "Acme" in page and "Initech" in page
    assert "no volume recorded" in page
    assert "Customers&#39; clients: " in page  # Fides's "customer" subjects, never confused with our customers


def test_intake_form_offers_the_two_instants_of_a_time_that_happens_twice(client, login, inventory):
    login(Role.RESPONDER)
    page = client.post("/incidents/new", data=intake(aware_at="2026-10-25T02:30")).text
    assert error_next_to(page, "aware_at") == (
        "2026-10-25 02:30 happens twice in Europe/Paris (the clocks went back): "
        "did you mean 02:30 CEST (00:30 UTC) or 02:30 CET (01:30 UTC)?"
    )
    offered = re.findall(r'name="aware_at_instant" value="([^"]+)"[^>]*> ([^<]+)</label>', page)
    assert offered == [
        ("2026-10-25T00:30:00+00:00", "02:30 CEST (00:30 UTC)"),
        ("2026-10-25T01:30:00+00:00", "02:30 CET (01:30 UTC)"),
    ]
    assert db.session.scalar(select(Incident)) is None
    chosen = intake(aware_at="2026-10-25T02:30", aware_at_instant="2026-10-25T01:30:00+00:00")
    assert client.post("/incidents/new", data=chosen).status_code == 302
    assert db.session.scalar(select(Incident)).aware_at == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)


@time_machine.travel(datetime(2026, 10, 1, 12, 0, tzinfo=UTC), tick=False)
def test_intake_errors_stand_next_to_their_fields_in_words(client, login, inventory):
    login(Role.RESPONDER)
    page = client.post("/incidents/new", data=intake(aware_at="2026-11-01T10:00")).text
    assert error_next_to(page, "aware_at") == "can't be in the future"
    assert "aware_at:" not in page  # no field's key shown as the message
    summary = page[page.index('class="problems error-summary"') :]
    assert '<a href="#aware_at">When we became aware</a>: can&#39;t be in the future' in summary
    untitled = client.post("/incidents/new", data=intake(title="")).text
    assert error_next_to(untitled, "title") == "This field is required."


def test_the_time_zone_chooser_takes_a_city_and_lists_every_zone(client, login, inventory):
    login(Role.RESPONDER)
    form = client.get("/incidents/new").text
    assert re.search(r'<input[^>]*id="time_zone"[^>]*list="time_zone-zones"', form)
    assert '<option value="Europe/Paris">' in form and '<option value="America/Argentina/Buenos_Aires">' in form
    assert "data-browser-zone" in form  # forms.js fills in the browser's zone on a fresh form
    assert client.post("/incidents/new", data=intake(time_zone="Paris")).status_code == 302
    assert db.session.scalar(select(Incident)).aware_at == datetime(2026, 10, 24, 23, 15, tzinfo=UTC)
    page = client.post("/incidents/new", data=intake(time_zone="Parris")).text
    assert error_next_to(page, "time_zone") == (
        "no time zone is called “Parris”: choose one from the list, such as Europe/Paris"
    )
    assert "data-browser-zone" not in page  # what the person typed stays


def test_list_filters_by_status_customer_system_and_date(client, login, inventory):
    first = file(title="Database exposed")
    file(title="SMS relay leak", systems=["sms"], aware_at="2026-05-01T10:00:00Z")
    file(title="CRM export lost", systems=["crm"], aware_at="2026-06-01T10:00:00Z")
    services.change_status(first, IncidentStatus.ASSESSED, None)
    db.session.commit()
    login(Role.VIEWER)
    titles = lambda query: [
        t
        for t in ("Database exposed", "SMS relay leak", "CRM export lost")  # noqa: E731
        if t in client.get(f"/incidents/?{query}").data.decode()
    ]
    assert titles("status=assessed") == ["Database exposed"]
    assert titles("customer=globex") == ["Database exposed", "SMS relay leak"]
    assert titles("system=crm") == ["CRM export lost"]
    assert titles("from=2026-05-01&to=2026-05-31") == ["SMS relay leak"]


def test_affected_customers_sort_paginate_and_export(client, login, inventory):
    incident = file(systems=["db", "sms"])
    login(Role.VIEWER)
    page = client.get(f"/incidents/{incident.id}?sort=people").data.decode()
    assert page.index("Acme") < page.index("Globex") < page.index("Initech")
    exported = client.get(f"/incidents/{incident.id}/customers.csv").data.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(exported)))
    assert [r["customer_key"] for r in rows] == ["acme", "globex", "initech"]
    assert rows[0]["data_subject_categories"] == "customer=100; prospect=20" and rows[0]["records"] == "1100"
    assert "db > messages > user.contact.email, user.content.private" in rows[0]["paths"]


def test_the_customers_export_neutralises_formulas(client, login, inventory):
    import_inventory(
        (
            "rename.yaml",
            "format: breachdesk-inventory/1\ncustomers:\n"
            "  - {key: acme, name: '=HYPERLINK(\"https://evil.example\")', country: FR}\n",
        )
    )
    db.session.commit()
    incident = file(systems=["db"])
    login(Role.VIEWER)
    exported = client.get(f"/incidents/{incident.id}/customers.csv").data.decode("utf-8-sig")
    [acme] = [r for r in csv.DictReader(io.StringIO(exported)) if r["customer_key"] == "acme"]
    assert acme["customer"] == '\'=HYPERLINK("https://evil.example")'


def test_timeline_shows_filing_changes_and_notes(client, login, inventory):
    login(Role.RESPONDER)
    client.post("/incidents/new", data=intake())
    incident = db.session.scalar(select(Incident))
    client.post(f"/incidents/{incident.id}/notes", data={"text": "Bucket made private at 02:10."})
    page = client.get(f"/incidents/{incident.id}").data.decode()
    assert "Incident filed: Laptop stolen" in page and "Impact computed: 3 customers" in page
    assert "Bucket made private at 02:10." in page


def test_what_if_a_system_were_breached(client, login, inventory):
    login(Role.VIEWER)
    page = client.get("/systems/sms/blast-radius").data.decode()
    assert "2</strong> customers to notify" in page and "Acme" in page and "Initech" not in page


@settings(max_examples=300, deadline=None)
@given(
    local=st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2060, 12, 31)),
    zone=st.sampled_from(
        [
            "Europe/Paris",
            "America/New_York",
            "Australia/Lord_Howe",
            "Asia/Kolkata",
            "UTC",
            "America/Sao_Paulo",
            "Europe/London",
            "Pacific/Chatham",
        ]
    ),
)
def test_a_wall_clock_time_is_either_refused_or_maps_back_to_itself(local, zone):
    try:
        instant = local_to_utc(local, zone, "aware_at")
    except ValueError as error:
        assert str(error).startswith("aware_at: ")
        return
    assert instant.tzinfo is UTC
    assert instant.astimezone(ZoneInfo(zone)).replace(tzinfo=None) == local
