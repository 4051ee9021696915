"""Alerts when something happens to an incident: filed (pages and API), or its impact grown by a recomputation;
once per event, to the privacy team, the owner, the on-call address and the chat channels, in the reader's
language and time zone, through the outbox. Chat channels are proven against local HTTP servers."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from breachdesk.api.services import create_token
from breachdesk.auth.models import Role
from breachdesk.extensions import db
from breachdesk.incidents.models import Incident
from breachdesk.incidents.services import incident_link, open_incident, recompute_impact, update_incident
from breachdesk.notices.chat import webhook_problem
from breachdesk.notices.mail import FileBackend
from breachdesk.notices.models import AlertMail, OutboxMessage, OutboxStatus
from breachdesk.notices.outbox import dispatch_round
from breachdesk.reminders import news
from breachdesk.reminders.models import Alert
from breachdesk.reminders.rules import FILED, ImpactSummary, growth
from tests.conftest import create_user, log_in
from tests.notices.mailstub import SendGridStub

AWARE = datetime(2026, 10, 24, 22, 0, tzinfo=UTC)
FILED_AT = AWARE + timedelta(hours=2)
# The fixture inventory (tests/incident_fixtures.py): the main database reaches Acme, Globex and Initech; Acme's
# GDPR duty is the soonest, 24 h after awareness
ACME_DUE = AWARE + timedelta(hours=24)
FIELDS = {"title": "Directory export left public", "aware_at": AWARE.isoformat(), "systems": ["db"]}


def file(owner_id=None) -> Incident:
    with time_machine.travel(FILED_AT, tick=False):
        incident = open_incident({**FIELDS, "owner_id": owner_id} if owner_id else FIELDS, None)
        db.session.commit()
    return incident


def mails(kind: str) -> list[AlertMail]:
    return db.session.scalars(select(AlertMail).where(AlertMail.kind == kind).order_by(AlertMail.id)).all()


@pytest.fixture
def team(app, inventory):
    """A privacy officer whose language is not known, a French owner in Paris, a viewer, and the on-call address."""
    app.config.update(ONCALL_EMAIL="oncall@parlons.example")
    create_user("dpo", Role.PRIVACY)
    create_user("board", Role.VIEWER)
    owner = create_user("owner", Role.RESPONDER)
    owner.language, owner.time_zone = "fr", "Europe/Paris"
    db.session.commit()
    return owner


def test_filing_alerts_the_privacy_team_oncall_and_owner_at_once_with_how_bad_and_the_soonest_duty(team):
    incident = file(team.id)
    english, french = mails(FILED)
    link = incident_link(incident.id)
    assert english.recipients == ["dpo@example.com", "oncall@parlons.example"]  # not the viewer
    assert english.subject == f"New incident #{incident.id}: Directory export left public"
    assert english.text_body == (
        "Affected: 3 customers, 170 people, 1,150 records; most sensitive: behavioural data.\n"
        "Soonest duty: GDPR notification to Acme, due 25 October 2026, 22:00 UTC, in 22 h 0 min.\n"
        f"\nOpen the incident: {link}\n"
    )
    assert french.recipients == ["owner@example.com"]
    assert french.subject == f"Nouvel incident n° {incident.id} : Directory export left public"
    assert french.text_body == (
        "Touchés : 3 clients, 170 personnes, 1\u202f150 enregistrements ; données les plus sensibles : "
        "données comportementales.\n"
        "Obligation la plus proche : RGPD notification à Acme, échéance le 25 octobre 2026 à 23:00 CET (22:00 UTC), "
        "dans 22 h 0 min.\n"
        f"\nOuvrir l'incident : {link}\n"
    )
    queued = db.session.scalars(select(OutboxMessage.recipient).where(OutboxMessage.status == OutboxStatus.QUEUED))
    assert sorted(queued) == ["dpo@example.com", "oncall@parlons.example", "owner@example.com"]


def test_the_incident_page_shows_who_was_alerted_and_what_became_of_each_message(client, login, team, tmp_path):
    incident = file(team.id)
    dispatch_round(backend=FileBackend(tmp_path))
    login(Role.VIEWER)
    page = client.get(f"/incidents/{incident.id}").data.decode()
    alerted = page[page.index('id="alerted"') : page.index("</section>")]
    for who in ("dpo@example.com", "oncall@parlons.example", "owner@example.com"):
        assert f'{who} <span class="muted">· sent</span>' in alerted
    assert "3</strong> customers" in page and "behavioural data" in page


def test_an_event_is_announced_once_whatever_calls_it_again(team):
    incident = file(team.id)
    facts = {"summary": news.summary_of(news.current_snapshot(incident.id)), "before": None, "grew": []}
    assert news.announce(FILED, f"incident:{incident.id}:{FILED}", incident, facts) == 0
    db.session.commit()
    assert len(mails(FILED)) == 2
    assert db.session.scalar(select(func.count(Alert.id)).where(Alert.kind == FILED)) == 1


def test_nobody_to_tell_records_and_queues_nothing(app, inventory):
    file()
    assert mails(FILED) == [] and db.session.scalar(select(func.count(Alert.id))) == 0


def test_an_impact_grown_by_a_recomputation_says_what_grew_and_a_same_one_says_nothing(team):
    incident = file(team.id)
    with time_machine.travel(FILED_AT + timedelta(hours=1), tick=False):
        recompute_impact(incident)  # nothing changed
        db.session.commit()
        assert mails("grew") == []
        update_incident(incident, {"systems": ["db", "billing"]}, None)  # billing reaches Umbrella's invoices
        recompute_impact(incident)
        db.session.commit()
    english, french = mails("grew")
    assert english.subject == (
        f"Incident #{incident.id}: its impact grew (customers, people, records, most sensitive data)"
    )
    assert english.text_body.splitlines()[:3] == [
        "Affected: 4 customers, 177 people, 1,220 records; most sensitive: financial data.",
        "What grew: customers from 3 to 4; people from 170 to 177; records from 1,150 to 1,220; most sensitive data "
        "from behavioural data to financial data.",
        "Soonest duty: GDPR notification to Acme, due 25 October 2026, 22:00 UTC, in 21 h 0 min.",
    ]
    assert french.text_body.splitlines()[1] == (
        "Ce qui a augmenté : clients : de 3 à 4 ; personnes : de 170 à 177 ; enregistrements : de 1\u202f150 à "
        "1\u202f220 ; données les plus sensibles : de données comportementales à données financières."
    )


def test_growth_names_only_the_measures_that_grew():
    before = ImpactSummary(customers=3, people=170, records=1150, sensitivity=2)
    assert growth(None, before) == []
    assert growth(before, before) == []
    assert growth(before, ImpactSummary(2, 171, 1150, 1)) == ["people"]
    assert growth(before, ImpactSummary(4, 170, 1151, 3)) == ["customers", "records", "sensitivity"]


def test_a_target_duty_counts_down_to_our_target_and_says_it_passed_not_overdue():
    due = news.Duty(obligation=None, when=AWARE, target=True)
    deadline = news.Duty(obligation=None, when=AWARE, target=False)
    later = AWARE + timedelta(days=1, hours=2, minutes=5)
    assert news.time_left(due, later, "en") == "target passed by 1 d 2 h"
    assert news.time_left(deadline, later, "en") == "overdue by 1 d 2 h"
    assert news.time_left(deadline, later, "fr") == "en retard de 1 j 2 h"
    assert news.time_left(deadline, AWARE - timedelta(minutes=59, seconds=59), "en") == "in 59 min"
    assert news.time_left(deadline, AWARE, "en") == "in 0 min"


def test_filing_on_the_page_and_through_the_api_alerts_alike(app, client, team):
    create_user("oncall", Role.RESPONDER)
    with time_machine.travel(FILED_AT, tick=False):
        log_in(client, "oncall")
        response = client.post(
            "/incidents/new",
            data={
                "title": "Phone filing",
                "aware_at": "2026-10-24T22:00",
                "time_zone": "UTC",
                "systems": ["db"],
                "nature": ["confidentiality"],
                "description": "",
                "cause": "",
                "encrypted": "",
                "key_compromised": "",
                "owner_id": str(team.id),
            },
        )
        assert response.status_code == 302, response.data
        _, secret = create_token(db.session.get(type(team), team.id), "alerting")
        db.session.commit()
        api = app.test_client()
        filed = api.post("/api/v1/incidents", json=FIELDS, headers={"Authorization": f"Bearer {secret}"})
        assert filed.status_code == 201, filed.json
    by_incident = {}
    for mail in mails(FILED):
        by_incident.setdefault(mail.incident_id, []).extend(mail.recipients)
    assert sorted(by_incident.values()) == [
        ["dpo@example.com", "oncall@parlons.example", "owner@example.com"],  # the API's filer owns its incident
        ["dpo@example.com", "oncall@parlons.example", "owner@example.com"],
    ]


def test_mail_that_fails_never_blocks_filing_and_is_retried(app, team, monkeypatch):
    monkeypatch.setenv("SENDGRID_API_KEY", "SG.test-key")
    with SendGridStub() as provider:
        provider.answers.extend([500, 500, 500])
        app.config.update(MAIL_BACKEND="sendgrid", SENDGRID_API_HOST=provider.url)
        incident = file(team.id)
        result = dispatch_round()
    assert db.session.get(Incident, incident.id) is not None
    assert (result.claimed, result.retried, result.sent) == (3, 3, 0)
    statuses = db.session.execute(select(OutboxMessage.status, OutboxMessage.attempts)).all()
    assert statuses == [(OutboxStatus.QUEUED, 1)] * 3


@pytest.fixture
def channels(app):
    """A Slack and a Teams incoming webhook, each a local HTTP server that records what it is sent."""
    with SendGridStub() as slack, SendGridStub() as teams:
        app.config.update(
            SLACK_WEBHOOK_URL=f"{slack.url}/services/T000/B000/secret",
            TEAMS_WEBHOOK_URL=f"{teams.url}/webhookb2/secret",
        )
        yield slack, teams


def test_chat_channels_get_the_alert_in_their_formats_with_a_signed_link_to_the_incident(
    app, client, team, channels, tmp_path
):
    slack, teams = channels
    incident = file(team.id)
    result = dispatch_round(backend=FileBackend(tmp_path))
    assert (result.sent, result.failed, result.retried) == (5, 0, 0)  # three mails, two channels
    assert len(list(tmp_path.glob("*.eml"))) == 3
    [to_slack], [to_teams] = slack.requests, teams.requests
    link = incident_link(incident.id)
    assert to_slack["path"] == "/services/T000/B000/secret"
    assert to_slack["headers"]["Content-Type"] == "application/json"
    subject = f"New incident #{incident.id}: Directory export left public"
    assert to_slack["body"]["text"] == subject
    header, section, button = to_slack["body"]["blocks"]
    assert header == {"type": "header", "text": {"type": "plain_text", "text": subject}}
    assert section["text"]["type"] == "mrkdwn"
    assert section["text"]["text"].startswith("Affected: 3 customers, 170 people, 1,150 records;")
    assert button == {"type": "section", "text": {"type": "mrkdwn", "text": f"<{link}|{subject}>"}}
    [attachment] = to_teams["body"]["attachments"]
    assert to_teams["body"]["type"] == "message"
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert (card["type"], card["version"]) == ("AdaptiveCard", "1.4")
    assert [block["text"] for block in card["body"]][0] == subject
    assert card["actions"] == [{"type": "Action.OpenUrl", "title": subject, "url": link}]
    # the signed link opens the incident; a link BreachDesk did not sign opens nothing
    create_user("reader", Role.VIEWER)
    log_in(client, "reader")
    path = link.removeprefix(app.config["PUBLIC_BASE_URL"])
    assert client.get(path).headers["Location"] == f"/incidents/{incident.id}"
    forged = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    assert client.get(forged).status_code == 404
    assert client.get(f"/incidents/link/{incident.id}").status_code == 404


def test_a_failing_webhook_never_blocks_email(app, team, channels, monkeypatch):
    slack, teams = channels
    slack.answers.append(500)
    teams.answers.append((429, {"Retry-After": "3600"}))
    monkeypatch.setenv("SENDGRID_API_KEY", "SG.test-key")
    with SendGridStub() as provider:
        app.config.update(MAIL_BACKEND="sendgrid", SENDGRID_API_HOST=provider.url)
        file(team.id)
        result = dispatch_round()
        assert (result.sent, result.retried, result.held_back) == (3, 2, 0)  # a channel's 429 holds back no mail
        assert len(provider.accepted_outbox_ids()) == 3
    retried = db.session.execute(
        select(OutboxMessage.recipient, OutboxMessage.last_error).where(OutboxMessage.status == OutboxStatus.QUEUED)
    ).all()
    assert sorted(recipient for recipient, _ in retried) == ["chat:slack", "chat:teams"]
    assert all("secret" not in error for _, error in retried)  # the URL's secret is in no error


def test_a_second_round_delivers_what_a_channel_refused_for_a_while(app, team, channels, tmp_path):
    slack, _ = channels
    slack.answers.append(503)
    file(team.id)
    dispatch_round(backend=FileBackend(tmp_path))
    with time_machine.travel(datetime.now(UTC) + timedelta(hours=1)):
        again = dispatch_round(backend=FileBackend(tmp_path))
    assert (again.claimed, again.sent) == (1, 1)
    assert [r["status"] for r in slack.requests] == [503, 202]


@pytest.mark.parametrize(
    "url, problem",
    [
        ("", None),
        ("https://hooks.slack.com/services/T0/B0/x", None),
        ("http://127.0.0.1:8080/hook", None),
        ("http://localhost/hook", None),
        (
            "http://hooks.slack.com/services/T0/B0/x",
            "SLACK_WEBHOOK_URL: an incoming-webhook URL starting with https://",
        ),
        ("hooks.slack.com/services/T0/B0/x", "SLACK_WEBHOOK_URL: an incoming-webhook URL starting with https://"),
        ("https:///nohost", "SLACK_WEBHOOK_URL: an incoming-webhook URL starting with https://"),
    ],
)
def test_a_webhook_url_must_be_https_except_to_this_machine(url, problem):
    found = webhook_problem("SLACK_WEBHOOK_URL", url)
    assert (found.split(" (")[0] if found else None) == problem


@pytest.mark.parametrize(
    "settings, problem",
    [
        (
            {"TEAMS_WEBHOOK_URL": "http://example.com/webhookb2/x"},
            "TEAMS_WEBHOOK_URL: an incoming-webhook URL starting",
        ),
        ({"ONCALL_LANGUAGE": "de"}, "ONCALL_LANGUAGE: 'de' is not one of en, fr"),
        ({"ONCALL_TIME_ZONE": "Paris"}, "ONCALL_TIME_ZONE: 'Paris' is not an IANA time zone like Europe/Paris"),
    ],
)
def test_an_app_whose_alerts_could_not_go_out_refuses_to_start(app_factory, settings, problem):
    with pytest.raises(RuntimeError, match=problem):
        app_factory(**settings)
