"""The metrics page: the on-time rate, time to notify by kind of duty against its deadline, incidents by month
and cause; every figure says what it counts, in words the page's own size (no chart text to shrink)."""

import re
from datetime import UTC, datetime

import pytest
import time_machine

from breachdesk.auth.models import Role
from breachdesk.deadlines.services import mark_sent
from breachdesk.extensions import db
from breachdesk.incidents.services import open_incident
from tests.incident_fixtures import duty

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield NOW


@pytest.fixture
def sent(frozen, incident):
    """Acme's 24 h duty sent 2 h late, Globex's 48 h one in 8 h; a second incident in December, an attack."""
    mark_sent(duty(incident, "acme"), datetime(2026, 10, 26, 0, 0, tzinfo=UTC))
    mark_sent(duty(incident, "globex"), datetime(2026, 10, 25, 6, 0, tzinfo=UTC))
    open_incident(
        {"title": "Phished admin", "aware_at": "2026-12-01T10:00:00Z", "systems": ["db"], "cause": "external_attack"},
        None,
    )
    db.session.commit()
    return incident


def _text(page: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.split("<main", 1)[1]))


def test_the_on_time_rate_and_time_to_notify_say_what_they_count(sent, login):
    page = login(Role.VIEWER).get("/dashboard/metrics").text
    text = _text(page)
    assert "50% sent on time: 1 of the 2 duties sent that had a deadline" in text
    assert "1 sent after their deadline" in text
    assert (
        "GDPR notification to the controller 2 sent; from the clock start, median 17 h 0 min, slowest 1 d 2 h, "
        "against deadlines of 24 h to 48 h; 1 sent after its deadline"
    ) in text
    assert 'class="median late"' in page


def test_incidents_by_month_name_the_months_and_their_causes(sent, login):
    text = _text(login(Role.VIEWER).get("/dashboard/metrics").text)
    months = re.findall(r"(\w+ 20\d\d) (no incident|\d+ incidents?)", text)
    assert [m for m, _ in months][:3] == ["December 2026", "November 2026", "October 2026"] and len(months) == 12
    assert months[-1][0] == "January 2026"
    assert "December 2026 1 incident: 1 external attack" in text
    assert "October 2026 1 incident: 1 cause not known yet" in text
    assert "November 2026 no incident" in text
    assert "external_attack" not in text and "2026-10" not in text


def test_the_charts_have_no_text_of_their_own_and_stretch_to_the_page(sent, login):
    page = login(Role.VIEWER).get("/dashboard/metrics").text
    charts = re.findall(r"<svg[^>]*>.*?</svg>", page, re.S)
    assert charts and all("<text" not in chart for chart in charts)
    tracks = [c for c in charts if 'class="bar-track"' in c]
    assert len(tracks) == 13 and all('width="100%"' in c.split(">", 1)[0] for c in tracks)
    assert "viewBox" not in page and "style=" not in page  # lengths are attributes: the pages allow no inline style
