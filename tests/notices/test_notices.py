"""From obligation to notice: isolation per customer, follow-ups, approval and the outbox, templates."""

import io
import re
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from breachdesk.auth.models import Role
from breachdesk.core.clock import now_utc
from breachdesk.core.errors import DomainError, ValidationFailed
from breachdesk.core.progress import NoProgress
from breachdesk.deadlines.models import Obligation, ObligationStatus
from breachdesk.extensions import db
from breachdesk.incidents.services import recompute_impact
from breachdesk.inventory.importer import import_inventory
from breachdesk.notices import review, services
from breachdesk.notices.models import Notice, NoticeStatus, NoticeTemplate, OutboxMessage
from breachdesk.notices.statements import save_statement
from tests.conftest import create_user, table_fingerprint
from tests.incident_fixtures import duty, write_statements


def test_a_controllers_notice_carries_only_its_own_data(incident, privacy):
    acme = services.generate_notice(duty(incident, "acme"), privacy)
    globex = services.generate_notice(duty(incident, "globex"), privacy)
    db.session.commit()
    # Acme: 100 customers through messages, 80 customers + 20 prospects through the directory (tests/impact)
    assert acme.language == "fr" and acme.kind == "gdpr-art33-2"
    assert "Clients : environ 100 personnes" in acme.text_body and "Prospects : environ 20" in acme.text_body
    assert "Environ 1\u202f100 enregistrements." in acme.text_body
    assert acme.recipients == ["dpo@acme.example", "security@acme.example"]
    assert "Customers: about 50 people" in globex.text_body and "About 50 records." in globex.text_body
    for other in ("Acme", "acme", "1\u202f100", "1,100", "Prospect", "Messages"):
        assert other not in globex.text_body + globex.html_body + globex.subject
    for other in ("Globex", "globex", "nviron 50 ", "bout 50 "):
        assert other not in acme.text_body + acme.html_body + acme.subject
    services.approve_notice(acme, privacy)
    services.approve_notice(globex, privacy)
    db.session.commit()
    for notice in (acme, globex):  # the link is not rebuilt here: its signature carries the second it was made
        link = re.search(r"\S+/ack/([\w.-]+)", notice.text_body)
        assert f'href="{link.group(0)}"' in notice.html_body
        assert services.notice_of_token(link.group(1)) is notice  # it verifies and names this notice's duty


def test_a_notice_names_the_activities_that_reach_its_controller_and_no_others(incident):
    """`impact.activities`, by name, sorted: Acme's data is held by the messages and the directory, Globex's by the
    directory alone."""
    drafter = services.Drafter(incident)
    drafter.prefetch([duty(incident, "acme"), duty(incident, "globex")])
    assert drafter.context(duty(incident, "acme"), None, None, "en")["impact"]["activities"] == [
        "Directory",
        "Messages",
    ]
    assert drafter.context(duty(incident, "globex"), None, None, "en")["impact"]["activities"] == ["Directory"]


def test_a_notice_speaks_its_recipients_language_and_reads_their_clock(incident, privacy):
    """Acme is French in Europe/Paris, Globex English in UTC: the same incident (aware 24 October 2026 at
    22:00 UTC, already the 25th in Paris) in each one's words and on each one's clock, UTC beside it."""
    acme = services.generate_notice(duty(incident, "acme"), privacy)
    globex = services.generate_notice(duty(incident, "globex"), privacy)
    assert (
        "Nous en avons pris connaissance le 25 octobre 2026 à 00:00 CEST (24 octobre 2026 à 22:00 UTC)."
        in acme.text_body
    )
    assert "Nature : violation de la confidentialité." in acme.text_body
    assert "Données personnelles concernées : Adresse électronique, Contenus privés, Nom." in acme.text_body
    assert (
        "on 24 October 2026, 22:00 UTC." in globex.text_body and "Nature: confidentiality breach." in globex.text_body
    )
    assert "Personal data concerned: email address, name." in globex.text_body
    for notice in (acme, globex):
        shown = notice.subject + notice.text_body + notice.html_body
        assert "user." not in shown and "customer:" not in shown and "Client" not in globex.text_body
    assert "confidentiality" not in acme.text_body + acme.html_body


