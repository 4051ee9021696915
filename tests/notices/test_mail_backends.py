"""Each mail backend for real: the file backend read back with `email`, SMTP into a local aiosmtpd server,
SendGrid through the official library into a local stand-in of its v3 API; retries and failures."""

import email
import email.policy
import http.client
import re
import socket
from datetime import timedelta

import pytest
import time_machine
from aiosmtpd.controller import Controller
from markupsafe import escape
from sqlalchemy import select, update

from breachdesk.audit.models import AuditEvent
from breachdesk.auth.models import Role
from breachdesk.core.clock import now_utc
from breachdesk.deadlines.models import ObligationStatus
from breachdesk.extensions import db
from breachdesk.inventory.models import Organisation
from breachdesk.notices import outbox, services
from breachdesk.notices.layout import email_html
from breachdesk.notices.mail import FileBackend, OutgoingMail, SmtpBackend, backend_from, request_body
from breachdesk.notices.models import Notice, OutboxMessage, OutboxStatus
from breachdesk.notices.outbox import dispatch_round
from tests.core.served import free_port
from tests.incident_fixtures import duty

#: seconds a local test server may take to answer: a guard against hanging, never reached when all is well
LOCAL_TIMEOUT = 60


def soonest_retry(app) -> timedelta:
    """A first retry waits at least half the base delay (the jitter's lower bound) after its attempt. Measured
    from a clock reading taken before the attempt, this holds however slow the machine."""
    return timedelta(seconds=app.config["DISPATCH_RETRY_BASE_SECONDS"] * 0.5)


def approved(incident, privacy, key="acme"):
    notice = services.generate_notice(duty(incident, key), privacy)
    services.approve_notice(notice, privacy)
    db.session.commit()
    return notice


def messages() -> list[OutboxMessage]:
    return db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()


def notice_email_html(notice: Notice) -> str:
    """The HTML part a notice's e-mail must carry: its frozen words in the layout, as the preview shows it."""
    return email_html(
        subject=notice.subject,
        html_body=notice.html_body,
        text_body=notice.text_body,
        language=notice.language,
        organisation=notice.sender_name,
    )


def assert_a_notice_email(html: str, language: str, organisation: str) -> None:
    """The layout survives mail clients: the reader's language, the organisation in the header, the subject as
    its heading, and every style on its element (Gmail and Outlook drop <style> and external sheets)."""
    assert html.startswith(f'<!DOCTYPE html><html lang="{language}"')
    assert 'class="banner" style="background-color: #1e3a5f;' in html and f">{escape(organisation)}</td>" in html
    assert "<style" not in html and "<link" not in html
    assert re.search(r"<h1 style=\"[^\"]*font-size: 22px", html) and re.search(r"<p style=\"[^\"]*margin", html)


def test_file_backend_writes_eml_files_that_parse_back(incident, privacy, tmp_path):
    notice = approved(incident, privacy)
    result = dispatch_round(FileBackend(tmp_path))
    assert (result.claimed, result.sent) == (2, 2)
    files = sorted(tmp_path.glob("*.eml"))
    assert len(files) == 2 and not list(tmp_path.glob("*.tmp"))
    parsed = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert parsed["To"] == "dpo@acme.example" and parsed["Subject"] == notice.subject
    assert parsed["X-BreachDesk-Idempotency-Key"] == f"{notice.id}:dpo@acme.example:1"
    assert parsed.get_body(("plain",)).get_content() == notice.text_body
    assert parsed.get_body(("html",)).get_content() == notice_email_html(notice)
    db.session.expire_all()
    sent = messages()
    assert all(
        m.status == OutboxStatus.SENT
        and m.provider_message_id == email.message_from_bytes(f.read_bytes(), policy=email.policy.default)["Message-ID"]
        for m, f in zip(sent, files, strict=True)
    )
    obligation = duty(incident, "acme")
    assert obligation.status == ObligationStatus.SENT and obligation.sent_at == min(m.sent_at for m in sent)
    assert obligation.late_by_seconds > 0  # aware in October 2026, sent today: late, and it says by how much


class Recorder:
    def __init__(self):
        self.envelopes = []
        self.refuse: dict[str, str] = {}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd API
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd API
        self.envelopes.append(envelope)
        return "250 Message accepted"


