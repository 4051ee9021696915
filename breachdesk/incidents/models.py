"""Incident tables. `aware_at` is the legal clock: changing it needs a reason, kept in the timeline."""

import enum
from datetime import datetime

from sqlalchemy import JSON, Boolean, Column, ForeignKey, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from breachdesk.audit.services import Audited
from breachdesk.auth.models import User
from breachdesk.core.clock import now_utc
from breachdesk.core.db import UTCDateTime, str_enum
from breachdesk.core.i18n import Label
from breachdesk.extensions import db
from breachdesk.inventory.models import System


class IncidentStatus(enum.StrEnum):
    OPEN = "open"
    ASSESSED = "assessed"
    NOTIFYING = "notifying"
    CLOSED = "closed"


class Nature(enum.StrEnum):
    """The three breach types of the EDPB Guidelines 9/2022 (confidentiality, integrity, availability)."""

    CONFIDENTIALITY = "confidentiality"
    INTEGRITY = "integrity"
    AVAILABILITY = "availability"


class Cause(enum.StrEnum):
    EXTERNAL_ATTACK = "external_attack"
    INTERNAL_ERROR = "internal_error"
    LOST_OR_STOLEN_DEVICE = "lost_or_stolen_device"
    MISDIRECTED_EMAIL = "misdirected_email"
    SUBPROCESSOR_INCIDENT = "subprocessor_incident"
    OTHER = "other"


#: what the pages call each status
STATUS_LABELS = {
    IncidentStatus.OPEN: Label("incident status", "open"),
    IncidentStatus.ASSESSED: Label("incident status", "assessed"),
    IncidentStatus.NOTIFYING: Label("incident status", "notifying recipients"),
    IncidentStatus.CLOSED: Label("incident status", "closed"),
}
#: what a notice says for each value, in English; breachdesk/translations holds the other languages' words
NATURE_LABELS = {
    Nature.CONFIDENTIALITY: Label("breach nature", "confidentiality breach"),
    Nature.INTEGRITY: Label("breach nature", "integrity breach"),
    Nature.AVAILABILITY: Label("breach nature", "availability breach"),
}
CAUSE_LABELS = {
    Cause.EXTERNAL_ATTACK: Label("breach cause", "external attack"),
    Cause.INTERNAL_ERROR: Label("breach cause", "internal error"),
    Cause.LOST_OR_STOLEN_DEVICE: Label("breach cause", "lost or stolen device"),
    Cause.MISDIRECTED_EMAIL: Label("breach cause", "e-mail sent to the wrong recipient"),
    Cause.SUBPROCESSOR_INCIDENT: Label("breach cause", "incident at a sub-processor"),
    Cause.OTHER: Label("breach cause", "other cause"),
}


incident_systems = Table(
    "incident_systems",
    db.metadata,
    Column("incident_id", ForeignKey("incidents.id", ondelete="CASCADE"), primary_key=True),
    Column("system_id", ForeignKey("systems.id", ondelete="RESTRICT"), primary_key=True, index=True),
)


class Incident(Audited, db.Model):
    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    #: when we became aware of the breach: starts every notification clock (Art. 33(1), 33(2))
    aware_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    #: when monitoring or a person first detected something (may precede awareness)
    detected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: the window in which the breach happened; either end may be unknown
    occurred_from: Mapped[datetime | None] = mapped_column(UTCDateTime)
    occurred_to: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: nature: which of confidentiality, integrity, availability were lost
    nature: Mapped[list[str]] = mapped_column(JSON, default=list)
    cause: Mapped[Cause | None] = mapped_column(str_enum(Cause))
    #: when only some data categories were touched (fides keys); empty means all of the systems' data
    data_categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: encryption state bears on Art. 34(3)(a): data unintelligible to anyone not authorised
    encrypted: Mapped[bool | None] = mapped_column(Boolean)
    key_compromised: Mapped[bool | None] = mapped_column(Boolean)
    containment: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[IncidentStatus] = mapped_column(str_enum(IncidentStatus), default=IncidentStatus.OPEN, index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reported_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    systems: Mapped[list[System]] = relationship(secondary=incident_systems, order_by="System.key")
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    reported_by: Mapped[User | None] = relationship(foreign_keys=[reported_by_id])
    notes: Mapped[list["IncidentNote"]] = relationship(
        back_populates="incident", cascade="all, delete-orphan", order_by="IncidentNote.id"
    )

    def audit_label(self) -> str:
        return str(self.id)


class IncidentNote(Audited, db.Model):
    """A line in the incident's timeline written by a person: a note, or the reason for a change."""

    __tablename__ = "incident_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    written_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: note, or the change it explains: aware_at, reopen
    kind: Mapped[str] = mapped_column(String(32), default="note")
    text: Mapped[str] = mapped_column(Text)

    incident: Mapped[Incident] = relationship(back_populates="notes")
    author: Mapped[User | None] = relationship()

    def audit_label(self) -> str:
        return f"{self.incident_id}:{self.kind}"


class IncidentEvent(Audited, db.Model):
    """A dated fact that starts or stops a clock: a determination (significant, major, material,
    notifiable, high risk, or their negatives) or a stage filed outside BreachDesk. Anchors are read from
    these rows, so a deadline can always say which fact started it."""

    __tablename__ = "incident_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    #: for stage_filed: the rule id of the stage (e.g. nis2-art23-notification)
    stage: Mapped[str | None] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(Text, default="")
    #: the authority's reference for a stage filed elsewhere
    reference: Mapped[str] = mapped_column(String(200), default="")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    recorded_by: Mapped[User | None] = relationship()

    def audit_label(self) -> str:
        return f"{self.incident_id}:{self.kind}"
