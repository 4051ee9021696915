"""Inventory export in the import format, so that export then import gives back the same inventory."""

import csv
import io
from collections.abc import Iterator

import yaml
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from breachdesk.extensions import db
from breachdesk.inventory import fileformat as ff
from breachdesk.inventory.models import Customer, Organisation, ProcessingActivity, System, Volume


def _plain(value):
    return value.value if hasattr(value, "value") else value


def export_structure(volumes_file: str | None = "volumes.csv") -> str:
    customers = db.session.scalars(select(Customer).options(selectinload(Customer.contacts)).order_by(Customer.key))
    systems = db.session.scalars(select(System).order_by(System.key))
    activities = db.session.scalars(
        select(ProcessingActivity)
        .order_by(ProcessingActivity.key)
        .options(
            selectinload(ProcessingActivity.systems),
            selectinload(ProcessingActivity.customers),
            selectinload(ProcessingActivity.data_categories),
            selectinload(ProcessingActivity.subject_categories),
        )
    )
    doc: dict = {"format": ff.FORMAT}
    if organisation := db.session.get(Organisation, 1):
        doc["organisation"] = {n: getattr(organisation, n) for n in ff.ORGANISATION}
    doc |= {
        "customers": [
            {
                **{n: _plain(getattr(c, n)) for n in ff.CUSTOMER if n != "contacts"},
                "contacts": [{n: _plain(getattr(k, n)) for n in ff.CONTACT} for k in c.contacts],
            }
            for c in customers
        ],
        "systems": [{n: getattr(s, n) for n in ff.SYSTEM} for s in systems],
        "activities": [
            {
                **{
                    n: _plain(getattr(a, n))
                    for n in ff.ACTIVITY
                    if n not in ("systems", "customers", "data_categories", "data_subject_categories")
                },
                "systems": [s.key for s in a.systems],
                "customers": [c.key for c in a.customers],
                "data_categories": [c.data_category for c in a.data_categories],
                "data_subject_categories": [s.data_subject_category for s in a.subject_categories],
            }
            for a in activities
        ],
    }
    if volumes_file:
        doc["volumes"] = volumes_file
    return yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=120)


def iter_volumes_csv(batch: int = 10000) -> Iterator[str]:
    """Streams the volumes CSV in chunks: a million rows never sit in memory at once."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(ff.EXPORTED_VOLUME_COLUMNS)
    rows = db.session.execute(
        select(
            Customer.key,
            ProcessingActivity.key,
            Volume.data_subject_category,
            Volume.region,
            Volume.data_subjects,
            Volume.records,
        )
        .join(ProcessingActivity, Volume.activity_id == ProcessingActivity.id)
        .outerjoin(Customer, Volume.customer_id == Customer.id)
        .order_by(ProcessingActivity.key, Customer.key, Volume.data_subject_category, Volume.region)
        .execution_options(yield_per=batch)
    )
    for count, row in enumerate(rows, start=1):
        writer.writerow(["" if row[0] is None else row[0], *row[1:]])
        if count % batch == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()
