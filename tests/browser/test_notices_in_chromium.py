"""Notices in a real Chromium: bulk generation with progress, the review before sending (at 1366 and 390 px) and
its one confirmation, approval with progress, sending, the customer's acknowledgement, and the template editor's
live preview."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from breachdesk.auth.models import Role
from breachdesk.extensions import db
from breachdesk.incidents.services import open_incident
from breachdesk.notices.mail import FileBackend
from breachdesk.notices.models import AlertMail, Notice
from breachdesk.notices.outbox import dispatch_round
from tests.browser.helpers import log_in, screenshot
from tests.conftest import create_user
from tests.incident_fixtures import write_statements

pytestmark = pytest.mark.browser


def test_privacy_officer_notifies_every_customer_and_one_acknowledges(
    browser, live_server, demo_inventory, page, app, tmp_path
):
    create_user("dpo", Role.PRIVACY)
    incident = open_incident(
        {
            "title": "Twilio: SMS logs read by an attacker",
            "aware_at": (datetime.now(UTC) - timedelta(hours=2)).isoformat(),
            "systems": ["twilio"],
            "nature": ["confidentiality"],
        },
        None,
    )
    write_statements(incident)
    db.session.commit()
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    log_in(page, live_server, "dpo")
    page.goto(f"{live_server}/incidents/{incident.id}")
    page.get_by_role("link", name="Notices").click()
    # 16 customers, and HIPAA's business associate notice to the covered entity among them
    page.get_by_role("button", name=re.compile(r"Generate 17 notice\(s\) to customers")).click()
    expect(page.locator(".stream .flash")).to_have_text("Done: 17 notices generated as drafts.")
    assert page.locator("progress").last.get_attribute("value") == "100"
    screenshot(page, "notices-generated")
    page.get_by_role("link", name="Back to the notices").click()
    page.get_by_role("link", name="Review and approve 17 draft(s)").click()
    summary = page.locator(".review-summary").inner_text()
    assert "17 draft notices to 16 recipients" in summary and "Can be approved and sent now: 16" in summary
    # HIPAA's notice asks for the list of the individuals, which the statement does not give: it stays a draft
    assert "Cannot be approved now: 1" in summary and "an item their rule requires is missing" in summary
    assert page.locator("table.review tbody tr").count() == 17
    send = page.get_by_role("button", name=re.compile(r"^Approve and send 16 notices \(\d+ e-mails\)$"))
    emails = int(re.search(r"\((\d+) e-mails\)", send.inner_text()).group(1))
    review_url = page.url
    page.set_viewport_size({"width": 1366, "height": 900})
    screenshot(page, "review-1366")
    _review_on_a_phone(browser, live_server, review_url)
    send.click()  # the box is not ticked: the browser asks for it, nothing is sent
    assert page.url == review_url and page.locator("input[name=confirmed]:invalid").count() == 1
    page.get_by_label(re.compile(r"^I have reviewed these 17 notices")).check()
    send.click()
    expect(page.locator(".stream .flash")).to_have_text(f"Done: 16 notices approved, {emails} e-mails queued.")
    assert page.locator("progress").last.get_attribute("value") == "100"

    app.config["PUBLIC_BASE_URL"] = live_server
    alerts = db.session.scalar(db.select(db.func.count()).select_from(AlertMail))  # filing told the privacy team
    assert dispatch_round(FileBackend(tmp_path / "outbox"), batch=100).sent == emails + alerts
    page.goto(f"{live_server}/incidents/{incident.id}/notices")
    assert f"E-mails: sent: {emails}" in page.locator("main").inner_text()
    lemaire = db.session.scalar(
        db.select(Notice)
        .join(Notice.obligation)
        .where(Notice.incident_id == incident.id, Notice.subject.like("%Maison Lemaire%"))
    )
    page.goto(f"{live_server}/notices/{lemaire.id}")
    assert "Données et personnes concernées" in page.locator("pre.notice-text").inner_text()
    screenshot(page, "notice-approved")

    customer = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    phone = customer.new_page()
    link = re.search(r"/ack/[\w.-]+", lemaire.text_body).group(0)
    phone.goto(f"{live_server}{link}")
    phone.fill("input[name=name]", "Julie Lemaire")
    phone.get_by_role("button", name="Accuser réception").click()  # Maison Lemaire reads French
    assert "Réception confirmée par Julie Lemaire" in phone.locator("main").inner_text()
    phone.wait_for_load_state("load")  # the stylesheet too: on a busy machine the text arrives first
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone, "acknowledged-on-phone")
    customer.close()
    page.goto(f"{live_server}/notices/{lemaire.id}")
    assert "Acknowledged" in page.locator("dl.facts").inner_text()
    assert errors == []


def _review_on_a_phone(browser, live_server, review_url):
    """The review at 390 px: the page does not scroll sideways (the table scrolls in its frame), the summary and
    the confirmation wrap."""
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    small = phone.new_page()
    log_in(small, live_server, "dpo")
    small.goto(review_url)
    small.wait_for_load_state("load")
    assert small.evaluate("document.documentElement.scrollWidth") <= 390
    confirm = small.locator("form.confirm").bounding_box()
    assert confirm["x"] >= 0 and confirm["x"] + confirm["width"] <= 390
    screenshot(small, "review-390")
    phone.close()


def test_admin_edits_a_template_with_a_live_preview(browser, live_server, demo_inventory, page):
    create_user("ada", Role.ADMIN)
    log_in(page, live_server, "ada")
    page.goto(f"{live_server}/settings/templates/gdpr-art33-2/en")
    subject, status = page.locator("[data-preview-subject]"), page.locator("[data-preview-status]")
    expect(subject).to_have_text(re.compile(r"^\[Personal data breach\] Example SAS notice to Sample Customer"))
    source = page.locator("textarea[name=source]")
    source.fill(source.input_value().replace("[Personal data breach]", "[Breach] {{ customer.nam }}", 1))
    expect(status).to_have_text(re.compile(r"Cannot render: line 1: UndefinedError"))
    page.get_by_role("button", name="Save as a new version").click()
    expect(page.locator(".problems")).to_contain_text("Not saved")
    source = page.locator("textarea[name=source]")
    source.fill(source.input_value().replace("{{ customer.nam }}", "for {{ customer.name }}:", 1))
    expect(subject).to_have_text(re.compile(r"^\[Breach\] for Sample Customer:"))
    page.fill("input[name=note]", "shorter subject")
    page.get_by_role("button", name="Save as a new version").click()
    assert "Template saved as version 1" in page.locator("main").inner_text()
    screenshot(page, "template-editor")
