"""Management's dashboard in a real Chromium, on a phone: countdowns that tick, overdue first and red, and
nothing a viewer could change."""

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from breachdesk.auth.models import Role
from breachdesk.extensions import db
from breachdesk.incidents.services import open_incident
from tests.browser.helpers import log_in, screenshot
from tests.conftest import create_user

pytestmark = pytest.mark.browser


def test_the_board_sees_live_countdowns_overdue_first_and_no_write_action(browser, live_server, demo_inventory):
    create_user("board", Role.VIEWER)
    now = datetime.now(UTC).replace(microsecond=0)
    open_incident(
        {
            "title": "Twilio SMS logs exposed",
            "aware_at": (now - timedelta(hours=22)).isoformat(),
            "systems": ["twilio"],
            "nature": ["confidentiality"],
        },
        None,
    )
    open_incident(
        {
            "title": "Old laptop lost",
            "aware_at": (now - timedelta(days=5)).isoformat(),
            "systems": ["crm"],
            "nature": ["confidentiality"],
            "cause": "lost_or_stolen_device",
        },
        None,
    )
    db.session.commit()
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    try:
        log_in(page, live_server, "board")
        # The page's clock is ours: it stands still a minute after `now` until the test moves it.
        page.clock.install(time=now)
        page.clock.pause_at(now + timedelta(minutes=1))
        page.goto(f"{live_server}/dashboard")
        rows = page.locator("table.dashboard tbody tr")
        first = rows.first
        assert "urgency-overdue" in first.get_attribute("class") and "Old laptop lost" in first.inner_text()
        # the overdue row is highlighted: a red left border and a red due cell
        colour = first.locator("td.due-overdue").evaluate("cell => getComputedStyle(cell).color")
        assert colour == "rgb(180, 35, 24)"  # var(--danger)
        # aware 22 h before `now`, the first 24-hour duty falls due 2 h after it: it counts down, second by second
        soon = page.locator("tr.urgency-h4 .countdown").first
        expect(soon).to_have_text("in 1 h 59 min 00 s")
        page.clock.run_for(1000)
        expect(soon).to_have_text("in 1 h 58 min 59 s")
        page.clock.run_for(4000)
        expect(soon).to_have_text("in 1 h 58 min 55 s")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        assert page.locator("main form, main button").count() == 0  # a viewer has nothing to press here
        screenshot(page, "dashboard-on-phone", full_page=False)
        page.goto(f"{live_server}/dashboard/metrics")
        assert page.locator("svg.chart").count() >= 1
        page.goto(f"{live_server}/register")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        screenshot(page, "register-on-phone", full_page=False)
        for path in ("/incidents/new", "/incidents/1/assessment", "/settings/organisation/edit"):
            assert page.goto(f"{live_server}{path}").status == 403
        assert errors == [] or all("403" in e for e in errors)
    finally:
        context.close()
