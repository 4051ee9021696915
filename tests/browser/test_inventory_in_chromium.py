"""In a real browser: log in, open the inventory, search for a customer; also at phone width."""

import pytest

from breachdesk.auth.models import Role
from tests.browser.conftest import screenshot
from tests.conftest import PASSWORD, create_user

pytestmark = pytest.mark.browser


def log_in(page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/customers")
    assert page.url.startswith(f"{base_url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


def test_privacy_officer_logs_in_and_finds_a_customer(page, live_server, demo_inventory):
    create_user("priya", Role.PRIVACY)
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    log_in(page, live_server, "priya")
    assert page.url == f"{live_server}/customers"  # back where the login interrupted
    assert page.locator("table tbody tr").count() == 13
    page.fill("input[name=q]", "lemaire")
    page.click("form.search button")
    rows = page.locator("table tbody tr")
    assert rows.count() == 1 and "Maison Lemaire" in rows.first.inner_text()
    screenshot(page, "inventory-search")
    rows.first.locator("a").click()
    assert page.locator("h1").inner_text() == "Maison Lemaire"
    assert "within 24 hours of our awareness" in page.locator(".facts").inner_text()
    assert errors == []  # no CSP violation or script error


def test_the_inventory_is_usable_on_a_phone(browser, live_server, demo_inventory):
    create_user("oncall", Role.RESPONDER)
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    try:
        log_in(page, live_server, "oncall")
        page.goto(f"{live_server}/systems/twilio")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the page scrolls sideways ({width}px)"
        assert page.get_by_role("link", name="Edit").count() == 0  # a responder cannot edit the inventory
        screenshot(page, "system-on-phone")
    finally:
        context.close()
