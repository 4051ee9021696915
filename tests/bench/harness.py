"""What every benchmark script shares: options, data, databases, measured processes, timing rounds,
statistics, the report table and the results file, and the `run_benchmark` skeleton of their main().

The scripts run from this folder (`.venv/bin/python tests/bench/<script>.py`), so they import it as
`from harness import ...`; nothing here imports from the scripts.
"""

import argparse
import datetime as dt
import gc
import hashlib
import io
import json
import math
import os
import platform
import pstats
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

import generate_inventory
from sqlalchemy import create_engine, text

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
RESULTS = HERE / "results"
MB = 1024 * 1024

#: Runs argv[2:], then writes {"returncode", "wall_seconds", "user_seconds", "system_seconds",
#: "max_rss_kb"} to the file argv[1]. Linux reports ru_maxrss in kilobytes.
_WRAPPER = """
import json, resource, subprocess, sys, time
start = time.perf_counter()
code = subprocess.call(sys.argv[2:])
wall = time.perf_counter() - start
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(sys.argv[1], "w") as out:
    json.dump({"returncode": code, "wall_seconds": wall, "user_seconds": usage.ru_utime,
               "system_seconds": usage.ru_stime, "max_rss_kb": usage.ru_maxrss}, out)
"""


class BenchFailure(Exception):
    """A benchmark that cannot give a true figure: it stops and says why."""


# --- options ----------------------------------------------------------------------------------------


def bench_parser(
    doc: str,
    *,
    customers: int,
    volume_rows: int,
    postgres_url: str,
    postgres_wait: float = 60,
    postgres_help: str | None = None,
) -> argparse.ArgumentParser:
    """The options every benchmark takes (data size, databases, kept data, time allowed); each script
    adds its own."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument(
        "--customers", type=int, default=customers, help=f"of the generated inventory (default {customers})"
    )
    parser.add_argument(
        "--volume-rows", type=int, default=volume_rows, help=f"of the generated inventory (default {volume_rows})"
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--skip-postgres", action="store_true", help="SQLite only")
    parser.add_argument(
        "--keep",
        type=Path,
        metavar="DIR",
        help="generate the data into DIR and keep it (reused when generated with the same arguments)",
    )
    parser.add_argument("--timeout", type=float, default=1800, help="seconds allowed to each process (default 1800)")
    parser.add_argument(
        "--postgres-url",
        default=postgres_url,
        help=postgres_help
        or f"SQLAlchemy URL of a PostgreSQL database of the benchmark's own "
        f"(default {postgres_url}; created when missing, then dropped at the "
        f"end; emptied first)",
    )
    parser.add_argument(
        "--postgres-wait",
        type=float,
        default=postgres_wait,
        help=f"seconds to wait for other sessions to leave that database (default {postgres_wait:g})",
    )
    return parser


def part_parser(
    script: str, benchmark: str, modes: tuple[str, ...], url_help: str = "the database URL"
) -> argparse.ArgumentParser:
    """The options of a measured part (`script MODE URL --out FILE ...`, what run_part starts); each script
    adds the options of its parts."""
    parser = argparse.ArgumentParser(
        prog=f"{script} {'|'.join(modes)}", description=f"one measured part of the {benchmark} benchmark (internal)"
    )
    parser.add_argument("mode", choices=modes)
    parser.add_argument("url", help=url_help)
    parser.add_argument("--out", required=True, type=Path, help="JSON answer written here")
    parser.add_argument("--structure", help="setup: the inventory.yaml to import")
    return parser


# --- data -------------------------------------------------------------------------------------------


def prepare_data(
    directory: Path,
    customers: int,
    volume_rows: int,
    seed: int,
    systems: int | None = None,
    activities: int | None = None,
) -> dict[str, Any]:
    """Generate the inventory into `directory` unless its manifest says it holds the same data (same
    arguments, same generator source, same CSV size). `systems` / `activities` (the impact benchmark)
    default to the generator's own defaults."""
    manifest_path = directory / "manifest.json"
    generator = Path(generate_inventory.__file__).read_bytes()
    sizes = {
        "systems": systems or len(generate_inventory.SYSTEMS),
        "activities": activities or len(generate_inventory.ACTIVITIES),
    }
    wanted = {
        "customers": customers,
        "volume_rows": volume_rows,
        "seed": seed,
        **sizes,
        "generator_sha256": hashlib.sha256(generator).hexdigest(),
    }
    structure = directory / generate_inventory.STRUCTURE_NAME
    volumes = directory / generate_inventory.VOLUMES_NAME
    generate_seconds = None
    reused = False
    if manifest_path.is_file() and structure.is_file() and volumes.is_file():
        manifest = json.loads(manifest_path.read_text())
        reused = {k: manifest.get(k) for k in wanted} == wanted and manifest.get(
            "volumes_bytes"
        ) == volumes.stat().st_size
    if reused:
        print(f"reusing the data in {directory}")
    else:
        extra = "".join(f", {v} {k}" for k, v in sizes.items() if systems or activities)
        print(
            f"generating {customers} customers{extra} and {volume_rows} volume rows (seed {seed}) in {directory} ...",
            flush=True,
        )
        manifest_path.unlink(missing_ok=True)
        start = time.perf_counter()
        generate_inventory.generate(directory, customers, volume_rows, seed, **sizes)
        generate_seconds = round(time.perf_counter() - start, 2)
        manifest_path.write_text(json.dumps({**wanted, "volumes_bytes": volumes.stat().st_size}, indent=2))
        print(f"  generated in {generate_seconds} s")
    return {
        **wanted,
        "directory": str(directory),
        "reused": reused,
        "generate_seconds": generate_seconds,
        "structure": str(structure),
        "volumes": str(volumes),
        "structure_mb": round(structure.stat().st_size / MB, 2),
        "volumes_mb": round(volumes.stat().st_size / MB, 2),
    }


