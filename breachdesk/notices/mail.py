"""Mail backends: `file` (the embedded default), `sendgrid` (the official library), `smtp`.

Each turns one outgoing mail into a provider message id, or raises TemporaryFailure (try again later: 429,
5xx, a timeout, a refused connection) or PermanentFailure (a 4xx that will never succeed, with the
provider's own words). A 429 is RateLimited: the provider refuses every request for a while, and says how long.
"""

import os
import secrets
import smtplib
import ssl
import tempfile
import urllib.error
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr, parsedate_to_datetime
from pathlib import Path
from typing import Protocol

from breachdesk.core.clock import now_utc
from breachdesk.notices.pacing import Pacer

CATEGORY = "breachdesk-notice"


class TemporaryFailure(Exception):
    pass


class PermanentFailure(Exception):
    pass


class RateLimited(TemporaryFailure):
    """The provider refuses requests until `wait` seconds from now (0: it did not say): not this message's fault,
    so the dispatcher holds back the whole outbox, not only this message."""

    def __init__(self, message: str, wait: float = 0.0):
        super().__init__(message)
        self.wait = wait


def provider_wait(headers, now: datetime) -> float:
    """Seconds a rate-limited answer asks us to wait: `Retry-After` (seconds, or an HTTP date: RFC 9110 10.2.3),
    else SendGrid's `X-RateLimit-Reset` (the Unix time its refresh period ends, per its v3 rate-limits page);
    0 when neither is there or readable."""
    retry_after = (headers.get("Retry-After") or "").strip()
    if retry_after.isdigit():
        return float(retry_after)
    if retry_after:
        try:
            return max(0.0, (parsedate_to_datetime(retry_after) - now).total_seconds())
        except (TypeError, ValueError):
            pass
    reset = (headers.get("X-RateLimit-Reset") or "").strip()
    return max(0.0, int(reset) - now.timestamp()) if reset.isdigit() else 0.0


@dataclass(frozen=True)
class OutgoingMail:
    outbox_id: int
    idempotency_key: str
    sender: str
    to: str
    subject: str
    text: str
    html: str
    #: carried to the provider and back in its delivery events
    custom_args: dict[str, str] = field(default_factory=dict)
    #: the incident an alert is about (a signed link), for the channels that show it as a button
    link: str = ""

    def as_email(self) -> EmailMessage:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = self.sender, self.to, self.subject
        message["Date"] = format_datetime(now_utc())
        # short enough not to be folded onto a second header line
        message["Message-ID"] = f"<outbox-{self.outbox_id}.{secrets.token_hex(6)}@breachdesk.invalid>"
        message["X-BreachDesk-Idempotency-Key"] = self.idempotency_key
        message.set_content(self.text)
        if self.html:
            message.add_alternative(self.html, subtype="html")
        return message


class Backend(Protocol):
    def send(self, mail: OutgoingMail) -> str: ...


class FileBackend:
    """One .eml file per message, written atomically (a reader never sees half a message)."""

    def __init__(self, directory: Path):
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    def send(self, mail: OutgoingMail) -> str:
        message = mail.as_email()
        target = self.directory / f"{mail.outbox_id:08d}.eml"
        fd, temporary = tempfile.mkstemp(dir=self.directory, suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(bytes(message))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
        return message["Message-ID"]


class SmtpBackend:
    def __init__(
        self,
        host: str,
        port: int,
        starttls: bool,
        username: str | None,
        password: str | None,
        timeout: float,
        ca_file: str = "",
    ):
        self.host, self.port, self.starttls = host, port, starttls
        self.username, self.password, self.timeout = username, password, timeout
        # the server's certificate is always verified; a private CA can be named
        self.tls = ssl.create_default_context(cafile=ca_file or None)

    def send(self, mail: OutgoingMail) -> str:
        message = mail.as_email()
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=self.tls)
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            code, text = next(iter(error.recipients.values()))
            raise (TemporaryFailure if 400 <= code < 500 else PermanentFailure)(f"SMTP {code} {text!r}") from None
        except smtplib.SMTPResponseException as error:
            kind = TemporaryFailure if 400 <= error.smtp_code < 500 else PermanentFailure
            raise kind(f"SMTP {error.smtp_code} {error.smtp_error!r}") from None
        except (smtplib.SMTPException, OSError) as error:  # refused, reset, timed out: try again later
            raise TemporaryFailure(f"SMTP {type(error).__name__}: {error}") from None
        return message["Message-ID"]


