"""Obligations: one duty to tell one recipient, with the terms and clock that produced its deadline."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from breachdesk.audit.services import Audited
from breachdesk.core.clock import now_utc
from breachdesk.core.db import UTCDateTime, str_enum
from breachdesk.deadlines.obligations import ObligationStatus
from breachdesk.deadlines.rules import CONDITION_LENGTH
from breachdesk.extensions import db
from breachdesk.incidents.models import Incident

OVERDUE = "overdue"


def obligation_label(incident_id: int, rule_id: str, recipient_key: str) -> str:
    """How the audit log names an obligation: its natural key."""
    return f"{incident_id}:{rule_id}:{recipient_key}"


class Obligation(Audited, db.Model):
    __tablename__ = "obligations"
    __table_args__ = (
        UniqueConstraint("incident_id", "rule_id", "recipient_key"),
        # cover the dashboard's counts and its soonest-first page: index ranges, not the wide rows
        Index("ix_obligations_status_due_at", "status", "due_at", "incident_id"),
        Index("ix_obligations_incident_status_due_at", "incident_id", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    rule_id: Mapped[str] = mapped_column(String(64))
    regime: Mapped[str] = mapped_column(String(64))
    stage: Mapped[str] = mapped_column(String(64))
    recipient_kind: Mapped[str] = mapped_column(String(32))
    #: a customer key for customer recipients, else the recipient kind: a renamed authority stays one duty
    recipient_key: Mapped[str] = mapped_column(String(64))
    recipient: Mapped[str] = mapped_column(String(200))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"), index=True)
    condition: Mapped[str] = mapped_column(String(CONDITION_LENGTH))
    source: Mapped[str] = mapped_column(Text)
    #: the rule's terms when the duty arose (anchor, period, limit): later rule changes do not move it
    terms: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: the fact whose clock binds now (awareness, classified_major, stage_filed:<rule>, stage_due:<rule> ...)
    anchor: Mapped[str] = mapped_column(String(80))
    clock_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: the legal or contractual deadline; None for "without undue delay" (then target_at) or a clock not started
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: our internal target where the law says "without undue delay"
    target_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[ObligationStatus] = mapped_column(str_enum(ObligationStatus), default=ObligationStatus.PENDING)
    #: set when something needs a person: an authority nobody named, an entity status not stated, a fact that
    #: decides whether the rule applies but is not recorded (the question to answer)
    flag: Mapped[str] = mapped_column(Text, default="")
    #: the facts that made the rule apply, in words ("312 residents of Texas (US-TX) affected", the data elements):
    #: the rule's `applies_when` checked against the impact when the duty was derived
    triggered_by: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: frozen at the first send: seconds after due_at (or target_at); 0 when on time
    late_by_seconds: Mapped[int | None] = mapped_column(BigInteger)
    sent_reference: Mapped[str] = mapped_column(String(200), default="")
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[str] = mapped_column(String(120), default="")
    rationale: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    incident: Mapped[Incident] = relationship()

    def audit_label(self) -> str:
        return obligation_label(self.incident_id, self.rule_id, self.recipient_key)

    def shown_status(self, now: datetime | None = None) -> str:
        if self.status == ObligationStatus.PENDING and self.due_at is not None and self.due_at < (now or now_utc()):
            return OVERDUE
        return self.status.value
