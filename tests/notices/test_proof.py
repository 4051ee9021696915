"""Proof of delivery and receipt: the signed SendGrid Event Webhook, and the signed acknowledgement link."""

import base64
import json
import re
import time

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import func, select

from breachdesk.auth.models import Role
from breachdesk.deadlines.models import ObligationStatus
from breachdesk.extensions import db
from breachdesk.notices import services
from breachdesk.notices.mail import FileBackend
from breachdesk.notices.models import Acknowledgement, DeliveryEvent, OutboxMessage, OutboxStatus
from breachdesk.notices.outbox import dispatch_round
from tests.conftest import table_fingerprint
from tests.incident_fixtures import duty

PRIVATE_KEY = ec.generate_private_key(ec.SECP256R1())
PUBLIC_KEY = base64.b64encode(
    PRIVATE_KEY.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
).decode()


def signed(payload: str, key=PRIVATE_KEY, timestamp: str | None = None) -> dict[str, str]:
    timestamp = timestamp or str(int(time.time()))
    signature = key.sign((timestamp + payload).encode(), ec.ECDSA(hashes.SHA256()))
    return {
        "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signature).decode(),
        "X-Twilio-Email-Event-Webhook-Timestamp": timestamp,
        "Content-Type": "application/json",
    }


@pytest.fixture
def sent(app, incident, privacy, tmp_path):
    """Acme's notice approved and sent through the file backend: two messages."""
    app.config["SENDGRID_WEBHOOK_PUBLIC_KEY"] = PUBLIC_KEY
    notice = services.generate_notice(duty(incident, "acme"), privacy)
    services.approve_notice(notice, privacy)
    db.session.commit()
    dispatch_round(FileBackend(tmp_path / "outbox"))
    return notice


def events_for(message_ids, kind="delivered", **extra) -> str:
    return json.dumps(
        [
            {
                "email": "x@acme.example",
                "timestamp": 1795000000 + i,
                "event": kind,
                "sg_event_id": f"evt-{kind}-{m}",
                "sg_message_id": "m",
                "outbox_id": str(m),
                **extra,
            }
            for i, m in enumerate(message_ids)
        ]
    )


def test_signed_events_are_recorded_once_and_bounces_show_with_a_resend(client, login, sent):
    ids = db.session.scalars(select(OutboxMessage.id).order_by(OutboxMessage.id)).all()
    payload = events_for(ids[:1]) + ""
    answer = client.post("/webhooks/sendgrid", data=payload, headers=signed(payload))
    assert answer.status_code == 200 and answer.json == {"recorded": 1, "ignored": 0, "duplicate": 0}
    again = client.post("/webhooks/sendgrid", data=payload, headers=signed(payload))
    assert again.json["duplicate"] == 1  # SendGrid retries batches: recorded once
    bounce = events_for(ids[1:], "bounce", reason="550 5.1.1 mailbox does not exist")
    other = json.dumps(
        [
            {"event": "processed", "outbox_id": str(ids[0]), "timestamp": 1795000000},
            {"event": "delivered", "outbox_id": "999999", "timestamp": 1795000000},
        ]
    )
    assert client.post("/webhooks/sendgrid", data=bounce, headers=signed(bounce)).json["recorded"] == 1
    assert client.post("/webhooks/sendgrid", data=other, headers=signed(other)).json["ignored"] == 2
    db.session.expire_all()
    messages = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [m.delivery for m in messages] == ["delivered", "bounce"]

    page = login(Role.PRIVACY).get(f"/incidents/{sent.incident_id}/notices").text
    assert "Not delivered" in page and "550 5.1.1 mailbox does not exist" in page
    assert "1 notice e-mail(s) not delivered" in client.get(f"/incidents/{sent.incident_id}").text
    resent = client.post(f"/outbox/{messages[1].id}/resend", data={"recipient": "it@acme.example"})
    assert resent.status_code == 302
    assert (
        db.session.scalar(select(OutboxMessage).where(OutboxMessage.recipient == "it@acme.example")).status
        == OutboxStatus.QUEUED
    )
    twice = client.post(
        f"/outbox/{messages[1].id}/resend", data={"recipient": "it@acme.example"}, follow_redirects=True
    )
    assert "this notice was already queued for it@acme.example" in twice.text


