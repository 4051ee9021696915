"""Sending is deliberate: the review lists every recipient, address, language, rule, checklist and due time with a
summary over all drafts; one confirmation approves exactly what was reviewed, only the drafts that may go, or
nothing at all when it is missing, forged or stale (a draft edited, regenerated or added since the review)."""

import io
import re
from datetime import UTC, datetime

import pytest
import time_machine
from sqlalchemy import delete, event, func, select, update
from sqlalchemy.orm import selectinload

from breachdesk.auth.models import Role, User
from breachdesk.core.progress import NoProgress
from breachdesk.deadlines.models import Obligation
from breachdesk.extensions import db
from breachdesk.incidents.services import recompute_impact
from breachdesk.inventory.importer import import_inventory
from breachdesk.notices import review, services
from breachdesk.notices.checklist import State
from breachdesk.notices.models import DeliveryEvent, Notice, NoticeStatus, OutboxMessage
from breachdesk.notices.statements import save_statement
from tests.conftest import create_user, log_in, table_fingerprint
from tests.incident_fixtures import duty
from tests.notices.pages import confirm, confirmation, table_rows, visible_text

#: the review's moment: Acme's 24 hours run out at 22:00 UTC today, Globex's 48 tomorrow, Initech's target at 10:00
AT = datetime(2026, 10, 25, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clock():
    """Every test here reviews at AT: whether a draft is late decides what it must say."""
    with time_machine.travel(AT, tick=False):
        yield


@pytest.fixture
def drafts(incident, privacy):
    """A draft to Acme (French, two addresses), Globex (English, one) and Initech (no address, and no numbers:
    an item is missing), written by the privacy officer `dpo`."""
    found = {key: services.generate_notice(duty(incident, key), privacy) for key in ("acme", "globex", "initech")}
    db.session.commit()
    return found


def reviewing(incident) -> str:
    return f"/incidents/{incident.id}/notices/review"


def test_the_review_lists_every_recipient_address_language_and_due_time(drafts, incident, login):
    client = login(Role.PRIVACY)
    db.session.scalar(select(User).where(User.username == "privacy-user")).time_zone = "Europe/Paris"
    db.session.commit()
    page = client.get(reviewing(incident)).text
    shown = visible_text(page)
    assert "3 draft notices to 3 recipients: 3 e-mails; 1 without an e-mail address, to submit yourself" in shown
    assert "By language: English 2 · French 1." in shown and "By rule: GDPR · notification 3." in shown
    assert "Can be approved and sent now: 2 (3 e-mails)." in shown
    assert "Cannot be approved now: 1 ; it stays a draft: 1: an item their rule requires is missing" in shown
    acme, globex, initech = table_rows(page, "review")
    assert '<time datetime="2026-10-25T22:00:00+00:00" title="2026-10-25 22:00 UTC">2026-10-25 23:00 CET</time>' in page
    assert acme[:5] == ["Acme " + drafts["acme"].subject, "dpo@acme.example security@acme.example", "French",
                        "GDPR · notification", "complete"]  # fmt: skip
    assert acme[5:] == ["2026-10-25 23:00 CET in 12 h 0 min", "can be approved"]
    assert globex[1:3] == ["dpo@globex.example", "English"]
    assert globex[5] == "2026-10-26 23:00 CET in 1 d 12 h"
    assert initech[1:3] == ["no e-mail: submit it yourself", "English"]
    assert initech[4].startswith("The categories and approximate number of data subjects and of personal data")
    assert "is missing" in initech[4]
    assert initech[5] == "target 2026-10-26 11:00 CET without undue delay; in 1 d 0 h"
    assert initech[6] == "an item its rule requires is missing"
    assert "Approve and send 2 notices (3 e-mails)" in shown
    assert "1 draft that cannot be approved stays a draft, for the reasons above." in shown
    one = visible_text(client.get(f"/notices/{drafts['acme'].id}/review").text)
    assert "Approve and send 1 notice (2 e-mails)" in one and "I have reviewed this notice" in one


def test_the_table_is_paged_and_the_summary_counts_every_draft(drafts, incident, login):
    client = login(Role.PRIVACY)
    page = client.get(reviewing(incident) + "?per_page=1&page=2").text
    assert [row[0].split()[0] for row in table_rows(page, "review")] == ["Globex"]
    assert "page 2 of 3" in visible_text(page) and "3 draft notices to 3 recipients" in visible_text(page)
    assert "Approve and send 2 notices (3 e-mails)" in visible_text(page)  # the confirmation covers every page
    assert "2 notices approved, 3 e-mails queued" in confirm(client, reviewing(incident) + "?per_page=1&page=2").text


def test_approval_without_the_confirmation_changes_nothing(drafts, incident, login):
    client = login(Role.PRIVACY)
    before = table_fingerprint()
    unticked = confirm(client, reviewing(incident), tick=False)
    assert "Tick “I have reviewed …” to approve: nothing was approved." in unticked.text
    assert "Tick “I have reviewed …”" in confirm(client, f"/notices/{drafts['acme'].id}/review", tick=False).text
    for bare in (f"/incidents/{incident.id}/notices/approve", f"/notices/{drafts['acme'].id}/approve"):
        assert client.post(bare, follow_redirects=True).status_code == 200
    assert table_fingerprint() == before


def _edit(drafts, incident, privacy):
    notice = drafts["acme"]
    services.edit_notice(notice, notice.subject, notice.text_body + "\nP.S.", notice.html_body, privacy)


def _regenerate(drafts, incident, privacy):
    save_statement(incident, "fr", {"what_happened": "Une copie de notre annuaire était lisible trois jours."})
    services.generate_notice(duty(incident, "acme"), privacy)


def _withdrawn(drafts, incident, privacy):
    db.session.delete(drafts["globex"])  # the set of drafts is not the one reviewed


def _checklist_changed(drafts, incident, privacy):
    save_statement(incident, "en", {"pending_information": "Initech's numbers are being established."})


@pytest.mark.parametrize(
    "change, reason",
    [
        (_edit, "(a draft was regenerated or edited)"),
        (_regenerate, "(a draft was regenerated or edited)"),
        (_withdrawn, "(2 drafts now, 3 when you reviewed them: a draft was written, approved or withdrawn meanwhile)"),
        (_checklist_changed, "(3 can be approved now, 2 when you reviewed them: a checklist, the impact, a due time"),
    ],
    ids=["edited", "regenerated", "withdrawn", "checklist"],
)
def test_a_draft_changed_after_review_is_not_sent(drafts, incident, privacy, login, change, reason):
    client = login(Role.PRIVACY)
    action_page = client.get(reviewing(incident)).text
    change(drafts, incident, privacy)
    db.session.commit()
    before = table_fingerprint()
    action, fields = confirmation(action_page)
    refused = client.post(action, data={**fields, "confirmed": "y"}, follow_redirects=True)
    assert f"Nothing was approved: what you reviewed has changed since {reason}" in visible_text(refused.text)
    assert table_fingerprint() == before and db.session.scalar(select(func.count(OutboxMessage.id))) == 0


def test_a_draft_written_after_the_review_is_not_sent(incident, privacy, login):
    for key in ("acme", "globex"):
        services.generate_notice(duty(incident, key), privacy)
    db.session.commit()
    client = login(Role.PRIVACY)
    action, fields = confirmation(client.get(reviewing(incident)).text)
    services.generate_notice(duty(incident, "initech"), privacy)
    db.session.commit()
    before = table_fingerprint()
    refused = visible_text(client.post(action, data={**fields, "confirmed": "y"}, follow_redirects=True).text)
    assert "has changed since (3 drafts now, 2 when you reviewed them: a draft was written" in refused
    assert table_fingerprint() == before


def test_one_draft_changed_after_its_review_is_not_sent(drafts, privacy, login):
    client = login(Role.PRIVACY)
    acme = drafts["acme"]
    page = client.get(f"/notices/{acme.id}/review").text
    services.edit_notice(acme, "Objet corrigé", acme.text_body, acme.html_body, privacy)
    db.session.commit()
    action, fields = confirmation(page)
    refused = client.post(action, data={**fields, "confirmed": "y"}, follow_redirects=True)
    assert (
        "Nothing was approved: what you reviewed has changed since (a draft was regenerated or edited)" in refused.text
    )
    assert db.session.get(Notice, acme.id).status == NoticeStatus.DRAFT
    assert "Approved; 2 e-mail(s) queued." in confirm(client, f"/notices/{acme.id}/review").text


def test_only_the_drafts_that_may_go_are_approved_and_the_others_stay_drafts_saying_why(drafts, incident, login):
    client = login(Role.PRIVACY)
    done = confirm(client, reviewing(incident))
    assert "Done: 2 notices approved, 3 e-mails queued." in visible_text(done.text)
    statuses = dict(db.session.execute(select(Notice.id, Notice.status)).tuples().all())
    assert [statuses[drafts[key].id] for key in ("acme", "globex", "initech")] == ["approved", "approved", "draft"]
    shown = visible_text(client.get(reviewing(incident)).text)
    assert "1 draft notice to 1 recipient" in shown and "1: an item their rule requires is missing" in shown
    assert "No draft here can be approved yet: the summary says what holds each back." in shown


def test_the_author_sees_why_they_cannot_approve(app, drafts, incident, client):
    app.config["NOTICE_FOUR_EYES"] = True
    log_in(client, "dpo")  # who wrote the drafts
    page = client.get(reviewing(incident)).text
    assert "You wrote every draft here: the four-eyes rule asks another person to approve them." in page
    assert 'disabled aria-describedby="why-no-approval">Approve and send 0 notices (0 e-mails)</button>' in page
    assert "You wrote 3 of these drafts" in visible_text(page)
    assert "four-eyes rule: you wrote it, so another person must approve it" in table_rows(page, "review")[0][6]
    notice_page = client.get(f"/notices/{drafts['acme'].id}").text
    assert 'disabled aria-describedby="why-no-approve">Review and approve</button>' in notice_page
    assert "It cannot be approved yet: four-eyes rule: you wrote it, so another person must approve it." in notice_page
    before = table_fingerprint()
    refused = confirm(client, reviewing(incident))
    assert "Nothing was approved. You wrote every draft here" in refused.text and table_fingerprint() == before
    client.post("/logout")
    create_user("colleague", Role.PRIVACY)
    log_in(client, "colleague")
    assert 'href="/notices/{}/review"'.format(drafts["acme"].id) in client.get(f"/notices/{drafts['acme'].id}").text
    assert "Done: 2 notices approved, 3 e-mails queued." in visible_text(confirm(client, reviewing(incident)).text)


def test_the_confirmation_needs_its_csrf_token(app, drafts, incident, login):
    client = login(Role.PRIVACY)
    app.config["WTF_CSRF_ENABLED"] = True
    action, fields = confirmation(client.get(reviewing(incident)).text)
    assert fields["csrf_token"]
    before = table_fingerprint()
    forged = client.post(action, data={**{k: v for k, v in fields.items() if k != "csrf_token"}, "confirmed": "y"})
    assert forged.status_code == 400 and "Form expired" in forged.text
    assert table_fingerprint() == before
    assert "Done: 2 notices approved" in visible_text(client.post(action, data={**fields, "confirmed": "y"}).text)


def test_buttons_that_cannot_be_used_look_disabled_and_say_why(drafts, incident, login):
    client = login(Role.PRIVACY)
    notices = client.get(f"/incidents/{incident.id}/notices").text
    assert 'disabled aria-describedby="why-no-generate">Generate notices</button>' in notices
    assert 'id="why-no-generate">Nothing to generate: every customer duty still pending has its notice.' in notices
    initech = client.get(f"/notices/{drafts['initech'].id}").text
    assert 'disabled aria-describedby="why-no-approve">Review and approve</button>' in initech
    assert "It cannot be approved yet: The categories and approximate number" in initech
    confirm(client, reviewing(incident))
    save_statement(incident, "en", {"pending_information": "Initech's numbers are being established."})
    db.session.commit()
    confirm(client, reviewing(incident))
    notices = client.get(f"/incidents/{incident.id}/notices").text
    assert 'disabled aria-describedby="why-no-review">Review and approve</button>' in notices
    assert 'id="why-no-review">No draft to approve: every notice is approved.' in notices
    approved = client.get(f"/notices/{drafts['acme'].id}").text
    assert 'disabled aria-describedby="why-no-edit">Edit</button>' in approved and "are frozen" in approved
    assert "Review and approve" not in approved


def test_the_notices_pages_show_words_not_stored_values(drafts, incident, login):
    client = login(Role.PRIVACY)
    confirm(client, reviewing(incident))
    message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.recipient == "dpo@acme.example"))
    message.delivery = "bounce"
    db.session.add(DeliveryEvent(outbox_id=message.id, event="bounce", occurred_at=AT, reason="550 no such user"))
    db.session.commit()
    pages = {
        "incident": _outside_the_text(client.get(f"/incidents/{incident.id}/notices").text),
        "notice": _outside_the_text(client.get(f"/notices/{drafts['acme'].id}").text),
        "draft": _outside_the_text(client.get(f"/notices/{drafts['initech'].id}").text),
        "review": _outside_the_text(client.get(reviewing(incident)).text),
    }
    assert "bounced: 550 no such user" in pages["incident"] and "waiting to be sent" in pages["incident"]
    assert (
        "GDPR · notification · French" in pages["incident"]
        and "Statement for recipients: English · French" in pages["incident"]
    )
    assert "dpo@acme.example: bounced" in pages["notice"] and "in French" in pages["notice"]
    assert "only if it applies" in pages["draft"] and "missing" in pages["draft"]
    for name, shown in pages.items():
        for stored in ("gdpr-art33-2", "bounce:", "queued", "· fr", "· en", "(fr)", "(en)", "snapshot", "_"):
            assert stored not in shown, (name, stored)