def test_the_recipients_clock_is_the_customers_else_the_regimes_else_our_countrys():
    customer = SimpleNamespace(time_zone="America/New_York")
    france, germany = SimpleNamespace(country="FR"), SimpleNamespace(country="US")
    in_utc = SimpleNamespace(terms={"period": {"amount": 72, "unit": "hours", "time_zone": "UTC"}})
    in_sao_paulo = SimpleNamespace(
        terms={"period": {"amount": 3, "unit": "business_days", "time_zone": "America/Sao_Paulo"}}
    )
    assert services.zone_for(in_sao_paulo, customer, france) == "America/New_York"
    assert services.zone_for(in_sao_paulo, None, france) == "America/Sao_Paulo"
    assert services.zone_for(in_utc, None, france) == "Europe/Paris"
    assert services.zone_for(in_utc, None, germany) == services.zone_for(in_utc, None, None) == "UTC"


def test_approval_queues_one_message_per_contact_once(incident, privacy):
    notice = services.generate_notice(duty(incident, "acme"), privacy)
    db.session.commit()
    approver = create_user("chief", Role.ADMIN)
    assert services.approve_notice(notice, approver) == 2
    db.session.commit()
    keys = db.session.scalars(select(OutboxMessage.idempotency_key).order_by(OutboxMessage.recipient)).all()
    assert keys == [f"{notice.id}:dpo@acme.example:1", f"{notice.id}:security@acme.example:1"]
    assert services.approve_notice(notice, approver) == 0  # approved already: nothing queued again
    db.session.add(OutboxMessage(notice_id=notice.id, recipient="dpo@acme.example", idempotency_key=keys[0]))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 2
    with pytest.raises(DomainError, match="approved notices are frozen"):
        services.edit_notice(notice, "x", "y", "", approver)


def test_four_eyes_refuses_the_author_as_approver(app, incident, privacy):
    app.config["NOTICE_FOUR_EYES"] = True
    notice = services.generate_notice(duty(incident, "acme"), privacy)
    db.session.commit()
    with pytest.raises(DomainError, match="four-eyes"):
        services.approve_notice(notice, privacy)
    db.session.rollback()
    assert services.approve_notice(db.session.get(Notice, notice.id), create_user("other", Role.PRIVACY)) == 2


def test_a_draft_is_edited_then_regenerated_and_once_approved_only_a_follow_up_is_written(incident, privacy):
    obligation = duty(incident, "acme")
    notice = services.generate_notice(obligation, privacy)
    with pytest.raises(ValidationFailed, match="subject: 1 to 300 characters"):
        services.edit_notice(notice, "  ", "body", "", privacy)
    services.edit_notice(notice, "Objet   corrigé", "Texte corrigé", "<p>corrigé</p>", privacy)
    db.session.commit()
    assert (notice.subject, notice.edited_at is not None) == ("Objet corrigé", True)
    again = services.generate_notice(obligation, privacy)  # a draft is re-rendered in place
    assert again.id == notice.id and again.subject.startswith("[Violation")
    with pytest.raises(DomainError, match="write a follow-up"):
        services.approve_notice(again, privacy)
        db.session.commit()
        services.generate_notice(obligation, privacy)


def test_no_notice_is_generated_or_approved_for_a_duty_that_is_not_required(incident, privacy):
    obligation = duty(incident, "acme")
    draft = services.generate_notice(obligation, privacy)
    db.session.commit()
    obligation.status, obligation.rationale = ObligationStatus.NOT_REQUIRED, "the customer's data was not reached"
    db.session.commit()
    with pytest.raises(DomainError, match="not required"):
        services.approve_notice(draft, privacy)
    db.session.rollback()
    with pytest.raises(DomainError, match="not required"):
        services.generate_notice(obligation, privacy)
    db.session.rollback()
    assert db.session.get(Notice, draft.id).status == NoticeStatus.DRAFT
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_a_follow_up_says_what_changed_for_that_customer(incident, privacy):
    first = services.generate_notice(duty(incident, "globex"), privacy)
    services.approve_notice(first, privacy)
    db.session.commit()
    data = b"customer,activity,data_subject_category,data_subjects,records\nglobex,directory,customer,75,90\n"
    import_inventory(None, ("volumes.csv", io.BytesIO(data), len(data)))
    recompute_impact(incident)
    db.session.commit()
    follow_up = services.generate_notice(duty(incident, "globex"), privacy, follow_up=True)
    db.session.commit()
    assert (follow_up.sequence, follow_up.kind) == (2, "gdpr-art33-2")
    assert "people: 50 → 75" in follow_up.changes["lines"] and "records: 50 → 90" in follow_up.changes["lines"]
    assert "  - records: 50 → 90" in follow_up.text_body
    assert follow_up.snapshot_id != first.snapshot_id
    assert follow_up.changes["difference"] == {
        "data_subjects": [{"customer": 50}, {"customer": 75}],
        "people": [50, 75],
        "records": [50, 90],
    }
    assert "people by category: Customers 50 → Customers 75" in follow_up.changes["lines"]


