"""The dashboard's queue: one row per open incident with pending duties, overdue first, then the soonest deadline
or internal target; each incident's duties in the same order, a few on the page and all of them a page at a time;
words, not keys; each time once, UTC in its title."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select, update

from breachdesk.auth.models import Role, User
from breachdesk.dashboard import queries, views
from breachdesk.deadlines.models import Obligation
from breachdesk.deadlines.rules import RECIPIENT_KINDS
from breachdesk.extensions import db
from breachdesk.incidents.services import open_incident

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield NOW


def _incident(title: str) -> int:
    """An incident on the main database, aware an hour ago: duties towards Acme, Globex, Initech (whose contract
    says "without undue delay": an internal target), the CNIL and CERT-FR."""
    found = open_incident({"title": title, "aware_at": (NOW - timedelta(hours=1)).isoformat(), "systems": ["db"]}, None)
    db.session.flush()
    return found.id


def _owe(incident_id: int, due: datetime | None, target: datetime | None = None, key: str | None = None) -> None:
    """Set when an incident's pending duties (or one recipient's) are owed: a deadline, or a target instead."""
    query = update(Obligation).where(Obligation.incident_id == incident_id)
    if key:
        query = query.where(Obligation.recipient_key == key)
    db.session.execute(query.values(due_at=due, target_at=target))


def _queue() -> list:
    return db.session.execute(queries.incident_queue(NOW)).all()


@pytest.fixture
def five(inventory, frozen):
    """Five incidents whose soonest duty is, in order: overdue by two days; due in 2 h; an internal target in
    6 h (its deadlines days away: it counted as "—" and sorted last before); due in 3 days; no clock started."""
    ids = {name: _incident(name) for name in ("days away", "no clock", "target soon", "overdue", "two hours")}
    _owe(ids["overdue"], NOW + timedelta(days=4))
    _owe(ids["overdue"], NOW - timedelta(days=2), key="acme")
    _owe(ids["two hours"], NOW + timedelta(hours=2))
    _owe(ids["target soon"], NOW + timedelta(days=5))
    _owe(ids["target soon"], None, NOW + timedelta(hours=6), key="initech")
    _owe(ids["days away"], NOW + timedelta(days=3))
    _owe(ids["no clock"], None)
    db.session.commit()
    return ids


def test_overdue_incidents_lead_then_the_soonest_deadline_or_target_and_clockless_last(five):
    assert [row.title for row in _queue()] == ["overdue", "two hours", "target soon", "days away", "no clock"]
    soon = next(row for row in _queue() if row.title == "target soon")
    assert soon.next_at == NOW + timedelta(hours=6) and soon.next_due == NOW + timedelta(days=5)


def test_each_incident_counts_its_pending_duties_recipients_and_overdue_duties(five, frozen):
    duties = db.session.execute(select(Obligation.incident_id, Obligation.recipient, Obligation.due_at)).all()
    for row in _queue():
        mine = [d for d in duties if d.incident_id == row.id]
        assert row.pending == len(mine) > 0
        assert row.recipients == len({d.recipient for d in mine}) < row.pending  # CERT-FR gets three NIS2 reports
        assert row.overdue == sum(1 for d in mine if d.due_at and d.due_at < NOW)
    assert queries.counts(NOW)["incidents"] == 5


def test_an_incidents_duties_come_overdue_first_then_by_deadline_or_target(five):
    incident_id = five["target soon"]
    _owe(incident_id, NOW - timedelta(hours=1), key="acme")
    _owe(incident_id, NOW + timedelta(days=1), key="globex")
    db.session.commit()
    duties = db.session.scalars(queries.incident_duties(incident_id)).all()
    when = [d.due_at or d.target_at for d in duties]
    assert [d.recipient_key for d in duties[:3]] == ["acme", "initech", "globex"]
    assert when == sorted(when)
    assert duties[1].due_at is None and duties[1].target_at == NOW + timedelta(hours=6)


def test_expanding_a_page_loads_the_soonest_duties_of_its_incidents_only(five):
    ids = [row.id for row in _queue()[:2]]
    found = queries.first_duties(ids, 2)
    assert set(found) == set(ids)
    for incident_id, duties in found.items():
        every = db.session.scalars(queries.incident_duties(incident_id)).all()
        assert [d.id for d in duties] == [d.id for d in every[:2]]


def _titles(page: str) -> list[str]:
    return re.findall(r'<a href="/incidents/\d+">#\d+ ([^<]+)</a>', page)


def _duty_ids(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'<li class="duty"[^>]*>.*?href="/obligations/(\d+)"', page, re.S)]


def test_pages_of_incidents_and_of_one_incidents_duties_join_up(five, login, monkeypatch):
    monkeypatch.setattr(views, "PER_PAGE", 2)
    monkeypatch.setattr(views, "DUTIES_SHOWN", 2)
    monkeypatch.setattr(views, "DUTIES_PER_PAGE", 4)
    client = login(Role.VIEWER)
    pages = [client.get(f"/dashboard?page={n}").text for n in (1, 2, 3)]
    assert [t for page in pages for t in _titles(page)] == [
        "overdue",
        "two hours",
        "target soon",
        "days away",
        "no clock",
    ]
    assert "Page 1 of 3 · 5 in all" in pages[0] and client.get("/dashboard?page=4").status_code == 404
    # each incident on a page shows its two soonest duties, and links to all of them
    first = pages[0].split('<li class="queue-incident"')[1]
    every = db.session.scalars(queries.incident_duties(five["overdue"])).all()
    # seven: with NIS2's notice to the recipients of our services, owed until a person decides otherwise
    assert _duty_ids(first) == [d.id for d in every[:2]] and len(every) == 7
    assert f'href="/dashboard?incident={five["overdue"]}">All 7 pending duties of #{five["overdue"]}' in first
    # that incident alone: all its duties, four a page, in the same order
    alone = [client.get(f"/dashboard?incident={five['overdue']}&page={n}").text for n in (1, 2)]
    assert [_titles(page) for page in alone] == [
        ["overdue"],
        ["overdue"],
    ] and '<details class="incident-duties" open>' in alone[0]
    assert [i for page in alone for i in _duty_ids(page)] == [d.id for d in every]
    assert "Page 2 of 2 · 7 in all" in alone[1]
    assert client.get(f"/dashboard?incident={five['overdue']}&page=3").status_code == 404
    assert "Nothing pending for this incident." in client.get("/dashboard?incident=999").text
    assert client.get("/dashboard?incident=99999999999").status_code == 404


def _viewer_in_paris(login):
    client = login(Role.VIEWER)
    db.session.scalar(select(User).where(User.role == Role.VIEWER)).time_zone = "Europe/Paris"
    db.session.commit()
    return client


def _visible_text(page: str) -> str:
    """What a reader sees: the main part of the page without its tags (titles and attributes are not read)."""
    main = page.split("<main", 1)[1].split("</main>")[0].split(">", 1)[1]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main))


def test_regimes_stages_and_recipients_are_in_words_on_the_dashboard(five, login):
    text = _visible_text(_viewer_in_paris(login).get("/dashboard").text)
    assert "NIS2 early warning to CERT-FR · national CSIRT (computer security incident response team)" in text
    assert "GDPR notification to Initech · controller" in text
    keys = [kind for kind in RECIPIENT_KINDS if kind != kind.replace("_", " ")]  # "controller" is its own word
    for key in [*keys, "csirt", "gdpr-art33", "nis2-", "h24", "h4 "]:
        assert key not in text, key
    assert "_" not in text


def test_every_time_is_shown_once_on_the_viewers_clock_with_utc_in_its_title(five, login):
    page = _viewer_in_paris(login).get("/dashboard").text
    times = re.findall(r'<time datetime="([^"]+)" title="([^"]+)">([^<]+)</time>', page)
    countdowns = re.findall(r'<span class="countdown" data-due="([^"]+)"', page)
    assert len(times) == len(countdowns) + 1  # one per countdown, and the moment the page was made
    for iso, title, text in times:
        instant = datetime.fromisoformat(iso)
        assert title == f"{instant:%-d %b %Y, %H:%M} UTC"
        assert text.endswith((" CET", " CEST")) and "UTC" not in text
    assert not re.search(r"\d\d:\d\d UTC", _visible_text(page))  # never beside the local time


def test_an_internal_target_counts_down_in_its_band_marked_as_not_a_deadline(five, login):
    page = _viewer_in_paris(login).get("/dashboard").text
    card = page.split('<li class="queue-incident"')[3]
    assert "target soon" in card
    head = card.split("<details")[0]
    assert 'data-urgency="h24"' in head and "in 6 h 0 min" in head and "target, not a deadline" in head
    target = card.split('<li class="duty" data-urgency="h24">')[1].split("</li>")[0]
    assert "GDPR notification to Initech" in target and "target, not a deadline" in target
    assert 'data-past="target passed by"' in target
    later = card.split('<li class="duty" data-urgency="later">')[1]
    assert "target, not a deadline" not in later.split("</li>")[0] and 'data-past="overdue by"' in later