def _outside_the_text(page: str) -> str:
    """What a page shows besides a notice's own words (a French notice says "en" and may say anything)."""
    return visible_text(re.sub(r'(?s)<pre class="notice-text">.*?</pre>', "", page))


def test_an_item_required_only_when_it_applies_never_holds_approval(drafts, login):
    """gdpr-art33-2's `pending` item applies only when something is stated as not yet known: Acme's statement
    states nothing as pending, so the item is shown as conditional, and the draft goes."""
    [pending] = [c for c in services.notice_checklist(drafts["acme"]) if c.item.applies_when]
    assert pending.state == State.CONDITIONAL and not pending.blocking
    client = login(Role.PRIVACY)
    page = visible_text(client.get(f"/notices/{drafts['acme'].id}").text)
    assert f"{pending.item.label} only when {pending.item.applies_when}" in page
    assert "only if it applies" in page
    assert table_rows(client.get(f"/notices/{drafts['acme'].id}/review").text, "review")[0][4] == "complete"
    assert "Approved; 2 e-mail(s) queued." in confirm(client, f"/notices/{drafts['acme'].id}/review").text


def _statements(action) -> int:
    """How many SQL statements `action` sends."""
    sent = []

    def count(*_):
        sent.append(1)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        action()
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return len(sent)


