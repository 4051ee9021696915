"""Saving one inventory entry from a form or the API, through the same rules and code as a file import."""

from typing import Any

from sqlalchemy import select

from breachdesk.core.errors import ValidationFailed
from breachdesk.core.progress import NoProgress
from breachdesk.core.signals import organisation_changed
from breachdesk.extensions import db
from breachdesk.inventory import fileformat as ff
from breachdesk.inventory.importer import ImportSummary, Structure, apply_structure
from breachdesk.inventory.models import Customer, Organisation, ProcessingActivity, Volume
from breachdesk.inventory.volumes import check_volume_row

SPECS = {"customers": ff.CUSTOMER, "systems": ff.SYSTEM, "activities": ff.ACTIVITY}


def save_entry(section: str, raw: dict[str, Any]) -> Any:
    """Create or update one customer, system or activity by its key; raises ValidationFailed naming fields."""
    problems = ff.Problems()
    record = ff.validate_record(raw, SPECS[section], "", section, problems)
    if record and section == "customers":
        record.children["contacts"] = [
            c
            for index, item in enumerate(raw.get("contacts") or [])
            if (c := ff.validate_record(item, ff.CONTACT, "", f"contacts[{index}]", problems))
        ]
    if record and section == "activities":
        record.values["transfers"] = [
            t.values
            for index, item in enumerate(raw.get("transfers") or [])
            if (t := ff.validate_record(item, ff.TRANSFER, "", f"transfers[{index}]", problems))
        ]
        if record.values.get("role") == "controller" and record.values.get("customers"):
            problems.add("", None, "customers", "a controller activity processes for no customer")
    problems.raise_if_any()
    apply_structure(Structure(**{section: [record]}), "", NoProgress(), ImportSummary())
    return record.values["_obj"]


def save_organisation(raw: dict[str, Any]) -> Organisation:
    """The organisation profile from the settings page, by the rules of the file's `organisation` section.
    Open incidents are re-derived at once (core.signals): a regime added or dropped changes what they owe."""
    problems = ff.Problems()
    record = ff.validate_record(raw, ff.ORGANISATION, "", "organisation", problems)
    problems.raise_if_any()
    apply_structure(Structure(organisation=record), "", NoProgress(), ImportSummary())
    organisation_changed.send()
    return db.session.get(Organisation, 1)


def save_volume(values: dict[str, Any], volume: Volume | None = None) -> Volume:
    """One volume row, checked by the same rules as a CSV line."""
    problems = ff.Problems()
    activity = db.session.scalar(select(ProcessingActivity).where(ProcessingActivity.key == values["activity"]))
    customer = db.session.scalar(select(Customer).where(Customer.key == values["customer"]))
    activities = {activity.key: (activity.id, activity.role)} if activity else {}
    customers = {customer.key: customer.id} if customer else {}
    declared = {(activity.id, s.data_subject_category) for s in activity.subject_categories} if activity else set()
    row = {k: str(v if v is not None else "") for k, v in values.items()}
    checked = check_volume_row(row, "", None, customers, activities, declared, problems)
    problems.raise_if_any()
    same_customer = (
        Volume.customer_id.is_(None) if checked["customer_id"] is None else Volume.customer_id == checked["customer_id"]
    )
    clash = db.session.scalar(
        select(Volume).where(
            same_customer,
            Volume.activity_id == checked["activity_id"],
            Volume.data_subject_category == checked["data_subject_category"],
            Volume.region == checked["region"],
        )
    )
    if clash is not None and clash is not volume:
        raise ValidationFailed(
            ["volume: a row for this customer, activity, subject category and region exists already"]
        )
    if customer and customer not in activity.customers:
        activity.customers.append(customer)
        db.session.flush()  # the link first: the database refuses a customer's volume row without it
    volume = volume or Volume()
    # the objects, not only their ids: the audit names a new row by its customer and activity
    volume.customer, volume.activity = customer, activity
    for name in ("data_subject_category", "region", "data_subjects", "records"):
        setattr(volume, name, checked[name])
    db.session.add(volume)
    db.session.flush()
    return volume
