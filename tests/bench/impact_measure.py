"""The measured parts of the impact benchmark, one per process (tests/bench/bench_impact.py starts them).

    python tests/bench/impact_measure.py compute  DATABASE_URL --systems k1,k2,... [--repeat 15] [--profile FILE]
    python tests/bench/impact_measure.py baseline DATABASE_URL --systems k1,k2,... [--repeat 15] [--index NAME]
    python tests/bench/impact_measure.py variants DATABASE_URL --systems k1,k2,... --variants A,B [--index NAME]
    python tests/bench/impact_measure.py setup    DATABASE_URL --systems k1,k2,...
    python tests/bench/impact_measure.py page     DATABASE_URL --incident ID [--repeat 15]
    python tests/bench/impact_measure.py api      DATABASE_URL --incident ID --secret S [--repeat 15]

Every mode builds the app the way the benchmark brief says (`create_app` with the URL, CSRF and rate
limits off), works inside one app context, runs what it measures once as a warm-up and then
`--repeat` times, each timed alone with time.perf_counter(), ending the session's transaction
between runs (outside the timing). It prints one JSON line: the times in seconds and a summary of
the answer, which the parent compares across modes (a baseline that found other customers than
compute() is a failed run, not a ratio).

* compute: `breachdesk.impact.queries.compute(Scope(ids of --systems))`, timed in the same rounds as
  the baseline and the full answer's SQL. Afterwards, the same number of runs of its two steps
  alone (affected_activities(), and affected_customers(): its statements and the assembly) to show
  where the time goes; --profile FILE also
  dumps one cProfile'd run. Its summary has a digest of the whole answer.
* baseline: the bare aggregate the answer needs, one statement, rows fetched (`BASELINE_SQL`).
* variants: some of `VARIANTS`, modified copies of compute() tried for the findings (the same
  affected_activities() and _own(), a changed customer part), each timed as a whole, interleaved
  round by round with compute() and the baseline in this one process (fair ratios on a busy
  machine); each answer's digest must equal compute()'s. --index (baseline and variants) creates
  one of `INDEXES` first (its build time and size reported) and drops it after, so the benchmark
  database is left as the migrations made it.
* setup: a viewer user, an API token and an incident on --systems, filed with open_incident() +
  commit (timed once: that is what filing costs, snapshot included).
* page / api: GET /incidents/<id> (logged in through POST /login) / GET /api/v1/incidents/<id>
  (bearer token) through Flask's test client; every answer must be 200.
"""

import argparse
import cProfile
import gc
import json
import sys
import time
from collections.abc import Callable
from typing import Any

import harness
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

#: The bare SQL of the whole answer, hand-written: what BASELINE_SQL gives plus what the answer also
#: needs, the customers' keys and names and the activities that reach each customer (its paths and
#: categories come from them), from its links (which cover its volume rows; a customer linked without
#: any volume row is affected too, counts unknown). Two statements, every row fetched, no assembly.
#: {via}: the activity ids as text, through the dialect's string aggregate; {system_ids}: the list.
FULL_ANSWER_SQL = (
    """
SELECT c.id, c.key, c.name, g.subject, g.people, g.records
FROM (SELECT v.customer_id, v.data_subject_category AS subject, MAX(v.data_subjects) AS people,
             SUM(v.records) AS records
      FROM volumes v
      WHERE v.customer_id IS NOT NULL
        AND v.activity_id IN (SELECT s.activity_id FROM activity_systems s WHERE s.system_id IN {system_ids})
      GROUP BY v.customer_id, v.data_subject_category) g
JOIN customers c ON c.id = g.customer_id
""",
    """
SELECT l.customer_id, {via} AS via
FROM activity_customers l
WHERE l.activity_id IN (SELECT s.activity_id FROM activity_systems s WHERE s.system_id IN {system_ids})
GROUP BY l.customer_id
""",
)
STRING_AGGREGATE = {"sqlite": "group_concat({})", "postgresql": "string_agg(CAST({} AS TEXT), ',')"}

ROWS_IN_SCOPE_SQL = """
SELECT COUNT(*) FROM volumes v
WHERE v.customer_id IS NOT NULL
  AND v.activity_id IN (SELECT s.activity_id FROM activity_systems s WHERE s.system_id IN :system_ids)
"""


def _app(url: str):
    return harness.bench_app(
        url, SECRET_KEY="bench-impact", WTF_CSRF_ENABLED=False, RATELIMIT_ENABLED=False, LOG_LEVEL="WARNING"
    )


