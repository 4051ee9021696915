"""The notice e-mail's layout and sender (notices/layout.py): the same notice gives the same bytes, which are
what the approver previews; names and subjects are text, never markup or a header of their own."""

import email
import email.policy

from flask_migrate import downgrade, upgrade

from breachdesk.auth.models import Role
from breachdesk.extensions import db
from breachdesk.inventory.models import Organisation
from breachdesk.notices.layout import PREHEADER_LENGTH, email_html, preheader, sender
from breachdesk.notices.mail import FileBackend
from breachdesk.notices.models import Notice
from breachdesk.notices.outbox import dispatch_round
from breachdesk.notices.services import approve_notice, edit_notice, generate_notice
from tests.incident_fixtures import duty

BODY = {"subject": "Breach notice", "html_body": "<p>Dear Globex</p>", "text_body": "Dear Globex", "language": "en"}


def test_the_same_notice_gives_the_same_bytes():
    assert email_html(**BODY, organisation="Parlons SAS") == email_html(**BODY, organisation="Parlons SAS")


def test_the_preview_the_approver_opens_is_the_html_part_sent(incident, privacy, login, tmp_path):
    notice = generate_notice(duty(incident, "globex"), privacy)
    approve_notice(notice, privacy)
    db.session.commit()
    preview = login(Role.PRIVACY).get(f"/notices/{notice.id}/html")
    assert dispatch_round(FileBackend(tmp_path)).sent == 1
    [eml] = tmp_path.glob("*.eml")
    sent = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default).get_body(("html",)).get_content()
    assert preview.text == sent and "Parlons SAS" in sent and notice.subject in sent


def test_the_organisations_name_and_the_subject_are_text_not_markup():
    html = email_html(**{**BODY, "subject": "<script>x()</script>"}, organisation="<b>Acme</b> & Co")
    assert "<script>x()" not in html and "&lt;script&gt;x()&lt;/script&gt;" in html
    assert "<b>Acme" not in html and "&lt;b&gt;Acme&lt;/b&gt; &amp; Co" in html


def test_the_sender_is_the_organisation_at_the_configured_address():
    assert sender("breach-notices@parlons.example", "Parlons SAS") == "Parlons SAS <breach-notices@parlons.example>"
    assert sender("BreachDesk <n@parlons.example>", "Acme, Inc.") == '"Acme, Inc." <n@parlons.example>'
    assert sender("n@parlons.example", "Société Générale") == "Société Générale <n@parlons.example>"


def test_a_line_break_in_the_name_cannot_start_another_header():
    forged = sender("n@parlons.example", "Acme\r\nBcc: all@victims.example")
    assert "\n" not in forged and "\r" not in forged
    assert forged == '"Acme Bcc: all@victims.example" <n@parlons.example>'


def test_the_inbox_preview_is_the_texts_opening_words_cut_at_a_word():
    assert preheader("Dear Globex team,\n\n  As your processor") == "Dear Globex team, As your processor"
    long = "word " * 100
    shown = preheader(long)
    assert shown.endswith("word…") and len(shown) <= PREHEADER_LENGTH + 1
    assert preheader("x" * 200).startswith("x" * 10)  # one long word is still shown, cut


def test_notices_from_before_the_name_was_kept_take_the_organisations_name(incident, privacy, app):
    """Migration 0014: the only name they could have been sent under."""
    notice = generate_notice(duty(incident, "globex"), privacy)
    db.session.get(Organisation, 1).name = "Parlons Renamed SAS"
    db.session.commit()
    directory = app.extensions["migrate"].directory
    downgrade(directory=directory, revision="0013")
    upgrade(directory=directory)
    db.session.expire_all()
    assert db.session.get(Notice, notice.id).sender_name == "Parlons Renamed SAS"


def test_a_notice_whose_html_was_emptied_goes_as_text_only(incident, privacy, tmp_path):
    notice = generate_notice(duty(incident, "globex"), privacy)
    edit_notice(notice, notice.subject, notice.text_body, "  ", privacy)
    approve_notice(notice, privacy)
    db.session.commit()
    assert dispatch_round(FileBackend(tmp_path)).sent == 1
    [eml] = tmp_path.glob("*.eml")
    parsed = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert parsed.get_content_type() == "text/plain" and parsed.get_content() == notice.text_body


def test_an_image_written_into_a_notice_is_dropped_so_opening_the_mail_fetches_nothing():
    html = email_html(
        **{**BODY, "html_body": '<p>Dear Globex<img src="https://tracker.example/p.gif" alt=""></p>'},
        organisation="Parlons SAS",
    )
    assert "tracker.example" not in html and "<img" not in html and "Dear Globex" in html
