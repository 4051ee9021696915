"""Management's dashboard and metrics in a real Chromium, on a phone (390 px) and a laptop (1,366 px): a card per
incident, overdue first, countdowns that tick and change colour, duties one tap away, nothing wider than the
screen, charts that fit, and nothing a viewer could change."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from breachdesk.auth.models import Role, User
from breachdesk.deadlines.models import Obligation
from breachdesk.deadlines.services import mark_sent
from breachdesk.extensions import db
from breachdesk.incidents.models import Incident
from breachdesk.incidents.services import open_incident
from tests.browser.helpers import log_in, screenshot
from tests.conftest import create_user

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True}
LAPTOP = {"viewport": {"width": 1366, "height": 900}}
#: every element of the page that reaches past the viewport's right edge (or starts left of it)
TOO_WIDE = """() => {
  const width = document.documentElement.clientWidth;
  return Array.from(document.querySelectorAll("body *")).filter((element) => {
    const box = element.getBoundingClientRect();
    return box.width > 0 && (box.right > width + 0.5 || box.left < -0.5);
  }).map((element) => element.tagName + "." + element.className);
}"""
#: the smallest computed font size of any text shown in the page's main part, in CSS pixels
SMALLEST_TEXT = """() => {
  const walker = document.createTreeWalker(document.querySelector("main"), NodeFilter.SHOW_TEXT);
  let smallest = Infinity;
  while (walker.nextNode()) {
    const element = walker.currentNode.parentElement;
    if (!walker.currentNode.textContent.trim() || !element.getClientRects().length) continue;
    smallest = Math.min(smallest, parseFloat(getComputedStyle(element).fontSize));
  }
  return smallest;
}"""


@pytest.fixture
def incidents(demo_inventory):
    """Three open incidents on the demo inventory, the page's clock a minute after `now`: the messaging database
    (aware 22 h ago: 24-hour customers due in 2 h, a 12-hour one overdue, "without undue delay" targets in 14 h
    and 26 h), a laptop with the CRM (aware 5 days ago: the CNIL's 72 h passed) and the Twilio logs (1 h ago)."""
    user = create_user("board", Role.VIEWER)
    user.time_zone = "Europe/Paris"
    now = datetime.now(UTC).replace(microsecond=0)
    for title, hours, system, cause in (
        ("Messaging database snapshot exposed", 22, "messaging-db", "external_attack"),
        ("Old laptop lost with the sales CRM open", 120, "crm", "lost_or_stolen_device"),
        ("Twilio SMS logs exposed", 1, "twilio", "subprocessor_incident"),
    ):
        open_incident(
            {
                "title": title,
                "aware_at": (now - timedelta(hours=hours)).isoformat(),
                "systems": [system],
                "nature": ["confidentiality"],
                "cause": cause,
            },
            None,
        )
    db.session.commit()
    return now


def _open(browser, live_server, now, size):
    context = browser.new_context(**size)
    page = context.new_page()
    errors = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    log_in(page, live_server, "board")
    # The page's clock is ours: it stands still a minute after `now` until the test moves it.
    page.clock.install(time=now)
    page.clock.pause_at(now + timedelta(minutes=1))
    return context, page, errors


def test_on_a_phone_each_incident_is_a_card_with_its_countdown_overdue_first(browser, live_server, incidents):
    context, page, errors = _open(browser, live_server, incidents, PHONE)
    try:
        page.goto(f"{live_server}/dashboard")
        cards = page.locator(".queue-incident")
        expect(cards).to_have_count(3)
        titles = [cards.nth(i).locator(".incident-what > a").inner_text() for i in range(3)]
        assert [t.split(" ", 1)[1] for t in titles] == [
            "Old laptop lost with the sales CRM open",
            "Messaging database snapshot exposed",
            "Twilio SMS logs exposed",
        ]
        assert [cards.nth(i).get_attribute("data-urgency") for i in range(3)] == ["overdue", "overdue", "h24"]
        screenshot(page, "dashboard-on-phone", full_page=False)
        for i in range(3):
            countdown = cards.nth(i).locator(".incident-head .countdown")
            expect(countdown).to_be_visible()
            box = countdown.bounding_box()
            assert box["x"] >= 0 and box["x"] + box["width"] <= 390
        colour = cards.first.locator(".incident-head .countdown").evaluate("c => getComputedStyle(c).color")
        assert colour == "rgb(180, 35, 24)"  # var(--danger)
        assert page.evaluate(TOO_WIDE) == [] and page.evaluate("document.documentElement.scrollWidth") <= 390
        screenshot(page, "dashboard-on-phone", full_page=False)

        # one tap opens the messaging incident's duties: each a card with its own countdown, still no sideways scroll
        messaging = cards.nth(1)
        messaging.locator("summary").click()
        duties = messaging.locator(".duty")
        expect(duties.first).to_be_visible()
        for i in range(duties.count()):
            expect(duties.nth(i).locator(".countdown")).to_be_visible()
        assert page.evaluate(TOO_WIDE) == []
        # the 24-hour customers fall due 2 h after `now`: they count down second by second, and turn red when due
        soon = messaging.locator('.duty[data-urgency="h4"] .countdown').first
        expect(soon).to_have_text("in 1 h 59 min 00 s")
        page.clock.run_for(1000)
        expect(soon).to_have_text("in 1 h 58 min 59 s")
        messaging.locator(".duty").nth(1).scroll_into_view_if_needed()
        screenshot(page, "dashboard-on-phone-expanded", full_page=False)
        # past its five soonest duties, the incident's own page lists them all; a "without undue delay" customer
        # counts down to its internal target (36 h after awareness), coloured like the others and marked as such
        messaging.get_by_role("link", name=re.compile(r"^All \d+ pending duties")).click()
        target = page.locator(".duty", has=page.locator(".target-mark")).first
        expect(target.locator(".countdown")).to_have_text("in 13 h 58 min 59 s")
        assert target.get_attribute("data-urgency") == "h24" and page.evaluate(TOO_WIDE) == []
        # two hours on, the 24-hour duties are overdue: their text and colour follow without a reload
        link = page.locator('.duty[data-urgency="h4"] .duty-what a').first.get_attribute("href")
        soon = page.locator(".duty", has=page.locator(f'a[href="{link}"]'))
        page.clock.fast_forward("02:00:00")
        expect(soon.locator(".countdown")).to_contain_text("overdue by")
        expect(soon).to_have_attribute("data-urgency", "overdue")
        assert page.locator("main form, main button").count() == 0  # a viewer has nothing to press here
        for path in ("/incidents/new", "/incidents/1/assessment", "/settings/organisation/edit"):
            assert page.goto(f"{live_server}{path}").status == 403
        assert errors == [] or all("403" in e for e in errors)
    finally:
        context.close()


def test_on_a_laptop_the_queue_reads_as_rows_with_each_duty_in_words(browser, live_server, incidents):
    context, page, errors = _open(browser, live_server, incidents, LAPTOP)
    try:
        page.goto(f"{live_server}/dashboard")
        first = page.locator(".queue-incident").first
        first.locator("summary").click()
        # the countdown, the incident and its figures side by side on one line
        head = first.locator(".incident-head")
        when, what = head.locator(".when").bounding_box(), head.locator(".incident-what").bounding_box()
        assert when["y"] == what["y"] and when["x"] + when["width"] <= what["x"]
        expect(first.locator(".duty-what").first).to_have_text(
            "NIS2 early warning to CERT-FR (ANSSI) · national CSIRT (computer security incident response team)"
        )
        expect(first.locator(".duties")).to_contain_text("GDPR notification to Commission nationale")
        expect(first.locator(".duties")).to_contain_text("supervisory authority")
        time = first.locator(".incident-head time")
        assert time.get_attribute("title").endswith(" UTC") and time.inner_text().endswith(("CET", "CEST"))
        assert page.evaluate(TOO_WIDE) == [] and page.evaluate(SMALLEST_TEXT) >= 12
        screenshot(page, "dashboard-at-1366")
        assert errors == []
    finally:
        context.close()


def test_metrics_fit_a_laptop_and_a_phone_with_readable_words(browser, live_server, incidents):
    messaging = (
        Obligation.incident_id == select(Incident.id).where(Incident.title.startswith("Messaging")).scalar_subquery()
    )
    sent = db.session.scalars(select(Obligation).where(messaging, Obligation.recipient_kind == "controller")).all()
    sent.sort(key=lambda duty: (duty.due_at or duty.target_at) - duty.clock_start)
    mark_sent(sent[0], sent[0].clock_start + timedelta(hours=15))  # 3 h after the 12-hour contract's deadline
    for number, duty in enumerate(sent[1:]):
        mark_sent(duty, duty.clock_start + timedelta(hours=number + 1))
    db.session.scalar(select(User).where(User.username == "board")).time_zone = "Europe/Paris"
    db.session.commit()
    for size, name in ((LAPTOP, "metrics-at-1366"), (PHONE, "metrics-on-phone")):
        context, page, errors = _open(browser, live_server, incidents, size)
        try:
            page.goto(f"{live_server}/dashboard/metrics")
            width = size["viewport"]["width"]
            bars = page.locator(".notify-chart .bar-label").all_inner_texts()
            assert bars == [
                "GDPR notification to the controller",
                'GDPR notification to the controller, "without undue delay"',
            ]
            assert page.evaluate(TOO_WIDE) == [] and page.evaluate("document.documentElement.scrollWidth") <= width
            assert page.evaluate(SMALLEST_TEXT) >= 12
            for chart in page.locator("svg.bar-track").all():
                assert chart.bounding_box()["width"] <= width
            months = page.locator(".month-chart .bar-text").all_inner_texts()
            assert len(months) == 12 and sum(int(m.split()[0]) for m in months if m[0].isdigit()) == 3
            assert "1 lost or stolen device" in " ".join(months)
            screenshot(page, name)
            assert errors == []
        finally:
            context.close()


def test_the_register_fits_a_phone(browser, live_server, incidents):
    context, page, errors = _open(browser, live_server, incidents, PHONE)
    try:
        page.goto(f"{live_server}/register")
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        screenshot(page, "register-on-phone", full_page=False)
        assert errors == []
    finally:
        context.close()