def _system_ids(keys: list[str]) -> list[int]:
    from breachdesk.extensions import db
    from breachdesk.inventory.models import System

    found = dict(db.session.execute(select(System.key, System.id).where(System.key.in_(keys))).all())
    missing = sorted(set(keys) - set(found))
    if missing:
        raise SystemExit(f"unknown system keys: {missing}")
    return sorted(found[k] for k in keys)


def _impact_summary(impact) -> dict[str, Any]:
    return {
        "activities": len(impact.activities),
        "processor_activities": sum(1 for a in impact.activities.values() if a.role == "processor"),
        "controller_activities": len(impact.own),
        "customers": len(impact.customers),
        "people": int(sum(c.people for c in impact.customers)),  # int: PostgreSQL's SUM gives Decimal
        "records": int(sum(c.records for c in impact.customers)),
        "counts_unknown": sum(1 for c in impact.customers if c.counts_unknown),
    }


# --- compute --------------------------------------------------------------------------------------


def measure_compute(url: str, keys: list[str], repeat: int, profile: str | None) -> dict[str, Any]:
    from breachdesk.extensions import db
    from breachdesk.impact.queries import Scope, affected_activities, affected_customers, compute

    app = _app(url)
    with app.app_context():
        ids = _system_ids(keys)
        scope = Scope(tuple(ids))
        impact = compute(scope)
        result: dict[str, Any] = {"summary": {**_impact_summary(impact), "digest": customers_digest(impact.customers)}}
        impact = None  # not kept alive under the timings
        statement = text(BASELINE_SQL).bindparams(bindparam("system_ids", expanding=True))
        # compute() and the baselines in the same rounds: the ratios are judged on these
        result["interleaved"] = harness.interleaved_rounds(
            {
                "compute": lambda: compute(scope),
                "baseline": lambda: db.session.execute(statement, {"system_ids": ids}).all(),
                "full_answer": lambda: _full_answer(ids),
            },
            repeat,
            db.session.rollback,
        )
        result["times"] = result["interleaved"]["compute"]
        # where the time goes: the two steps alone, same repetitions
        step_times, activities = harness.timed_runs(lambda: affected_activities(scope), repeat, db.session.rollback)
        customer_times, customers = harness.timed_runs(
            lambda: affected_customers(activities), repeat, db.session.rollback
        )
        result["steps"] = {
            "affected_activities": step_times,
            "affected_customers": customer_times,
            "affected_customers_rows": len(customers),
        }
        if profile:
            profiler = cProfile.Profile()
            profiler.enable()
            compute(scope)
            profiler.disable()
            profiler.dump_stats(profile)
            db.session.rollback()
    return result


# --- baseline and variants ------------------------------------------------------------------------


def _full_answer(system_ids: list[int]) -> list[list]:
    """FULL_ANSWER_SQL's two statements through the session's DB-API connection, rows fetched."""
    from breachdesk.extensions import db

    aggregate = STRING_AGGREGATE[db.engine.dialect.name]
    listed = "(" + ",".join(str(int(i)) for i in system_ids) + ")"  # integers we read ourselves
    connection = db.session.connection().connection
    fetched = []
    for sql in FULL_ANSWER_SQL:
        cursor = connection.cursor()
        cursor.execute(sql.format(via=aggregate.format("l.activity_id"), system_ids=listed))
        fetched.append(cursor.fetchall())
        cursor.close()
    return fetched


