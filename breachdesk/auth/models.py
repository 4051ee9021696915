"""Users and their roles."""

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column
from werkzeug.security import check_password_hash, generate_password_hash

from breachdesk.audit.services import Audited
from breachdesk.core.access import Role
from breachdesk.core.clock import now_utc
from breachdesk.core.db import UTCDateTime, str_enum
from breachdesk.extensions import db


class User(Audited, UserMixin, db.Model):
    __tablename__ = "users"
    __audit_secret__ = ("password_hash",)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    email: Mapped[str] = mapped_column(String(254))
    #: scrypt hash (werkzeug); the password itself is never stored or logged
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(str_enum(Role, length=20))
    #: IANA zone in which this user reads times; storage is always UTC
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    #: the language this user reads alerts in (en, fr); None when not known: alerts are then in English
    language: Mapped[str | None] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    #: set when an admin disables the account; a disabled user cannot log in or stay logged in
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: part of every session's user id: raising it ends every session (logout, new password, new role)
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: wrong passwords in a row; LOGIN_LOCK_AFTER of them lock the account until `locked_until`
    failed_logins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def audit_label(self) -> str:
        return self.username

    @property
    def is_active(self) -> bool:
        return self.disabled_at is None

    def get_id(self) -> str:
        """What a session cookie holds: a cookie taken before the version moved names no one."""
        return f"{self.id}.{self.session_version}"

    def end_sessions(self) -> None:
        self.session_version += 1

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)
