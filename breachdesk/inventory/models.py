"""Inventory tables. Keys are stable, human-chosen identifiers used by imports, the API and notices."""

import enum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Table,
    Text,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from breachdesk.audit.services import Audited
from breachdesk.core.db import str_enum
from breachdesk.core.i18n import Label
from breachdesk.extensions import db
from breachdesk.inventory.regions import MAX_LENGTH


class Language(enum.StrEnum):
    EN = "en"
    FR = "fr"


class NoticeTerms(enum.StrEnum):
    CONTRACT_HOURS = "contract_hours"  # the contract names a deadline in hours
    WITHOUT_UNDUE_DELAY = "without_undue_delay"  # Art. 33(2) wording only; notice_hours is our target


class ContactRole(enum.StrEnum):
    SECURITY = "security"
    DPO = "dpo"
    LEGAL = "legal"


#: what a notice says for each role (breachdesk/translations holds the other languages' words)
CONTACT_ROLE_LABELS = {
    ContactRole.SECURITY: Label("contact role", "security contact"),
    ContactRole.DPO: Label("contact role", "data protection officer"),
    ContactRole.LEGAL: Label("contact role", "legal contact"),
}


class OurRole(enum.StrEnum):
    PROCESSOR = "processor"  # we act on a customer's instructions (Art. 28)
    CONTROLLER = "controller"  # we decide purposes and means (our own staff, prospects, suppliers)


class LegalBasis(enum.StrEnum):
    """GDPR Art. 6(1)(a)-(f). For processor activities the basis is the controller's."""

    CONSENT = "consent"
    CONTRACT = "contract"
    LEGAL_OBLIGATION = "legal_obligation"
    VITAL_INTERESTS = "vital_interests"
    PUBLIC_TASK = "public_task"
    LEGITIMATE_INTERESTS = "legitimate_interests"


activity_systems = Table(
    "activity_systems",
    db.metadata,
    Column("activity_id", ForeignKey("processing_activities.id", ondelete="CASCADE"), primary_key=True),
    Column("system_id", ForeignKey("systems.id", ondelete="CASCADE"), primary_key=True, index=True),
)

