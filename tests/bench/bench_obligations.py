"""Benchmark obligation derivation at scale, on SQLite and (when it answers) PostgreSQL.

    .venv/bin/python tests/bench/bench_obligations.py [--customers 10000] [--volume-rows 200000] [--seed 42]
                                                      [--incident-systems 40] [--repeat 7] [--skip-postgres]
                                                      [--keep DIR] [--timeout 1800] [--postgres-url URL]

For each database (a fresh SQLite file; on PostgreSQL a database of its own, default
breachdesk_bench_obligations, created when missing and dropped at the end when this run created it,
never the test suite's `test`, and emptied with DROP SCHEMA public CASCADE first):

1. SETUP, in a fresh process (timed for information, peak RSS reported): the migrations
   (flask_migrate.upgrade), the generated inventory (inventory.cli.run_import + commit; its customers
   and volume rows checked), an organisation profile (GDPR and NIS2, `PROFILE`) through
   import_inventory + commit, then one incident filed with open_incident() + commit on the first
   --incident-systems system keys (all 30 of the generated inventory by default, so nearly every
   customer is affected). Reported: affected customers, the obligations it created. PostgreSQL then
   gets VACUUM ANALYZE, as autovacuum would shortly after the import;
2. ROUNDS, in another fresh process, one untimed warm-up round and then --repeat rounds; each round
   runs, in this order, each measured thing once (time.perf_counter() around the call and the
   commit; the preparation before it is not timed, nor a gc.collect() after it, so that no measured
   thing pays for the garbage of the one before; the incident is loaded first as a request would):

   * baseline a': delete the incident's obligations (Core DELETE, commit; not timed), then a bare Core
     executemany INSERT of the rows as filing wrote them (selected once at the start, plain dicts
     without id, every column) + commit;
   * a. fresh derivation: the same delete, then sync_obligations(incident) + commit (creates them all);
   * baseline b': a bare executemany UPDATE obligations SET due_at = ... WHERE id = ..., by primary key,
     for the rows step b will change (pending, anchored on awareness), with the due times b writes;
   * b. awareness moved: update_incident(incident, {"aware_at": ...}, reason="bench") + commit, the
     instant alternating between the two of `AWARE` (moves every pending clock counted from awareness);
   * baseline c': a bare SELECT of the incident's obligation rows, the columns sync_obligations reads,
     every row fetched (also, for information, with the second SELECT sync needs: the snapshot's
     affected customers joined to their contract terms);
   * c. no-op re-derivation: sync_obligations(incident) + commit when nothing changed.

   Each run is checked: a creates every obligation, b changes exactly the rows b' updated (its audit
   event's counts), c changes nothing, a' inserts and c' reads every row; a mismatch fails the run.

Median and p95 (nearest rank: with 7 runs, the slowest) per measured thing, and its ratio to its
baseline's median in the same process and rounds (interleaving keeps the ratios fair on a busy
machine). Peak RSS: getrusage() of each process (the setup process, the rounds process), measured
by harness's measuring wrapper; the rounds process also reports its own ru_maxrss after the warm-up.
Prints a table per database and writes the results as JSON to
tests/bench/results/obligations-<timestamp>.json. Data comes from generate_inventory.py (through
harness.prepare_data) into a temporary directory or --keep DIR.

The measured parts run as `bench_obligations.py setup|rounds ...` (internal; see `worker_main`).
"""

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

