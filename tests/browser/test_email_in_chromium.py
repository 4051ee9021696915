"""The demo's notice e-mail as a mail client's browser engine shows it: the HTML part of the .eml the outbox wrote,
opened in headless Chromium at desktop width and at 390 px, in French and in English, screenshots kept in
tests/artifacts/ (docs/notice-email.png, the README's, is notice-email-desktop.png)."""

import email
import email.policy

import pytest
from sqlalchemy import select

from breachdesk.auth.models import Role
from breachdesk.deadlines.models import Obligation
from breachdesk.extensions import db
from breachdesk.notices.mail import FileBackend
from breachdesk.notices.outbox import dispatch_round
from breachdesk.notices.services import approve_notice, generate_notice
from tests.browser.helpers import PAGE_LANDMARK_RULES, screenshot
from tests.conftest import create_user

pytestmark = pytest.mark.browser

#: the lowest contrast between a text's colour and the background it is drawn on, as Chromium computes them
LOWEST_CONTRAST = r"""() => {
  const luminance = colour => {
    const [r, g, b] = colour.match(/[\d.]+/g).slice(0, 3).map(v => {
      v = v / 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const background = e => {
    for (; e; e = e.parentElement) {
      const colour = getComputedStyle(e).backgroundColor;
      if (colour !== "rgba(0, 0, 0, 0)") return colour;
    }
    return "rgb(255, 255, 255)";
  };
  let lowest = [99, ""];
  for (const e of document.body.querySelectorAll("*")) {
    const text = [...e.childNodes].some(n => n.nodeType === Node.TEXT_NODE && n.textContent.trim());
    if (!text || !e.getClientRects().length) continue;  // no text of its own, or not shown (the preheader)
    const [a, b] = [luminance(getComputedStyle(e).color), luminance(background(e))];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < lowest[0]) lowest = [ratio, e.textContent.trim().slice(0, 40)];
  }
  return lowest;
}"""


def sent_html(tmp_path, incident, customer: str) -> str:
    """A customer's notice of the demo incident as the file backend wrote it: the e-mail's HTML part, in the words
    the privacy team wrote for that customer's language (the French one at desktop width is the README's)."""
    duty = db.session.scalar(
        select(Obligation).where(Obligation.incident_id == incident.id, Obligation.recipient_key == customer)
    )
    notice = generate_notice(duty, None)
    approve_notice(notice, create_user("dpo", Role.PRIVACY))
    db.session.commit()
    dispatch_round(FileBackend(tmp_path))
    sent = [
        email.message_from_bytes(f.read_bytes(), policy=email.policy.default) for f in sorted(tmp_path.glob("*.eml"))
    ]
    # the outbox also carries the alerts that filing the incident sent to the privacy team: the customer's notice
    first = next(message for message in sent if customer in str(message["To"]))
    return first.get_body(("html",)).get_content()


@pytest.mark.parametrize(
    "width, name, customer, language, heading",
    [
        (1024, "notice-email-desktop", "maison-lemaire", "fr", "[Violation de données"),
        (390, "notice-email-phone", "maison-lemaire", "fr", "[Violation de données"),
        (1024, "notice-email-english", "berliner-moebel", "en", "[Personal data breach]"),
    ],
)
def test_the_notice_email_reads_well_at_desktop_and_phone_width(
    browser, demo, tmp_path, width, name, customer, language, heading
):
    html = sent_html(tmp_path, demo, customer)
    context = browser.new_context(viewport={"width": width, "height": 900}, is_mobile=width < 600)
    page = context.new_page()
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    try:
        page.set_content(html, wait_until="load")
        assert page.evaluate("document.styleSheets.length") == 0  # every style is on its element
        assert page.get_attribute("html", "lang") == language
        banner = page.get_by_text("Parlons SAS", exact=True)
        assert banner.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(30, 58, 95)"
        assert page.get_by_role("heading", level=1).inner_text().startswith(heading)
        assert page.get_by_role("heading", level=2).first.evaluate("e => getComputedStyle(e).fontSize") == "18px"
        ratio, text = page.evaluate(LOWEST_CONTRAST)
        assert ratio >= 4.5, f"{text!r}: contrast {ratio:.1f}:1, WCAG AA asks 4.5:1"
        assert page.evaluate("document.documentElement.scrollWidth") <= width, "the e-mail scrolls sideways"
        frame = page.locator("table.frame").bounding_box()
        assert frame["width"] <= 600 and frame["x"] >= 0
        assert [url for url in requests if not url.startswith(("about:", "data:"))] == []  # nothing fetched
        screenshot(page, name, not_checked=PAGE_LANDMARK_RULES)
    finally:
        context.close()
