"""In a real browser: log in, open the inventory, search for a customer; also at phone width."""

import pytest

from breachdesk.auth.models import Role
from tests.browser.helpers import log_in, screenshot
from tests.conftest import create_user

pytestmark = pytest.mark.browser


def test_privacy_officer_logs_in_and_finds_a_customer(page, live_server, demo_inventory):
    create_user("priya", Role.PRIVACY)
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    log_in(page, live_server, "priya")
    assert page.url == f"{live_server}/customers"  # back where the login interrupted
    assert page.locator("table tbody tr").count() == 16
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


def test_an_upload_shows_its_progress_and_the_outcome(page, live_server, tmp_path):
    from tests.inventory.test_import_export import STRUCTURE

    create_user("priya", Role.PRIVACY)
    customers = "\n".join(f"  - {{key: c{i:05d}, name: C {i}, country: FR}}" for i in range(3000))
    (tmp_path / "inventory.yaml").write_text(STRUCTURE.replace("customers:\n", "customers:\n" + customers + "\n"))
    with (tmp_path / "volumes.csv").open("w") as out:
        out.write("customer,activity,data_subject_category,data_subjects,records\n")
        for i in range(3000):
            out.write(f"c{i:05d},messaging,customer,{i},{i}\nc{i:05d},messaging,prospect,{i},{i}\n")
    log_in(page, live_server, "priya")
    page.goto(f"{live_server}/inventory/import")
    page.set_input_files("input[name=structure]", str(tmp_path / "inventory.yaml"))
    page.set_input_files("input[name=volumes]", str(tmp_path / "volumes.csv"))
    page.get_by_role("button", name="Import").click()
    page.wait_for_selector("text=Imported:", timeout=120_000)  # only a guard: a busy machine imports slowly
    assert "3002 customers created" in page.locator(".flash.info").inner_text()
    visible = page.locator(".stream .step:visible")
    steps = ["customers", "systems", "activities", "volumes", "writing"]  # writing: the staged rows checked and merged
    assert [line.split()[0] for line in visible.all_inner_texts()] == steps
    screenshot(page, "import-progress")
