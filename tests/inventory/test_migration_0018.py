"""Migration 0018: volume rows gain a region and customers their regulated statuses; existing rows keep their people
(a row naming no region lives where the default says), and going back keeps every row, or refuses when rows of one
customer, activity and subject are split by region."""

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, select, text

from breachdesk.extensions import db
from breachdesk.inventory.models import Customer, ProcessingActivity, Volume
from tests.inventories import load


def counts() -> dict[str, int]:
    found = {table: db.session.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar() for table in TABLES}
    db.session.rollback()  # on PostgreSQL a migration's ALTER TABLE would wait for this session's read locks
    return found


TABLES = ("customers", "contacts", "activity_customers", "volumes")


def test_the_downgrade_and_upgrade_keep_every_customer_link_and_volume_row(app):
    load()
    before = counts()
    directory = app.extensions["migrate"].directory
    downgrade(directory=directory, revision="0014")
    try:
        assert counts() == before  # SQLite drops the columns in place: no table rebuilt, no cascade
    finally:
        upgrade(directory=directory)
    assert counts() == before
    assert set(db.session.scalars(select(Volume.region))) == {""}  # where the default says
    assert not any(db.session.scalars(select(Customer.hipaa_covered_entity)))


def test_rows_split_by_region_refuse_the_downgrade_rather_than_lose_people(app, caplog):
    load()
    directory = app.extensions["migrate"].directory
    db.session.add(
        Volume(
            customer=db.session.scalar(select(Customer).where(Customer.key == "acme")),
            activity=db.session.scalar(select(ProcessingActivity).where(ProcessingActivity.key == "directory")),
            data_subject_category="customer",
            data_subjects=30,
            records=30,
            region="US-TX",
        )
    )
    db.session.commit()
    try:
        with pytest.raises(SystemExit):  # Flask-Migrate logs the refusal and exits
            downgrade(directory=directory, revision="0014")
    finally:
        db.session.rollback()
        upgrade(directory=directory)  # the later migrations went down before 0018 refused: back to the head
    assert "volume rows of 1 (customer, activity, subject category) are split by region" in caplog.text
    assert db.session.scalar(select(func.count()).select_from(Volume).where(Volume.region == "US-TX")) == 1
