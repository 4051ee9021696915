"""The organisation profile (file and settings page) and the obligation pages, through Flask's client."""

import re

import pytest
from sqlalchemy import select

from breachdesk.audit.models import AuditEvent
from breachdesk.auth.models import Role
from breachdesk.core.errors import ValidationFailed
from breachdesk.deadlines.models import Obligation, ObligationStatus
from breachdesk.extensions import db
from breachdesk.inventory.exporter import export_structure
from breachdesk.inventory.importer import import_inventory
from breachdesk.inventory.models import Organisation
from tests.conftest import error_next_to, table_fingerprint
from tests.deadlines.test_obligation_services import file
from tests.inventories import PROFILE, import_text, load


@pytest.fixture
def inventory(app):
    load()
    import_text(PROFILE)


@pytest.mark.parametrize(
    "old, new, message",
    [
        (
            "regimes: [GDPR, NIS2]",
            "regimes: [GDPR, NIS3]",
            "profile.yaml:6: organisation.regimes: 'NIS3' is not a regime of the rules table",
        ),
        (
            "authorities: {NIS2: CERT-FR}",
            "authorities: {NIS9: CERT-FR}",
            "profile.yaml:7: organisation.authorities: 'NIS9' is not a regime",
        ),
        ("country: FR", "country: France", "profile.yaml:4: organisation.country: 'France' is not an ISO 3166-1"),
        (
            "undue_delay_target_hours: 48",
            "undue_delay_target_hours: 0",
            "profile.yaml:9: organisation.undue_delay_target_hours: must be at least 1",
        ),
        (
            "  name: Parlons SAS\n",
            "  name: Parlons SAS\n  vat: FR123\n",
            "profile.yaml:4: organisation.vat: unknown field",
        ),
    ],
)
def test_the_profile_in_the_inventory_file_is_checked_naming_the_line(inventory, old, new, message):
    before = table_fingerprint()
    with pytest.raises(ValidationFailed) as refused:
        import_inventory(("profile.yaml", PROFILE.replace(old, new)))
    db.session.rollback()
    assert any(p.startswith(message) for p in refused.value.problems), refused.value.problems
    assert table_fingerprint() == before


def test_the_profile_is_exported_with_the_inventory(inventory):
    exported = export_structure()
    assert "organisation:\n  name: Parlons SAS\n  country: FR\n" in exported
    assert "  regimes:\n  - GDPR\n  - NIS2\n" in exported


def test_an_admin_edits_the_profile_and_open_incidents_follow(inventory, login):
    incident = file()
    client = login(Role.ADMIN)
    assert client.get("/settings/organisation/edit").status_code == 200
    data = {
        "name": "Parlons SAS",
        "country": "fr",
        "lead_supervisory_authority": "CNIL",
        "regimes": ["GDPR", "NIS2"],
        "authorities": "NIS2 CERT-FR",
        "entity_status": "NIS2: important",
        "undue_delay_target_hours": "48",
    }
    before = table_fingerprint()
    refused = client.post("/settings/organisation/edit", data=data)
    assert "authorities line 1: expected “Regime: value”, got &#39;NIS2 CERT-FR&#39;" in refused.text
    assert table_fingerprint() == before
    saved = client.post(
        "/settings/organisation/edit", data={**data, "regimes": ["GDPR"], "authorities": "NIS2: CERT-FR\n\n"}
    )
    assert saved.status_code == 302
    organisation = db.session.get(Organisation, 1)
    assert organisation.regimes == ["GDPR"] and organisation.country == "FR"
    assert db.session.scalar(
        select(AuditEvent).where(AuditEvent.entity_type == "organisation").order_by(AuditEvent.id.desc())
    ).after["regimes"] == ["GDPR"]
    nis2 = db.session.scalars(
        select(Obligation).where(Obligation.incident_id == incident.id, Obligation.regime == "NIS2")
    ).all()
    assert nis2 and all(o.status == ObligationStatus.NOT_REQUIRED for o in nis2)
    assert "Regimes</dt><dd>GDPR</dd>" in client.get("/settings/organisation").text


def test_obligation_list_filters_and_the_page_explains_the_deadline(inventory, login):
    incident = file()
    client = login(Role.VIEWER)
    overdue = client.get(f"/incidents/{incident.id}/obligations?status=overdue").text
    assert overdue.count('class="overdue"') == 4  # acme, globex and the two NIS2 stages from awareness (2026)
    assert "Initech" not in overdue  # "without undue delay": a target, never overdue
    found = client.get(f"/incidents/{incident.id}/obligations?q=initech").text
    assert "Initech" in found and "without undue delay" in found
    acme = db.session.scalar(select(Obligation).where(Obligation.recipient_key == "acme"))
    page = client.get(f"/obligations/{acme.id}").text
    assert "GDPR Art. 33(2)" in page and "24 hours from awareness" in page
    assert 'title="2026-10-25 22:00 UTC"' in page and "Record as sent" not in page  # a viewer records nothing


