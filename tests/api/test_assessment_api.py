"""PUT /incidents/{id}/assessment, POST /incidents/{id}/events, and obligations in GET /incidents/{id}."""

import jsonschema
import pytest

from breachdesk.api import schemas
from breachdesk.auth.models import Role
from breachdesk.extensions import db
from breachdesk.inventory.importer import import_inventory
from tests.api.test_api import BODY
from tests.conftest import table_fingerprint
from tests.inventories import PROFILE, load

ASSESSMENT = {
    "dpc_category": "behavioural",
    "dpc_adjustment": 1,
    "dpc_reason": "children's accounts among them",
    "ei": 0.75,
    "cb": {"confidentiality": 0.5, "integrity": 0, "availability": 0.25, "malicious": True},
    "exemptions": [],
    "decision": {"authority": "required", "data_subjects": "undecided"},
}


@pytest.fixture
def incident_id(app, client, token):
    load()
    import_inventory(("profile.yaml", PROFILE))
    db.session.commit()
    return client.post("/api/v1/incidents", json={**BODY, "systems": ["db", "crm"]}, headers=token()).json["id"]


@pytest.fixture
def privacy(token):
    return token(Role.PRIVACY)


def test_assessment_answers_severity_suggestion_and_decision(client, incident_id, privacy):
    response = client.put(f"/api/v1/incidents/{incident_id}/assessment", json=ASSESSMENT, headers=privacy)
    assert response.status_code == 200, response.json
    document = response.json
    jsonschema.validate(document, schemas.as_json_schema(schemas.ASSESSMENT))
    # DPC 2 + 1 = 3; SE = 3 x 0.75 + 0.5 + 0.25 + 0.5 = 3.5
    assert document["dpc"] == 3 and document["severity"] == {"score": 3.5, "band": "high"}
    assert document["suggested"]["authority"] == "required" and document["suggested"]["data_subjects"] == "required"
    assert document["decision"]["authority"] == "required" and document["decision"]["decided_by"] == "api-privacy"

    exempt = client.put(
        f"/api/v1/incidents/{incident_id}/assessment",
        headers=privacy,
        json={
            "dpc": 4,
            "ei": 1,
            "exemptions": ["unintelligible"],
            "decision": {
                "authority": "required",
                "data_subjects": "not_required",
                "rationale": "AES-256 at rest; the key stayed in the HSM (Art. 34(3)(a)).",
            },
        },
    ).json
    assert exempt["severity"] == {"score": 4.0, "band": "very high"}
    assert exempt["suggested"]["data_subjects"] == "not_required"

    incident = client.get(f"/api/v1/incidents/{incident_id}", headers=privacy).json
    jsonschema.validate(incident, schemas.as_json_schema(schemas.INCIDENT))
    assert incident["assessment"]["severity"]["band"] == "very high"
    by_rule = {(o["rule"], o["recipient"]): o for o in incident["obligations"]}
    authority = by_rule[("gdpr-art33-1", "CNIL")]
    assert authority["status"] == "overdue"  # aware in March 2026: 72 h have long passed
    assert authority["due_at"] == "2026-04-01T00:30:00Z" and authority["clock_start"] == "2026-03-29T00:30:00Z"
    assert authority["anchor"] == "awareness" and authority["source"].startswith("GDPR Art. 33(1)")
    subjects = by_rule[("gdpr-art34", "data subjects")]
    assert subjects["status"] == "not_required" and "HSM" in subjects["rationale"]
    acme = by_rule[("gdpr-art33-2", "acme")]
    assert acme["recipient_kind"] == "controller" and acme["due_at"] == "2026-03-30T00:30:00Z"
    initech = by_rule[("gdpr-art33-2", "initech")]
    assert initech["due_at"] is None and initech["target_at"] == "2026-03-30T12:30:00Z"