# --- databases --------------------------------------------------------------------------------------


def libpq_url(url: str) -> str:
    """The SQLAlchemy URL as psycopg takes it (no +driver)."""
    return re.sub(r"^postgresql\+\w+://", "postgresql://", url)


def _database_name_and_maintenance(url: str) -> tuple[str, str]:
    base, name = libpq_url(url).rsplit("/", 1)
    return name.split("?")[0], base + "/postgres"


def postgres_answers(url: str) -> bool:
    try:
        import psycopg

        with psycopg.connect(libpq_url(url), connect_timeout=3) as connection:
            connection.execute("SELECT 1")
        return True
    except Exception as error:  # noqa: BLE001 - any failure means "not available"
        print(f"\nPostgreSQL does not answer at {libpq_url(url)} ({type(error).__name__}: {error}); skipping it")
        return False


def ensure_postgres_database(url: str) -> bool | None:
    """Create the benchmark's own database when missing. True: created now; False: it was there;
    None: PostgreSQL does not answer."""
    import psycopg
    from psycopg import sql

    name, maintenance = _database_name_and_maintenance(url)
    if name == "test":
        raise BenchFailure(
            "refusing the database `test`: the PostgreSQL test suite empties it; "
            "give the benchmark a database of its own"
        )
    try:
        with psycopg.connect(maintenance, autocommit=True, connect_timeout=3) as connection:
            if connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone():
                return False
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"\ncreated PostgreSQL database {name}")
            return True
    except psycopg.OperationalError as error:
        print(f"\nPostgreSQL does not answer at {maintenance} ({error}); skipping it")
        return None


