"""Read-side queries for the inventory pages."""

from sqlalchemy import BigInteger, Select, cast, func, or_, select
from sqlalchemy.orm import joinedload

from breachdesk.extensions import db
from breachdesk.inventory.models import (
    Customer,
    ProcessingActivity,
    System,
    Volume,
    activity_customers,
    activity_systems,
)


def searched(model, q: str, *columns) -> Select:
    """Entries whose key or any given column contains `q`, case-insensitively, ordered by name."""
    query = select(model).order_by(model.name, model.key)
    if q:
        pattern = f"%{q.lower()}%"
        query = query.where(or_(*[func.lower(c).like(pattern) for c in (model.key, *columns)]))
    return query


def customers_depending_on(system_id: int) -> Select:
    """Customers whose data sits in the system through any processor activity."""
    return (
        select(Customer)
        .where(
            Customer.id.in_(
                select(activity_customers.c.customer_id)
                .join(activity_systems, activity_systems.c.activity_id == activity_customers.c.activity_id)
                .where(activity_systems.c.system_id == system_id)
            )
        )
        .order_by(Customer.name, Customer.key)
    )


def inventory_counts() -> dict[str, int]:
    count = lambda model: db.session.scalar(select(func.count()).select_from(model))  # noqa: E731
    return {
        "customers": count(Customer),
        "systems": count(System),
        "activities": count(ProcessingActivity),
        "volumes": count(Volume),
        "data_subjects": db.session.scalar(select(cast(func.coalesce(func.sum(Volume.data_subjects), 0), BigInteger))),
    }


def volumes_for(customer_id: int | None = None, activity_id: int | None = None, q: str = "") -> Select:
    query = (
        select(Volume)
        .options(joinedload(Volume.customer), joinedload(Volume.activity))
        .join(ProcessingActivity, Volume.activity_id == ProcessingActivity.id)
        .outerjoin(Customer, Volume.customer_id == Customer.id)
        .order_by(ProcessingActivity.key, Customer.key, Volume.data_subject_category, Volume.region)
    )
    if customer_id is not None:
        query = query.where(Volume.customer_id == customer_id)
    if activity_id is not None:
        query = query.where(Volume.activity_id == activity_id)
    if q:
        pattern = f"%{q.lower()}%"
        query = query.where(
            or_(
                func.lower(Customer.key).like(pattern),
                func.lower(Customer.name).like(pattern),
                func.lower(ProcessingActivity.key).like(pattern),
                func.lower(Volume.data_subject_category).like(pattern),
            )
        )
    return query