#: The customers an activity processes data for. A superset of the (activity, customer) pairs of the
#: volume rows (a foreign key from volumes holds it): a volume row links its customer, and a customer
#: keeps its link while it has volume rows in the activity (importer._links_with_volume_rows); impact reads an
#: activity's reach from here alone.
activity_customers = Table(
    "activity_customers",
    db.metadata,
    Column("activity_id", ForeignKey("processing_activities.id", ondelete="CASCADE"), primary_key=True),
    Column("customer_id", ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Customer(Audited, db.Model):
    """A controller we process personal data for."""

    __tablename__ = "customers"
    __table_args__ = (CheckConstraint("notice_hours > 0", name="notice_hours_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    country: Mapped[str] = mapped_column(String(2))
    language: Mapped[Language] = mapped_column(str_enum(Language), default=Language.EN)
    #: the customer's IANA zone, used to show it deadlines in its own local time
    time_zone: Mapped[str] = mapped_column(String(64), default="UTC")
    #: whether notice_hours is a contractual deadline or our internal target for "without undue delay"
    notice_terms: Mapped[NoticeTerms] = mapped_column(str_enum(NoticeTerms), default=NoticeTerms.CONTRACT_HOURS)
    #: hours after we become aware by which this controller must be told (Art. 33(2) + contract)
    notice_hours: Mapped[int] = mapped_column(default=24)
    #: we signed a business associate agreement with it: HIPAA's business associate duties are owed to it
    #: (45 CFR 164.410)
    hipaa_covered_entity: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: a DORA financial entity we serve as an ICT third-party service provider (Reg. (EU) 2022/2554 Art. 30)
    financial_entity: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    contacts: Mapped[list["Contact"]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", order_by="Contact.id"
    )


class Contact(Audited, db.Model):
    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    role: Mapped[ContactRole] = mapped_column(str_enum(ContactRole))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))

    customer: Mapped[Customer] = relationship(back_populates="contacts")

    def audit_label(self) -> str:
        return f"{self.customer.key if self.customer else self.customer_id}:{self.role}:{self.email}"


class System(Audited, db.Model):
    """A datastore or service, ours or a sub-processor's (Art. 28(2))."""

    __tablename__ = "systems"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    is_subprocessor: Mapped[bool] = mapped_column(Boolean, default=False)
    vendor: Mapped[str] = mapped_column(String(200), default="")
    #: ISO 3166-1 alpha-2; empty when unknown (a Fides manifest does not say)
    hosting_country: Mapped[str] = mapped_column(String(2), default="")
    hosting_region: Mapped[str] = mapped_column(String(100), default="")
    #: encryption at rest bears on the Art. 34(3)(a) exemption (data unintelligible)
    encrypted_at_rest: Mapped[bool] = mapped_column(Boolean, default=False)
    description: Mapped[str] = mapped_column(Text, default="")

    activities: Mapped[list["ProcessingActivity"]] = relationship(
        secondary=activity_systems, back_populates="systems", order_by="ProcessingActivity.key"
    )


class ProcessingActivity(Audited, db.Model):
    __tablename__ = "processing_activities"
    __table_args__ = (CheckConstraint("retention_days IS NULL OR retention_days >= 0", name="retention_days_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    purpose: Mapped[str] = mapped_column(Text, default="")
    #: processor activities oblige us to tell each customer; controller ones, the authority and people
    role: Mapped[OurRole] = mapped_column(str_enum(OurRole))
    legal_basis: Mapped[LegalBasis | None] = mapped_column(str_enum(LegalBasis))
    #: days the data is kept; a breach exposes at most this window. None: kept while the relationship lasts
    retention_days: Mapped[int | None] = mapped_column(Integer)
    retention_note: Mapped[str] = mapped_column(String(300), default="")
    #: transfers outside the EEA: [{"country": "US", "safeguard": "SCCs"}]
    transfers: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)

    systems: Mapped[list[System]] = relationship(
        secondary=activity_systems, back_populates="activities", order_by="System.key"
    )
    customers: Mapped[list[Customer]] = relationship(secondary=activity_customers, order_by="Customer.key")
    data_categories: Mapped[list["ActivityDataCategory"]] = relationship(
        back_populates="activity", cascade="all, delete-orphan", order_by="ActivityDataCategory.data_category"
    )
    subject_categories: Mapped[list["ActivitySubjectCategory"]] = relationship(
        back_populates="activity",
        cascade="all, delete-orphan",
        order_by="ActivitySubjectCategory.data_subject_category",
    )


class ActivityDataCategory(Audited, db.Model):
    __tablename__ = "activity_data_categories"

    activity_id: Mapped[int] = mapped_column(
        ForeignKey("processing_activities.id", ondelete="CASCADE"), primary_key=True
    )
    #: fides data category key, e.g. user.contact.email
    data_category: Mapped[str] = mapped_column(String(120), primary_key=True)
    #: ENISA class derived from the category when written, so SQL can rank impact without Python
    sensitivity: Mapped[int] = mapped_column(Integer)

    activity: Mapped[ProcessingActivity] = relationship(back_populates="data_categories")

    def audit_label(self) -> str:
        return f"{self.activity.key}:{self.data_category}"


class ActivitySubjectCategory(Audited, db.Model):
    __tablename__ = "activity_subject_categories"

    activity_id: Mapped[int] = mapped_column(
        ForeignKey("processing_activities.id", ondelete="CASCADE"), primary_key=True
    )
    #: fides data subject key, e.g. customer, employee, prospect
    data_subject_category: Mapped[str] = mapped_column(String(120), primary_key=True)

    activity: Mapped[ProcessingActivity] = relationship(back_populates="subject_categories")

    def audit_label(self) -> str:
        return f"{self.activity.key}:{self.data_subject_category}"


class Volume(Audited, db.Model):
    """How many people and records one activity holds for one customer, subject category and region where
    those people live."""

    __tablename__ = "volumes"
    __table_args__ = (
        CheckConstraint("data_subjects >= 0 AND records >= 0", name="counts_not_negative"),
        # controller activities have no customer: NULLs never collide in a unique constraint, so a
        # partial index guards them
        Index(
            "uq_volumes_customer_activity_subject_region",
            "customer_id",
            "activity_id",
            "data_subject_category",
            "region",
            unique=True,
        ),
        Index(
            "uq_volumes_own_activity_subject_region",
            "activity_id",
            "data_subject_category",
            "region",
            unique=True,
            sqlite_where=text("customer_id IS NULL"),
            postgresql_where=text("customer_id IS NULL"),
        ),
        # a customer's row needs its link (a controller's row, customer NULL, is not checked): the impact
        # query finds an activity's customers from the links alone, and must never miss one with data
        ForeignKeyConstraint(
            ["activity_id", "customer_id"], ["activity_customers.activity_id", "activity_customers.customer_id"]
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: None for activities where we are the controller
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    activity_id: Mapped[int] = mapped_column(ForeignKey("processing_activities.id", ondelete="CASCADE"), index=True)
    data_subject_category: Mapped[str] = mapped_column(String(120))
    #: number of distinct people
    data_subjects: Mapped[int] = mapped_column(BigInteger)
    records: Mapped[int] = mapped_column(BigInteger)
    #: where these people live (inventory.regions): an ISO 3166-1 country or ISO 3166-2 subdivision, `unknown`, or
    #: "" when the inventory does not say: then the customer's country, or the organisation's for our own activities
    region: Mapped[str] = mapped_column(String(MAX_LENGTH), default="", server_default="")

    customer: Mapped[Customer | None] = relationship()
    activity: Mapped[ProcessingActivity] = relationship()

    def audit_label(self) -> str:
        customer = self.customer.key if self.customer else "-"
        where = f":{self.region}" if self.region else ""
        return f"{customer}:{self.activity.key}:{self.data_subject_category}{where}"


class Organisation(Audited, db.Model):
    """Who we are, for the deadline rules: the regimes we are subject to and the authorities we answer to.
    One row; part of the inventory file and of the settings page."""

    __tablename__ = "organisation"
    __table_args__ = (
        CheckConstraint("id = 1", name="single_row"),
        CheckConstraint("undue_delay_target_hours > 0", name="target_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, default=1)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2))
    #: the GDPR lead supervisory authority (Art. 56), for rows that say `authority: lead_supervisory_authority`
    lead_supervisory_authority: Mapped[str] = mapped_column(String(200), default="")
    #: regime names of the rules table; a regime not named here produces no obligation
    regimes: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: the receiving authority per regime, where the rules table names none (NIS2's CSIRT, DORA's regulator)
    authorities: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    #: regime -> our status under it (NIS2: essential / important; DORA: the kind of financial entity)
    entity_status: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    #: our internal target for duties "without undue delay" that no contract turns into hours (Art. 34)
    undue_delay_target_hours: Mapped[int] = mapped_column(default=72)
    #: our data protection officer, named in every notice (Art. 33(3)(b))
    dpo_name: Mapped[str] = mapped_column(String(200), default="")
    dpo_email: Mapped[str] = mapped_column(String(254), default="")

    def audit_label(self) -> str:
        return self.name