@pytest.mark.parametrize(
    "headers",
    [
        {},  # unsigned
        {"X-Twilio-Email-Event-Webhook-Timestamp": "1795000000"},
        "other key",
        "tampered",
        {
            "X-Twilio-Email-Event-Webhook-Signature": "bm90IGEgc2lnbmF0dXJl",
            "X-Twilio-Email-Event-Webhook-Timestamp": "1795000000",
        },
    ],
)
def test_unsigned_or_badly_signed_webhooks_are_refused_and_record_nothing(client, sent, headers):
    ids = db.session.scalars(select(OutboxMessage.id)).all()
    payload = events_for(ids)
    if headers == "other key":
        headers = signed(payload, ec.generate_private_key(ec.SECP256R1()))
    elif headers == "tampered":
        headers = signed(payload)
        payload = payload.replace("delivered", "bounce")
    before = table_fingerprint()
    answer = client.post("/webhooks/sendgrid", data=payload, headers={"Content-Type": "application/json", **headers})
    assert answer.status_code == 403 and answer.json["error"] == "signature: missing or invalid"
    assert table_fingerprint() == before


def test_a_signed_request_replayed_after_its_window_is_refused(client, sent):
    payload = events_for(db.session.scalars(select(OutboxMessage.id)).all())
    long_ago = str(int(time.time()) - 601)  # the window is 600 s
    before = table_fingerprint()
    assert (
        client.post("/webhooks/sendgrid", data=payload, headers=signed(payload, timestamp=long_ago)).status_code == 403
    )
    assert table_fingerprint() == before


@pytest.mark.parametrize(
    "event",
    [
        {"event": ["delivered"]},  # a kind that is not a word
        {"outbox_id": {"id": 1}},  # an id that is not a number
        {"outbox_id": str(2**63)},  # past any database integer
        {"outbox_id": "١"},  # a digit, but not an ASCII one
        {"sg_event_id": {"id": "x"}},  # an event id that is not text
        {"sg_event_id": None},  # no event id: a replay could not be told apart
    ],
)
def test_signed_but_malformed_events_are_ignored_not_server_errors(client, sent, event):
    [first, _] = db.session.scalars(select(OutboxMessage.id).order_by(OutboxMessage.id)).all()
    payload = json.dumps(
        [{"timestamp": 1795000000, "event": "delivered", "sg_event_id": "evt-1", "outbox_id": str(first), **event}]
    )
    for _ in range(2):  # and a replay of it is ignored again
        answer = client.post("/webhooks/sendgrid", data=payload, headers=signed(payload))
        assert answer.status_code == 200 and answer.json == {"recorded": 0, "ignored": 1, "duplicate": 0}
    assert db.session.scalar(select(func.count()).select_from(DeliveryEvent)) == 0


def test_without_a_configured_key_every_webhook_is_refused(app, client, sent):
    app.config["SENDGRID_WEBHOOK_PUBLIC_KEY"] = ""
    payload = events_for(db.session.scalars(select(OutboxMessage.id)).all())
    assert client.post("/webhooks/sendgrid", data=payload, headers=signed(payload)).status_code == 403


def ack_path(notice) -> str:
    return re.search(r"/ack/[\w.-]+", notice.text_body).group(0)


def test_the_acknowledgement_link_records_once_and_marks_the_obligation(client, sent):
    path = ack_path(sent)
    page = client.get(path)
    assert page.status_code == 200 and sent.subject.replace("'", "&#39;") in page.text
    done = client.post(path, data={"name": "Alice Acme"}, environ_base={"REMOTE_ADDR": "203.0.113.7"})
    assert "Réception confirmée par Alice Acme" in done.text  # Acme reads French
    again = client.post(path, data={"name": "Someone Else"})
    assert "Réception confirmée par Alice Acme" in again.text  # idempotent: the first stays
    [ack] = db.session.scalars(select(Acknowledgement)).all()
    assert (ack.name, ack.ip_address) == ("Alice Acme", "203.0.113.7")
    obligation = duty(sent.obligation.incident, "acme")
    db.session.refresh(obligation)
    assert obligation.status == ObligationStatus.ACKNOWLEDGED and obligation.acknowledged_at == ack.acknowledged_at


def test_a_tampered_or_expired_link_shows_a_clear_page_and_records_nothing(app, client, sent):
    path = ack_path(sent)
    before = table_fingerprint()
    tampered = client.post(path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB"), data={"name": "Mallory"})
    assert tampered.status_code == 400 and "not valid" in tampered.text
    forged = URLSafeTimedSerializer("another-secret", salt=services.ACK_SALT).dumps({"notice": sent.id})
    assert client.post(f"/ack/{forged}", data={"name": "Mallory"}).status_code == 400
    app.config["ACK_LINK_MAX_AGE_DAYS"] = -1  # every link is now past its age
    expired = client.post(path, data={"name": "Late Larry"})
    assert expired.status_code == 400 and "Ce lien a expiré" in expired.text  # it still names Acme's notice
    assert table_fingerprint() == before
    assert db.session.scalar(select(func.count()).select_from(DeliveryEvent)) == 0