def _fresh(ids: list[int]) -> list[Notice]:
    """The drafts with their duties, as review and approval load them, in a session that holds nothing else."""
    db.session.expunge_all()
    return db.session.scalars(
        select(Notice).where(Notice.id.in_(ids)).options(selectinload(Notice.obligation)).order_by(Notice.id)
    ).all()


def test_reviewing_and_approving_take_as_many_queries_for_three_drafts_as_for_two(drafts, incident, privacy):
    """Nothing is read per draft: neither its duty, nor, once the impact moved, its snapshots (compared once per
    snapshot the drafts were written from)."""
    save_statement(incident, "en", {"pending_information": "Initech's numbers are being established."})
    data = b"customer,activity,data_subject_category,data_subjects,records\nglobex,directory,customer,75,90\n"
    import_inventory(None, ("volumes.csv", io.BytesIO(data), len(data)))
    recompute_impact(incident)
    db.session.commit()
    approver = create_user("approver", Role.PRIVACY)
    two, three = [drafts["acme"].id, drafts["initech"].id], [drafts[k].id for k in ("acme", "globex", "initech")]
    incident_id, approver_id, globex = incident.id, approver.id, duty(incident, "globex").id
    judged = {}
    for ids in (two, three):
        notices = _fresh(ids)
        approver = db.session.get(User, approver_id)
        judged[len(ids)] = _statements(lambda notices=notices, approver=approver: services.holds(notices, approver, AT))
    assert judged[2] == judged[3]
    moved = services.holds(_fresh(three), db.session.get(User, approver_id), AT)
    assert [len(moved[i]) for i in three] == [0, 1, 0]  # Globex's figures changed: regenerate it
    services.generate_notice(db.session.get(Obligation, globex), db.session.merge(privacy))  # nothing holds it now
    db.session.commit()
    reviews, approvals = {}, {}
    for ids in (three, two):
        db.session.expunge_all()
        approver = db.session.get(User, approver_id)
        reviews[len(ids)] = _statements(lambda approver=approver: review.of_incident(incident_id, approver, AT))
        reviewed = review.of_incident(incident_id, approver, AT).reviewed()
        db.session.expunge_all()
        approver = db.session.get(User, approver_id)
        approvals[len(ids)] = _statements(
            lambda approver=approver, reviewed=reviewed: services.approve_reviewed(
                incident_id, reviewed, approver, NoProgress()
            )
        )
        assert db.session.scalar(select(func.count(Notice.id)).where(Notice.status == "approved")) == len(ids)
        db.session.execute(delete(OutboxMessage))
        db.session.execute(update(Notice).values(status="draft", approved_by_id=None, approved_at=None))
        db.session.execute(delete(Notice).where(Notice.id == drafts["globex"].id))  # the next round has two
        db.session.commit()
    assert reviews[2] == reviews[3] and approvals[2] == approvals[3]
