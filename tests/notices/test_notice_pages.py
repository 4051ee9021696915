"""Notice pages through Flask's client: follow-up offered when the impact moved, editing, the printable
authority notice, and the HTML part served in a sandbox."""

import io

from markupsafe import escape
from sqlalchemy import select, update

from breachdesk.auth.models import Role
from breachdesk.deadlines.models import Obligation
from breachdesk.extensions import db
from breachdesk.incidents.services import open_incident, recompute_impact
from breachdesk.inventory.importer import import_inventory
from breachdesk.notices import services
from breachdesk.notices.models import Notice
from tests.incident_fixtures import STATEMENTS, duty, write_statements
from tests.notices.pages import confirm


def test_a_follow_up_is_offered_once_the_impact_moved(incident, privacy, login):
    client = login(Role.PRIVACY)
    assert client.post(f"/obligations/{duty(incident, 'globex').id}/notice").status_code == 302
    notice = db.session.scalar(select(Notice))
    assert "Regenerate the draft" in client.get(f"/obligations/{notice.obligation_id}").text
    reasons = STATEMENTS["en"]["delay_reasons"]  # past its due time, the edited text still states them
    edited = client.post(
        f"/notices/{notice.id}/edit",
        data={"subject": "Breach notice", "text_body": f"Dear Globex\n{reasons}", "html_body": "<p>Dear Globex</p>"},
        follow_redirects=True,
    )
    assert "Notice saved." in edited.text and "Dear Globex" in edited.text
    approved = confirm(client, f"/notices/{notice.id}/review")
    assert "Approved; 1 e-mail(s) queued." in approved.text
    assert "Write a follow-up" not in client.get(f"/notices/{notice.id}").text
    data = b"customer,activity,data_subject_category,data_subjects,records\nglobex,directory,customer,75,90\n"
    import_inventory(None, ("volumes.csv", io.BytesIO(data), len(data)))
    recompute_impact(incident)
    db.session.commit()
    page = client.get(f"/notices/{notice.id}").text
    assert "The impact changed for this recipient" in page
    follow = client.post(f"/obligations/{notice.obligation_id}/notice", data={"follow_up": "1"}, follow_redirects=True)
    assert "follow-up 1" in follow.text and "people: 50 → 75" in follow.text


def test_the_authority_notice_prints_as_a_document_and_html_is_sandboxed(inventory, privacy, login):
    controller = open_incident(
        {"title": "CRM exported", "aware_at": "2026-10-25T08:00:00Z", "systems": ["crm"], "nature": ["integrity"]}, None
    )
    write_statements(controller)
    obligation = db.session.scalar(
        select(Obligation).where(Obligation.incident_id == controller.id, Obligation.rule_id == "gdpr-art33-1")
    )
    notice = services.generate_notice(obligation, privacy)
    db.session.commit()
    client = login(Role.PRIVACY)
    document = client.get(f"/notices/{notice.id}/document").text
    points = [document.index(p) for p in ("(a) Nature", "(b) Délégué", "(c) Conséquences", "(d) Mesures")]
    assert points == sorted(points) and "print.css" in document
    # the printed document holds the text version itself: the occurrence window, the encryption statement...
    assert str(escape(notice.text_body)) in document
    assert "date de survenue" in notice.text_body and "chiffrement" in notice.text_body
    html = client.get(f"/notices/{notice.id}/html")
    assert html.headers["Content-Security-Policy"] == "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    approved = confirm(client, f"/notices/{notice.id}/review")
    assert "It has no e-mail recipient: submit it yourself" in approved.text


def test_html_a_person_wrote_is_shown_and_sent_only_through_an_allow_list(incident, privacy, login):
    notice = services.generate_notice(duty(incident, "acme"), privacy)
    services.edit_notice(
        notice,
        notice.subject,
        notice.text_body,
        '<p>Dear customer</p><meta http-equiv="refresh" content="0;url=https://evil.example">'
        '<script>alert(1)</script><a href="javascript:alert(2)">here</a>',
        privacy,
    )
    db.session.commit()
    assert notice.html_body == '<p>Dear customer</p><a rel="noopener noreferrer">here</a>'
    db.session.execute(
        update(Notice)
        .where(Notice.id == notice.id)
        .values(  # written before the allow-list
            html_body='<p>Old</p><meta http-equiv="refresh" content="0;url=https://evil.example">'
        )
    )
    db.session.commit()
    client = login(Role.PRIVACY)
    shown = client.get(f"/notices/{notice.id}/html").text
    assert ">Old</p>" in shown and "evil.example" not in shown and "http-equiv" not in shown
    assert "evil.example" not in client.get(f"/notices/{notice.id}/document").text