import harness

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1/breachdesk_bench_obligations"
#: how it measures, as written into the results file
HOW_MEASURED = (
    "setup in one fresh process, then one fresh process: a warm-up round and --repeat rounds, "
    "each measured thing once per round in a fixed order, gc.collect() before each (not timed), "
    "time.perf_counter() around the call and its commit; median and nearest-rank p95; ratio to "
    "the baseline's median of the same rounds; peak RSS from getrusage(RUSAGE_CHILDREN) of a "
    "wrapper per process"
)
PROFILE = (
    "format: breachdesk-inventory/1\n"
    "organisation: {name: Bench, country: FR, lead_supervisory_authority: CNIL, regimes: [GDPR, NIS2], "
    "authorities: {NIS2: CERT-FR}, entity_status: {NIS2: important}}\n"
)
#: the incident's awareness: filed at the first, then moved back and forth between the two
AWARE = ("2026-01-05T10:00:00Z", "2026-01-05T12:00:00Z")
#: measured things in round order: name -> (label, the baseline it is compared with)
MEASURED = {
    "insert_baseline": ("baseline a': executemany INSERT", None),
    "fresh": ("a. fresh derivation: sync_obligations", "insert_baseline"),
    "update_baseline": ("baseline b': executemany UPDATE due_at by id", None),
    "moved": ("b. awareness moved: update_incident", "update_baseline"),
    "select_baseline": ("baseline c': SELECT obligation rows", None),
    "select_both": ("  info: c' + SELECT affected customers", "select_baseline"),
    "noop": ("c. no-op re-derivation: sync_obligations", "select_baseline"),
}
WORKER_MODES = ("setup", "rounds")
SCRIPT = str(Path(__file__).resolve())


# --- the measured processes -----------------------------------------------------------------------


def measure_setup(url: str, structure: str, systems: int) -> dict[str, Any]:
    """Migrate, import the inventory and the profile, file the incident; counts for the parent to check."""
    from sqlalchemy import func, select

    from breachdesk.deadlines.models import Obligation
    from breachdesk.extensions import db
    from breachdesk.impact.models import ImpactCustomer
    from breachdesk.impact.services import current_snapshot
    from breachdesk.incidents.services import open_incident
    from breachdesk.inventory.models import Customer, System, Volume

    seconds: dict[str, float] = {}
    timed = harness.commit_timer(seconds)
    app = harness.bench_app(url)
    with app.app_context():
        imported, profile = harness.migrate_and_import(timed, structure, PROFILE)
        keys = list(db.session.scalars(select(System.key).order_by(System.key).limit(systems)))
        incident = timed(
            "open_incident",
            lambda: open_incident({"title": "Bench: obligations", "aware_at": AWARE[0], "systems": keys}, None),
        )
        snapshot = current_snapshot(incident.id)
        kinds = db.session.execute(
            select(Obligation.recipient_kind, Obligation.anchor, Obligation.status, func.count())
            .where(Obligation.incident_id == incident.id)
            .group_by(Obligation.recipient_kind, Obligation.anchor, Obligation.status)
            .order_by(Obligation.recipient_kind, Obligation.anchor)
        ).all()
        return {
            "seconds": seconds,
            "import_summary": str(imported),
            "profile_summary": str(profile),
            "customers": db.session.scalar(select(func.count()).select_from(Customer)),
            "volume_rows": db.session.scalar(select(func.count()).select_from(Volume)),
            "incident_id": incident.id,
            "incident_systems": keys,
            "affected_customers": db.session.scalar(
                select(func.count()).select_from(ImpactCustomer).where(ImpactCustomer.snapshot_id == snapshot.id)
            ),
            "obligations": sum(n for *_, n in kinds),
            "obligations_by_kind": [[kind, anchor, str(status.value), n] for kind, anchor, status, n in kinds],
            "rss_mb_self": harness.rss_mb(),
        }