@pytest.mark.parametrize(
    "change, field",
    [
        ({"ei": 0.6}, "ei: must be one of 0.25, 0.5, 0.75, 1.0"),
        ({"ei": None}, "ei: required"),
        ({"cb": {"integrity": 0.3}}, "cb.integrity: must be one of 0.0, 0.25, 0.5"),
        ({"cb": {"malicious": "yes"}}, "cb.malicious: true or false"),
        ({"cb": {"secrecy": 0.5}}, "cb.secrecy: unknown field"),
        ({"dpc_category": "medical"}, "dpc_category: one of simple, behavioural, financial, sensitive"),
        ({"dpc_adjustment": 3}, "dpc_adjustment: the adjusted score must stay within 1..4"),
        ({"dpc_reason": ""}, "dpc_reason: required when the context score is adjusted"),
        ({"dpc": 5, "dpc_category": None}, "dpc: an integer from 1 to 4"),
        ({"dpc": 2}, "dpc: give either dpc or dpc_category"),
        ({"dpc": 2, "dpc_category": None, "dpc_adjustment": {}}, "dpc_adjustment: a whole number of steps"),
        ({"dpc_category": ""}, "dpc_category: one of"),
        ({"cb": []}, "cb: expected an object"),
        ({"exemptions": {}}, "exemptions: expected a list"),
        (
            {"exemptions": ["encrypted"]},
            "exemptions: 'encrypted' is not one of unintelligible, mitigated, disproportionate_effort",
        ),
        ({"decision": {"authority": "maybe"}}, "decision.authority: 'maybe' is not one of"),
        ({"decision": {"authority": "not_required"}}, "decision.rationale: required when a recipient is not_required"),
        ({"decision": {"data_subjects": "not_required", "rationale": "  "}}, "decision.rationale: required"),
        ({"band": "low"}, "band: unknown field"),
    ],
)
def test_bad_assessment_input_is_422_naming_the_field_and_changes_nothing(client, incident_id, privacy, change, field):
    before = table_fingerprint()
    response = client.put(f"/api/v1/incidents/{incident_id}/assessment", json={**ASSESSMENT, **change}, headers=privacy)
    assert response.status_code == 422
    assert any(p.startswith(field) for p in response.json["problems"]), response.json
    assert table_fingerprint() == before


def test_assessment_needs_the_privacy_team_and_an_existing_incident(client, incident_id, privacy, token):
    viewer = token(Role.VIEWER)
    assert client.put(f"/api/v1/incidents/{incident_id}/assessment", json=ASSESSMENT, headers=viewer).status_code == 403
    assert client.put("/api/v1/incidents/999/assessment", json=ASSESSMENT, headers=privacy).status_code == 404
    assert client.put(f"/api/v1/incidents/{incident_id}/assessment", data="ei=1", headers=privacy).status_code == 422


def test_events_anchor_clocks_and_answer_with_the_obligations(client, incident_id, privacy):
    filed = client.post(
        f"/api/v1/incidents/{incident_id}/events",
        headers=privacy,
        json={
            "kind": "stage_filed",
            "stage": "nis2-art23-notification",
            "at": "2026-03-31T10:00:00+02:00",
            "reference": "CERT-FR 2026-0412",
        },
    )
    assert filed.status_code == 201, filed.json
    jsonschema.validate(filed.json, schemas.as_json_schema(schemas.EVENT))
    final = next(o for o in filed.json["obligations"] if o["rule"] == "nis2-art23-final-report")
    # one month after 31 March ends with 30 April, at midnight in Brussels (CEST)
    assert final["anchor"] == "stage_filed:nis2-art23-notification"
    assert final["due_at"] == "2026-04-30T21:59:59Z"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"kind": "materiality", "at": "2026-03-30T00:00:00Z"}, "kind: one of"),
        ({"kind": "classified_major"}, "at: is required"),
        ({"kind": "classified_major", "at": "2026-03-30 09:00"}, "at: a time zone is required"),
        ({"kind": "stage_filed", "stage": "nis2-final", "at": "2026-03-30T00:00:00Z"}, "stage: 'nis2-final' is not"),
        ({"kind": "not_material", "at": "2026-03-30T00:00:00Z"}, "note: required for a negative determination"),
        (
            {"kind": "classified_major", "at": "2026-03-30T00:00:00Z", "stage": "dora-initial"},
            "stage: only for kind stage_filed",
        ),
    ],
)
def test_bad_events_are_422_naming_the_field_and_change_nothing(client, incident_id, privacy, body, field):
    before = table_fingerprint()
    response = client.post(f"/api/v1/incidents/{incident_id}/events", json=body, headers=privacy)
    assert response.status_code == 422
    assert any(p.startswith(field) for p in response.json["problems"]), response.json
    assert table_fingerprint() == before
