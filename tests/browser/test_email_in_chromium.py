"""The notice e-mail as a mail client's browser engine shows it: the HTML part of the .eml the outbox wrote,
opened in headless Chromium at desktop width and at 390 px, screenshots kept in tests/artifacts/."""

import email
import email.policy

import pytest
import time_machine
from sqlalchemy import select

from breachdesk.auth.models import Role
from breachdesk.deadlines.models import Obligation
from breachdesk.extensions import db
from breachdesk.incidents.services import open_incident
from breachdesk.notices.mail import FileBackend
from breachdesk.notices.outbox import dispatch_round
from breachdesk.notices.services import approve_notice, generate_notice
from breachdesk.notices.statements import save_statement
from tests.browser.helpers import screenshot
from tests.conftest import create_user
from tests.incident_fixtures import STATEMENTS

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


#: the words the privacy team wrote for French recipients (the README's screenshot shows them)
README_STATEMENT = {
    "what_happened": "Une copie de sauvegarde de notre base de messagerie a été accessible sans authentification "
    "pendant environ six heures, le 20 novembre 2026.",
    "consequences": "Les adresses et les messages exposés peuvent servir à des courriels d'hameçonnage ciblés.",
    "measures_taken": "La copie a été supprimée et les clés du compte de stockage renouvelées.",
    "measures_proposed": "Nous contrôlons les droits d'accès de toutes nos sauvegardes.",
}


@time_machine.travel("2026-11-20T10:00:00Z", tick=False)
def sent_html(tmp_path, customer: str) -> str:
    """A customer's notice as the file backend wrote it: the e-mail's HTML part. The incident's words are
    French, as Maison Lemaire reads them (the screenshot is the README's). Written two hours after awareness,
    whatever today's date: the e-mail is on time, the same every run."""
    incident = open_incident(
        {
            "title": "Instantané de la base de messagerie exposé",
            "aware_at": "2026-11-20T08:00:00Z",
            "systems": ["messaging-db"],
            "nature": ["confidentiality"],
            "containment": "Instantané supprimé ; clés du compte de stockage renouvelées.",
        },
        None,
    )
    save_statement(incident, "fr", {**STATEMENTS["fr"], **README_STATEMENT})
    duty = db.session.scalar(
        select(Obligation).where(Obligation.incident_id == incident.id, Obligation.recipient_key == customer)
    )
    notice = generate_notice(duty, None)
    approve_notice(notice, create_user("dpo", Role.PRIVACY))
    db.session.commit()
    dispatch_round(FileBackend(tmp_path))
    first = sorted(tmp_path.glob("*.eml"))[0]
    return email.message_from_bytes(first.read_bytes(), policy=email.policy.default).get_body(("html",)).get_content()


@pytest.mark.parametrize("width, name", [(1024, "notice-email-desktop"), (390, "notice-email-phone")])
def test_the_notice_email_reads_well_at_desktop_and_phone_width(browser, demo_inventory, tmp_path, width, name):
    html = sent_html(tmp_path, "maison-lemaire")
    context = browser.new_context(viewport={"width": width, "height": 900}, is_mobile=width < 600)
    page = context.new_page()
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    try:
        page.set_content(html, wait_until="load")
        assert page.evaluate("document.styleSheets.length") == 0  # every style is on its element
        assert page.get_attribute("html", "lang") == "fr"
        banner = page.get_by_text("Parlons SAS", exact=True)
        assert banner.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(30, 58, 95)"
        heading = page.get_by_role("heading", level=1)
        assert heading.inner_text().startswith("[Violation de données")
        assert page.get_by_role("heading", level=2).first.evaluate("e => getComputedStyle(e).fontSize") == "18px"
        ratio, text = page.evaluate(LOWEST_CONTRAST)
        assert ratio >= 4.5, f"{text!r}: contrast {ratio:.1f}:1, WCAG AA asks 4.5:1"
        assert page.evaluate("document.documentElement.scrollWidth") <= width, "the e-mail scrolls sideways"
        frame = page.locator("table.frame").bounding_box()
        assert frame["width"] <= 600 and frame["x"] >= 0
        assert [url for url in requests if not url.startswith(("about:", "data:"))] == []  # nothing fetched
        screenshot(page, name)
    finally:
        context.close()