def measure_rounds(url: str, incident_id: int, repeat: int) -> dict[str, Any]:
    """One warm-up round, then `repeat` rounds of every MEASURED thing in order; times in seconds."""
    from sqlalchemy import bindparam, delete, desc, func, insert, select, update

    from breachdesk.audit.models import AuditEvent
    from breachdesk.core.clock import parse_instant
    from breachdesk.deadlines.diff import STATE
    from breachdesk.deadlines.models import Obligation, ObligationStatus
    from breachdesk.deadlines.services import sync_obligations
    from breachdesk.extensions import db
    from breachdesk.impact.models import ImpactCustomer
    from breachdesk.impact.services import current_snapshot
    from breachdesk.incidents.models import Incident
    from breachdesk.incidents.services import update_incident
    from breachdesk.inventory.models import Customer

    obligations = Obligation.__table__
    mine = obligations.c.incident_id == incident_id
    #: what sync_obligations selects of the existing rows
    read = select(
        obligations.c.id,
        obligations.c.rule_id,
        obligations.c.recipient_key,
        obligations.c.terms,
        *(obligations.c[name] for name in STATE),
    ).where(mine)
    update_due = update(obligations).where(obligations.c.id == bindparam("b_id")).values(due_at=bindparam("b_due_at"))
    instants = [parse_instant(value, "aware_at") for value in AWARE]

    app = harness.bench_app(url)
    with app.app_context():
        incident = db.session.get(Incident, incident_id)
        written = [
            dict(row)
            for row in db.session.execute(select(*(c for c in obligations.c if c.name != "id")).where(mine)).mappings()
        ]
        snapshot_id = current_snapshot(incident_id).id
        affected = (
            select(
                ImpactCustomer.key,
                ImpactCustomer.name,
                ImpactCustomer.customer_id,
                Customer.notice_hours,
                Customer.notice_terms,
            )
            .outerjoin(Customer, Customer.id == ImpactCustomer.customer_id)
            .where(ImpactCustomer.snapshot_id == snapshot_id)
            .order_by(ImpactCustomer.key)
        )
        db.session.rollback()
        total = len(written)
        if total == 0:
            raise SystemExit("the incident has no obligations to measure")
        plan: dict[str, Any] = {}

        def count() -> int:
            return db.session.scalar(select(func.count()).select_from(obligations).where(mine))

        def ready() -> None:
            """The incident loaded, as the request that moves it would have it."""
            db.session.rollback()
            assert incident.aware_at is not None

        def delete_all() -> None:
            db.session.execute(delete(obligations).where(mine))
            db.session.commit()
            ready()

        def other_instant() -> dt.datetime:
            return instants[1] if incident.aware_at == instants[0] else instants[0]

        def last_derivation() -> dict[str, Any]:
            return db.session.scalar(
                select(AuditEvent.after)
                .where(AuditEvent.action == "obligations.derived", AuditEvent.entity_id == str(incident_id))
                .order_by(desc(AuditEvent.id))
                .limit(1)
            )

        # each: (untimed preparation, the timed call incl. commit, untimed check of its answer)
        def prepare_update() -> None:
            ready()
            target = other_instant()
            shift = target - incident.aware_at
            moving = db.session.execute(
                select(obligations.c.id, obligations.c.due_at).where(
                    mine, obligations.c.status == ObligationStatus.PENDING, obligations.c.anchor == "awareness"
                )
            ).all()
            plan["params"] = [{"b_id": i, "b_due_at": due + shift if due else None} for i, due in moving]

        def run_update() -> None:
            db.session.connection().execute(update_due, plan["params"])
            db.session.commit()

        def check_update(_: Any) -> None:
            want = {p["b_id"]: p["b_due_at"] for p in plan["params"]}
            got = dict(
                db.session.execute(
                    select(obligations.c.id, obligations.c.due_at).where(obligations.c.id.in_(want))
                ).all()
            )
            harness.expect("b': rows with the new due_at", sum(got.get(i) == due for i, due in want.items()), len(want))

        def prepare_move() -> None:
            ready()
            plan["target"] = other_instant()

        def run_move() -> None:
            update_incident(incident, {"aware_at": plan["target"].isoformat()}, None, reason="bench")
            db.session.commit()

        def check_move(_: Any) -> None:
            harness.expect("b: incident.aware_at", incident.aware_at, plan["target"])
            derived = last_derivation()
            harness.expect(
                "b: obligations changed",
                (derived["created"], derived["changed"], derived["withdrawn"]),
                (0, len(plan["params"]), 0),
            )

        def run_sync() -> dict[str, int]:
            counts = sync_obligations(incident)
            db.session.commit()
            return counts

        def run_insert() -> None:
            db.session.connection().execute(insert(obligations), written)
            db.session.commit()

        def run_select() -> list[Any]:
            return db.session.connection().execute(read).all()

        def run_select_both() -> tuple[list[Any], list[Any]]:
            connection = db.session.connection()
            return connection.execute(read).all(), connection.execute(affected).all()

        steps = {
            "insert_baseline": (delete_all, run_insert, lambda _: harness.expect("a': rows inserted", count(), total)),
            "fresh": (
                delete_all,
                run_sync,
                lambda counts: harness.expect(
                    "a: obligations created", counts, {"created": total, "changed": 0, "withdrawn": 0}
                ),
            ),
            "update_baseline": (prepare_update, run_update, check_update),
            "moved": (prepare_move, run_move, check_move),
            "select_baseline": (ready, run_select, lambda rows: harness.expect("c': rows read", len(rows), total)),
            "select_both": (ready, run_select_both, lambda rows: harness.expect("c'+: rows read", len(rows[0]), total)),
            "noop": (
                ready,
                run_sync,
                lambda counts: harness.expect(
                    "c: obligations touched", counts, {"created": 0, "changed": 0, "withdrawn": 0}
                ),
            ),
        }
        rss_before = harness.rss_mb()
        warm: dict[str, float] = {}
        times = harness.step_rounds(
            steps, repeat, around=harness.rolled_back, after_warm_up=lambda: warm.update(rss=harness.rss_mb())
        )
        return {
            "times": times,
            "rows": {
                "obligations": total,
                "moved": len(plan["params"]),
                "affected_customers": len(db.session.execute(affected).all()),
            },
            "rss_mb_self": {"before_rounds": rss_before, "after_warm_up": warm["rss"], "end": harness.rss_mb()},
        }


