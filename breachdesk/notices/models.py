"""Notices, their templates, the outbox that sends them, and the proof that they arrived."""

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from breachdesk.audit.services import Audited
from breachdesk.auth.models import User
from breachdesk.core.clock import now_utc
from breachdesk.core.db import UTCDateTime, str_enum
from breachdesk.core.i18n import Label
from breachdesk.deadlines.models import Obligation
from breachdesk.extensions import db
from breachdesk.notices.checklist import STATEMENT_PARTS


class NoticeStatus(enum.StrEnum):
    DRAFT = "draft"  # rendered and frozen, still editable
    APPROVED = "approved"  # no more edits; its outbox messages exist


class OutboxStatus(enum.StrEnum):
    QUEUED = "queued"
    SENT = "sent"  # the provider accepted it
    FAILED = "failed"  # gave up: shown to people, who may resend to another contact


#: what the pages call each state (the team's pages are English; the words are labels all the same, so that no
#: value is shown as stored)
NOTICE_STATUS_LABELS = {
    NoticeStatus.DRAFT: Label("notice status", "draft"),
    NoticeStatus.APPROVED: Label("notice status", "approved"),
}
OUTBOX_STATUS_LABELS = {
    OutboxStatus.QUEUED: Label("e-mail state", "waiting to be sent"),
    OutboxStatus.SENT: Label("e-mail state", "sent"),
    OutboxStatus.FAILED: Label("e-mail state", "sending failed"),
}
#: the provider's delivery events that are recorded (SendGrid's Event Webhook names), in words
DELIVERY_LABELS = {
    "delivered": Label("e-mail state", "delivered"),
    "deferred": Label("e-mail state", "delayed by the receiving server"),
    "bounce": Label("e-mail state", "bounced"),
    "dropped": Label("e-mail state", "dropped by the mail provider"),
    "open": Label("e-mail state", "opened"),
}


