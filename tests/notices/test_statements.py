"""The statement for recipients: written per language by the privacy team on a page that asks exactly what
the incident's duties need, audited, shown as text; notices render from it and never from the incident's
internal title, description or containment; a notice in a language without a statement is refused."""

import pytest
from sqlalchemy import select

from breachdesk.audit.models import AuditEvent
from breachdesk.auth.models import Role
from breachdesk.core.errors import DomainError
from breachdesk.deadlines.models import Obligation
from breachdesk.extensions import db
from breachdesk.incidents.services import open_incident
from breachdesk.notices import services
from breachdesk.notices.models import Notice, Statement
from breachdesk.notices.statements import facts_asked, rules_of, save_statement
from tests.incident_fixtures import STATEMENTS, duty, write_statements

MARKER = "INTERNAL-7f3a"


def test_the_page_asks_exactly_what_the_incidents_duties_need(incident, login):
    asked = [fact.id for fact in facts_asked(rules_of(incident.id))]
    assert {"what_happened", "consequences", "measures_taken", "delay_reasons", "pending_information"} <= set(asked)
    assert "classification_criteria" not in asked and "cra_contacts" not in asked  # DORA, US states: not owed
    page = login(Role.PRIVACY).get(f"/incidents/{incident.id}/statement/fr").text
    assert "The likely consequences of the breach" in page and "What the incident" not in page
    assert page.count("<textarea") == len(asked)
    assert "Les coordonnées peuvent servir" in page  # what is written, in that language


def test_text_with_html_or_template_syntax_is_kept_and_shown_as_text(incident, login, privacy):
    client = login(Role.PRIVACY)
    written = "<script>alert(1)</script> {{ organisation.name }} {% if 1 %}x{% endif %}"
    saved = client.post(
        f"/incidents/{incident.id}/statement/en",
        data={**STATEMENTS["en"], "what_happened": written},
        follow_redirects=True,
    )
    assert "Statement saved." in saved.text
    assert "<script>alert(1)</script>" not in saved.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in saved.text
    notice = services.generate_notice(duty(incident, "globex"), privacy)
    assert written in notice.text_body  # not evaluated
    assert "&lt;script&gt;" in notice.html_body and "<script>" not in notice.html_body


def test_a_part_too_long_is_refused_next_to_its_field_and_nothing_changes(incident, login):
    page = login(Role.PRIVACY).post(
        f"/incidents/{incident.id}/statement/en", data={**STATEMENTS["en"], "consequences": "x" * 20_001}
    )
    assert "Field cannot be longer than 20000 characters." in page.text
    assert (
        db.session.scalar(select(Statement.consequences).where(Statement.language == "en"))
        == STATEMENTS["en"]["consequences"]
    )


def test_every_change_is_audited(incident):
    save_statement(incident, "en", {"consequences": "Phishing.", "perpetrator_findings": "None yet."})
    db.session.commit()
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.entity_type == "statements").order_by(AuditEvent.id.desc())
    ).first()
    assert event.entity_id == f"{incident.id}.en" and event.action == "update"
    assert event.after["consequences"] == "Phishing." and event.after["answers"]["perpetrator_findings"] == "None yet."


def test_a_notice_in_a_language_without_a_statement_is_refused_naming_it(inventory, privacy):
    found = open_incident({"title": "T", "aware_at": "2026-10-24T22:00:00Z", "systems": ["db"]}, None)
    write_statements(found, ("en",))
    db.session.commit()
    acme = db.session.scalar(
        select(Obligation).where(Obligation.incident_id == found.id, Obligation.recipient_key == "acme")
    )
    with pytest.raises(DomainError, match=r"no statement in French \(fr\)"):
        services.generate_notice(acme, privacy)
    assert db.session.scalar(select(Notice).where(Notice.obligation_id == acme.id)) is None


def test_no_notice_carries_the_incidents_internal_words(inventory, privacy):
    found = open_incident(
        {
            "title": f"{MARKER} title",
            "description": f"{MARKER} description",
            "containment": f"{MARKER} containment",
            "aware_at": "2026-10-24T22:00:00Z",
            "systems": ["db", "crm"],
            "nature": ["confidentiality"],
        },
        None,
    )
    write_statements(found)
    db.session.commit()
    notices = [
        services.generate_notice(o, privacy)
        for o in db.session.scalars(select(Obligation).where(Obligation.incident_id == found.id))
    ]
    assert len({n.kind for n in notices}) > 1
    for notice in notices:
        assert MARKER not in notice.subject + notice.text_body + notice.html_body


def test_a_rule_writes_only_from_its_own_template_in_a_shipped_language(app):
    with pytest.raises(DomainError, match=r"none for hipaa-164-410 in French \(fr\).*hipaa-164-410\.fr\.j2"):
        services.current_template("hipaa-164-410", "fr")
    assert services.current_template("nis2-art23-early-warning", "fr")[0] == 0
    assert "Acte illicite ou malveillant" in services.current_template("nis2-art23-early-warning", "fr")[1]


def test_the_template_editor_lists_templates_by_rule(app, login):
    client = login(Role.ADMIN)
    page = client.get("/settings/templates").text
    assert "NIS2" in page and "early warning" in page and "/settings/templates/dora-initial/fr" in page
    assert "/settings/templates/hipaa-164-410/fr" not in page
    assert client.get("/settings/templates/hipaa-164-410/fr").status_code == 404
    # a US state's rows link to the shared template they name, which an admin edits like a rule's own
    assert "/settings/templates/us-state-residents/en" in page and "shared, default" in page
    assert "Shared template of the US state laws" in client.get("/settings/templates/us-state-residents/en").text
    assert client.get("/settings/templates/us-state-residents/fr").status_code == 404
