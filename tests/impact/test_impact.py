"""Impact on a hand-built inventory, where the right answer is obvious."""

from datetime import UTC, datetime
from typing import Any

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError

from breachdesk.extensions import db
from breachdesk.impact.explain import ExposureWindow, covers, difference, exposure_window, touched_categories
from breachdesk.impact.queries import Scope, compute
from breachdesk.inventory.importer import import_inventory
from breachdesk.inventory.models import Customer, ProcessingActivity, System, Volume, activity_customers
from breachdesk.inventory.services import save_entry
from breachdesk.inventory.taxonomy import Sensitivity, sensitivity_of
from tests.inventories import import_random_inventory, load, random_inventory

ACTIVITY_MESSAGES = {
    "key": "messages",
    "name": "Messages",
    "role": "processor",
    "retention_days": 6,
    "systems": ["db"],
    "data_categories": ["user.content.private", "user.contact.email"],
    "data_subject_categories": ["customer"],
}


def scope(*keys, categories=()):
    ids = {s.key: s.id for s in db.session.scalars(select(System))}
    return Scope(tuple(ids[k] for k in keys), tuple(categories))


def by_key(impact):
    return {c.key: c for c in impact.customers}


def test_a_system_shared_by_two_activities_reaches_both(small_inventory):
    impact = compute(scope("db"))
    assert sorted(a.key for a in impact.activities.values()) == ["directory", "messages"]
    assert sorted(by_key(impact)) == ["acme", "globex", "initech"]  # umbrella is only in billing


def test_a_customer_reached_by_two_paths_is_counted_once(small_inventory):
    acme = by_key(compute(scope("db")))["acme"]
    # the same people sit in both activities: the larger count, not the sum
    assert acme.data_subjects == {"customer": 100, "prospect": 20}
    assert acme.records == 1000 + 80 + 20  # records are distinct per activity
    assert [p["activity"] for p in acme.paths] == ["directory", "messages"]
    assert acme.paths[1] == {
        "systems": ["db"],
        "activity": "messages",
        "data_categories": ["user.contact.email", "user.content.private"],
    }
    assert acme.sensitivity == Sensitivity.BEHAVIOURAL
    impact = compute(scope("db", "sms"))
    assert impact.totals == {"customers": 3, "data_subjects": 120 + 50, "records": 1100 + 50, "activities": 2}


def test_a_linked_customer_without_volumes_is_still_affected(small_inventory):
    initech = by_key(compute(scope("db")))["initech"]
    assert initech.counts_unknown and initech.data_subjects == {} and initech.records == 0
    assert [p["activity"] for p in initech.paths] == ["messages"]


def linked(activity_key):
    links = activity_customers.c
    return sorted(
        db.session.scalars(
            select(Customer.key)
            .join(activity_customers, links.customer_id == Customer.id)
            .join(ProcessingActivity, ProcessingActivity.id == links.activity_id)
            .where(ProcessingActivity.key == activity_key)
        )
    )


def test_a_customer_keeps_its_link_while_it_has_volume_rows(small_inventory):
    """The links cover the volume rows, whatever a file or form lists: impact reads reach from links."""
    assert linked("messages") == ["acme", "initech"]  # the file lists initech; acme's volume row links it
    load()  # the same files again: nothing changes
    assert linked("messages") == ["acme", "initech"]
    save_entry("activities", {**ACTIVITY_MESSAGES, "customers": []})
    db.session.commit()
    assert linked("messages") == ["acme"]  # initech had no volume row: unlinked as asked
    impact = by_key(compute(scope("db")))
    assert sorted(impact) == ["acme", "globex"]
    assert impact["acme"].data_subjects == {"customer": 100, "prospect": 20} and impact["acme"].records == 1100
    assert [p["activity"] for p in impact["acme"].paths] == ["directory", "messages"]