def drop_postgres_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    name, maintenance = _database_name_and_maintenance(url)
    with psycopg.connect(maintenance, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
    print(f"dropped PostgreSQL database {name}")


def reset_postgres(url: str, wait: float) -> None:
    """Wait until nobody else uses the database (the test suite may share it), then empty schema public."""
    import psycopg

    with psycopg.connect(libpq_url(url), autocommit=True) as connection:
        deadline = time.monotonic() + wait
        while True:
            others = connection.execute(
                "SELECT pid, coalesce(application_name, ''), state, backend_start FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchall()
            if not others:
                break
            if time.monotonic() >= deadline:
                raise BenchFailure(
                    f"{len(others)} other session(s) still use {libpq_url(url)} after {wait:.0f} s "
                    f"(a test run?): {others}; not dropping its schema. Retry later or pass "
                    f"--postgres-url for a database of its own."
                )
            print(f"  {len(others)} other session(s) connected to the database (a test run?); waiting ...", flush=True)
            time.sleep(5)
        print(f"  dropping and re-creating schema public in {libpq_url(url)} (DROP SCHEMA public CASCADE)", flush=True)
        connection.execute("DROP SCHEMA public CASCADE")
        connection.execute("CREATE SCHEMA public")


def vacuum_analyze(url: str) -> None:
    """What autovacuum does shortly after a bulk insert: statistics, visibility map."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("VACUUM ANALYZE"))
    engine.dispose()
    print("  VACUUM ANALYZE done")


def sqlite_size_mb(url: str) -> float:
    return round(Path(url.removeprefix("sqlite:///")).stat().st_size / MB, 1)


@contextmanager
def databases(args: argparse.Namespace, work: Path, own_database: bool = True) -> Iterator[list[tuple[str, str]]]:
    """(name, URL) of the databases to measure: a fresh SQLite file, and PostgreSQL when it answers and
    --skip-postgres is not given. `own_database`: the benchmark's own database, created when missing and
    dropped at the end when this run created it; otherwise a database that must exist and may be emptied."""
    found = [("sqlite", f"sqlite:///{work / 'sqlite' / 'breachdesk.db'}")]
    created = None
    try:
        if not args.skip_postgres:
            if own_database:
                created = ensure_postgres_database(args.postgres_url)
                answers = created is not None
            else:
                answers = postgres_answers(args.postgres_url)
            if answers:
                found.append(("postgresql", args.postgres_url))
        yield found
    finally:
        if created:
            drop_postgres_database(args.postgres_url)


def clean_env(database_url: str, instance: Path) -> dict[str, str]:
    """The environment of a measured process: no BREACHDESK_* setting of the caller's leaks in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BREACHDESK_")}
    env.update(BREACHDESK_DATABASE_URL=database_url, BREACHDESK_INSTANCE_PATH=str(instance), PYTHONUNBUFFERED="1")
    return env


def start_database(name: str, url: str, work: Path, postgres_wait: float) -> tuple[dict[str, str], Path]:
    """Before measuring on one database: its header line, a fresh instance folder and the measured
    processes' environment; on PostgreSQL an emptied schema. Returns that environment and the logs folder."""
    print(f"\n== {name}: {url}")
    instance = work / name / "instance"
    instance.mkdir(parents=True)
    if name == "postgresql":
        reset_postgres(url, postgres_wait)
    return clean_env(url, instance), work / name / "logs"


def bench_app(url: str, **config: Any):
    """The application of a measured process, on `url`."""
    from breachdesk import create_app

    return create_app({"DATABASE_URL": url, "SECRET_KEY": "bench-secret", **config})


# --- measured processes -----------------------------------------------------------------------------


def breachdesk_command() -> list[str]:
    script = Path(sys.executable).parent / "breachdesk"
    if script.is_file():
        return [str(script)]
    found = shutil.which("breachdesk")
    if found:
        return [found]
    return [sys.executable, "-c", "from breachdesk.cli import main; main()"]


def run_process(
    label: str, argv: list[str], env: dict[str, str], stdout_path: Path, stderr_path: Path, timeout: float
) -> int:
    """Run `argv` in a session of its own, output to files; killed with its children after `timeout`."""
    with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
        process = subprocess.Popen(argv, stdout=out, stderr=err, env=env, start_new_session=True)
        try:
            return process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # the group of the one process started here
            process.wait()
            raise BenchFailure(
                f"{label} did not finish in {timeout:g} s and was killed; see {stdout_path} and {stderr_path}"
            ) from None


def failure(label: str, code: int, stderr_path: Path) -> BenchFailure:
    tail = "\n".join(stderr_path.read_text(errors="replace").splitlines()[-30:])
    return BenchFailure(f"{label} failed (exit {code}):\n{tail}")


def run(
    label: str, command: list[str], env: dict[str, str], logs: Path, timeout: float, measure: bool = True
) -> dict[str, Any]:
    """Run `command` (under the measuring wrapper: wall time, CPU, peak RSS), logs to files; raises
    BenchFailure if it fails."""
    logs.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", label)
    stdout_path, stderr_path, stats_path = (logs / f"{stem}.{s}" for s in ("out", "err", "stats.json"))
    argv = [sys.executable, "-c", _WRAPPER, str(stats_path), *command] if measure else command
    print(f"  {label}: {' '.join(command)}", flush=True)
    returncode = run_process(label, argv, env, stdout_path, stderr_path, timeout)
    stdout = stdout_path.read_text(errors="replace").strip()
    figures: dict[str, Any] = json.loads(stats_path.read_text()) if measure else {"returncode": returncode}
    if returncode != 0 or figures["returncode"] != 0:
        raise failure(label, figures["returncode"], stderr_path)
    result: dict[str, Any] = {"command": command, "stdout": stdout[-2000:]}
    if measure:
        result.update(
            wall_seconds=round(figures["wall_seconds"], 2),
            user_seconds=round(figures["user_seconds"], 2),
            system_seconds=round(figures["system_seconds"], 2),
            peak_rss_mb=round(figures["max_rss_kb"] / 1024, 1),
        )
        print(f"    {result['wall_seconds']:.1f} s, peak RSS {result['peak_rss_mb']:.0f} MB", flush=True)
    return result


def run_part(
    script: str, label: str, mode: str, url: str, options: list[str], env: dict[str, str], logs: Path, timeout: float
) -> dict[str, Any]:
    """Run `script mode url --out FILE options` (one measured part of a benchmark) in a fresh process under
    the measuring wrapper; its JSON answer, with the wrapper's figures under "process"."""
    logs.mkdir(parents=True, exist_ok=True)
    out = logs / f"{mode}.json"
    process = run(label, [sys.executable, script, mode, url, "--out", str(out), *options], env, logs, timeout)
    answer = json.loads(out.read_text())
    answer["process"] = {k: process[k] for k in ("wall_seconds", "user_seconds", "system_seconds", "peak_rss_mb")}
    return answer


def rss_mb() -> float:
    """This process's peak resident set so far."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # Linux: kilobytes


# --- timing -----------------------------------------------------------------------------------------


def timed_runs(run: Callable[[], Any], repeat: int, between: Callable[[], None]) -> tuple[list[float], Any]:
    """One warm-up, then `repeat` timed runs; `between` (untimed) after each. The previous answer is
    let go before each run, as a request does: thousands of live objects would make every garbage
    collection during the run slower."""
    result = run()
    between()
    times = []
    for _ in range(repeat):
        result = None
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
        between()
    return times, result


def interleaved_rounds(
    contenders: dict[str, Callable[[], Any]], repeat: int, between: Callable[[], None]
) -> dict[str, list[float]]:
    """Each contender once per round, `repeat` rounds, the order rotated from round to round, `between`
    (untimed) after each run: a busy machine slows them alike, so the ratios between them hold even when
    the absolute times drift. The warm-up (one run each) is not kept."""
    for run in contenders.values():
        run()
        between()
    times: dict[str, list[float]] = {name: [] for name in contenders}
    names = list(contenders)
    for round_number in range(repeat):
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            start = time.perf_counter()
            contenders[name]()
            times[name].append(time.perf_counter() - start)
            between()
    return times


#: a measured step: prepare() (not timed), run() (timed), check(its answer) (not timed)
Step = tuple[Callable[[], Any], Callable[[], Any], Callable[[Any], Any]]


def step_rounds(
    steps: dict[str, Step],
    repeat: int,
    around: Callable[[str], AbstractContextManager] = lambda name: nullcontext(),
    after_warm_up: Callable[[], None] = lambda: None,
) -> dict[str, list[float]]:
    """One warm-up round, then `repeat` rounds, each step once per round in the given order (a step may
    rely on the one before), each inside `around(name)`. A gc.collect() before each run, not timed: no
    step pays for the garbage of the one before."""
    times: dict[str, list[float]] = {name: [] for name in steps}
    for round_number in range(repeat + 1):  # round 0: the warm-up, not kept
        for name, (prepare, run, check) in steps.items():
            with around(name):
                prepare()
                gc.collect()
                start = time.perf_counter()
                answer = run()
                elapsed = time.perf_counter() - start
                check(answer)
                answer = None
            if round_number:
                times[name].append(elapsed)
        if round_number == 0:
            after_warm_up()
    return times


@contextmanager
def rolled_back(_step: str = "") -> Iterator[None]:
    """Around a measured step (step_rounds' `around`): its transaction rolled back after it."""
    from breachdesk.extensions import db

    yield
    db.session.rollback()


def expect(what: str, got: Any, want: Any) -> None:
    """A measured thing that did not do its work gives no figure."""
    if got != want:
        raise BenchFailure(f"{what}: got {got!r}, expected {want!r}")


def expect_rows(what: str, counts: dict[str, int], expected: dict[str, int]) -> None:
    """Refuse a run whose tables do not hold the data it was given: it would measure nothing."""
    wrong = {k: (counts[k], v) for k, v in expected.items() if counts[k] != v}
    if wrong:
        raise BenchFailure(
            f"{what}: " + ", ".join(f"{k}: {got} rows, expected {want}" for k, (got, want) in wrong.items())
        )


def commit_timer(seconds: dict[str, float]) -> Callable[[str, Callable[[], Any]], Any]:
    """timed(name, work): runs work() and commits, the seconds it took under seconds[name]."""
    from breachdesk.extensions import db

    def timed(name: str, work: Callable[[], Any]) -> Any:
        start = time.perf_counter()
        answer = work()
        db.session.commit()
        seconds[name] = round(time.perf_counter() - start, 3)
        return answer

    return timed


def migrate_and_import(
    timed: Callable[[str, Callable[[], Any]], Any], structure: str, profile: str | None = None
) -> tuple[Any, Any]:
    """The first steps of every setup, each timed: the migrations, the generated inventory, and the
    organisation's profile (an inventory document) when given. Returns the two imports' summaries."""
    import flask_migrate

    import breachdesk
    from breachdesk.inventory.cli import run_import
    from breachdesk.inventory.importer import import_inventory

    timed("migrate", lambda: flask_migrate.upgrade(directory=str(Path(breachdesk.__file__).parent / "migrations")))
    imported = timed("import", lambda: run_import(Path(structure), None))
    if profile is None:
        return imported, None
    return imported, timed("profile", lambda: import_inventory(("profile.yaml", profile)))


def print_incident_setup(setup: dict[str, Any], systems: int, filed: str) -> None:
    """What a setup that filed an incident on the generated inventory made (obligations, notices)."""
    print(f"  {setup['import_summary']}; {setup['profile_summary']}")
    print(
        f"  incident {setup['incident_id']} on {systems} systems: {setup['affected_customers']:,} of "
        f"{setup['customers']:,} customers affected, {filed}"
    )


# --- figures and report -----------------------------------------------------------------------------


def stats(times: list[float]) -> dict[str, Any]:
    """Median, nearest-rank p95, min and max, in milliseconds."""
    ordered = sorted(times)
    return {
        "runs": len(times),
        "median_ms": round(statistics.median(times) * 1000, 2),
        "p95_ms": round(ordered[math.ceil(0.95 * len(ordered)) - 1] * 1000, 2),
        "min_ms": round(ordered[0] * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2),
        "times_ms": [round(t * 1000, 2) for t in times],
    }


def mark(ok: bool) -> str:
    """How a goal reads in a table."""
    return "ok" if ok else "MISSED"


def goal(limit_ms: float, measured_ms: float, what: str = "") -> str:
    """A goal cell: "<300 ms ok", "p95 <200 ms MISSED"."""
    return f"{what + ' ' if what else ''}<{limit_ms:.0f} ms {mark(measured_ms < limit_ms)}"


def table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    """A plain text table: figures right-aligned, words left-aligned."""
    rows = [header, *rows]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        "  ".join(
            cell.rjust(width) if column and cell[:1].isdigit() or cell in ("-",) else cell.ljust(width)
            for column, (cell, width) in enumerate(zip(row, widths, strict=True))
        ).rstrip()
        for row in rows
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return lines


def profile_top(path: str, limit: int = 15, sort: str = "tottime") -> list[str]:
    """The functions of a .prof file that take the most time of their own (or with what they call: "cumulative")."""
    out = io.StringIO()
    pstats.Stats(path, stream=out).sort_stats(sort).print_stats(limit)
    return [line for line in out.getvalue().splitlines() if line.strip()][-limit - 1 :]


def source_state(files: tuple[str, ...] = ()) -> dict[str, Any]:
    """Which code was measured: the commit, uncommitted changes, and the hash of each of `files`
    (paths from the repository's root)."""

    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=30).stdout
        except (OSError, subprocess.SubprocessError):
            return ""

    state: dict[str, Any] = {
        "commit": git("rev-parse", "HEAD").strip(),
        "modified": [line[3:] for line in git("status", "--porcelain", "--untracked-files=no").splitlines()],
    }
    for name in files:
        path = ROOT / name
        state[f"{name}_sha256"] = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None
    return state


def write_results(payload: dict[str, Any], kind: str) -> Path:
    """results/<kind>-<started>.json; the folder ignores its own contents."""
    RESULTS.mkdir(exist_ok=True)
    ignore = RESULTS / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n!.gitignore\n")
    path = RESULTS / f"{kind}-{dt.datetime.fromisoformat(payload['started']).strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    return path


# --- the skeleton -----------------------------------------------------------------------------------


def run_script(
    main: Callable[[list[str]], int], part_main: Callable[[list[str]], int] | None = None, modes: tuple[str, ...] = ()
) -> int:
    """A script's entry point: `script MODE ...` (MODE one of `modes`) runs one measured part in this
    process (`part_main`, what run_part starts); anything else runs the benchmark (`main`)."""
    argv = sys.argv[1:]
    if part_main and argv and argv[0] in modes:
        return part_main(argv)
    return main(argv)


def run_benchmark(
    kind: str,
    args: argparse.Namespace,
    *,
    bench_database: Callable[[str, str, dict[str, Any], Path, argparse.Namespace], dict[str, Any]],
    report: Callable[[dict[str, Any]], list[str]],
    sources: tuple[str, ...] = (),
    inventory: dict[str, int] | None = None,
    own_database: bool = True,
    epilogue: Callable[[dict[str, Any]], None] = lambda payload: None,
    **described: Any,
) -> int:
    """A benchmark's main(): generate (or reuse) the inventory, call `bench_database(name, url, data, work,
    args)` for each database, print `report(payload)` (then `epilogue(payload)`), write
    results/<kind>-<timestamp>.json. `described` goes into that file as it is. A failure (BenchFailure,
    ValueError) is printed and keeps the temporary folder; the exit status is 1."""
    started = dt.datetime.now().astimezone().replace(microsecond=0)
    payload: dict[str, Any] = {
        "started": started.isoformat(),
        "host": platform.node(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "load_average_before": os.getloadavg(),
        "source": source_state(sources),
        **described,
        "runs": [],
    }
    work = Path(tempfile.mkdtemp(prefix=f"breachdesk-bench-{kind}-"))
    data_dir = args.keep.resolve() if args.keep else work / "data"
    status = 0
    try:
        RESULTS.mkdir(exist_ok=True)
        payload["data"] = prepare_data(data_dir, args.customers, args.volume_rows, args.seed, **(inventory or {}))
        with databases(args, work, own_database) as found:
            for name, url in found:
                payload["runs"].append(bench_database(name, url, payload["data"], work, args))
    except (BenchFailure, ValueError) as error:
        payload["error"] = str(error)
        print(f"\nBENCHMARK FAILED: {error}\n(logs and data kept in {work})", file=sys.stderr)
        status = 1
    payload["load_average_after"] = os.getloadavg()
    if payload["runs"]:
        payload["table"] = report(payload)
        print("\n" + "\n".join(payload["table"]))
        epilogue(payload)
    if "data" in payload:
        print(f"\nresults: {write_results(payload, kind)}")
    if status == 0:
        shutil.rmtree(work, ignore_errors=True)
    return status