def test_recording_a_send_through_the_form_refuses_a_time_that_does_not_exist(inventory, login):
    incident = file()
    client = login(Role.PRIVACY)
    acme = db.session.scalar(
        select(Obligation).where(Obligation.incident_id == incident.id, Obligation.recipient_key == "acme")
    )
    gap = client.post(
        f"/obligations/{acme.id}/sent",
        data={"at": "2026-03-29T02:30", "time_zone": "Europe/Paris"},
        follow_redirects=True,
    )
    assert gap.status_code == 422
    assert error_next_to(gap.text, "at") == (
        "2026-03-29 02:30 doesn't exist in Europe/Paris (the clocks jumped forward): "
        "did you mean 01:59 CET (00:59 UTC) or 03:00 CEST (01:00 UTC)?"
    )
    assert 'name="at_instant" value="2026-03-29T01:00:00+00:00"' in gap.text
    done = client.post(
        f"/obligations/{acme.id}/sent",
        data={"at": "2026-10-25T23:30", "time_zone": "Europe/Paris", "reference": "msg-7"},
        follow_redirects=True,
    )
    # due 22:00 UTC; 23:30 in Paris that evening is 22:30 UTC (the clocks fell back that morning)
    assert "late by 30 min" in done.text and "reference msg-7" in done.text
    db.session.expire_all()
    assert db.session.get(Obligation, acme.id).sent_at.isoformat() == "2026-10-25T22:30:00+00:00"


def test_the_timeline_and_the_duty_pages_speak_in_sentences_not_codes(inventory, login):
    incident = file()
    client = login(Role.PRIVACY)
    acme = db.session.scalar(
        select(Obligation).where(Obligation.incident_id == incident.id, Obligation.recipient_key == "acme")
    )
    sent = client.post(
        f"/obligations/{acme.id}/sent", data={"at": "2026-10-25T23:30", "time_zone": "Paris", "reference": "msg-7"}
    )
    assert sent.status_code == 302
    page = client.get(f"/incidents/{incident.id}").text
    timeline = page[page.index('id="timeline"') :]
    assert "Incident filed: Exposed snapshot" in timeline
    assert re.search(r"Impact computed: 3 customers, [\d,]+ people, [\d,]+ records", timeline)
    assert "Duties worked out from the rules:" in timeline
    assert f"{acme.regime} {acme.stage} to {acme.recipient}: marked sent" in timeline
    duty_page = client.get(f"/obligations/{acme.id}").text
    for shown in (page, duty_page):
        words = re.sub(r"<[^>]+>", " ", shown.split("<main", 1)[1])  # what a reader sees, not attribute values
        codes = (
            "impact.computed",
            "obligations.derived",
            acme.rule_id,
            "supervisory_authority",
            "not_required",
            "user.",
        )
        for code in codes:
            assert code not in words, code


def test_a_refused_determination_comes_back_on_the_incident_page_with_its_errors_beside_the_fields(inventory, login):
    incident = file()
    client = login(Role.PRIVACY)
    before = table_fingerprint()
    # a time in the fold of 25 October 2026 in Paris: the page offers both instants
    fold = client.post(
        f"/incidents/{incident.id}/events",
        data={"kind": "significance_determined", "at": "2026-10-25T02:30", "time_zone": "Europe/Paris"},
    )
    assert fold.status_code == 422
    assert "02:30 CEST (00:30 UTC)" in error_next_to(fold.text, "at") and "02:30 CET (01:30 UTC)" in fold.text
    assert 'name="at_instant" value="2026-10-25T01:30:00+00:00"' in fold.text
    # a negative determination needs its note: said beside the note, and nothing is recorded
    bare = client.post(
        f"/incidents/{incident.id}/events",
        data={"kind": "not_significant", "at": "2026-10-25T09:00", "time_zone": "UTC"},
    )
    assert bare.status_code == 422 and error_next_to(bare.text, "note")
    assert table_fingerprint() == before
    picked = client.post(
        f"/incidents/{incident.id}/events",
        data={
            "kind": "significance_determined",
            "at": "2026-10-25T02:30",
            "time_zone": "Europe/Paris",
            "at_instant": "2026-10-25T01:30:00+00:00",
        },
    )
    assert picked.status_code == 302
    page = client.get(f"/incidents/{incident.id}").text
    assert "significance determined" in page and "nis2-art23" not in page.split('id="events"')[1].split("</ul>")[0]


def test_a_duty_page_says_when_it_is_owed_and_what_starts_its_clock_in_words(inventory, login):
    incident = file()
    client = login(Role.VIEWER)
    owed = {o.rule_id: o for o in db.session.scalars(select(Obligation).where(Obligation.incident_id == incident.id))}
    final = client.get(f"/obligations/{owed['nis2-art23-final-report'].id}").text
    assert (
        "once the incident is judged significant and unless the incident is still ongoing when the final report is "
        "due (an incident event)"
    ) in final
    recipients = client.get(f"/obligations/{owed['nis2-art23-1-recipients'].id}").text
    assert "recipients of our services" in recipients and "service_impact" not in recipients
    assert "when the incident is judged significant" in recipients
