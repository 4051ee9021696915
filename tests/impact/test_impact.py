"""Impact on a hand-built inventory, where the right answer is obvious."""

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from breachdesk.extensions import db
from breachdesk.impact.explain import covers, exposure_window, touched_categories
from breachdesk.impact.queries import AffectedActivity, Scope, _Reaches, compute
from breachdesk.inventory.models import Customer, ProcessingActivity, System, activity_customers
from breachdesk.inventory.taxonomy import Sensitivity


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
    assert acme.paths[1] == {"systems": ["db"], "activity": "messages",
                             "data_categories": ["user.contact.email", "user.content.private"]}
    assert acme.sensitivity == Sensitivity.BEHAVIOURAL
    impact = compute(scope("db", "sms"))
    assert impact.totals == {"customers": 3, "data_subjects": 120 + 50, "records": 1100 + 50, "activities": 2}


def test_a_linked_customer_without_volumes_is_still_affected(small_inventory):
    initech = by_key(compute(scope("db")))["initech"]
    assert initech.counts_unknown and initech.data_subjects == {} and initech.records == 0
    assert [p["activity"] for p in initech.paths] == ["messages"]


def test_volume_rows_whose_link_was_removed_still_count(small_inventory):
    """The links say which customers an activity serves; a customer's volume rows say it too, and win."""
    links = activity_customers.c
    acme = db.session.scalar(select(Customer.id).where(Customer.key == "acme"))
    messages = db.session.scalar(select(ProcessingActivity.id).where(ProcessingActivity.key == "messages"))
    db.session.execute(delete(activity_customers).where(links.customer_id == acme, links.activity_id == messages))
    before = by_key(compute(scope("db")))["acme"]  # still linked to directory
    db.session.execute(delete(activity_customers).where(links.customer_id == acme))
    after = by_key(compute(scope("db")))["acme"]  # linked to nothing
    for found in (before, after):
        assert found.data_subjects == {"customer": 100, "prospect": 20} and found.records == 1100
        assert [p["activity"] for p in found.paths] == ["directory", "messages"] and not found.counts_unknown


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
    assert impact.own == [{"activity": "prospects", "name": "Prospection", "systems": ["crm"],
                           "data_categories": ["user.contact.email"], "sensitivity": 1, "retention_days": None,
                           "data_subjects": {"prospect": 300}, "records": 310}]
    assert impact.totals["data_subjects"] == 300


def test_financial_data_raises_the_sensitivity(small_inventory):
    umbrella = by_key(compute(scope("billing")))["umbrella"]
    assert umbrella.sensitivity == Sensitivity.FINANCIAL


def test_retention_bounds_the_exposed_window():
    occurred = datetime(2026, 3, 27, 22, 0, tzinfo=UTC)
    until = datetime(2026, 3, 29, 3, 0, tzinfo=UTC)  # across the European spring DST change
    window = exposure_window(6, occurred, until, aware_at=until)
    assert window.data_from == datetime(2026, 3, 21, 22, 0, tzinfo=UTC) and window.data_to == until
    assert exposure_window(None, occurred, until, until).data_from is None
    unknown = exposure_window(6, None, None, aware_at=until)
    assert unknown.data_from == datetime(2026, 3, 23, 3, 0, tzinfo=UTC)


def test_category_matching_rules():
    assert covers("user.contact", "user.contact.email") and not covers("user.contact.email", "user.contact")
    assert not covers("user.contact", "user.contactless")
    assert touched_categories(["user.contact"], ["user.contact.email"]) == ["user.contact.email"]
    assert touched_categories(["user.name"], ["user.contact"]) == []
    assert touched_categories(["b", "a"], []) == ["a", "b"]


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_a_customer_reach_is_the_union_of_its_activities(data):
    """_Reaches (bit masks read back a byte at a time) against the plain reading: categories are the sorted
    union, sensitivity the highest, paths one per activity in key order; over many categories (several bytes)."""
    names = [f"user.cat_{n:02d}" for n in range(data.draw(st.integers(1, 30)))]
    activities = {}
    for number in range(1, data.draw(st.integers(1, 12)) + 1):
        held = sorted(data.draw(st.sets(st.sampled_from(names), max_size=8)))
        activities[number] = AffectedActivity(number, f"activity-{data.draw(st.integers(0, 99)):02d}-{number}",
                                              "A", "processor", None, ["db"], held, data.draw(st.integers(0, 4)))
    reached = data.draw(st.lists(st.sampled_from(sorted(activities)), min_size=1, max_size=20))  # repeats allowed
    categories, sensitivity, paths = _Reaches(activities)(",".join(map(str, reached)))
    chosen = sorted((activities[i] for i in set(reached)), key=lambda a: a.key)
    assert categories == sorted({c for a in chosen for c in a.data_categories})
    assert sensitivity == max(a.sensitivity for a in chosen)
    assert paths == [a.path for a in chosen]
