"""The read side: the dashboard's order and totals, the breach register and its CSV, the calendar feed."""

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from icalendar import Calendar
from sqlalchemy import select

from breachdesk.assessments.services import save_assessment
from breachdesk.auth.models import Role
from breachdesk.dashboard import queries
from breachdesk.deadlines.models import Obligation, ObligationStatus
from breachdesk.deadlines.services import mark_acknowledged, mark_sent
from breachdesk.extensions import db
from breachdesk.incidents.models import STATUS_LABELS, Incident, IncidentStatus
from breachdesk.incidents.services import change_status, open_incident
from breachdesk.notices import services as notices
from tests.incident_fixtures import duty


@pytest.fixture
def recent(inventory):
    """An incident whose 24-hour duties fall due in about 5 hours."""
    found = open_incident(
        {
            "title": "Relais SMS compromis — données « clients »",
            "aware_at": (datetime.now(UTC) - timedelta(hours=19)).isoformat(),
            "systems": ["db"],
            "nature": ["confidentiality"],
            "cause": "external_attack",
        },
        None,
    )
    db.session.commit()
    return found


def test_the_overdue_incident_leads_the_dashboard_and_the_tiles_add_up(incident, recent, login):
    page = login(Role.VIEWER).get("/dashboard").text
    cards = page.split('<ol class="queue">')[1].split("</ol>")[0].split('<li class="queue-incident"')[1:]
    assert [c.split('data-urgency="')[1].split('"')[0] for c in cards] == ["overdue", "h24"]
    assert f"#{incident.id} Directory export left public" in cards[0] and "overdue by" in cards[0]
    assert "Relais SMS compromis" in cards[1]
    pending = db.session.scalar(select(db.func.count()).select_from(Obligation).where(Obligation.status == "pending"))
    assert f"<strong>{pending}</strong> pending duties in 2 open incidents" in page
    # viewers see no write action
    assert "<form" not in page.split("</nav>", 1)[1].replace('<form class="logout"', "")


def test_e_mail_states_show_per_duty_and_per_incident(incident, privacy, login):
    notice = notices.generate_notice(duty(incident, "acme"), privacy)
    notices.approve_notice(notice, privacy)
    db.session.commit()
    page = login(Role.PRIVACY).get("/dashboard").text
    acme = page.split(f'href="/obligations/{duty(incident, "acme").id}"')[1].split("</li>")[0]
    assert '<span class="badge mail-queued">e-mail waiting to be sent</span>' in acme
    assert "customers' 2 e-mails waiting to be sent" in page
    status, shown = re.search(r'class="badge status-(\w+)">([^<]+)</span>', page).groups()
    assert shown == STATUS_LABELS[IncidentStatus(status)].english  # the incident's status in words


def test_the_register_lists_every_incident_with_decisions_and_exports_csv(incident, recent, privacy, login):
    save_assessment(
        recent,
        {
            "dpc_category": "simple",
            "ei": 0.25,
            "decision": {
                "authority": "not_required",
                "data_subjects": "not_required",
                "rationale": "Données chiffrées ; clé intacte — « aucun risque ».",
            },
        },
        privacy,
    )
    mark_sent(duty(incident, "acme"), datetime(2026, 10, 25, 12, 0, tzinfo=UTC))
    change_status(incident, "closed", None, reason="The other customers were told by phone")
    db.session.commit()
    client = login(Role.VIEWER)
    page = client.get("/register").text
    assert "Relais SMS compromis" in page and "not required" in page and "aucun risque" in page
    assert "Relais SMS" not in client.get("/register?notified=yes").text
    assert "Directory export" not in client.get("/register?status=open").text
    assert "Directory export" in client.get("/register?from=2026-10-24&to=2026-10-25").text
    response = client.get("/register.csv")
    assert response.mimetype == "text/csv" and response.data.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert [r["incident"] for r in rows] == [str(recent.id), str(incident.id)]
    fresh = rows[0]
    assert fresh["title"] == "Relais SMS compromis — données « clients »"
    assert fresh["rationale"] == "Données chiffrées ; clé intacte — « aucun risque »."
    assert (fresh["authority_decision"], fresh["decided_by"], fresh["notices_sent"]) == ("not_required", "dpo", "0")
    assert rows[1]["status"] == "closed" and rows[1]["notices_sent"] == "1" and rows[1]["customers_affected"] == "3"
    assert rows[1]["aware_at_utc"] == "2026-10-24 22:00:00"
    assert rows[1]["closed_with_duties_pending"].endswith("): The other customers were told by phone")
    assert fresh["closed_with_duties_pending"] == ""
    only = list(csv.DictReader(io.StringIO(client.get("/register.csv?cause=external_attack").data.decode("utf-8-sig"))))
    assert [r["incident"] for r in only] == [str(recent.id)]


def test_the_register_export_neutralises_formulas(incident, login):
    incident.title = '=HYPERLINK("https://evil.example","Open")'  # a responder can type anything
    db.session.commit()
    rows = list(csv.DictReader(io.StringIO(login(Role.VIEWER).get("/register.csv").data.decode("utf-8-sig"))))
    assert rows[0]["title"] == '\'=HYPERLINK("https://evil.example","Open")'