class SendGridBackend:
    """The v3 Mail Send API through the official `sendgrid` library: one personalization per message, a
    category, and custom args carrying the outbox id (they come back in the Event Webhook)."""

    def __init__(self, api_key: str, host: str, timeout: float):
        from sendgrid import SendGridAPIClient

        if not api_key:
            raise RuntimeError("MAIL_BACKEND is sendgrid but SENDGRID_API_KEY is not set")
        self.client = SendGridAPIClient(api_key=api_key, host=host)
        self.client.client.timeout = timeout

    def send(self, mail: OutgoingMail) -> str:
        from python_http_client.exceptions import HTTPError

        try:
            response = self.client.send(request_body(mail))
        except HTTPError as error:
            body = error.body.decode("utf-8", "replace") if isinstance(error.body, bytes) else str(error.body)
            if error.status_code == 429:
                wait = provider_wait(error.headers or {}, now_utc())
                raise RateLimited(f"SendGrid 429 (wait {wait:.0f} s): {body[:500]}", wait) from None
            if error.status_code >= 500:
                raise TemporaryFailure(f"SendGrid {error.status_code}: {body[:500]}") from None
            raise PermanentFailure(f"SendGrid {error.status_code}: {body[:2000]}") from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
            raise TemporaryFailure(f"SendGrid unreachable: {error}") from None
        return response.headers.get("X-Message-Id") or f"sendgrid:{mail.idempotency_key}"


def request_body(mail: OutgoingMail) -> dict:
    """The v3 Mail Send body, as the library's `Mail(...).get()` builds it: one personalization, whose custom
    args carry the outbox id, a category, the text and the HTML (when there is one)."""
    name, address = parseaddr(mail.sender)
    content = [{"type": "text/plain", "value": mail.text}]
    if mail.html:
        content.append({"type": "text/html", "value": mail.html})
    return {
        "from": {"email": address, **({"name": name} if name else {})},
        "subject": mail.subject,
        "personalizations": [
            {"to": [{"email": mail.to}], "custom_args": {"outbox_id": str(mail.outbox_id), **mail.custom_args}}
        ],
        "content": content,
        "categories": [CATEGORY],
    }


class Paced:
    """A backend whose sends keep to a pacer: the ceiling an operator sets (DISPATCH_MAX_PER_SECOND), shared by
    every thread sending through it."""

    def __init__(self, backend: Backend, pacer: Pacer):
        self.backend, self.pacer = backend, pacer

    def send(self, mail: OutgoingMail) -> str:
        self.pacer.wait()
        return self.backend.send(mail)


def backend_from(config: dict, instance_path: str) -> Backend:
    """The configured backend, paced when DISPATCH_MAX_PER_SECOND sets a ceiling."""
    backend = _backend(config, instance_path)
    per_second = float(config["DISPATCH_MAX_PER_SECOND"])
    return Paced(backend, Pacer(per_second)) if per_second > 0 else backend


def _backend(config: dict, instance_path: str) -> Backend:
    name = config["MAIL_BACKEND"]
    if name == "file":
        return FileBackend(Path(config["OUTBOX_DIR"] or Path(instance_path) / "outbox"))
    if name == "smtp":
        return SmtpBackend(
            config["SMTP_HOST"],
            int(config["SMTP_PORT"]),
            bool(config["SMTP_STARTTLS"]),
            os.environ.get("SMTP_USERNAME"),
            os.environ.get("SMTP_PASSWORD"),
            float(config["MAIL_TIMEOUT"]),
            config["SMTP_CA_FILE"],
        )
    if name == "sendgrid":
        return SendGridBackend(
            os.environ.get("SENDGRID_API_KEY", ""), config["SENDGRID_API_HOST"], float(config["MAIL_TIMEOUT"])
        )
    raise RuntimeError(f"MAIL_BACKEND: {name!r} is not one of file, sendgrid, smtp")
