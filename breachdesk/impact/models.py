"""Impact snapshots: what was computed, from which scope and inventory version, frozen for notices."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from breachdesk.core.clock import now_utc
from breachdesk.core.db import UTCDateTime
from breachdesk.extensions import db
from breachdesk.inventory.regions import named_regions


class ImpactSnapshot(db.Model):
    __tablename__ = "impact_snapshots"

    id: Mapped[int] = mapped_column(primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=now_utc)
    computed_by: Mapped[str] = mapped_column(String(120))
    #: {"systems": [keys], "data_categories": [keys]}: the incident's scope when computed
    scope: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: the last audit event id touching the inventory when computed: a later one makes this stale
    inventory_version: Mapped[int] = mapped_column(BigInteger)
    totals: Mapped[dict[str, int]] = mapped_column(JSON)
    #: affected processing activities with systems, categories and retention
    activities: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    #: controller-side activities (authority and data-subject duties)
    own: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    #: where the people of the controller-side activities live: region -> {"people", "records", "data_categories",
    #: "counts_unknown"} (impact.explain.Counts); empty in snapshots taken before regions were recorded
    own_regions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default="{}")
    #: {"added": [...], "removed": [...], "changed": [...]} against the previous snapshot
    difference: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    customers: Mapped[list["ImpactCustomer"]] = relationship(cascade="all, delete-orphan", passive_deletes=True)


class ImpactCustomer(db.Model):
    """One affected controller in a snapshot. Key and name are copied: the snapshot is evidence."""

    __tablename__ = "impact_customers"
    __table_args__ = (
        Index("ix_impact_customers_snapshot_key", "snapshot_id", "key"),
        Index("ix_impact_customers_snapshot_name", "snapshot_id", "name"),
        Index("ix_impact_customers_snapshot_people", "snapshot_id", "people"),
        Index("ix_impact_customers_snapshot_records", "snapshot_id", "records"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("impact_snapshots.id", ondelete="CASCADE"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    people: Mapped[int] = mapped_column(BigInteger)
    data_subjects: Mapped[dict[str, int]] = mapped_column(JSON)
    records: Mapped[int] = mapped_column(BigInteger)
    data_categories: Mapped[list[str]] = mapped_column(JSON)
    sensitivity: Mapped[int] = mapped_column(Integer)
    paths: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    #: the keys of the activities its paths go through, sorted: what a notice names, without reading the paths.
    #: Never empty (an affected controller has a path); the server's `[]` only filled the column's first migration
    activity_keys: Mapped[list[str]] = mapped_column(JSON, server_default="[]")
    counts_unknown: Mapped[bool] = mapped_column(Boolean, default=False)
    #: where its people live: region -> {"people", "records", "data_categories", "counts_unknown"}; a region's laws
    #: look at its residents and what they lost. Empty in snapshots taken before regions were recorded
    regions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default="{}")

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "name": self.name,
            "data_subjects": self.data_subjects,
            "records": self.records,
            "data_categories": self.data_categories,
            "sensitivity": self.sensitivity,
            "paths": self.paths,
            "counts_unknown": self.counts_unknown,
            "regions": named_regions(self.regions),
        }
