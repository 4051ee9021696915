"""On a phone-sized screen, the on-call engineer files an incident and sees who is affected."""

import pytest

from breachdesk.auth.models import Role
from tests.browser.helpers import log_in, screenshot
from tests.conftest import create_user

pytestmark = pytest.mark.browser


def test_on_call_files_an_incident_on_a_phone_and_sees_affected_customers(browser, live_server, demo_inventory):
    create_user("oncall", Role.RESPONDER)
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    try:
        log_in(page, live_server, "oncall")
        page.goto(f"{live_server}/incidents/new")
        page.fill("input[name=title]", "Twilio reports unauthorised access to SMS logs")
        page.fill("input.picker-filter", "twil")  # the searchable system list
        assert page.locator("[data-picker] .option:visible").count() == 1
        page.check("input[name=systems][value=twilio]")
        page.check("input[name=nature][value=confidentiality]")
        screenshot(page, "intake-on-phone")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.get_by_role("button", name="File the incident").click()
        assert page.locator("h1").inner_text().startswith("#")
        assert "16" in page.locator(".tile").first.inner_text()  # every demo customer uses the SMS relay
        assert page.locator("table.affected tbody tr").count() == 16
        assert "twilio → conversations" in page.locator("table.affected").inner_text()
        screenshot(page, "incident-on-phone")
        assert errors == []
    finally:
        context.close()