def measure_baseline(url: str, keys: list[str], repeat: int, index: str | None = None) -> dict[str, Any]:
    """The baseline through the session (SQLAlchemy rows), then, for scale, the same SQL straight
    through a DB-API cursor of the same engine (ids inlined: they are integers we read ourselves)."""
    from breachdesk.extensions import db

    statement = text(BASELINE_SQL).bindparams(bindparam("system_ids", expanding=True))
    app = _app(url)
    with app.app_context():
        ids = _system_ids(keys)
        with _with_index(index):
            times, rows = harness.timed_runs(
                lambda: db.session.execute(statement, {"system_ids": ids}).all(), repeat, db.session.rollback
            )
            raw_sql = BASELINE_SQL.replace(":system_ids", "(" + ",".join(str(int(i)) for i in ids) + ")")
            connection = db.engine.raw_connection()
            try:

                def fetch() -> list:
                    cursor = connection.cursor()
                    cursor.execute(raw_sql)
                    fetched = cursor.fetchall()
                    cursor.close()
                    return fetched

                raw_times, raw_rows = harness.timed_runs(fetch, repeat, connection.rollback)
            finally:
                connection.close()
            full_times, full_rows = harness.timed_runs(lambda: _full_answer(ids), repeat, db.session.rollback)
        if len(raw_rows) != len(rows):
            raise SystemExit(f"the DB-API run of the baseline found {len(raw_rows)} groups, the session {len(rows)}")
        if len(full_rows[0]) != len(rows):
            raise SystemExit(f"the full answer's SQL found {len(full_rows[0])} groups, the baseline {len(rows)}")
        in_scope = db.session.execute(
            text(ROWS_IN_SCOPE_SQL).bindparams(bindparam("system_ids", expanding=True)), {"system_ids": ids}
        ).scalar_one()
    return {
        "times": times,
        "dbapi_times": raw_times,
        "full_answer_times": full_times,
        "full_answer_rows": [len(part) for part in full_rows],
        "summary": {
            "customers": len({r[0] for r in rows}),
            "groups": len(rows),
            "people": int(sum(r[2] for r in rows)),
            "records": int(sum(r[3] for r in rows)),
            "volume_rows_in_scope": in_scope,
        },
    }


#: name -> (what it is, customers function(activities, processor ids) or None for compute() itself, GC mode):
#: "pause": gc.disable() for the call; "freeze": gc.freeze() before the call, gc.unfreeze() after, so that
#: the objects alive before it (the app, SQLAlchemy, the models: about 120,000) are not scanned again by
#: the collections the call triggers, which is what one gc.freeze() after start-up gives every request.
VARIANTS: dict[str, tuple[str, Callable | None, str | None]] = {
    "current-nogc": ("compute() as it is, the cyclic garbage collector paused during the call", None, "pause"),
    "current-frozen": ("compute() as it is, objects older than the call frozen (gc.freeze())", None, "freeze"),
}

#: indexes a run may create first (and drops afterwards), name -> (create, drop) statements
INDEXES = {
    "volumes_covering": (
        "CREATE INDEX bench_ix_volumes_activity_covering ON volumes "
        "(activity_id, customer_id, data_subject_category, data_subjects, records)",
        "DROP INDEX bench_ix_volumes_activity_covering",
    ),
}


def _with_index(index: str | None, report: dict[str, Any] | None = None):
    """Create the index (and ANALYZE it on PostgreSQL) before, drop it after. `report` gets what the
    index costs: seconds to build it and its size."""
    from contextlib import contextmanager

    from breachdesk.extensions import db

    def size_bytes() -> int:
        if db.engine.dialect.name == "postgresql":
            return db.session.execute(
                text("SELECT pg_relation_size('bench_ix_volumes_activity_covering')")
            ).scalar_one()
        pages = db.session.execute(text("PRAGMA page_count")).scalar_one()
        free = db.session.execute(text("PRAGMA freelist_count")).scalar_one()
        return (pages - free) * db.session.execute(text("PRAGMA page_size")).scalar_one()

    @contextmanager
    def scope():
        if index:
            before = 0 if db.engine.dialect.name == "postgresql" else size_bytes()
            start = time.perf_counter()
            db.session.execute(text(INDEXES[index][0]))
            db.session.commit()
            seconds = time.perf_counter() - start
            if db.engine.dialect.name == "postgresql":
                db.session.execute(text("ANALYZE volumes"))
                db.session.commit()
            if report is not None:
                report.update(
                    index=index, create_seconds=round(seconds, 2), size_mb=round((size_bytes() - before) / 2**20, 1)
                )
        try:
            yield
        finally:
            if index:
                db.session.rollback()
                db.session.execute(text(INDEXES[index][1]))
                db.session.commit()

    return scope()


def customers_digest(customers) -> str:
    """sha256 of the whole answer (every field of every customer, in order): variants must match it."""
    import hashlib
    from dataclasses import asdict

    document = json.dumps([asdict(c) for c in customers], default=int, sort_keys=True)
    return hashlib.sha256(document.encode()).hexdigest()


