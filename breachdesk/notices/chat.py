"""Chat channels for alerts: a Slack and a Microsoft Teams incoming webhook, sent through the outbox like mail.

Each webhook URL is a bearer secret (whoever holds it can post to the channel), so it lives in the configuration
(`BREACHDESK_SLACK_WEBHOOK_URL`, `BREACHDESK_TEAMS_WEBHOOK_URL`), like the SendGrid key: never in the database, on
a page or in the audit log. An outbox message to a channel names the channel (`chat:slack`), not the URL, and the
URL is read when it is sent. Answers map onto the mail backends' failures, with one difference: a channel's 429
is a temporary failure of that message, not RateLimited, which would hold back every e-mail in the outbox.
"""

import ipaddress
import json
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from breachdesk.core.i18n import Label
from breachdesk.notices.mail import Backend, OutgoingMail, PermanentFailure, TemporaryFailure

SLACK = "chat:slack"
TEAMS = "chat:teams"
#: the configuration key holding each channel's webhook URL
WEBHOOK_SETTINGS = {SLACK: "SLACK_WEBHOOK_URL", TEAMS: "TEAMS_WEBHOOK_URL"}
#: what a page calls each channel
CHANNEL_LABELS = {
    SLACK: Label("chat channel", "Slack channel"),
    TEAMS: Label("chat channel", "Microsoft Teams channel"),
}
#: Slack's limits: a section's text 3,000 characters, a header's 150 (Block Kit reference)
SECTION_LIMIT = 3000
HEADER_LIMIT = 150


def webhook_problem(setting: str, url: str) -> str | None:
    """A webhook URL must be https, so the secret in it never crosses the network in clear; plain http is
    accepted only to this machine (a local relay, the test suite's stub)."""
    if not url:
        return None
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return None
    if parts.scheme == "http" and _loopback(parts.hostname or ""):
        return None
    return f"{setting}: an incoming-webhook URL starting with https:// (http only to this machine)"


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def chat_problems(config) -> list[str]:
    return [p for key in WEBHOOK_SETTINGS.values() if (p := webhook_problem(key, config.get(key) or ""))]


def channels(config) -> list[str]:
    """The chat channels configured, as outbox recipients."""
    return [channel for channel, key in WEBHOOK_SETTINGS.items() if config.get(key)]


def _slack_escaped(text: str) -> str:
    """Slack reads &, < and > as markup (`<!channel>` would ping everyone): its formatting reference asks for
    these three as HTML entities, and nothing else."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_message(mail: OutgoingMail) -> dict:
    """Slack's incoming-webhook JSON: `text` is the notification's fallback, the blocks what the channel shows."""
    blocks: list[dict] = [
        {"type": "header", "text": {"type": "plain_text", "text": mail.subject[:HEADER_LIMIT]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": _slack_escaped(mail.text)[:SECTION_LIMIT]}},
    ]
    if mail.link:
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": f"<{mail.link}|{_slack_escaped(mail.subject)}>"}}
        )
    return {"text": _slack_escaped(mail.subject), "blocks": blocks}


def teams_message(mail: OutgoingMail) -> dict:
    """An Adaptive Card in a message, the format both Teams' incoming webhooks and the Workflows that replace
    them accept; the incident link is its button."""
    card: dict = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
            {"type": "TextBlock", "text": mail.subject, "weight": "Bolder", "size": "Medium", "wrap": True},
            {"type": "TextBlock", "text": mail.text, "wrap": True},
        ],
    }
    if mail.link:
        card["actions"] = [{"type": "Action.OpenUrl", "title": mail.subject[:80], "url": mail.link}]
    return {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}
        ],
    }


class Webhook:
    """One channel's incoming webhook: POST the message as JSON; the answer's status says what became of it."""

    def __init__(self, name: str, url: str, message, timeout: float):
        self.name, self.url, self.message, self.timeout = name, url, message, timeout

    def send(self, mail: OutgoingMail) -> str:
        request = urllib.request.Request(
            self.url,
            data=json.dumps(self.message(mail)).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - https, checked
                response.read()
        except urllib.error.HTTPError as error:
            body = error.read().decode("utf-8", "replace")[:500]
            kind = TemporaryFailure if error.code == 429 or error.code >= 500 else PermanentFailure
            raise kind(f"{self.name} webhook {error.code}: {body}") from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
            raise TemporaryFailure(f"{self.name} webhook unreachable: {getattr(error, 'reason', error)}") from None
        return f"{self.name}:{mail.idempotency_key}"


class Routed:
    """Mail to the mail backend, a channel's message to its webhook: one outbox, one dispatcher, the same
    retries and proof."""

    def __init__(self, mail: Backend, config):
        self.mail = mail
        self.config = config

    def send(self, mail: OutgoingMail) -> str:
        if mail.to not in WEBHOOK_SETTINGS:
            return self.mail.send(mail)
        url = self.config.get(WEBHOOK_SETTINGS[mail.to]) or ""
        if not url:
            raise PermanentFailure(f"{WEBHOOK_SETTINGS[mail.to]} is no longer set")
        name, message = ("Slack", slack_message) if mail.to == SLACK else ("Teams", teams_message)
        return Webhook(name, url, message, float(self.config["MAIL_TIMEOUT"])).send(mail)