def test_the_database_refuses_a_customer_volume_row_without_its_link(small_inventory):
    links = activity_customers.c
    umbrella = db.session.scalar(select(Customer.id).where(Customer.key == "umbrella"))
    messages = db.session.scalar(select(ProcessingActivity.id).where(ProcessingActivity.key == "messages"))
    row = {
        "customer_id": umbrella,
        "activity_id": messages,
        "data_subject_category": "customer",
        "data_subjects": 1,
        "records": 1,
    }
    with pytest.raises(IntegrityError):
        db.session.execute(insert(Volume), [row])
    db.session.rollback()
    acme = db.session.scalar(select(Customer.id).where(Customer.key == "acme"))
    with pytest.raises(IntegrityError):  # nor a link removed under a volume row
        db.session.execute(delete(activity_customers).where(links.customer_id == acme))
        db.session.flush()
    db.session.rollback()
    db.session.execute(insert(activity_customers), [{"activity_id": messages, "customer_id": umbrella}])
    db.session.execute(insert(Volume), [row])  # with its link: accepted
    db.session.commit()
    assert by_key(compute(scope("db")))["umbrella"].records == 1


def test_the_migration_links_customers_of_volume_rows_left_unlinked(small_inventory, app):
    """Databases from before 0010 may hold a volume row whose link an activity edit removed."""
    directory = app.extensions["migrate"].directory
    links = activity_customers.c
    downgrade(directory=directory, revision="0009")
    try:
        db.session.execute(
            delete(activity_customers).where(
                links.customer_id == select(Customer.id).where(Customer.key == "acme").scalar_subquery()
            )
        )
        db.session.commit()
        assert linked("messages") == ["initech"] and linked("directory") == ["globex"]
    finally:
        db.session.rollback()  # on PostgreSQL the upgrade's ALTER TABLE would wait for this session's read locks
        upgrade(directory=directory)
    assert linked("messages") == ["acme", "initech"] and linked("directory") == ["acme", "globex"]


def test_customers_come_in_code_point_order_of_name_then_key(app):
    """As Python sorts strings, on every database and whatever its locale: upper case before lower case,
    accented letters after z, equal names by key."""
    names = {"c1": "beta", "c2": "Zeta", "c3": "Émile", "c4": "alpha", "c5": "Ärger", "c6": "beta", "c7": "Zeta "}
    customers = "\n".join(f"  - {{key: {k}, name: '{n}', country: FR}}" for k, n in names.items())
    structure = (
        f"format: breachdesk-inventory/1\ncustomers:\n{customers}\n"
        "systems:\n  - {key: db, name: Main database, hosting_country: IE}\n"
        "activities:\n  - {key: mail, name: Mail, role: processor, systems: [db], "
        "data_categories: [user.contact.email], data_subject_categories: [customer], "
        f"customers: [{', '.join(names)}]}}\n"
    )
    import_inventory(("order.yaml", structure))
    db.session.commit()
    found = [(c.name, c.key) for c in compute(scope("db")).customers]
    assert found == sorted((n, k) for k, n in names.items())
    assert [k for _, k in found] == ["c2", "c7", "c4", "c1", "c6", "c5", "c3"]


def test_a_data_category_subset_keeps_only_activities_holding_it(small_inventory):
    impact = compute(scope("db", categories=["user.content.private"]))
    assert [a.key for a in impact.activities.values()] == ["messages"]
    assert sorted(by_key(impact)) == ["acme", "initech"]
    assert by_key(impact)["acme"].data_categories == ["user.content.private"]
    assert by_key(impact)["acme"].records == 1000


def test_a_parent_category_covers_its_children(small_inventory):
    impact = compute(scope("db", categories=["user.contact"]))
    assert sorted(a.key for a in impact.activities.values()) == ["directory", "messages"]
    assert by_key(impact)["globex"].data_categories == ["user.contact.email"]