def measure_variants(url: str, keys: list[str], repeat: int, variants: list[str], index: str | None) -> dict[str, Any]:
    """compute(), the baseline and each variant, interleaved in this one process: every round runs each
    once (in an order rotated from round to round), so that a busy machine slows them alike and the
    ratios between them hold even when the absolute times drift."""
    from breachdesk.extensions import db
    from breachdesk.impact.queries import Impact, Scope, _own, affected_activities, compute
    from breachdesk.inventory.models import OurRole

    statement = text(BASELINE_SQL).bindparams(bindparam("system_ids", expanding=True))
    app = _app(url)
    report: dict[str, Any] = {"index": index, "variants": {}}
    with app.app_context():
        scope = Scope(tuple(_system_ids(keys)))
        ids = list(scope.system_ids)

        def variant_run(name: str) -> Callable[[], Any]:
            _description, customers_of, gc_mode = VARIANTS[name]

            def run() -> Impact:
                if gc_mode == "pause":
                    gc.disable()
                elif gc_mode == "freeze":
                    gc.freeze()
                try:
                    if customers_of is None:
                        return compute(scope)
                    activities = affected_activities(scope)
                    processor_ids = [a.id for a in activities.values() if a.role == OurRole.PROCESSOR]
                    return Impact(
                        activities, customers_of(activities, processor_ids) if processor_ids else [], *_own(activities)
                    )
                finally:
                    if gc_mode == "pause":
                        gc.enable()
                    elif gc_mode == "freeze":
                        gc.unfreeze()

            return run

        contenders = {
            "baseline": lambda: db.session.execute(statement, {"system_ids": ids}).all(),
            "compute": lambda: compute(scope),
            **{name: variant_run(name) for name in variants},
        }
        answers: dict[str, Any] = {}
        with _with_index(index, report):
            for name, run in contenders.items():  # the answers to check (only their digests kept)
                if name != "baseline":
                    answer = run()
                    answers[name] = {**_impact_summary(answer), "digest": customers_digest(answer.customers)}
                    answer = None
                    db.session.rollback()
            times = harness.interleaved_rounds(contenders, repeat, db.session.rollback)
    for name in contenders:
        entry: dict[str, Any] = {"times": times[name]}
        if name != "baseline":
            entry["summary"] = answers[name]
            entry["description"] = VARIANTS[name][0] if name in VARIANTS else "compute() as it is"
        report["variants"][name] = entry
    return report


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
        user = db.session.scalar(select(User).where(User.username == USERNAME)) or create_user(
            USERNAME, "bench-viewer@example.com", PASSWORD, Role.VIEWER
        )
        _token, secret = create_token(user, "bench")
        db.session.commit()
        start = time.perf_counter()
        incident = open_incident(
            {
                "title": f"Benchmark incident on {len(keys)} systems",
                "aware_at": "2026-01-05T10:00:00Z",
                "systems": keys,
            },
            None,
        )
        db.session.commit()
        seconds = time.perf_counter() - start
        snapshot = current_snapshot(incident.id)
        return {
            "incident_id": incident.id,
            "secret": secret,
            "file_seconds": seconds,
            "summary": {
                "customers": snapshot.totals["customers"],
                "activities": snapshot.totals["activities"],
                "people": snapshot.totals["data_subjects"],
                "records": snapshot.totals["records"],
            },
        }


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
    times, response = harness.timed_runs(_get(client, f"/incidents/{incident_id}"), repeat, lambda: None)
    return {"times": times, "bytes": len(response.get_data())}


def measure_api(url: str, incident_id: int, repeat: int, secret: str) -> dict[str, Any]:
    app = _app(url)
    client = app.test_client()
    times, response = harness.timed_runs(
        _get(client, f"/api/v1/incidents/{incident_id}", {"Authorization": f"Bearer {secret}"}), repeat, lambda: None
    )
    document = response.get_json()
    return {
        "times": times,
        "bytes": len(response.get_data()),
        "summary": {"customers": len(document["impact"]["customers"])},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=("compute", "baseline", "variants", "setup", "page", "api"))
    parser.add_argument("url")
    parser.add_argument("--systems", default="", help="system keys, comma-separated")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--incident", type=int)
    parser.add_argument("--secret", default="")
    parser.add_argument("--variants", default="", help=f"comma-separated: {', '.join(VARIANTS)}")
    parser.add_argument("--index", choices=sorted(INDEXES))
    parser.add_argument("--profile", metavar="FILE")
    args = parser.parse_args()
    keys = [k for k in args.systems.split(",") if k]
    if args.mode == "compute":
        result = measure_compute(args.url, keys, args.repeat, args.profile)
    elif args.mode == "baseline":
        result = measure_baseline(args.url, keys, args.repeat, args.index)
    elif args.mode == "variants":
        names = [v for v in args.variants.split(",") if v]
        unknown = sorted(set(names) - set(VARIANTS))
        if unknown:
            parser.error(f"unknown variants {unknown}")
        result = measure_variants(args.url, keys, args.repeat, names, args.index)
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