def worker_main(argv: list[str]) -> int:
    parser = harness.part_parser("bench_obligations.py", "obligations", WORKER_MODES)
    parser.add_argument("--systems", type=int, default=40, help="setup: the incident's systems, first N by key")
    parser.add_argument("--incident", type=int, help="rounds: the incident's id")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)
    if args.mode == "setup":
        answer = measure_setup(args.url, args.structure, args.systems)
    else:
        answer = measure_rounds(args.url, args.incident, args.repeat)
    args.out.write_text(json.dumps(answer, default=str))
    return 0


# --- one database -----------------------------------------------------------------------------------


def bench_database(name: str, url: str, data: dict[str, Any], work: Path, args) -> dict[str, Any]:
    env, logs = harness.start_database(name, url, work, args.postgres_wait)
    setup = harness.run_part(
        SCRIPT,
        "setup (migrate, import, profile, file incident)",
        "setup",
        url,
        ["--structure", data["structure"], "--systems", str(args.incident_systems)],
        env,
        logs,
        args.timeout,
    )
    harness.expect_rows(
        "the import did not write the generated data", setup, {k: data[k] for k in ("customers", "volume_rows")}
    )
    if setup["obligations"] == 0:
        raise harness.BenchFailure("filing the incident created no obligations (was the profile imported?)")
    harness.print_incident_setup(setup, len(setup["incident_systems"]), f"{setup['obligations']:,} obligations created")
    if name == "postgresql":
        harness.vacuum_analyze(url)
    rounds = harness.run_part(
        SCRIPT,
        f"rounds (1 warm-up + {args.repeat})",
        "rounds",
        url,
        ["--incident", str(setup["incident_id"]), "--repeat", str(args.repeat)],
        env,
        logs,
        args.timeout,
    )
    measured = {key: harness.stats(times) for key, times in rounds.pop("times").items()}
    for key, (_, baseline) in MEASURED.items():
        if baseline:
            measured[key]["vs_baseline"] = round(measured[key]["median_ms"] / measured[baseline]["median_ms"], 2)
    print("    " + ", ".join(f"{key} {m['median_ms']:.0f} ms" for key, m in measured.items()))
    result: dict[str, Any] = {"database": name, "url": url, "setup": setup, "rounds": rounds, "measured": measured}
    if name == "sqlite":
        result["database_mb"] = harness.sqlite_size_mb(url)
    return result


