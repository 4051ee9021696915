"""Through the pages: the draft shows its rule's checklist, generating says which part of the statement is
missing, approval is refused while an item is missing (naming it) or while the impact moved since the draft,
a late notice needs its reasons (and the register shows them), a follow-up is complementary."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from breachdesk.auth.models import Role
from breachdesk.core.errors import DomainError, ValidationFailed
from breachdesk.deadlines.models import Obligation
from breachdesk.deadlines.services import mark_sent
from breachdesk.extensions import db
from breachdesk.incidents.services import open_incident, recompute_impact
from breachdesk.inventory.importer import import_inventory
from breachdesk.notices import services
from breachdesk.notices.models import NoticeStatus, OutboxMessage
from breachdesk.notices.statements import save_statement
from tests.conftest import create_user
from tests.incident_fixtures import duty, write_statements
from tests.notices.pages import confirm


def test_a_draft_shows_its_checklist_and_approval_waits_for_the_missing_item(incident, privacy, login):
    save_statement(incident, "fr", {"consequences": ""})
    db.session.commit()
    client = login(Role.PRIVACY)
    generated = client.post(f"/obligations/{duty(incident, 'acme').id}/notice", follow_redirects=True)
    assert "The likely consequences of the breach (GDPR Art. 33(3)(c) via Art. 28(3)(f)" in generated.text
    assert "write in the statement (fr): The likely consequences of the breach" in generated.text
    assert (
        "What its rule requires" in generated.text and generated.text.count(">present<") == 5
    )  # with the reasons for the delay
    assert generated.text.count(">missing<") == 1
    notice = services.latest_notice(duty(incident, "acme").id)
    review = client.get(f"/notices/{notice.id}/review").text
    assert "The likely consequences of the breach" in review and "is missing" in review
    refused = confirm(client, f"/notices/{notice.id}/review")
    assert "Nothing was approved. No draft here can be approved yet" in refused.text
    db.session.refresh(notice)
    assert notice.status == NoticeStatus.DRAFT and db.session.scalar(select(OutboxMessage)) is None
    save_statement(incident, "fr", {"consequences": "Hameçonnage possible."})
    db.session.commit()
    client.post(f"/obligations/{notice.obligation_id}/notice")
    assert "Approved; 2 e-mail(s) queued." in confirm(client, f"/notices/{notice.id}/review").text


def test_bulk_approval_refuses_naming_the_notice_and_the_item(incident, privacy):
    notice = services.generate_notice(duty(incident, "globex"), privacy)
    save_statement(incident, "en", {"measures_proposed": ""})
    with pytest.raises(ValidationFailed, match="to Globex: The measures we have taken or propose"):
        services.approve_notice(notice, create_user("approver", Role.PRIVACY))


def test_a_notice_past_its_due_time_needs_the_reasons_for_the_delay(incident, privacy):
    globex = duty(incident, "globex")
    save_statement(incident, "en", {"delay_reasons": ""})
    with time_machine.travel(globex.due_at - timedelta(minutes=1), tick=False):
        notice = services.generate_notice(globex, privacy)  # on time: no reasons asked
    with time_machine.travel(globex.due_at + timedelta(minutes=1), tick=False):
        with pytest.raises(DomainError, match=r"reasons for the delay \(none in GDPR Art. 33\(2\)"):
            services.generate_notice(globex, privacy)
        with pytest.raises(ValidationFailed, match="The reasons for the delay"):
            services.approve_notice(notice, create_user("approver", Role.PRIVACY))
        save_statement(incident, "en", {"delay_reasons": "The scope took two days to establish."})
        with pytest.raises(DomainError, match="it must state the reasons for the delay; regenerate the draft"):
            services.approve_notice(notice, create_user("second", Role.PRIVACY))  # drafted on time, says none
        late = services.generate_notice(globex, privacy)
        assert "Reasons for the delay" in late.text_body and "two days to establish" in late.text_body
        services.approve_notice(late, create_user("third", Role.PRIVACY))


def test_the_breach_register_shows_the_reasons_for_a_late_notice(incident, login):
    mark_sent(duty(incident, "globex"), duty(incident, "globex").due_at + timedelta(hours=3))
    db.session.commit()
    client = login(Role.VIEWER)
    assert "1 duty(ies) late" in client.get("/register").text
    assert "[fr] Découverte lors d&#39;un audit le week-end" in client.get("/register").text
    [row] = csv.DictReader(io.StringIO(client.get("/register.csv").data.decode("utf-8-sig")))
    assert row["duties_sent_late"] == "1" and row["delay_reasons"].startswith("[en] The exposure was found")


def test_a_draft_whose_impact_changed_is_refused_until_regenerated(incident, privacy, login):
    notice = services.generate_notice(duty(incident, "globex"), privacy)
    db.session.commit()
    data = b"customer,activity,data_subject_category,data_subjects,records\nglobex,directory,customer,75,90\n"
    import_inventory(None, ("volumes.csv", io.BytesIO(data), len(data)))
    recompute_impact(incident)
    db.session.commit()
    client = login(Role.PRIVACY)
    assert "the impact changed since it was drafted; regenerate the draft" in client.get(f"/notices/{notice.id}").text
    refused = confirm(client, f"/notices/{notice.id}/review")
    assert "the impact changed since it was drafted; regenerate the draft" in refused.text
    assert db.session.scalar(select(OutboxMessage).where(OutboxMessage.notice_id.is_not(None))) is None
    client.post(f"/obligations/{notice.obligation_id}/notice")
    db.session.expire_all()
    assert "About 90 records." in services.latest_notice(notice.obligation_id).text_body
    assert "Approved; 1 e-mail(s) queued." in confirm(client, f"/notices/{notice.id}/review").text


def test_the_authoritys_follow_up_is_complementary_naming_the_first_notice_and_what_changed(inventory, privacy):
    controller = open_incident(
        {"title": "CRM", "aware_at": "2026-10-25T08:00:00Z", "systems": ["crm"], "nature": ["integrity"]}, None
    )
    write_statements(controller)
    authority = db.session.scalar(
        select(Obligation).where(Obligation.incident_id == controller.id, Obligation.rule_id == "gdpr-art33-1")
    )
    with time_machine.travel(datetime(2026, 10, 26, 9, 30, tzinfo=UTC), tick=False):
        first = services.generate_notice(authority, privacy)
        services.approve_notice(first, privacy)
    mark_sent(authority, datetime(2026, 10, 26, 10, 0, tzinfo=UTC), reference="CNIL-2026-123")
    data = b"customer,activity,data_subject_category,data_subjects,records\n,prospects,prospect,450,900\n"
    import_inventory(None, ("volumes.csv", io.BytesIO(data), len(data)))
    recompute_impact(controller)
    db.session.commit()
    with pytest.raises(ValidationFailed, match="What was previously unknown and is now known"):
        services.approve_notice(services.generate_notice(authority, privacy, follow_up=True), privacy)
    save_statement(controller, "fr", {"newly_known": "L'origine : un jeton d'API divulgué."})
    follow_up = services.generate_notice(authority, privacy, follow_up=True)
    text = follow_up.text_body
    assert follow_up.subject.startswith("Notification complémentaire : ") and follow_up.sequence == 2
    assert "notre notification du 26 octobre 2026 à 11:00 CET (10:00 UTC) (référence" in text
    assert f"{controller.id}-{authority.id}-1 (CNIL-2026-123)" in text
    assert "  - personnes : 300 → 450" in text and "L'origine : un jeton d'API divulgué." in text
    services.approve_notice(follow_up, privacy)
