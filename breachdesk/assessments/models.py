"""The risk assessment of an incident and the decision, per recipient kind, that a person takes from it."""

import enum
from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from breachdesk.audit.services import Audited
from breachdesk.auth.models import User
from breachdesk.core.clock import now_utc
from breachdesk.core.db import UTCDateTime, str_enum
from breachdesk.core.i18n import Label
from breachdesk.extensions import db


class Decision(enum.StrEnum):
    UNDECIDED = "undecided"  # the clock runs meanwhile
    REQUIRED = "required"
    NOT_REQUIRED = "not_required"  # needs a named decider and a written rationale (Art. 33(5))


class Exemption(enum.StrEnum):
    """GDPR Art. 34(3): when data subjects need not be told individually."""

    UNINTELLIGIBLE = "unintelligible"  # (a) e.g. encrypted with a key not compromised
    MITIGATED = "mitigated"  # (b) later measures remove the high risk
    DISPROPORTIONATE_EFFORT = "disproportionate_effort"  # (c) a public communication instead


#: what a notice says for each value (breachdesk/translations holds the other languages' words)
DECISION_LABELS = {
    Decision.UNDECIDED: Label("notification decision", "not decided yet"),
    Decision.REQUIRED: Label("notification decision", "required"),
    Decision.NOT_REQUIRED: Label("notification decision", "not required"),
}
EXEMPTION_LABELS = {
    Exemption.UNINTELLIGIBLE: Label(
        "Art. 34(3) exemption", "the data is unintelligible to anyone not authorised to access it (Art. 34(3)(a))"
    ),
    Exemption.MITIGATED: Label(
        "Art. 34(3) exemption", "later measures ensure that the high risk is no longer likely (Art. 34(3)(b))"
    ),
    Exemption.DISPROPORTIONATE_EFFORT: Label(
        "Art. 34(3) exemption", "a public communication replaces individual notices (Art. 34(3)(c))"
    ),
}


class Assessment(Audited, db.Model):
    __tablename__ = "assessments"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), unique=True)
    #: ENISA inputs; exact decimals kept as text ("0.75"), so a score never drifts through a float
    dpc_category: Mapped[str | None] = mapped_column(String(16))
    dpc_adjustment: Mapped[int] = mapped_column(default=0)
    dpc_reason: Mapped[str] = mapped_column(Text, default="")
    dpc: Mapped[int]
    ei: Mapped[str] = mapped_column(String(8))
    cb_confidentiality: Mapped[str] = mapped_column(String(8), default="0")
    cb_integrity: Mapped[str] = mapped_column(String(8), default="0")
    cb_availability: Mapped[str] = mapped_column(String(8), default="0")
    malicious: Mapped[bool] = mapped_column(Boolean, default=False)
    score: Mapped[str] = mapped_column(String(8))
    band: Mapped[str] = mapped_column(String(16))
    exemptions: Mapped[list[str]] = mapped_column(JSON, default=list)
    assessed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    assessed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)

    decision_authority: Mapped[Decision] = mapped_column(str_enum(Decision), default=Decision.UNDECIDED)
    decision_data_subjects: Mapped[Decision] = mapped_column(str_enum(Decision), default=Decision.UNDECIDED)
    rationale: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    assessed_by: Mapped[User | None] = relationship(foreign_keys=[assessed_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    def audit_label(self) -> str:
        return str(self.incident_id)
