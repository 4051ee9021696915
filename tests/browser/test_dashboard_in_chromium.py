"""Management's dashboard in a real Chromium, on a phone: countdowns that tick, overdue first and red, and
nothing a viewer could change."""

import time
from datetime import UTC, datetime, timedelta

import pytest

from breachdesk.auth.models import Role
from breachdesk.extensions import db
from breachdesk.incidents.services import open_incident
from tests.browser.helpers import log_in, screenshot
from tests.conftest import create_user

pytestmark = pytest.mark.browser


def test_the_board_sees_live_countdowns_overdue_first_and_no_write_action(browser, live_server, demo_inventory):
    create_user("board", Role.VIEWER)
    now = datetime.now(UTC)
    open_incident({"title": "Twilio SMS logs exposed", "aware_at": (now - timedelta(hours=22)).isoformat(),
                   "systems": ["twilio"], "nature": ["confidentiality"]}, None)
    open_incident({"title": "Old laptop lost", "aware_at": (now - timedelta(days=5)).isoformat(),
                   "systems": ["crm"], "nature": ["confidentiality"], "cause": "lost_or_stolen_device"}, None)
    db.session.commit()
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    try:
        log_in(page, live_server, "board")
        page.goto(f"{live_server}/dashboard")
        rows = page.locator("table.dashboard tbody tr")
        first = rows.first
        assert "urgency-overdue" in first.get_attribute("class") and "Old laptop lost" in first.inner_text()
        # the overdue row is highlighted: a red left border and a red due cell
        colour = first.locator("td.due-overdue").evaluate("cell => getComputedStyle(cell).color")
        assert colour == "rgb(180, 35, 24)"  # var(--danger)
        soon = page.locator("tr.urgency-h4 .countdown").first
        started = time.monotonic()
        before = soon.inner_text()
        time.sleep(2.2)
        after = soon.inner_text()
        elapsed = time.monotonic() - started  # a busy machine makes each read slower, not the clock
        assert before != after and before.startswith("in 1 h") and after.startswith("in 1 h")
        seconds = [int(t.split("min ")[1].split(" s")[0]) for t in (before, after)]
        assert 2 <= (seconds[0] - seconds[1]) % 60 <= elapsed + 1  # it counts down, second by second
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
