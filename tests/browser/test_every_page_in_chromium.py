"""Every page an admin can open, in a phone-sized Chromium: no script or CSP error, no sideways scrolling."""

import pytest
from sqlalchemy import select

from breachdesk.auth.models import Role
from breachdesk.deadlines.models import Obligation
from breachdesk.extensions import db
from breachdesk.notices.services import generate_notice
from tests.browser.helpers import log_in, screenshot
from tests.conftest import create_user

pytestmark = pytest.mark.browser

PAGES = [
    "/",
    "/incidents/",
    "/incidents/1",
    "/incidents/1/edit",
    "/incidents/new",
    "/customers",
    "/customers/maison-lemaire",
    "/customers/maison-lemaire/edit",
    "/customers/new",
    "/systems",
    "/systems/messaging-db",
    "/systems/messaging-db/blast-radius",
    "/systems/new",
    "/activities",
    "/activities/conversations",
    "/activities/conversations/edit",
    "/volumes",
    "/volumes/new",
    "/inventory/import",
    "/audit/",
    "/users",
    "/users/new",
    "/incidents/1/assessment",
    "/incidents/1/obligations",
    "/obligations/1",
    "/settings/organisation",
    "/settings/organisation/edit",
    "/incidents/1/notices",
    "/incidents/1/notices/review",
    "/incidents/1/statement/en",
    "/incidents/1/statement/fr",
    "/notices/1",
    "/notices/1/review",
    "/notices/1/edit",
    "/settings/templates",
    "/settings/templates/gdpr-art33-1/fr",
    "/dashboard",
    "/dashboard/metrics",
    "/register",
    "/account/calendar",
]


def test_every_page_renders_cleanly_on_a_phone(browser, live_server, demo):
    """On the demo, as `breachdesk demo` leaves it: its incident (#1), its statements, and one notice generated."""
    create_user("ada", Role.ADMIN)
    customer_duty = db.session.scalar(
        select(Obligation).where(Obligation.incident_id == demo.id, Obligation.recipient_kind == "controller").limit(1)
    )
    generate_notice(customer_duty, None)
    db.session.commit()
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        log_in(page, live_server, "ada")
        for path in PAGES:
            response = page.goto(f"{live_server}{path}")
            assert response.status == 200, path
            assert page.evaluate("document.documentElement.scrollWidth") <= 390, f"{path} scrolls sideways"
            assert errors == [], (path, errors)
        screenshot(page, "users-new-on-phone")
        page.goto(f"{live_server}/systems/messaging-db/blast-radius")
        screenshot(page, "blast-radius-on-phone")
        page.goto(f"{live_server}/audit/")
        screenshot(page, "audit-on-phone", full_page=False)  # one screenful: the log is long
    finally:
        context.close()
