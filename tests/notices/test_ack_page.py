"""The acknowledgement page a customer opens from a notice: in the notice's language (no English word on a
French page), under the organisation's name, times on the customer's clock with UTC beside them, the notice as
formatted text; refused links stay refused, in the reader's language when the link still names a notice."""

import re
from datetime import UTC, datetime
from html import unescape
from pathlib import Path

import pytest
import time_machine
from babel.messages.extract import extract_from_file
from sqlalchemy import func, select, update

from breachdesk.core.i18n import translations
from breachdesk.extensions import db
from breachdesk.inventory.models import Customer, Organisation
from breachdesk.notices import services
from breachdesk.notices.models import Acknowledgement, Notice
from breachdesk.notices.views import NOTHING_RECORDED, REFUSED
from tests.conftest import table_fingerprint
from tests.incident_fixtures import duty

TEMPLATES = Path(__file__).resolve().parents[2] / "templates" / "notices"
#: 07:00 in Paris (CET: the clocks went back at 01:00 UTC that night)
APPROVED_AT = datetime(2026, 10, 25, 6, 0, tzinfo=UTC)
ACKNOWLEDGED_AT = datetime(2026, 10, 26, 9, 15, tzinfo=UTC)


@pytest.fixture
def clock():
    """Time stands still at the approval, then moves where a test says: the links' age never depends on the
    day the suite runs."""
    with time_machine.travel(APPROVED_AT, tick=False) as traveller:
        yield traveller


@pytest.fixture
def notices(clock, incident, privacy) -> dict[str, Notice]:
    """Acme's (French, Europe/Paris) and Globex's (English) notices, approved at a known instant."""
    approved = {key: services.generate_notice(duty(incident, key), privacy) for key in ("acme", "globex")}
    services.approve_notices(approved.values(), privacy)
    db.session.commit()
    return approved


def link(notice: Notice) -> str:
    return re.search(r"/ack/[\w.-]+", notice.text_body).group(0)


def page_messages() -> list[str]:
    """Every message the page and its layout say, as the catalogue extracts them (and the form's label)."""
    found = ["Your name"]
    for name in ("ack.html", "public.html"):
        found += [message for _, message, _, _ in extract_from_file("jinja2", str(TEMPLATES / name))]
    return found


def english_fragments(message: str) -> list[str]:
    """The words of a message between its placeholders."""
    return [part.strip() for part in re.split(r"%\(\w+\)s", message) if len(part.strip()) > 3]


def test_a_french_customers_page_has_no_english_word(client, notices, clock):
    page = client.get(link(notices["acme"]))
    text = unescape(page.text)
    assert page.status_code == 200 and '<html lang="fr">' in page.text
    french = translations("fr")
    for message in page_messages():
        assert french.gettext(message) != message, f"{message!r} has no French words"
        for fragment in english_fragments(message):
            assert fragment not in text, fragment
    assert "Merci de confirmer que votre organisation a bien reçu cette notification." in text
    assert "Votre nom" in text and "Accuser réception</button>" in text
    assert "BreachDesk" not in text
    assert "<title>Accuser réception · Parlons SAS</title>" in text
    assert '<header class="topbar"><span class="brand">Parlons SAS</span></header>' in text
    # on the customer's clock (Europe/Paris), UTC beside it
    assert "Notification envoyée par Parlons SAS, datée du 25 octobre 2026 à 07:00 CET (06:00 UTC)." in text
    refused = unescape(client.post(link(notices["acme"]), data={"name": ""}).text)
    assert "Ce champ est requis." in refused  # WTForms' own words, in French too
    clock.move_to(ACKNOWLEDGED_AT)
    done = unescape(client.post(link(notices["acme"]), data={"name": "Alice Acme"}).text)
    assert "Réception confirmée par Alice Acme le 26 octobre 2026 à 10:15 CET (09:15 UTC). Merci." in done


def test_an_english_customers_page_is_in_english_on_its_own_clock(client, notices, clock):
    db.session.execute(update(Customer).where(Customer.key == "globex").values(time_zone="America/New_York"))
    db.session.commit()
    clock.move_to(ACKNOWLEDGED_AT)
    page = client.post(link(notices["globex"]), data={"name": "Gus Globex"})
    text = unescape(page.text)
    assert '<html lang="en">' in page.text and "<title>Acknowledge receipt · Parlons SAS</title>" in text
    assert "Notice sent by Parlons SAS, dated 25 October 2026, 02:00 EDT (06:00 UTC)." in text
    assert "Receipt acknowledged by Gus Globex on 26 October 2026, 05:15 EDT (09:15 UTC). Thank you." in text
    assert "BreachDesk" not in text


