"""compute() of this tree against another tree's impact/queries.py, in one process on one database.

    .venv/bin/python tests/bench/impact_versus.py DATABASE_URL OTHER_TREE [--rounds 9] [--seed 42] [--systems 20]

OTHER_TREE is a checkout of an earlier commit (`git archive <commit> | tar -x -C DIR`); its
breachdesk/impact/queries.py is loaded beside this tree's (the rest of the package is this tree's, so the two
must share models and explain.py's CustomerImpact). The database holds an imported inventory (bench_impact.py
generates one; `breachdesk inventory import`). The scope is drawn as bench_impact.py draws it. Each round runs the
other tree's compute(), this tree's and the bare aggregate once, in an order rotated from round to round, after a
gc.collect(); the two answers must agree on every customer's people and records. Reported: the median CPU time
of each (time.process_time(): the Python side and, on SQLite, the database's work; a busy machine moves it far
less than wall time), the median wall time, and their ratios.
"""

import argparse
import gc
import importlib.util
import random
import time
from pathlib import Path

from sqlalchemy import select, text

from breachdesk import create_app
from breachdesk.extensions import db
from breachdesk.impact import queries as ours
from breachdesk.inventory.models import System

AGGREGATE = (
    "SELECT v.customer_id, v.data_subject_category, MAX(v.data_subjects), SUM(v.records) FROM volumes v "
    "WHERE v.customer_id IS NOT NULL AND v.activity_id IN "
    "(SELECT s.activity_id FROM activity_systems s WHERE s.system_id IN ({ids})) "
    "GROUP BY v.customer_id, v.data_subject_category"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("other", type=Path)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--systems", type=int, default=20)
    args = parser.parse_args()
    spec = importlib.util.spec_from_file_location("other_queries", args.other / "breachdesk/impact/queries.py")
    other = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(other)
    with create_app({"DATABASE_URL": args.url, "SECRET_KEY": "bench-versus"}).app_context():
        keys = sorted(db.session.execute(text("SELECT key FROM systems")).scalars())
        chosen = sorted(random.Random(f"breachdesk-bench:{args.seed}:impact-scope").sample(keys, args.systems))
        ids = tuple(sorted(db.session.scalars(select(System.id).where(System.key.in_(chosen)))))
        aggregate = text(AGGREGATE.format(ids=",".join(str(int(i)) for i in ids)))
        runs = {
            "other": lambda: other.compute(other.Scope(ids)),
            "ours": lambda: ours.compute(ours.Scope(ids)),
            "aggregate": lambda: db.session.execute(aggregate).all(),
        }
        answers = [[(c.key, c.people, c.records) for c in run().customers] for run in (runs["other"], runs["ours"])]
        db.session.rollback()
        if answers[0] != answers[1]:
            raise SystemExit("the two trees' compute() disagree")
        times: dict[str, dict[str, list[float]]] = {clock: {name: [] for name in runs} for clock in ("CPU", "wall")}
        names = list(runs)
        for round_ in range(args.rounds):
            for name in names[round_ % 3 :] + names[: round_ % 3]:
                gc.collect()
                cpu, wall = time.process_time(), time.perf_counter()
                runs[name]()
                times["CPU"][name].append(time.process_time() - cpu)
                times["wall"][name].append(time.perf_counter() - wall)
                db.session.rollback()
    for clock, found in times.items():
        median = {name: sorted(runs_)[len(runs_) // 2] * 1000 for name, runs_ in found.items()}
        other, ours_, aggregate = median["other"], median["ours"], median["aggregate"]
        print(
            f"{args.rounds} rounds, {clock} time medians: other {other:.0f} ms, ours {ours_:.0f} ms, "
            f"aggregate {aggregate:.0f} ms; ours / other {ours_ / other:.2f}, other / aggregate "
            f"{other / aggregate:.2f}, ours / aggregate {ours_ / aggregate:.2f}"
        )


if __name__ == "__main__":
    main()
