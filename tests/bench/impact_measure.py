"""The measured parts of the impact benchmark, one per process (tests/bench/bench_impact.py starts them).

    python tests/bench/impact_measure.py compute  DATABASE_URL --systems k1,k2,... [--repeat 15] [--profile FILE]
    python tests/bench/impact_measure.py baseline DATABASE_URL --systems k1,k2,... [--repeat 15] [--variant NAME]
    python tests/bench/impact_measure.py setup    DATABASE_URL --systems k1,k2,...
    python tests/bench/impact_measure.py page     DATABASE_URL --incident ID [--repeat 15]
    python tests/bench/impact_measure.py api      DATABASE_URL --incident ID --secret S [--repeat 15]

Every mode builds the app the way the benchmark brief says (`create_app` with the URL, CSRF and rate
limits off), works inside one app context, runs what it measures once as a warm-up and then
`--repeat` times, each timed alone with time.perf_counter(), ending the session's transaction
between runs (outside the timing). It prints one JSON line: the times in seconds and a summary of
the answer, which the parent compares across modes (a baseline that found other customers than
compute() is a failed run, not a ratio).

* compute: `breachdesk.impact.queries.compute(Scope(ids of --systems))`. Afterwards, untimed for
  the ratio, the same number of runs of its two SQL steps alone (affected_activities(), and
  customer_aggregate() executed and fetched) to show where the time goes; --profile FILE also
  dumps one cProfile'd run.
* baseline: the bare aggregate the answer needs, one statement, rows fetched (`BASELINE_SQL`).
  --variant runs instead one of `VARIANTS`: rewritten customer queries tried for the findings,
  each timed as a whole compute()-equivalent (affected activities + the rewritten aggregate + the
  same Python assembly), with its answer checked against compute()'s.
* setup: a viewer user, an API token and an incident on --systems, filed with open_incident() +
  commit (timed once: that is what filing costs, snapshot included).
* page / api: GET /incidents/<id> (logged in through POST /login) / GET /api/v1/incidents/<id>
  (bearer token) through Flask's test client; every answer must be 200.
"""

import argparse
import cProfile
import json
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from sqlalchemy import bindparam, select, text

USERNAME = "bench-viewer"
PASSWORD = "bench-Password-1!"

#: The bare aggregate: volume rows of the activities on the reached systems (a semi-join, so an
#: activity on two reached systems does not count its rows twice), customer rows only, grouped by
#: (customer, subject category): largest people count, summed records. All rows fetched.
BASELINE_SQL = """
SELECT v.customer_id, v.data_subject_category, MAX(v.data_subjects), SUM(v.records)
FROM volumes v
WHERE v.customer_id IS NOT NULL
  AND v.activity_id IN (SELECT s.activity_id FROM activity_systems s WHERE s.system_id IN :system_ids)
GROUP BY v.customer_id, v.data_subject_category
"""

ROWS_IN_SCOPE_SQL = """
SELECT COUNT(*) FROM volumes v
WHERE v.customer_id IS NOT NULL
  AND v.activity_id IN (SELECT s.activity_id FROM activity_systems s WHERE s.system_id IN :system_ids)
"""


def _app(url: str):
    from breachdesk import create_app
    return create_app({"DATABASE_URL": url, "SECRET_KEY": "bench-impact", "WTF_CSRF_ENABLED": False,
                       "RATELIMIT_ENABLED": False, "LOG_LEVEL": "WARNING"})


def _timed(run: Callable[[], Any], repeat: int, between: Callable[[], None]) -> tuple[list[float], Any]:
    """One warm-up, then `repeat` timed runs; `between` (untimed) after each."""
    result = run()
    between()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
        between()
    return times, result


def _system_ids(keys: list[str]) -> list[int]:
    from breachdesk.extensions import db
    from breachdesk.inventory.models import System
    found = dict(db.session.execute(select(System.key, System.id).where(System.key.in_(keys))).all())
    missing = sorted(set(keys) - set(found))
    if missing:
        raise SystemExit(f"unknown system keys: {missing}")
    return sorted(found[k] for k in keys)


