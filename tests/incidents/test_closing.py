"""Closing an incident while duties are still owed needs a written reason: it is refused without one, naming the
field and the duties; with one, the reason and the duties left are in the timeline, the register and the audit log.
Without pending duties no reason is asked."""

import csv
import io

import pytest
from sqlalchemy import select, update

from breachdesk.audit.models import AuditEvent
from breachdesk.auth.models import Role
from breachdesk.core.errors import ValidationFailed
from breachdesk.deadlines.models import Obligation, ObligationStatus
from breachdesk.extensions import db
from breachdesk.incidents import services
from breachdesk.incidents.models import IncidentNote, IncidentStatus
from tests.conftest import error_next_to, table_fingerprint

# the fixture's incident (tests/incident_fixtures.py) owes, soonest first: Acme and the NIS2 early warning (24 h),
# Globex (48 h), the NIS2 notification (72 h), then Initech ("without undue delay"), the NIS2 final report and the
# notice to the recipients of our services (until a person decides they need not be told, NIS2 Art. 23(1))
PENDING = [
    "GDPR notification to Acme, due 2026-10-25 22:00 UTC",
    "NIS2 early warning to CERT-FR, due 2026-10-25 22:00 UTC",
]


def pending(incident) -> list[str]:
    return services.pending_duties(incident)


def test_closing_with_duties_pending_is_refused_without_a_reason_naming_the_field_and_the_duties(incident):
    lines = pending(incident)
    assert len(lines) == 7 and lines[:2] == PENDING
    before = table_fingerprint()
    with pytest.raises(ValidationFailed) as refused:
        services.change_status(incident, IncidentStatus.CLOSED, None, reason="  ")
    [problem] = refused.value.problems
    assert problem.startswith("reason: required to close with 7 duty(ies) still pending: " + "; ".join(PENDING))
    db.session.rollback()
    assert table_fingerprint() == before and incident.status == IncidentStatus.OPEN


def test_closing_with_a_reason_keeps_it_with_the_duties_left_in_the_timeline_and_the_audit_log(incident, privacy):
    services.change_status(incident, IncidentStatus.CLOSED, privacy.id, reason="Handled by the customers directly")
    db.session.commit()
    assert incident.status == IncidentStatus.CLOSED
    note = db.session.scalar(select(IncidentNote).where(IncidentNote.kind == "close"))
    assert note.author_id == privacy.id
    assert note.text.startswith(f"Closed with 7 duty(ies) still pending ({'; '.join(PENDING)}; ")
    assert note.text.endswith("): Handled by the customers directly")
    audited = db.session.scalar(select(AuditEvent).where(AuditEvent.entity_type == "incident_notes"))
    assert audited.action == "create" and audited.after["kind"] == "close" and audited.after["text"] == note.text


def test_without_pending_duties_closing_needs_no_reason(incident):
    db.session.execute(
        update(Obligation).where(Obligation.incident_id == incident.id).values(status=ObligationStatus.SENT)
    )
    assert pending(incident) == []
    services.change_status(incident, IncidentStatus.CLOSED, None)
    db.session.commit()
    assert incident.status == IncidentStatus.CLOSED
    assert db.session.scalar(select(IncidentNote).where(IncidentNote.kind == "close")) is None


def test_the_page_refuses_then_closes_and_shows_the_reason_in_the_timeline_and_the_register(client, login, incident):
    login(Role.PRIVACY)
    refused = client.post(f"/incidents/{incident.id}/status", data={"status": "closed"})
    page = refused.data.decode()
    assert refused.status_code == 422  # the incident page again, the reason asked for beside its field
    assert "required to close with 7 duty(ies) still pending" in error_next_to(page, "reason") and PENDING[0] in page
    assert db.session.get(type(incident), incident.id).status == IncidentStatus.OPEN
    closed = client.post(
        f"/incidents/{incident.id}/status",
        data={"status": "closed", "reason": "Customers told by phone"},
        follow_redirects=True,
    )
    assert "Closed with 7 duty(ies) still pending" in closed.data.decode()
    assert "Customers told by phone" in closed.data.decode()
    register = client.get("/register").data.decode()
    assert "Closed with 7 duty(ies) still pending" in register and "Customers told by phone" in register
    [row] = csv.DictReader(io.StringIO(client.get("/register.csv").data.decode()))
    assert row["closed_with_duties_pending"].endswith("): Customers told by phone")