@pytest.fixture
def smtp_server():
    recorder = Recorder()
    controller = Controller(recorder, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield recorder, controller.port
    controller.stop()


def test_smtp_backend_delivers_to_a_local_server_and_sorts_refusals(incident, privacy, smtp_server, app):
    recorder, port = smtp_server
    recorder.refuse = {"security@acme.example": "550 5.1.1 No such user", "dpo@globex.example": "451 4.3.0 Busy"}
    approved(incident, privacy, "acme")
    approved(incident, privacy, "globex")
    attempted = now_utc()
    result = dispatch_round(
        SmtpBackend("127.0.0.1", port, starttls=False, username=None, password=None, timeout=LOCAL_TIMEOUT)
    )
    assert (result.sent, result.failed, result.retried) == (1, 1, 1)
    [delivered] = recorder.envelopes
    parsed = email.message_from_bytes(delivered.content, policy=email.policy.default)
    assert delivered.rcpt_tos == ["dpo@acme.example"] and parsed["Subject"].startswith("[Violation")
    by_recipient = {m.recipient: m for m in messages()}
    assert by_recipient["security@acme.example"].status == OutboxStatus.FAILED
    assert "550" in by_recipient["security@acme.example"].last_error
    retry = by_recipient["dpo@globex.example"]
    assert retry.status == OutboxStatus.QUEUED and retry.attempts == 1
    assert retry.next_attempt_at >= attempted + soonest_retry(app)


def test_smtp_server_down_is_a_retry(incident, privacy):
    approved(incident, privacy, "globex")
    result = dispatch_round(SmtpBackend("127.0.0.1", free_port(), False, None, None, timeout=2))
    assert result.retried == 1 and "SMTP" in messages()[0].last_error


@pytest.fixture
def sendgrid(app, sendgrid_stub, monkeypatch):
    monkeypatch.setenv("SENDGRID_API_KEY", "SG.test-key")
    app.config.update(MAIL_BACKEND="sendgrid", SENDGRID_API_HOST=sendgrid_stub.url, MAIL_FROM="notices@parlons.example")
    return sendgrid_stub


def test_sendgrid_request_has_the_v3_shape(incident, privacy, sendgrid, app):
    notice = approved(incident, privacy, "globex")
    assert dispatch_round(backend_from(app.config, app.instance_path)).sent == 1
    [request] = sendgrid.requests
    body = request["body"]
    assert request["path"] == "/v3/mail/send" and request["headers"]["Authorization"] == "Bearer SG.test-key"
    assert body["from"] == {"email": "notices@parlons.example", "name": "Parlons SAS"}
    assert body["subject"] == notice.subject
    [personalization] = body["personalizations"]
    assert personalization["to"] == [{"email": "dpo@globex.example"}]
    assert personalization["custom_args"] == {
        "outbox_id": str(messages()[0].id),
        "notice_id": str(notice.id),
        "incident_id": str(incident.id),
    }
    assert [c["type"] for c in body["content"]] == ["text/plain", "text/html"]
    assert body["content"][0]["value"] == notice.text_body and body["categories"] == ["breachdesk-notice"]
    assert body["content"][1]["value"] == notice_email_html(notice)
    assert_a_notice_email(body["content"][1]["value"], "en", "Parlons SAS")
    assert messages()[0].provider_message_id == "stub-1"


@pytest.mark.parametrize(
    "answers, outcome, attempts",
    [
        ([429], OutboxStatus.QUEUED, 1),
        ([500], OutboxStatus.QUEUED, 1),
        ([503], OutboxStatus.QUEUED, 1),
        ([400], OutboxStatus.FAILED, 1),
        ([403], OutboxStatus.FAILED, 1),
    ],
)
def test_sendgrid_answers_decide_retry_or_failure(incident, privacy, sendgrid, app, answers, outcome, attempts):
    sendgrid.answers.extend(answers)
    approved(incident, privacy, "globex")
    attempted = now_utc()
    dispatch_round(backend_from(app.config, app.instance_path))
    [message] = messages()
    assert (message.status, message.attempts) == (outcome, attempts)
    assert f"SendGrid {answers[0]}" in message.last_error
    if outcome == OutboxStatus.FAILED:
        assert "stub answered" in message.last_error  # the provider's own words, for the person who resends
    else:
        assert message.next_attempt_at >= attempted + soonest_retry(app)


@pytest.mark.parametrize(
    "headers, wait",
    [({"Retry-After": "120"}, 120), ({"X-RateLimit-Reset": "{reset}"}, 60)],
    ids=["Retry-After", "X-RateLimit-Reset"],
)
def test_a_429_from_sendgrid_holds_the_outbox_back_for_as_long_as_it_asks(
    incident, privacy, sendgrid, app, headers, wait
):
    """The first message is refused: it and the others wait until the provider's period ends, and nothing more
    is asked of it in the meantime; then they all go."""
    app.config.update(DISPATCH_CONCURRENCY=1)
    approved(incident, privacy, "acme")  # two contacts
    approved(incident, privacy, "globex")
    now = now_utc().replace(microsecond=0) + timedelta(seconds=1)
    until = now + timedelta(seconds=wait)
    sendgrid.answers.append((429, {k: v.format(reset=int(until.timestamp())) for k, v in headers.items()}))
    backend = backend_from(app.config, app.instance_path)
    with time_machine.travel(now, tick=False):
        result = dispatch_round(backend)
    assert (result.claimed, result.sent, result.retried, result.held_back) == (3, 0, 1, 2)
    assert len(sendgrid.requests) == 1
    db.session.expire_all()
    refused, *held = messages()
    assert f"SendGrid 429 (wait {wait} s)" in refused.last_error and refused.next_attempt_at >= until
    assert [(m.attempts, m.next_attempt_at, m.claimed_by) for m in held] == [(0, until, None)] * 2
    with time_machine.travel(until - timedelta(seconds=1), tick=False):
        assert dispatch_round(backend).claimed == 0
    with time_machine.travel(refused.next_attempt_at, tick=False):
        assert dispatch_round(backend).sent == 3
    assert len(sendgrid.requests) == 4


def test_one_round_records_a_send_a_retry_and_a_failure_each_as_it_was(incident, privacy, sendgrid, app):
    app.config.update(DISPATCH_CONCURRENCY=1)  # sends in id order, so the answers meet known messages
    approved(incident, privacy, "acme")  # two contacts
    approved(incident, privacy, "globex")
    sendgrid.answers.extend([202, 500, 400])
    result = dispatch_round(backend_from(app.config, app.instance_path))
    assert (result.claimed, result.sent, result.retried, result.failed) == (3, 1, 1, 1)
    db.session.expire_all()
    sent, retry, failed = messages()
    assert (sent.status, sent.provider_message_id, sent.last_error) == (OutboxStatus.SENT, "stub-1", "")
    assert retry.status == OutboxStatus.QUEUED and retry.sent_at is None and "SendGrid 500" in retry.last_error
    assert failed.status == OutboxStatus.FAILED and "SendGrid 400" in failed.last_error
    assert all(m.claimed_by is None and m.attempts == 1 for m in (sent, retry, failed))
    assert duty(incident, "acme").status == ObligationStatus.SENT  # one of its two messages went out
    assert duty(incident, "globex").status == ObligationStatus.PENDING
    audited = db.session.execute(
        select(AuditEvent.action, AuditEvent.entity_id)
        .where(AuditEvent.entity_type == "outbox_messages")
        .order_by(AuditEvent.id)
    ).all()
    assert audited == [
        ("outbox.sent", str(sent.id)),
        ("outbox.retry", str(retry.id)),
        ("outbox.failed", str(failed.id)),
    ]


def sent_by_slow_then_taken_over(incident, privacy, app) -> tuple[list[int], list[outbox.Attempt]]:
    """A dispatcher ("slow") claims and sends both of acme's messages; meanwhile its lease on the second ran
    out and another dispatcher ("fast") claimed that one."""
    approved(incident, privacy, "acme")
    ids = outbox.claim("slow", batch=10, lease_seconds=60)
    claimed = outbox.load_claimed(ids, "slow", "notices@parlons.example")
    backend = backend_from(app.config, app.instance_path)
    finished = [outbox.attempt(one, backend) for one in claimed]
    db.session.execute(update(OutboxMessage).where(OutboxMessage.id == ids[1]).values(claimed_by="fast"))
    db.session.commit()
    return ids, finished


def test_a_message_the_provider_accepted_is_recorded_as_sent_even_after_its_lease_moved(
    incident, privacy, sendgrid, app
):
    ids, finished = sent_by_slow_then_taken_over(incident, privacy, app)
    assert [outbox.record_outcome(done, "slow") for done in finished] == ["sent", "sent"]
    db.session.expire_all()
    assert [(m.status, m.provider_message_id, m.claimed_by) for m in messages()] == [
        (OutboxStatus.SENT, "stub-1", None),
        (OutboxStatus.SENT, "stub-2", None),
    ]
    assert duty(incident, "acme").status == ObligationStatus.SENT
    assert outbox.load_claimed([ids[1]], "fast", "notices@parlons.example") == []  # "fast" won't send it
    # had "fast" sent it before that, its outcome would find the first acceptance on record and leave it
    repeat = outbox.Attempt(finished[1].claimed, provider_id="stub-3")
    assert outbox.record_outcome(repeat, "fast") == "skipped"
    assert db.session.get(OutboxMessage, ids[1]).provider_message_id == "stub-2"


def test_a_failed_attempt_under_a_moved_lease_is_left_to_the_new_holder(incident, privacy, sendgrid, app):
    sendgrid.answers.extend([202, 500])
    ids, finished = sent_by_slow_then_taken_over(incident, privacy, app)
    assert [outbox.record_outcome(done, "slow") for done in finished] == ["sent", "skipped"]
    db.session.expire_all()
    mine, taken = messages()
    assert mine.status == OutboxStatus.SENT and mine.claimed_by is None
    assert (taken.status, taken.claimed_by, taken.attempts, taken.last_error) == (OutboxStatus.QUEUED, "fast", 0, "")


def test_retries_until_the_limit_then_fail_visibly(incident, privacy, sendgrid, app):
    app.config.update(DISPATCH_MAX_ATTEMPTS=3, DISPATCH_RETRY_BASE_SECONDS=0, DISPATCH_RETRY_MAX_SECONDS=0)
    sendgrid.answers.extend([500, 429, 500])
    approved(incident, privacy, "globex")
    backend = backend_from(app.config, app.instance_path)
    for _ in range(3):
        dispatch_round(backend)
    [message] = messages()
    assert message.status == OutboxStatus.FAILED and message.attempts == 3
    assert message.last_error.startswith("gave up after 3 attempts: SendGrid 500")
    assert dispatch_round(backend).claimed == 0


def test_a_timeout_is_a_retry(incident, privacy, monkeypatch, app):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # accepts the connection, never answers
    monkeypatch.setenv("SENDGRID_API_KEY", "SG.test-key")
    app.config.update(
        MAIL_BACKEND="sendgrid", MAIL_TIMEOUT=0.5, SENDGRID_API_HOST=f"http://127.0.0.1:{listener.getsockname()[1]}"
    )
    approved(incident, privacy, "globex")
    try:
        assert dispatch_round(backend_from(app.config, app.instance_path)).retried == 1
    finally:
        listener.close()
    assert "unreachable" in messages()[0].last_error


class GarbledProvider:
    """Answers the first message with something no backend expects (a truncated body, a bad status line)."""

    def __init__(self):
        self.calls = 0

    def send(self, mail) -> str:
        self.calls += 1
        if self.calls == 1:
            raise http.client.BadStatusLine("HTTP/1.1 2")
        return f"ok-{self.calls}"


def test_an_unexpected_error_from_a_backend_is_a_retry_of_that_message_only(incident, privacy, app):
    app.config.update(DISPATCH_CONCURRENCY=1)  # the garbled answer meets the first message
    approved(incident, privacy, "acme")  # two contacts
    result = dispatch_round(GarbledProvider())
    assert (result.sent, result.retried, result.failed) == (1, 1, 0)
    garbled, sent = messages()
    assert (garbled.status, garbled.attempts, sent.status) == (OutboxStatus.QUEUED, 1, OutboxStatus.SENT)
    assert garbled.last_error.startswith("unexpected BadStatusLine")


def test_a_failed_message_can_be_sent_again_to_the_same_address_once(incident, privacy, client, login):
    approved(incident, privacy, "globex")
    [failed] = messages()
    failed.status, failed.last_error = OutboxStatus.FAILED, "gave up after 8 attempts: SendGrid 503"
    db.session.commit()
    browser = login(Role.PRIVACY)
    assert browser.post(f"/outbox/{failed.id}/resend", data={"recipient": "dpo@globex.example"}).status_code == 302
    again = messages()[-1]
    assert (again.recipient, again.status, again.id != failed.id) == ("dpo@globex.example", OutboxStatus.QUEUED, True)
    twice = browser.post(f"/outbox/{failed.id}/resend", data={"recipient": "dpo@globex.example"}, follow_redirects=True)
    assert "already queued for dpo@globex.example" in twice.text and len(messages()) == 2
    resent = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "outbox.resend"))
    assert (resent.entity_id, resent.after) == (str(failed.id), {"copy": again.id, "recipient": "dpo@globex.example"})