def _impact_summary(impact) -> dict[str, Any]:
    return {"activities": len(impact.activities),
            "processor_activities": sum(1 for a in impact.activities.values() if a.role == "processor"),
            "controller_activities": len(impact.own),
            "customers": len(impact.customers),
            "people": int(sum(c.people for c in impact.customers)),  # int: PostgreSQL's SUM gives Decimal
            "records": int(sum(c.records for c in impact.customers)),
            "counts_unknown": sum(1 for c in impact.customers if c.counts_unknown)}


# --- compute --------------------------------------------------------------------------------------

def measure_compute(url: str, keys: list[str], repeat: int, profile: str | None) -> dict[str, Any]:
    from breachdesk.extensions import db
    from breachdesk.impact.queries import Scope, affected_activities, compute, customer_aggregate
    from breachdesk.inventory.models import OurRole
    app = _app(url)
    with app.app_context():
        scope = Scope(tuple(_system_ids(keys)))
        times, impact = _timed(lambda: compute(scope), repeat, db.session.rollback)
        result: dict[str, Any] = {"times": times, "summary": _impact_summary(impact)}
        # where the time goes: the two SQL steps alone, same repetitions
        step_times, activities = _timed(lambda: affected_activities(scope), repeat, db.session.rollback)
        ids = [a.id for a in activities.values() if a.role == OurRole.PROCESSOR]
        sql_times, rows = _timed(lambda: db.session.execute(customer_aggregate(ids)).all(), repeat,
                                 db.session.rollback)
        result["steps"] = {"affected_activities": step_times, "customer_aggregate_sql": sql_times,
                           "customer_aggregate_rows": len(rows)}
        if profile:
            profiler = cProfile.Profile()
            profiler.enable()
            compute(scope)
            profiler.disable()
            profiler.dump_stats(profile)
            db.session.rollback()
    return result


# --- baseline and variants ------------------------------------------------------------------------

def measure_baseline(url: str, keys: list[str], repeat: int) -> dict[str, Any]:
    from breachdesk.extensions import db
    statement = text(BASELINE_SQL).bindparams(bindparam("system_ids", expanding=True))
    app = _app(url)
    with app.app_context():
        ids = _system_ids(keys)
        times, rows = _timed(lambda: db.session.execute(statement, {"system_ids": ids}).all(), repeat,
                             db.session.rollback)
        in_scope = db.session.execute(text(ROWS_IN_SCOPE_SQL).bindparams(bindparam("system_ids", expanding=True)),
                                      {"system_ids": ids}).scalar_one()
    return {"times": times, "summary": {"customers": len({r[0] for r in rows}), "groups": len(rows),
                                        "people": int(sum(r[2] for r in rows)),
                                        "records": int(sum(r[3] for r in rows)),
                                        "volume_rows_in_scope": in_scope}}


def _assemble(activities, grouped, links) -> list:
    """compute()'s Python part, fed by a variant's rows: grouped (customer, key, name, subject, people,
    records, activity ids) and, separately, bare links (customer, key, name, activity id) without volume."""
    from breachdesk.impact.explain import CustomerImpact, combine_subject_counts
    rows: dict[int, list] = defaultdict(list)
    names: dict[int, tuple[str, str]] = {}
    activity_sets: dict[int, set[int]] = defaultdict(set)
    for cid, key, name, subject, people, records, via in grouped:
        rows[cid].append((subject, people, records))
        names[cid] = (key, name)
        activity_sets[cid].update(int(a) for a in via.split(","))
    for cid, key, name, activity_id in links:
        rows[cid].append((None, None, None))
        names[cid] = (key, name)
        activity_sets[cid].add(activity_id)
    customers = []
    for cid, customer_rows in rows.items():
        subjects, records, unknown = combine_subject_counts(customer_rows)
        reached = sorted((activities[a] for a in activity_sets[cid]), key=lambda a: a.key)
        categories = sorted({c for a in reached for c in a.data_categories})
        customers.append(CustomerImpact(
            customer_id=cid, key=names[cid][0], name=names[cid][1], data_subjects=subjects, records=records,
            data_categories=categories, sensitivity=max(a.sensitivity for a in reached),
            paths=[{"systems": a.systems, "activity": a.key, "data_categories": a.data_categories} for a in reached],
            counts_unknown=unknown))
    customers.sort(key=lambda c: (c.name, c.key))
    return customers


