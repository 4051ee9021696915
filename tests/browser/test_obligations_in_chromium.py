"""The privacy officer assesses an incident, decides, and records a filing: in a real Chromium."""

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from breachdesk.auth.models import Role
from breachdesk.extensions import db
from breachdesk.incidents.services import open_incident
from tests.browser.helpers import log_in, screenshot
from tests.conftest import create_user

pytestmark = pytest.mark.browser


def test_privacy_officer_assesses_decides_and_records_a_filing(browser, live_server, demo_inventory, page):
    create_user("dpo", Role.PRIVACY)
    aware = (datetime.now(UTC) - timedelta(hours=3)).replace(microsecond=0)
    incident = open_incident(
        {
            "title": "Accounts database copied by an attacker",
            "aware_at": aware.isoformat(),
            "systems": ["accounts-db", "messaging-db"],
            "nature": ["confidentiality"],
            "cause": "external_attack",
        },
        None,
    )
    db.session.commit()
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    log_in(page, live_server, "dpo")
    page.goto(f"{live_server}/incidents/{incident.id}")
    duties = page.locator("table.obligations").first
    # the authority's 72 h clock runs from awareness although nothing is decided yet
    authority_row = duties.locator("tr", has_text="Commission nationale")
    assert "in 2 d 2" in authority_row.inner_text() and "pending" in authority_row.inner_text()
    assert "Each affected customer" in page.locator("table.customer-duties").inner_text()

    page.get_by_role("link", name="Assess the risk").click()
    assert page.locator("select[name=dpc_category]").input_value() in ("behavioural", "financial", "sensitive")
    page.select_option("select[name=ei]", "1")
    page.check("input[name=malicious]")
    page.select_option("select[name=decision_authority]", "required")
    page.select_option("select[name=decision_data_subjects]", "not_required")
    page.get_by_role("button", name="Save assessment").click()
    rationale = page.locator("textarea[name=rationale]")
    expect(rationale).to_be_focused()  # forms.js: the cursor is on the first field that needs a change
    assert rationale.get_attribute("aria-invalid") == "true"
    assert page.locator("#rationale-error").inner_text().startswith("needed when a recipient need not be told")
    page.fill("textarea[name=rationale]", "Passwords are salted scrypt hashes; no contact data left the database.")
    page.get_by_role("button", name="Save assessment").click()
    assert page.url.endswith("#obligations")
    assessment = page.locator("#assessment + p").inner_text()
    assert "decided: authority required, data subjects not required by dpo" in assessment

    page.locator("details", has_text="Record a determination").locator("summary").click()
    page.select_option("select[name=kind]", "stage_filed")
    page.select_option("select[name=stage]", "nis2-art23-early-warning")
    page.fill("input[name=reference]", "CERT-FR 2026-1122")
    page.get_by_role("button", name="Record", exact=True).click()
    assert "stage filed: NIS2 early warning (ref. CERT-FR 2026-1122)" in page.locator("ul.events").inner_text()
    early = page.locator("table.obligations").first.locator("tr", has_text="early warning")
    assert "CERT-FR (ANSSI)" in early.inner_text() and "sent" in early.inner_text()
    screenshot(page, "obligations-after-assessment")

    page.locator("table.obligations").first.locator("a", has_text="Commission nationale").click()
    explained = page.locator("dl.explain").inner_text()
    assert "GDPR Art. 33(1)" in explained and "elapsed clock hours" in explained
    due = (aware + timedelta(hours=72)).strftime("%Y-%m-%d %H:%M UTC")
    assert page.locator(f'dl.explain time[title="{due}"]').count() == 1  # once, on the viewer's clock, UTC on hover
    page.get_by_role("button", name="Record as sent").click()
    assert "on time" in page.locator("dl.explain").inner_text()
    screenshot(page, "obligation-explained")
    assert errors == []
