"""The customer's acknowledgement page on a phone, in Chromium: French under the organisation's name, the
notice readable at 390 px, no CSP or script error; a tampered link's page in English and French."""

import re

import pytest

from breachdesk.auth.models import Role
from breachdesk.extensions import db
from breachdesk.incidents.services import open_incident
from breachdesk.notices.services import approve_notice, generate_notice
from tests.browser.helpers import screenshot
from tests.conftest import create_user
from tests.incident_fixtures import duty, write_statements

pytestmark = pytest.mark.browser


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    page.errors = []
    page.on("console", lambda message: page.errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    yield page
    context.close()


def test_a_french_customer_acknowledges_on_a_phone(app, live_server, demo_inventory, phone):
    incident = open_incident(
        {
            "title": "Instantané exposé",
            "aware_at": "2026-11-20T08:00:00Z",
            "systems": ["messaging-db"],
            "nature": ["confidentiality"],
        },
        None,
    )
    write_statements(incident, ("fr",))
    app.config["PUBLIC_BASE_URL"] = live_server
    notice = generate_notice(duty(incident, "maison-lemaire"), None)
    approve_notice(notice, create_user("dpo", Role.PRIVACY))
    db.session.commit()
    phone.goto(re.search(r"https?://\S+/ack/[\w.-]+", notice.text_body).group(0))
    assert phone.title() == "Accuser réception · Parlons SAS"
    assert phone.locator("header").inner_text() == "Parlons SAS"
    assert phone.get_by_role("heading", name="Données et personnes concernées").is_visible()  # the notice, formatted
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390, "the page scrolls sideways"
    screenshot(phone, "ack-page-fr-on-phone")
    phone.get_by_label("Votre nom").fill("Julie Lemaire")
    phone.get_by_role("button", name="Accuser réception").click()
    confirmed = phone.get_by_role("status").inner_text()
    assert re.fullmatch(r"Réception confirmée par Julie Lemaire le .+ CET \(.+ UTC\)\. Merci\.", confirmed)
    screenshot(phone, "ack-page-fr-acknowledged-on-phone", full_page=False)
    assert phone.errors == []
    assert phone.goto(f"{live_server}/ack/altered-token").status == 400
    assert [s.inner_text().split("\n")[0] for s in phone.locator("section").all()] == [
        "This link cannot be used",
        "Ce lien ne peut pas être utilisé",
    ]
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone, "ack-refused-on-phone")
    assert phone.errors == ["Failed to load resource: the server responded with a status of 400 (BAD REQUEST)"]
