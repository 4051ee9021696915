"""Run every benchmark, one after the other, each as its own script (what `make bench` runs).

    .venv/bin/python tests/bench/run_all.py [--quick] [--skip-postgres] [--keep DIR] [--postgres-url URL]
                                            [--only import,impact,obligations,notices,dashboard,end_to_end]

* bench_import.py: `breachdesk inventory import` at scale against a plain load (PostgreSQL: the
  `test` database unless --postgres-url or --import-postgres-url; see README.md);
* bench_impact.py: the impact engine and the incident page (PostgreSQL: a database of its own);
* bench_obligations.py: deriving an incident's obligations, moving its awareness, a no-op re-derivation,
  against bare INSERT / UPDATE / SELECT (PostgreSQL: a database of its own);
* bench_notices.py: generating, approving and queueing an incident's notices, and dispatching them
  through the SendGrid backend to a local stub, against bare library calls (PostgreSQL: a database of its own);
* bench_dashboard.py: the deadline dashboard under 10 concurrent clients against gunicorn, against a bare route
  running the same SQL, and the reminder tick over the open obligations (PostgreSQL: a database of its own);
* bench_end_to_end.py: from the POST of an incident reaching 10,000 customers to the last of its notices accepted
  by a provider answering in 50 ms, generated and approved in between as the pages do, against the goals (under
  60 s; within 1.25x of messages x latency / messages in flight + time to queue) (PostgreSQL: a database of its own).

--quick shrinks the data (500 customers, 50,000 volume rows; 20,000 for notices, 200 of the messages through
the slow stub; 200 incidents and 4,000 obligations, shorter load, for the dashboard) for a smoke run whose
figures mean little; --keep DIR keeps the generated data in DIR/import, DIR/impact, DIR/obligations,
DIR/notices, DIR/dashboard and DIR/end_to_end for the next run.
Every benchmark runs even when an earlier one failed; the exit status is 1 when any failed. Each writes its
own JSON into tests/bench/results/. The summary repeats, under each benchmark, the lines where it marked a goal
`ok` or `MISSED` (end to end, import, notices' queueing, impact, dashboard).
"""

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = ("import", "impact", "obligations", "notices", "dashboard", "end_to_end")
QUICK = ["--customers", "500", "--volume-rows", "50000"]
#: a line of a benchmark's report that marks a goal (harness.mark, harness.goal: "goal ... ok", "<300 ms MISSED")
GOAL_MARK = re.compile(r"(goal|<\s*[\d.,]+).*\b(ok|MISSED)\b")


def commands(args) -> dict[str, list[str]]:
    common = ["--skip-postgres"] if args.skip_postgres else []
    if args.quick:
        common += QUICK
    found = {
        "import": [sys.executable, str(HERE / "bench_import.py"), *common],
        "impact": [sys.executable, str(HERE / "bench_impact.py"), *common],
        "obligations": [sys.executable, str(HERE / "bench_obligations.py"), *common],
        "notices": [sys.executable, str(HERE / "bench_notices.py"), *common],
        "dashboard": [sys.executable, str(HERE / "bench_dashboard.py"), *common],
        "end_to_end": [sys.executable, str(HERE / "bench_end_to_end.py"), *common],
    }
    if args.quick:
        found["impact"] += ["--incident-customers", "200", "--repeat", "5"]
        found["obligations"] += ["--repeat", "3"]
        found["notices"] += ["--volume-rows", "20000", "--slow-messages", "200"]
        found["dashboard"] += [
            "--incidents",
            "200",
            "--obligations",
            "4000",
            "--rounds",
            "2",
            "--seconds",
            "3",
            "--repeat",
            "3",
            "--first-ticks",
            "2",
        ]
    if args.postgres_url:
        for name in found:
            found[name] += ["--postgres-url", args.postgres_url]
    if args.import_postgres_url:
        found["import"] += ["--postgres-url", args.import_postgres_url]  # the later option wins
    if args.keep:
        for name in found:
            found[name] += ["--keep", str(args.keep / name)]
    return found


def run(command: list[str]) -> tuple[int, list[str]]:
    """One benchmark, its output shown as it comes; returns its exit status and the lines marking a goal."""
    goals = []
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, bufsize=1) as process:
        for line in process.stdout:
            print(line, end="", flush=True)
            if GOAL_MARK.search(line):
                goals.append(line.rstrip())
    return process.returncode, goals


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small data: a smoke run, not a measurement")
    parser.add_argument("--skip-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--keep", type=Path, metavar="DIR", help="keep and reuse generated data under DIR")
    parser.add_argument("--only", default=",".join(BENCHMARKS), help=f"comma-separated, of {', '.join(BENCHMARKS)}")
    parser.add_argument(
        "--postgres-url",
        help="passed to every benchmark as --postgres-url: a PostgreSQL database they may empty, "
        "one after the other (default: each its own)",
    )
    parser.add_argument("--import-postgres-url", help="passed to bench_import.py as --postgres-url")
    args = parser.parse_args(argv)
    chosen = [name for name in args.only.split(",") if name]
    unknown = sorted(set(chosen) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmarks {unknown}; known: {', '.join(BENCHMARKS)}")
    outcome = {}
    for name, command in commands(args).items():
        if name not in chosen:
            continue
        print(f"\n######## {name}: {' '.join(command)}", flush=True)
        start = time.perf_counter()
        code, goals = run(command)
        outcome[name] = (code, time.perf_counter() - start, goals)
    print("\n######## summary")
    for name, (code, seconds, goals) in outcome.items():
        print(f"  {name:11s} {'ok' if code == 0 else f'FAILED (exit {code})':16s} {seconds:7.0f} s")
        for line in goals:
            print(f"      {line.strip()}")
    return 1 if any(code != 0 for code, *_ in outcome.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