def _variant_split(activities, ids):
    """V1: volumes grouped straight, joined to customers after grouping; bare links (those with no
    volume row, usually none) fetched by a NOT EXISTS query, instead of one UNION ALL of all links."""
    from sqlalchemy import String, cast, func, literal

    from breachdesk.extensions import db
    from breachdesk.inventory.models import Customer, Volume, activity_customers
    grouped = (select(Volume.customer_id, Volume.data_subject_category, func.max(Volume.data_subjects).label("p"),
                      func.sum(Volume.records).label("r"),
                      func.aggregate_strings(cast(Volume.activity_id, String), literal(",")).label("via"))
               .where(Volume.activity_id.in_(ids), Volume.customer_id.is_not(None))
               .group_by(Volume.customer_id, Volume.data_subject_category).subquery())
    rows = db.session.execute(select(grouped.c.customer_id, Customer.key, Customer.name,
                                     grouped.c.data_subject_category, grouped.c.p, grouped.c.r, grouped.c.via)
                              .join(Customer, Customer.id == grouped.c.customer_id)).all()
    has_volume = select(Volume.id).where(Volume.customer_id == activity_customers.c.customer_id,
                                         Volume.activity_id == activity_customers.c.activity_id).exists()
    links = db.session.execute(select(activity_customers.c.customer_id, Customer.key, Customer.name,
                                      activity_customers.c.activity_id)
                               .join(Customer, Customer.id == activity_customers.c.customer_id)
                               .where(activity_customers.c.activity_id.in_(ids), ~has_volume)).all()
    return rows, links


def _variant_current(activities, ids):
    """V0: compute()'s own customer_aggregate(), for comparison inside the same harness."""
    from breachdesk.extensions import db
    from breachdesk.impact.queries import customer_aggregate
    grouped, links = [], []
    for cid, key, name, subject, people, records, via in db.session.execute(customer_aggregate(ids)):
        if subject is None:
            links.extend((cid, key, name, int(a)) for a in via.split(","))
        else:
            grouped.append((cid, key, name, subject, people, records, via))
    return grouped, links


#: name -> (description, function(activities, processor activity ids) -> (grouped rows, bare links))
VARIANTS: dict[str, tuple[str, Callable]] = {
    "current": (_variant_current.__doc__, _variant_current),
    "split": (_variant_split.__doc__, _variant_split),
}

#: indexes a variant run may create first (and drops afterwards), name -> (create, drop) statements
INDEXES = {
    "volumes_covering": (
        "CREATE INDEX bench_ix_volumes_activity_covering ON volumes "
        "(activity_id, customer_id, data_subject_category, data_subjects, records)",
        "DROP INDEX bench_ix_volumes_activity_covering"),
}


def measure_variant(url: str, keys: list[str], repeat: int, variant: str, index: str | None) -> dict[str, Any]:
    from breachdesk.extensions import db
    from breachdesk.impact.queries import Impact, Scope, _own, affected_activities
    from breachdesk.inventory.models import OurRole
    description, fetch = VARIANTS[variant]
    app = _app(url)
    with app.app_context():
        scope = Scope(tuple(_system_ids(keys)))
        if index:
            db.session.execute(text(INDEXES[index][0]))
            if db.engine.dialect.name == "postgresql":
                db.session.execute(text("ANALYZE volumes"))
            db.session.commit()
        try:
            def run() -> Impact:
                activities = affected_activities(scope)
                ids = [a.id for a in activities.values() if a.role == OurRole.PROCESSOR]
                grouped, links = fetch(activities, ids) if ids else ([], [])
                return Impact(activities, _assemble(activities, grouped, links), _own(activities))

            times, impact = _timed(run, repeat, db.session.rollback)
        finally:
            if index:
                db.session.execute(text(INDEXES[index][1]))
                db.session.commit()
    return {"times": times, "summary": _impact_summary(impact), "variant": variant, "index": index,
            "description": " ".join((description or "").split())}


