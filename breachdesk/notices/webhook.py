"""The SendGrid Event Webhook: signature check (ECDSA, the `sendgrid` library's verifier) and recording
delivery events against outbox messages (found through the custom arg `outbox_id` every message carries)."""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from breachdesk.audit.services import record
from breachdesk.core.errors import ValidationFailed
from breachdesk.extensions import db
from breachdesk.notices.models import DELIVERY_LABELS, DeliveryEvent, OutboxMessage

SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"
#: the events that say what happened to a message; others (processed, click ...) are acknowledged and ignored
RECORDED = set(DELIVERY_LABELS)


def verified(
    payload: str, signature: str | None, timestamp: str | None, public_key: str, max_age: float, now: datetime
) -> bool:
    """Unsigned, badly signed, signed too long ago (a replay), or no key configured: refused."""
    if not (signature and timestamp and public_key and timestamp.isdigit()):
        return False
    if abs(now.timestamp() - int(timestamp)) > max_age:
        return False
    from sendgrid.helpers.eventwebhook import EventWebhook

    try:
        return EventWebhook(public_key).verify_signature(payload, signature, timestamp)
    except (ValueError, TypeError):  # a malformed key or signature is a bad signature
        return False


def _message_of(outbox_id: Any) -> OutboxMessage | None:
    """The message an event names, if it names one of ours: ids are positive 63-bit integers."""
    text = str(outbox_id) if isinstance(outbox_id, int | str) and not isinstance(outbox_id, bool) else ""
    if not (text.isascii() and text.isdigit() and 0 < int(text) < 2**63):
        return None
    return db.session.get(OutboxMessage, int(text))


def record_events(events: Any) -> dict[str, int]:
    if not isinstance(events, list):
        raise ValidationFailed(["body: expected a JSON array of events"])
    counts = {"recorded": 0, "ignored": 0, "duplicate": 0}
    for index, event in enumerate(events):
        if not isinstance(event, dict):
            raise ValidationFailed([f"[{index}]: expected an event object"])
        kind, event_id, message = event.get("event"), event.get("sg_event_id"), _message_of(event.get("outbox_id"))
        if (
            not isinstance(kind, str)
            or kind not in RECORDED
            or message is None
            or not isinstance(event_id, str)
            or not 0 < len(event_id) <= 200
        ):
            counts["ignored"] += 1  # without its event id a replay could not be told from a new event
            continue
        if db.session.scalar(select(DeliveryEvent.id).where(DeliveryEvent.provider_event_id == event_id)):
            counts["duplicate"] += 1  # SendGrid retries a batch it thinks failed
            continue
        try:
            occurred = datetime.fromtimestamp(int(event.get("timestamp")), UTC)
        except (TypeError, ValueError, OverflowError):
            raise ValidationFailed([f"[{index}].timestamp: expected a Unix time"]) from None
        reason = str(event.get("reason") or event.get("response") or "")[:2000]
        db.session.add(
            DeliveryEvent(
                outbox_id=message.id, event=kind, occurred_at=occurred, provider_event_id=event_id, reason=reason
            )
        )
        latest = db.session.scalar(
            select(DeliveryEvent.occurred_at)
            .where(DeliveryEvent.outbox_id == message.id)
            .order_by(DeliveryEvent.occurred_at.desc())
            .limit(1)
        )
        if latest is None or occurred >= latest:
            message.delivery = kind
        db.session.flush()
        record(
            db.session,
            f"delivery.{kind}",
            "outbox_messages",
            message.id,
            after={"recipient": message.recipient, "at": occurred.isoformat(), "reason": reason or None},
        )
        counts["recorded"] += 1
    return counts