class NoticeTemplate(Audited, db.Model):
    """An admin's version of a rule's template in one language. Without one, the default shipped in
    templates/notices/<rule id>.<language>.j2 applies."""

    __tablename__ = "notice_templates"
    __table_args__ = (UniqueConstraint("kind", "language", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the rule (rules.yaml id) whose notices it writes, initial and follow-up
    kind: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(8))
    version: Mapped[int]
    source: Mapped[str] = mapped_column(Text)
    note: Mapped[str] = mapped_column(String(300), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    created_by: Mapped[User | None] = relationship()

    def audit_label(self) -> str:
        return f"{self.kind}.{self.language}.v{self.version}"


class Statement(Audited, db.Model):
    """What recipients are told, written for them by the privacy team, one per incident and language (no
    machine translation). Notices render from it, never from the incident's internal title, description,
    notes or containment, which stay with the team."""

    __tablename__ = "statements"
    __table_args__ = (UniqueConstraint("incident_id", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    language: Mapped[str] = mapped_column(String(8))
    #: what happened, in plain words for the reader (Art. 33(3)(a), Art. 34(2))
    what_happened: Mapped[str] = mapped_column(Text, default="")
    #: the likely consequences (Art. 33(3)(c))
    consequences: Mapped[str] = mapped_column(Text, default="")
    #: measures taken and proposed, including to mitigate adverse effects (Art. 33(3)(d))
    measures_taken: Mapped[str] = mapped_column(Text, default="")
    measures_proposed: Mapped[str] = mapped_column(Text, default="")
    #: what the reader can do to protect themselves (Recital 86)
    advice: Mapped[str] = mapped_column(Text, default="")
    contact_point: Mapped[str] = mapped_column(Text, default="")
    #: a notice made after its due time states them (Art. 33(1))
    delay_reasons: Mapped[str] = mapped_column(Text, default="")
    #: for a follow-up: what was unknown when the first notice was sent (Art. 33(4))
    newly_known: Mapped[str] = mapped_column(Text, default="")
    #: what is not yet known and will follow: where the law says "where possible", it counts (Art. 33(4))
    pending_information: Mapped[str] = mapped_column(Text, default="")
    #: the other facts the rules ask a person to write (rules.yaml `facts:`), by fact id
    answers: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    def audit_label(self) -> str:
        return f"{self.incident_id}.{self.language}"

    def facts(self) -> dict[str, str]:
        """Every part and answer by fact id, as the checklist and the templates read them."""
        return {**(self.answers or {}), **{part: getattr(self, part) or "" for part in STATEMENT_PARTS}}


class Notice(db.Model):
    """One rendered notice for one obligation, frozen: what was approved is exactly what was sent.
    Audited by the services with a digest of the bodies (ten thousand letters would not fit the log)."""

    __tablename__ = "notices"
    __table_args__ = (UniqueConstraint("obligation_id", "sequence"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    obligation_id: Mapped[int] = mapped_column(ForeignKey("obligations.id", ondelete="CASCADE"))
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    #: the impact snapshot the notice was written from
    snapshot_id: Mapped[int | None] = mapped_column(ForeignKey("impact_snapshots.id", ondelete="SET NULL"))
    #: 1 for the initial notice, then 2, 3 ... for follow-ups (Art. 33(4))
    sequence: Mapped[int] = mapped_column(default=1)
    #: the rule whose template wrote it (rules.yaml id)
    kind: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(8))
    #: the template version used (0: the shipped default)
    template_version: Mapped[int] = mapped_column(default=0)
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    #: the organisation's name when the notice was written, frozen with its words: the e-mail's sender name
    #: and header (notices/layout.py), whatever the organisation is called by the time a retry goes out
    sender_name: Mapped[str] = mapped_column(String(200), default="")
    recipients: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: for follow-ups: what changed for this recipient since the previous notice
    changes: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    status: Mapped[NoticeStatus] = mapped_column(str_enum(NoticeStatus), default=NoticeStatus.DRAFT)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    obligation: Mapped[Obligation] = relationship()
    author: Mapped[User | None] = relationship(foreign_keys=[author_id])
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])
    messages: Mapped[list["OutboxMessage"]] = relationship(back_populates="notice", order_by="OutboxMessage.id")

    @property
    def status_label(self) -> Label:
        return NOTICE_STATUS_LABELS[self.status]


class AlertMail(db.Model):
    """The e-mail that carries a tick's new alerts of one incident and kind (or a digest) to its people. The
    reminder tick writes it; it lives here with the outbox that sends it."""

    __tablename__ = "alert_mails"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    recipients: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: the signed link to the incident the alert is about ("" for reminders and digests): a chat message's button
    link: Mapped[str] = mapped_column(String(500), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)


class OutboxMessage(db.Model):
    """One e-mail to send: a notice's, or a reminder's (alert mail). Written in the transaction that decided
    it; the idempotency key makes a second queueing impossible. The dispatcher audits what it does."""

    __tablename__ = "outbox_messages"
    __table_args__ = (
        Index("ix_outbox_messages_due", "status", "next_attempt_at"),
        CheckConstraint("(notice_id IS NULL) <> (alert_mail_id IS NULL)", name="one_content"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int | None] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"), index=True)
    alert_mail_id: Mapped[int | None] = mapped_column(ForeignKey("alert_mails.id", ondelete="CASCADE"), index=True)
    recipient: Mapped[str] = mapped_column(String(254))
    #: notice id : recipient : notice sequence
    idempotency_key: Mapped[str] = mapped_column(String(320), unique=True)
    status: Mapped[OutboxStatus] = mapped_column(str_enum(OutboxStatus), default=OutboxStatus.QUEUED)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    #: a dispatcher's lease: another may take the message only after it expires (a killed dispatcher)
    claimed_by: Mapped[str | None] = mapped_column(String(80))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    provider_message_id: Mapped[str | None] = mapped_column(String(200))
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: the latest delivery event from the provider (delivered, deferred, bounce, dropped, open)
    delivery: Mapped[str | None] = mapped_column(String(32))

    notice: Mapped[Notice | None] = relationship(back_populates="messages")
    alert_mail: Mapped[AlertMail | None] = relationship()
    events: Mapped[list["DeliveryEvent"]] = relationship(order_by="DeliveryEvent.id")

    @property
    def state_label(self) -> Label:
        """The provider's last word on it once it has one, else ours."""
        return DELIVERY_LABELS[self.delivery] if self.delivery else OUTBOX_STATUS_LABELS[self.status]


class DeliveryEvent(db.Model):
    """What the provider told us happened to a message (SendGrid Event Webhook)."""

    __tablename__ = "delivery_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox_messages.id", ondelete="CASCADE"), index=True)
    event: Mapped[str] = mapped_column(String(32))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: the provider's event id: a redelivered webhook batch is recorded once
    provider_event_id: Mapped[str | None] = mapped_column(String(200), unique=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    @property
    def label(self) -> Label:
        return DELIVERY_LABELS[self.event]


class Acknowledgement(Audited, db.Model):
    """A controller's confirmation that it received a notice, through the signed link the notice carried."""

    __tablename__ = "acknowledgements"

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notices.id", ondelete="CASCADE"), unique=True)
    acknowledged_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    name: Mapped[str] = mapped_column(String(200))
    ip_address: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(300), default="")

    def audit_label(self) -> str:
        return str(self.notice_id)