def test_the_calendar_feed_parses_holds_each_pending_deadline_and_can_be_revoked(incident, recent, login, client):
    login(Role.VIEWER)
    created = client.post("/account/calendar").text
    url = created.split('<code class="feed-url">')[1].split("</code>")[0]
    path = url.split("localhost", 1)[1]
    feed = client.get(path)
    assert feed.mimetype == "text/calendar"
    calendar = Calendar.from_ical(feed.data)
    events = [c for c in calendar.walk("VEVENT")]
    expected = {
        (o.incident_id, o.rule_id, o.due_at.replace(microsecond=0))
        for o in db.session.scalars(
            select(Obligation).where(Obligation.status == "pending", Obligation.due_at.is_not(None))
        )
    }
    assert {
        (int(str(e["uid"]).split("-")[0]), str(e["uid"]).split("-", 1)[1].rsplit("-", 1)[0], e.decoded("dtstart"))
        for e in events
    } == expected
    soon = next(e for e in events if "incident #" + str(recent.id) in str(e["summary"]))
    assert str(soon["summary"]).startswith("Due: ") and soon.walk("VALARM")
    client.post("/account/calendar/revoke")
    assert client.get(path).status_code == 404
    assert client.get("/calendar/not-a-token.ics").status_code == 404


@pytest.fixture
def three_incidents(incident, recent):
    """Overdue duties (one sent, one acknowledged), duties due within hours, and a closed incident that still
    has pending duties: what the counts must leave out."""
    mark_sent(duty(incident, "acme"), datetime(2026, 10, 25, 12, 0, tzinfo=UTC))
    mark_sent(duty(incident, "globex"), datetime(2026, 10, 25, 13, 0, tzinfo=UTC))
    mark_acknowledged(duty(incident, "globex"), datetime(2026, 10, 25, 14, 0, tzinfo=UTC))
    closed = open_incident(
        {
            "title": "Closed with duties left",
            "aware_at": "2026-11-01T09:30:00+01:00",
            "systems": ["db"],
            "nature": ["integrity"],
        },
        None,
    )
    db.session.flush()
    change_status(closed, "closed", None, reason="Handled outside BreachDesk")
    db.session.commit()
    return incident, recent, closed


def _obligation_rows():
    return db.session.execute(
        select(
            Obligation.incident_id, Obligation.status, Obligation.due_at, Incident.status, Obligation.target_at
        ).join(Incident, Incident.id == Obligation.incident_id)
    ).all()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(now=st.datetimes(min_value=datetime(2026, 10, 20), max_value=datetime(2026, 12, 31), timezones=st.just(UTC)))
def test_counts_and_the_queue_match_a_count_of_every_duty(three_incidents, now):
    rows = _obligation_rows()
    assert any(r[1] == ObligationStatus.PENDING and r[3] == IncidentStatus.CLOSED for r in rows)
    shown = [r for r in rows if r[1] == ObligationStatus.PENDING and r[3] != IncidentStatus.CLOSED]

    def within(hours):
        return sum(1 for r in shown if r[2] and now <= r[2] < now + timedelta(hours=hours))

    assert queries.counts(now) == {
        "pending": len(shown),
        "incidents": len({r[0] for r in shown}),
        "overdue": sum(1 for r in shown if r[2] and r[2] < now),
        "under_4h": within(4),
        "under_24h": within(24),
        "targets_passed": sum(1 for r in shown if r[2] is None and r[4] and r[4] < now),
    }
    queue = db.session.execute(queries.incident_queue(now)).all()
    assert {row.id for row in queue} == {r[0] for r in shown}
    for row in queue:
        mine = [r for r in shown if r[0] == row.id]
        assert (row.pending, row.overdue) == (len(mine), sum(1 for r in mine if r[2] and r[2] < now))
        assert row.next_due == min((r[2] for r in mine if r[2]), default=None)
        assert row.next_at == min((r[2] or r[4] for r in mine if r[2] or r[4]), default=None)
    soonest = [row.next_at for row in queue if row.next_at is not None]
    assert soonest == sorted(soonest) and [row.next_at for row in queue[len(soonest) :]] == [None] * (
        len(queue) - len(soonest)
    )


def test_the_counts_follow_each_change_at_once(three_incidents):
    """A duty sent leaves the pending figures, a reopened incident's duties count again: nothing is kept
    between views."""
    incident, recent, closed = three_incidents
    now = datetime.now(UTC)

    def queued(incident_id):
        row = db.session.execute(queries.incident_queue(now, incident_id)).one_or_none()
        return row and (row.pending, queries.incident_figures([incident_id])[incident_id]["sent"])

    before, recent_before = queries.counts(now), queued(recent.id)
    assert queries.incident_figures([incident.id])[incident.id] == {"sent": 1, "acknowledged": 1, "mail": {}}
    mark_sent(duty(recent, "acme"), now - timedelta(minutes=1))
    db.session.commit()
    after = queries.counts(now)
    assert after["pending"] == before["pending"] - 1
    assert queued(recent.id) == (recent_before[0] - 1, recent_before[1] + 1)
    left_in_closed = sum(1 for r in _obligation_rows() if r[0] == closed.id and r[1] == ObligationStatus.PENDING)
    assert queued(closed.id) is None
    change_status(closed, "open", None, reason="More records found in the export")
    db.session.commit()
    assert queries.counts(now)["pending"] == after["pending"] + left_in_closed > after["pending"]
    assert queued(closed.id)[0] == left_in_closed