def test_a_french_follow_up_says_what_changed_in_french(incident, privacy):
    first = services.generate_notice(duty(incident, "acme"), privacy)
    services.approve_notice(first, privacy)
    db.session.commit()
    data = b"customer,activity,data_subject_category,data_subjects,records\nacme,directory,prospect,25,40\n"
    import_inventory(None, ("volumes.csv", io.BytesIO(data), len(data)))
    recompute_impact(incident)
    db.session.commit()
    follow_up = services.generate_notice(duty(incident, "acme"), privacy, follow_up=True)
    assert follow_up.changes["lines"] == [
        "personnes par catégorie : Clients 100, Prospects 20 → Clients 100, Prospects 25",
        "personnes : 120 → 125",
        "enregistrements : 1\u202f100 → 1\u202f120",
    ]
    assert "  - enregistrements : 1\u202f100 → 1\u202f120" in follow_up.text_body
    services.edit_notice(follow_up, "Objet", "Texte", "", privacy)
    again = services.generate_notice(duty(incident, "acme"), privacy, follow_up=True)  # the draft, re-rendered
    assert again.id == follow_up.id and again.changes["lines"] == follow_up.changes["lines"]


def test_the_authority_notice_has_no_email_and_is_filed_by_hand(incident, privacy):
    from breachdesk.incidents.services import open_incident

    controller = open_incident(
        {"title": "CRM exported", "aware_at": "2026-10-25T08:00:00Z", "systems": ["crm"], "nature": ["integrity"]}, None
    )
    write_statements(controller)
    obligation = db.session.scalar(
        select(Obligation).where(Obligation.incident_id == controller.id, Obligation.rule_id == "gdpr-art33-1")
    )
    notice = services.generate_notice(obligation, privacy)
    assert notice.kind == "gdpr-art33-1" and notice.language == "fr" and notice.recipients == []
    assert "Camille DPO" in notice.text_body and "Prospects : environ 300" in notice.text_body
    # CNIL reads Paris time (the rule counts in UTC; our country has one zone): 08:00 UTC, after the autumn change
    assert "Prise de connaissance : 25 octobre 2026 à 09:00 CET (08:00 UTC)." in notice.text_body
    assert services.approve_notice(notice, privacy) == 0


def test_bulk_generation_and_approval_cover_every_pending_customer_once(incident, privacy):
    assert services.generate_all(incident.id, privacy, NoProgress()) == 3
    assert services.generate_all(incident.id, privacy, NoProgress()) == 0  # a rerun continues, it does not repeat
    save_statement(incident, "en", {"pending_information": "Initech's numbers are being established."})
    reviewed = review.of_incident(incident.id, privacy, now_utc()).reviewed()
    done = services.approve_reviewed(incident.id, reviewed, privacy, NoProgress())
    assert done == services.Approval(approved=3, queued=3, left=0)  # acme 2 contacts, globex 1, initech 0
    assert (
        db.session.scalar(select(func.count()).select_from(Notice).where(Notice.status == NoticeStatus.APPROVED)) == 3
    )


def test_a_template_is_versioned_refused_with_its_line_and_restorable(incident, privacy):
    admin = create_user("admin", Role.ADMIN)
    version, source = services.current_template("gdpr-art33-2", "en")
    assert version == 0
    before = table_fingerprint()
    with pytest.raises(ValidationFailed) as refused:
        services.save_template(
            "gdpr-art33-2",
            "en",
            source.replace("{{ customer.name }}", "{{ customer.name }} {{ config }}", 1),
            "",
            admin,
        )
    assert refused.value.problems[0].startswith("source: line 1: unknown variable 'config'")
    assert table_fingerprint() == before
    first = services.save_template(
        "gdpr-art33-2", "en", source.replace("[Personal data breach]", "[Breach]"), "shorter subject", admin
    )
    services.save_template("gdpr-art33-2", "en", source, "back to the default wording", admin)
    db.session.commit()
    assert services.current_template("gdpr-art33-2", "en")[0] == 2
    umbrella = services.generate_notice(duty(incident, "umbrella"), privacy) if duty(incident, "umbrella") else None
    assert umbrella is None  # umbrella is not reached by the db system
    services.save_template("gdpr-art33-2", "en", first.source, "restored version 1", admin)
    db.session.commit()
    notice = services.generate_notice(duty(incident, "globex"), privacy)
    assert notice.subject.startswith("[Breach]") and notice.template_version == 3
    assert db.session.scalar(select(func.count()).select_from(NoticeTemplate)) == 3