def test_the_page_is_in_the_name_the_notice_was_sent_under(client, notices):
    db.session.get(Organisation, 1).name = "Renamed Ltd"
    db.session.commit()
    text = client.get(link(notices["acme"])).text
    assert '<span class="brand">Parlons SAS</span>' in text and "Renamed Ltd" not in text


def test_the_notice_is_shown_as_formatted_text_through_the_allow_list(client, notices):
    acme = notices["acme"]
    page = client.get(link(acme)).text
    assert '<article class="notice-body" lang="fr">' in page
    assert "<h2>Données et personnes concernées</h2>" in page and "<ul>" in page
    db.session.execute(
        update(Notice)
        .where(Notice.id == acme.id)
        .values(html_body="<p>Bonjour</p><script>alert(1)</script><img src=x onerror=alert(2)>")
    )
    db.session.commit()
    page = client.get(link(acme)).text
    assert "<p>Bonjour</p>" in page and "<script" not in page and "onerror" not in page
    db.session.execute(update(Notice).where(Notice.id == acme.id).values(html_body=""))
    db.session.commit()
    page = client.get(link(acme)).text
    assert '<pre class="notice-text" lang="fr">Madame, Monsieur,' in page  # no HTML: the text, as it reads


def _sections(page: str) -> list[str]:
    return re.findall(r'<section class="card" lang="(\w+)">', page)


def test_a_tampered_link_is_refused_in_english_and_french_and_records_nothing(client, notices):
    path = link(notices["acme"])
    before = table_fingerprint()
    tampered = client.post(path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB"), data={"name": "Mallory"})
    text = unescape(tampered.text)
    assert tampered.status_code == 400 and _sections(tampered.text) == ["en", "fr"]
    assert "This link is not valid: it may have been copied incompletely or altered." in text
    assert "Ce lien n'est pas valide : il a peut-être été copié de façon incomplète ou modifié." in text
    assert "<title>This link cannot be used · Ce lien ne peut pas être utilisé · Parlons SAS</title>" in text
    assert "BreachDesk" not in text
    assert table_fingerprint() == before


def test_an_expired_link_is_refused_in_the_language_of_the_notice_it_names(app, client, notices):
    app.config["ACK_LINK_MAX_AGE_DAYS"] = -1  # every link is now past its age
    before = table_fingerprint()
    french = client.post(link(notices["acme"]), data={"name": "Late Larry"})
    text = unescape(french.text)
    assert french.status_code == 400 and _sections(french.text) == ["fr"] and '<html lang="fr">' in french.text
    assert "Ce lien a expiré. Demandez-en un nouveau à l'expéditeur." in text
    assert NOTHING_RECORDED.translated("fr") in text and "This link" not in text and "Nothing" not in text
    english = unescape(client.get(link(notices["globex"])).text)
    assert _sections(english) == ["en"] and "This link has expired. Ask the sender for a new one." in english
    assert f"<h1>{REFUSED.english}</h1>" in english
    assert table_fingerprint() == before


def test_a_link_to_a_notice_never_approved_is_refused_in_its_language(client, clock, incident, privacy):
    draft = services.generate_notice(duty(incident, "acme"), privacy)
    db.session.commit()
    page = client.get(link(draft))
    assert page.status_code == 400 and _sections(page.text) == ["fr"]
    assert "Ce lien ne désigne aucune notification envoyée." in unescape(page.text)


def test_the_form_is_refused_without_its_csrf_token_and_says_so_in_french(app_factory, notices):
    protected = app_factory(WTF_CSRF_ENABLED=True)
    with protected.app_context():
        client = protected.test_client()
        path = link(notices["acme"])
        forged = client.post(path, data={"name": "Mallory"})
        assert forged.status_code == 200 and "Cette page est restée ouverte trop longtemps" in unescape(forged.text)
        assert db.session.scalar(select(func.count()).select_from(Acknowledgement)) == 0
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', forged.text).group(1)
        done = client.post(path, data={"name": "Alice Acme", "csrf_token": token})
        assert "Réception confirmée par Alice Acme" in done.text
        assert db.session.scalar(select(Acknowledgement.name)) == "Alice Acme"


def test_the_customers_pages_keep_the_security_headers(client, notices):
    for response in (client.get(link(notices["acme"])), client.get("/ack/not-a-token")):
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "style-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