# --- the incident page ----------------------------------------------------------------------------

def setup_incident(url: str, keys: list[str]) -> dict[str, Any]:
    from breachdesk.api.services import create_token
    from breachdesk.auth.models import Role, User
    from breachdesk.auth.services import create_user
    from breachdesk.extensions import db
    from breachdesk.impact.services import current_snapshot
    from breachdesk.incidents.services import open_incident
    app = _app(url)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == USERNAME)) or \
            create_user(USERNAME, "bench-viewer@example.com", PASSWORD, Role.VIEWER)
        _token, secret = create_token(user, "bench")
        db.session.commit()
        start = time.perf_counter()
        incident = open_incident({"title": f"Benchmark incident on {len(keys)} systems",
                                  "aware_at": "2026-01-05T10:00:00Z", "systems": keys}, None)
        db.session.commit()
        seconds = time.perf_counter() - start
        snapshot = current_snapshot(incident.id)
        return {"incident_id": incident.id, "secret": secret, "file_seconds": seconds,
                "summary": {"customers": snapshot.totals["customers"], "activities": snapshot.totals["activities"],
                            "people": snapshot.totals["data_subjects"], "records": snapshot.totals["records"]}}


def _get(client, path: str, headers: dict[str, str] | None = None) -> Callable[[], Any]:
    def run():
        response = client.get(path, headers=headers or {})
        if response.status_code != 200:
            raise SystemExit(f"GET {path}: {response.status_code} {response.get_data(as_text=True)[:500]}")
        return response
    return run


def measure_page(url: str, incident_id: int, repeat: int) -> dict[str, Any]:
    app = _app(url)
    client = app.test_client()
    login = client.post("/login", data={"username": USERNAME, "password": PASSWORD})
    if login.status_code != 302:
        raise SystemExit(f"POST /login: {login.status_code} (expected a redirect)")
    times, response = _timed(_get(client, f"/incidents/{incident_id}"), repeat, lambda: None)
    return {"times": times, "bytes": len(response.get_data())}


def measure_api(url: str, incident_id: int, repeat: int, secret: str) -> dict[str, Any]:
    app = _app(url)
    client = app.test_client()
    times, response = _timed(_get(client, f"/api/v1/incidents/{incident_id}",
                                  {"Authorization": f"Bearer {secret}"}), repeat, lambda: None)
    document = response.get_json()
    return {"times": times, "bytes": len(response.get_data()),
            "summary": {"customers": len(document["impact"]["customers"])}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=("compute", "baseline", "variant", "setup", "page", "api"))
    parser.add_argument("url")
    parser.add_argument("--systems", default="", help="system keys, comma-separated")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--incident", type=int)
    parser.add_argument("--secret", default="")
    parser.add_argument("--variant", choices=sorted(VARIANTS), default="current")
    parser.add_argument("--index", choices=sorted(INDEXES))
    parser.add_argument("--profile", metavar="FILE")
    args = parser.parse_args()
    keys = [k for k in args.systems.split(",") if k]
    if args.mode == "compute":
        result = measure_compute(args.url, keys, args.repeat, args.profile)
    elif args.mode == "baseline":
        result = measure_baseline(args.url, keys, args.repeat)
    elif args.mode == "variant":
        result = measure_variant(args.url, keys, args.repeat, args.variant, args.index)
    elif args.mode == "setup":
        result = setup_incident(args.url, keys)
    elif args.mode == "page":
        result = measure_page(args.url, args.incident, args.repeat)
    else:
        result = measure_api(args.url, args.incident, args.repeat, args.secret)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
