"""After filing on a phone, the first screen answers "how bad, and who must be told by when": the figures, the next
three duties with live countdowns, and who has been alerted; nothing in it is wider than a 390 px screen."""

import pytest

from breachdesk.auth.models import Role
from tests.browser.helpers import log_in, screenshot
from tests.conftest import create_user

pytestmark = pytest.mark.browser

#: elements of the first screen that reach past the viewport's edges
TOO_WIDE = """() => {
  const width = document.documentElement.clientWidth;
  return Array.from(document.querySelectorAll(".heading, .heading *, .first-screen, .first-screen *")).filter((e) => {
    const box = e.getBoundingClientRect();
    return box.width > 0 && (box.right > width + 0.5 || box.left < -0.5);
  }).map((e) => e.tagName + "." + e.className);
}"""


def test_after_filing_on_a_phone_the_first_screen_says_how_bad_who_by_when_and_who_was_alerted(
    app, browser, live_server, demo_inventory
):
    app.config.update(ONCALL_EMAIL="oncall-pager@parlons.example")
    create_user("oncall", Role.RESPONDER)
    create_user("dpo", Role.PRIVACY)
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    try:
        log_in(page, live_server, "oncall")
        page.goto(f"{live_server}/incidents/new")
        page.fill("input[name=title]", "Twilio reports unauthorised access to SMS logs")
        page.check("input[name=systems][value=twilio]")
        page.check("input[name=nature][value=confidentiality]")
        page.get_by_role("button", name="File the incident").click()
        first = page.locator(".first-screen")
        tiles = first.locator(".tile")
        assert tiles.count() == 4
        assert tiles.nth(0).inner_text().split() == ["16", "customers"]  # every demo customer uses the SMS relay
        assert "people" in tiles.nth(1).inner_text() and "records" in tiles.nth(2).inner_text()
        assert tiles.nth(3).inner_text().endswith("most sensitive")
        duties = first.locator(".next-duty")
        assert duties.count() == 3
        countdown = duties.first.locator(".countdown")
        before = countdown.inner_text()
        assert before.startswith("in ")
        page.wait_for_function(
            "([element, text]) => element.textContent !== text", arg=[countdown.element_handle(), before]
        )  # it ticks
        alerted = first.locator(".alerted").inner_text()
        for who in ("dpo@example.com", "oncall@example.com", "oncall-pager@parlons.example"):
            assert who in alerted
        assert "waiting to be sent" in alerted
        # the first thing on the screen, above the facts just typed
        assert first.bounding_box()["y"] < page.locator("dl.facts").bounding_box()["y"]
        assert page.evaluate(TOO_WIDE) == []
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        screenshot(page, "first-screen-on-phone", full_page=False)
        first.locator(".alerted").scroll_into_view_if_needed()
        screenshot(page, "first-screen-on-phone-duties-and-alerted", full_page=False)
        assert errors == []
    finally:
        context.close()