def self_signed(tmp_path):
    """A certificate for 127.0.0.1, and the files the server and the client need."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


def test_smtp_with_starttls_verifies_the_server_and_sends(incident, privacy, tmp_path):
    import ssl

    cert_file, key_file = self_signed(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert_file, key_file)
    recorder = Recorder()
    controller = Controller(
        recorder, hostname="127.0.0.1", port=free_port(), tls_context=server_tls, require_starttls=True
    )
    controller.start()
    try:
        approved(incident, privacy, "globex")
        untrusted = SmtpBackend("127.0.0.1", controller.port, True, None, None, timeout=LOCAL_TIMEOUT)
        assert dispatch_round(untrusted).retried == 1  # an unverified certificate is not trusted
        assert "CERTIFICATE_VERIFY_FAILED" in messages()[0].last_error
        db.session.execute(OutboxMessage.__table__.update().values(next_attempt_at=now_utc()))
        db.session.commit()
        trusted = SmtpBackend(
            "127.0.0.1", controller.port, True, None, None, timeout=LOCAL_TIMEOUT, ca_file=str(cert_file)
        )
        assert dispatch_round(trusted).sent == 1
    finally:
        controller.stop()
    assert [e.rcpt_tos for e in recorder.envelopes] == [["dpo@globex.example"]]


def test_smtp_sends_both_parts_in_the_name_recorded_with_the_notice(incident, privacy, smtp_server, app):
    """The organisation's name is frozen with the notice's words: renamed after approval, the retry still
    speaks in the name the approver saw (non-ASCII and a comma survive the header's encoding)."""
    app.config["MAIL_FROM"] = "BreachDesk <notices@parlons.example>"
    db.session.get(Organisation, 1).name = "Parlons Société, SAS"
    notice = approved(incident, privacy, "acme")
    db.session.get(Organisation, 1).name = "Renamed Ltd"
    db.session.commit()
    recorder, port = smtp_server
    sent = dispatch_round(SmtpBackend("127.0.0.1", port, False, None, None, timeout=LOCAL_TIMEOUT)).sent
    assert sent == 2 and len(recorder.envelopes) == 2
    parsed = email.message_from_bytes(
        recorder.envelopes[0].content.replace(b"\r\n", b"\n"), policy=email.policy.default
    )  # SMTP's line ends
    assert recorder.envelopes[0].mail_from == "notices@parlons.example"
    [sender] = parsed["From"].addresses
    assert (sender.display_name, sender.addr_spec) == ("Parlons Société, SAS", "notices@parlons.example")
    assert parsed.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in parsed.iter_parts()] == ["text/plain", "text/html"]
    assert parsed.get_body(("plain",)).get_content() == notice.text_body
    html = parsed.get_body(("html",)).get_content()
    assert html == notice_email_html(notice)
    assert_a_notice_email(html, "fr", "Parlons Société, SAS")
    assert "Renamed Ltd" not in html