def test_controller_activities_are_reported_apart_from_customers(small_inventory):
    impact = compute(scope("crm"))
    assert impact.customers == []
    assert impact.own == [
        {
            "activity": "prospects",
            "name": "Prospection",
            "systems": ["crm"],
            "data_categories": ["user.contact.email"],
            "sensitivity": 1,
            "retention_days": None,
            "data_subjects": {"prospect": 300},
            "records": 310,
        }
    ]
    assert impact.totals["data_subjects"] == 300


def test_financial_data_raises_the_sensitivity(small_inventory):
    umbrella = by_key(compute(scope("billing")))["umbrella"]
    assert umbrella.sensitivity == Sensitivity.FINANCIAL


def test_retention_bounds_the_exposed_window():
    occurred = datetime(2026, 3, 27, 22, 0, tzinfo=UTC)
    until = datetime(2026, 3, 29, 3, 0, tzinfo=UTC)  # across the European spring DST change
    window = exposure_window(6, occurred, until, aware_at=until)
    assert window == ExposureWindow(datetime(2026, 3, 21, 22, 0, tzinfo=UTC), until, 6)
    assert exposure_window(None, occurred, until, until) == ExposureWindow(None, until, None)  # no start
    unknown = exposure_window(6, None, None, aware_at=until)
    assert unknown.data_from == datetime(2026, 3, 23, 3, 0, tzinfo=UTC)


def test_a_snapshot_difference_names_customers_added_removed_and_changed():
    before = {"acme": {"people": 10}, "globex": {"people": 5}, "initech": {"people": 1}}
    after = {"acme": {"people": 12}, "globex": {"people": 5}, "umbrella": {"people": 3}}
    assert difference(before, after) == {"added": ["umbrella"], "removed": ["initech"], "changed": ["acme"]}


def test_category_matching_rules():
    assert covers("user.contact", "user.contact.email") and not covers("user.contact.email", "user.contact")
    assert not covers("user.contact", "user.contactless")
    assert touched_categories(["user.contact"], ["user.contact.email"]) == ["user.contact.email"]
    assert touched_categories(["user.name"], ["user.contact"]) == []
    assert touched_categories(["b", "a"], []) == ["a", "b"]


def read_plainly(inventory: dict[str, Any]) -> list[tuple]:
    """Each affected customer's impact worked out from the inventory's own description, in Python."""
    scope = set(inventory["scope"])
    reached = {k: a for k, a in inventory["activities"].items() if scope & set(a["systems"])}
    found = []
    for customer, name in inventory["customers"].items():
        via = sorted(k for k, a in reached.items() if customer in a["linked"])
        if not via:
            continue
        rows = [v for v in inventory["volumes"] if v[0] == customer and v[1] in reached]
        people = {s: max(v[3] for v in rows if v[2] == s) for s in {v[2] for v in rows}}
        held = sorted({c for k in via for c in reached[k]["data_categories"]})
        paths = [
            {
                "systems": sorted(scope & set(reached[k]["systems"])),
                "activity": k,
                "data_categories": reached[k]["data_categories"],
            }
            for k in via
        ]
        found.append(
            (name, customer, people, sum(v[4] for v in rows), held, max(map(sensitivity_of, held)), paths, not rows)
        )
    return sorted(found)


@pytest.mark.parametrize("seed", range(4))
def test_every_customer_impact_is_the_plain_reading_of_the_inventory(app, seed):
    """People per subject are the largest count, records the sum, categories the sorted union, sensitivity
    the highest, paths one per activity in key order, customers by name then key in code-point order."""
    inventory = random_inventory(seed)
    import_random_inventory(inventory)
    ids = {s.key: s.id for s in db.session.scalars(select(System))}
    impact = compute(Scope(tuple(ids[k] for k in inventory["scope"])))
    assert [
        (c.name, c.key, c.data_subjects, c.records, c.data_categories, c.sensitivity, c.paths, c.counts_unknown)
        for c in impact.customers
    ] == read_plainly(inventory)
