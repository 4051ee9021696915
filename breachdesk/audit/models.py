"""The audit event table. Rows are only ever inserted; `verify_chain` proves nobody edited or removed one."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from breachdesk.core.clock import now_utc
from breachdesk.core.db import UTCDateTime
from breachdesk.extensions import db

GENESIS_HASH = "0" * 64


class AuditEvent(db.Model):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: when the change was made (UTC); part of the hashed content
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    #: who did it: "user:alice", "cli", "system", or "anonymous" for a failed login
    actor: Mapped[str] = mapped_column(String(120))
    actor_user_id: Mapped[int | None]  # deliberately no foreign key: audit rows outlive users
    action: Mapped[str] = mapped_column(String(40), index=True)
    entity_type: Mapped[str] = mapped_column(String(60), index=True)
    entity_id: Mapped[str] = mapped_column(String(200))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: hash of the previous event; unique, so two writers can never fork the chain
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: HMAC-SHA256 under the audit key (configuration, never this database) over the content and prev_hash
    hash: Mapped[str] = mapped_column(String(64), unique=True)
