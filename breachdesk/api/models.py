"""API tokens: shown once, stored as a SHA-256 digest, revocable."""

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from breachdesk.audit.services import Audited
from breachdesk.auth.models import User
from breachdesk.core.clock import now_utc
from breachdesk.core.db import UTCDateTime
from breachdesk.extensions import db


class ApiToken(Audited, db.Model):
    __tablename__ = "api_tokens"
    __audit_secret__ = ("token_hash",)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: the first characters, so people can tell their tokens apart without the secret
    hint: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    def audit_label(self) -> str:
        return f"{self.id}:{self.hint}"
