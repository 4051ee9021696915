"""Every page an admin can open, in a phone-sized Chromium: no script or CSP error, no sideways scrolling."""

import pytest
from sqlalchemy import select

from breachdesk.auth.models import Role
from breachdesk.deadlines.models import Obligation
from breachdesk.extensions import db
from breachdesk.notices.services import generate_notice
from tests.browser.helpers import axe_violations, log_in, screenshot
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
    "/inventory",
    "/waiting",
]


@pytest.mark.parametrize("width, height", [(390, 844), (1366, 900)])
def test_every_page_renders_cleanly_and_breaks_no_axe_rule(browser, live_server, demo, width, height):
    """On the demo, as `breachdesk demo` leaves it: its incident (#1), its statements, and one notice generated; on
    a phone and on a laptop, no script or CSP error, no sideways scrolling, no accessibility rule of axe-core broken."""
    create_user("ada", Role.ADMIN)
    customer_duty = db.session.scalar(
        select(Obligation).where(Obligation.incident_id == demo.id, Obligation.recipient_kind == "controller").limit(1)
    )
    generate_notice(customer_duty, None)
    db.session.commit()
    context = browser.new_context(viewport={"width": width, "height": height}, is_mobile=width < 600)
    page = context.new_page()
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    violations = {}
    try:
        log_in(page, live_server, "ada")
        for path in PAGES:
            response = page.goto(f"{live_server}{path}")
            assert response.ok, path
            assert page.evaluate("document.documentElement.scrollWidth") <= width, f"{path} scrolls sideways"
            assert errors == [], (path, errors)
            if found := axe_violations(page):
                violations[path] = found
        assert violations == {}
        if width >= 600:
            page.goto(f"{live_server}/incidents/1/assessment")
            screenshot(page, "assessment-at-1366")
        if width < 600:
            page.goto(f"{live_server}/waiting")
            screenshot(page, "waiting-on-phone")
            page.goto(f"{live_server}/users/new")
            screenshot(page, "users-new-on-phone")
            page.goto(f"{live_server}/systems/messaging-db/blast-radius")
            screenshot(page, "blast-radius-on-phone")
            page.goto(f"{live_server}/audit/")
            screenshot(page, "audit-on-phone", full_page=False)  # one screenful: the log is long
    finally:
        context.close()