def test_html_written_before_the_allow_list_is_sent_through_it(incident, privacy, tmp_path):
    notice = approved(incident, privacy, "globex")
    db.session.execute(
        update(Notice)
        .where(Notice.id == notice.id)
        .values(
            html_body="<p>Dear Globex</p><script>alert(1)</script><style>p{}</style>"
            '<meta http-equiv="refresh" content="0;url=https://evil.example"><a href="javascript:alert(2)">here</a>'
        )
    )
    db.session.commit()
    assert dispatch_round(FileBackend(tmp_path)).sent == 1
    [eml] = tmp_path.glob("*.eml")
    html = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default).get_body(("html",)).get_content()
    assert "Dear Globex</p>" in html and ">here</a>" in html
    for forbidden in ("<script", "alert(", "http-equiv", "evil.example", "javascript:", "<style"):
        assert forbidden not in html, forbidden
    assert_a_notice_email(html, "en", "Parlons SAS")


@pytest.mark.parametrize(
    "sender, expected",
    [
        ("notices@parlons.example", {"email": "notices@parlons.example"}),
        ('"Acme, Inc." <notices@parlons.example>', {"email": "notices@parlons.example", "name": "Acme, Inc."}),
        ("Société Générale <n@parlons.example>", {"email": "n@parlons.example", "name": "Société Générale"}),
    ],
)
def test_a_sendgrid_body_names_its_sender_as_the_librarys_helpers_would(sender, expected):
    """The body is built as a dict, as `Mail(...).get()` builds it: the same `from` for a bare address, a name the
    layout had to quote, and a name in another script."""
    from sendgrid.helpers.mail import From, Mail

    mail = OutgoingMail(9, "k", sender, "dpo@acme.example", "Subject", "Text", "")
    helper = Mail(from_email=From(sender), to_emails="dpo@acme.example", subject="Subject", plain_text_content="Text")
    assert request_body(mail)["from"] == expected == helper.get()["from"]
    assert "text/html" not in [part["type"] for part in request_body(mail)["content"]]