# --- report ------------------------------------------------------------------------------------------


def report(payload: dict[str, Any]) -> list[str]:
    data, runs = payload["data"], payload["runs"]
    sizes = [
        (
            r["database"],
            f"{data['customers']:,}",
            f"{data['volume_rows']:,}",
            f"{len(r['setup']['incident_systems'])}",
            f"{r['setup']['affected_customers']:,}",
            f"{r['setup']['obligations']:,}",
            f"{r['rounds']['rows']['moved']:,}",
            f"{r['setup']['seconds']['import']:.1f}",
            f"{r['setup']['seconds']['open_incident'] * 1000:.0f}",
            f"{r['setup']['process']['peak_rss_mb']:.0f}",
            f"{r['rounds']['process']['peak_rss_mb']:.0f}",
        )
        for r in runs
    ]
    lines = harness.table(
        (
            "database",
            "customers",
            "volume rows",
            "incident systems",
            "affected customers",
            "obligations",
            "moved by b",
            "import s",
            "file incident ms",
            "setup RSS MB",
            "rounds RSS MB",
        ),
        sizes,
    )
    for r in runs:
        rows = r["rounds"]["rows"]
        counts = {
            "insert_baseline": f"{rows['obligations']:,} inserted",
            "fresh": f"{rows['obligations']:,} created",
            "update_baseline": f"{rows['moved']:,} updated",
            "moved": f"{rows['moved']:,} changed",
            "select_baseline": f"{rows['obligations']:,} read",
            "select_both": f"{rows['obligations']:,} + {rows['affected_customers']:,} read",
            "noop": "0 changed",
        }
        timings = []
        for key, (label, baseline) in MEASURED.items():
            m = r["measured"][key]
            timings.append(
                (
                    label,
                    str(m["runs"]),
                    f"{m['median_ms']:.1f}",
                    f"{m['p95_ms']:.1f}",
                    f"{m['vs_baseline']:.2f}x" if baseline else "1.00x",
                    counts[key],
                )
            )
        rss = r["rounds"]["process"]["peak_rss_mb"], r["rounds"]["rss_mb_self"]["after_warm_up"]
        lines += [
            "",
            f"{r['database']} (peak RSS of the rounds process {rss[0]:.0f} MB, {rss[1]:.0f} MB after "
            f"the warm-up round):",
            *harness.table(("measured", "runs", "median ms", "p95 ms", "vs baseline", "rows"), timings),
        ]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = harness.bench_parser(__doc__, customers=10_000, volume_rows=200_000, postgres_url=POSTGRES_URL)
    parser.add_argument(
        "--incident-systems",
        type=int,
        default=40,
        help="the incident's systems: the first N system keys in order (default 40, all 30 of the generated inventory)",
    )
    parser.add_argument("--repeat", type=int, default=7, help="timed rounds after one warm-up round (default 7)")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat: at least 1")
    return harness.run_benchmark(
        "obligations",
        args,
        bench_database=bench_database,
        report=report,
        sources=(
            "breachdesk/deadlines/services.py",
            "breachdesk/deadlines/obligations.py",
            "breachdesk/incidents/services.py",
        ),
        repeat=args.repeat,
        profile=PROFILE,
        aware_at=AWARE,
        measure=HOW_MEASURED,
    )


if __name__ == "__main__":
    sys.exit(harness.run_script(main, worker_main, WORKER_MODES))
