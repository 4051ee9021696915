"""Reminders and escalations: one row per (obligation, kind, offset), so each is sent once whatever runs."""

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from breachdesk.core.clock import now_utc
from breachdesk.core.db import UTCDateTime
from breachdesk.extensions import db


class Alert(db.Model):
    """That a reminder or an escalation for one obligation (or a day's digest) was decided. The unique key
    is the whole guarantee: two schedulers, or one catching up after downtime, insert it once."""

    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_obligation_kind", "obligation_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: "<obligation>:reminder:<minutes>", "<obligation>:escalation:0" or "digest:<date>"
    key: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    offset_minutes: Mapped[int] = mapped_column(default=0)
    #: no foreign key: alerts are a record, like the audit log; the tick takes the id from the obligation it
    #: has just read, and obligations are never deleted
    obligation_id: Mapped[int | None] = mapped_column()
    #: the deadline it was about, as it stood then
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
