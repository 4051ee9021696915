"""Benchmark what a privacy officer waits for: from filing an incident to the last notice accepted by the provider.

    .venv/bin/python tests/bench/bench_end_to_end.py [--customers 10000] [--volume-rows 1000000] [--seed 42]
                                                     [--latency-ms 50] [--dispatchers 1] [--concurrency N]
                                                     [--batch N] [--skip-postgres]
                                                     [--keep DIR] [--postgres-url URL] [--profile]

The goal (issue 17): from the POST of an incident reaching 10,000 customers to every message accepted by a
provider answering in 50 ms, with the notices generated and approved in between by the calls the pages make,
under 60 s, and within 1.25x of (messages x provider latency / messages in flight) + the time to queue them.

For each database (a fresh SQLite file; on PostgreSQL a database of its own, default
breachdesk_bench_end_to_end, created when missing and dropped at the end when this run created it, emptied with
DROP SCHEMA public CASCADE first), each part in a fresh process under harness's measuring wrapper:

1. SETUP (not timed against the goal): the migrations, the generated inventory, the organisation profile (GDPR,
   a DPO), a privacy officer and an API token of theirs. PostgreSQL then gets VACUUM ANALYZE;
2. the SendGrid stand-in (tests/notices/mailstub.py, in a process of its own as bench_notices.py runs it)
   answering every request after --latency-ms, and --dispatchers `breachdesk dispatch --forever` processes
   already polling the outbox, as a scheduler would be, with the default configuration (DISPATCH_CONCURRENCY,
   DISPATCH_BATCH...; --concurrency and --batch set those two) and MAIL_BACKEND=sendgrid pointed at the stand-in;
3. the FLOW, timed from its first step to the last message accepted, in one process:
   a. `POST /api/v1/incidents` with the token, on every system (nearly every customer affected), through
      Flask's test client: the impact is computed, the obligations derived, the answer serialised;
   b. the statement for recipients in English and French (`save_statement`, as its page saves it);
   c. `services.generate_all(incident, officer, QueueProgress(...))` acting as the officer, as the page's job;
   d. the review page: `review.of_incident(incident, officer, now)` (every draft judged, the summary, the
      fingerprint);
   e. the confirmation, as its view and job do: `review.of_incident` again, checked against what the page showed
      (`refusal`), then `services.approve_reviewed(incident, review.reviewed(), officer, QueueProgress(...))`;
      from its first committed batch on, the dispatchers find messages to send;
   f. waiting, polling the outbox every second, until every message of the incident is `sent`; the flow ends at
      the last message's `sent_at`, the instant its dispatcher got the provider's answer.
   Checked: every message sent once (the stand-in received each outbox id exactly once), none failed.

Reported: each step's seconds, time to queue (a to e), the total (from a's start to the last message's
`sent_at`), and the two goals: total < 60 s, and total within 1.25x of messages x latency / messages in
flight (DISPATCH_CONCURRENCY x dispatchers) + time to queue. Results in tests/bench/results/end_to_end-*.json.
`--profile` runs the flow up to the approval and the first dispatcher under cProfile (the dispatcher's main thread:
claiming, loading, recording; the sends run in its threads) and prints their top functions.
"""

import cProfile
import json
import os
import queue
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import bench_notices
import harness

sys.path.insert(0, str(harness.ROOT))  # the test suite's statements (tests/incident_fixtures.py)

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1/breachdesk_bench_end_to_end"
HOW_MEASURED = (
    "setup in a fresh process; the SendGrid stand-in in its own process; the dispatchers as `breachdesk dispatch "
    "--forever` processes polling before the flow starts; the flow (POST through Flask's test client, statements, "
    "generate_all, the review page's review.of_incident, the confirmation's review.of_incident and approve_reviewed "
    "with a QueueProgress, acting as the officer, then polling the outbox every second "
    "until every message is sent) in one process, from the POST (UTC) to the last message's sent_at (the "
    "provider's answer); the steps up to the approval by perf_counter"
)
USERNAME = "bench-officer"
PASSWORD = "correct-Horse-7-battery"
AWARE_AT = "2026-01-05T10:00:00Z"
GOAL_SECONDS = 60.0
GOAL_RATIO = 1.25
#: how often the flow looks for messages left unsent: seldom, so that its query takes little CPU from the processes
#: measured; the end is read from `sent_at`, not from the poll
POLL_SECONDS = 1.0
WORKER_MODES = ("setup", "flow")
SCRIPT = str(Path(__file__).resolve())


# --- the measured processes -----------------------------------------------------------------------


def measure_setup(url: str, structure: str) -> dict[str, Any]:
    """Migrate, import the inventory and the profile, create the officer and their API token."""
    from sqlalchemy import func, select

    from breachdesk.api.services import create_token
    from breachdesk.auth.models import Role
    from breachdesk.auth.services import create_user
    from breachdesk.extensions import db
    from breachdesk.inventory.models import Customer, System, Volume

    seconds: dict[str, float] = {}
    timed = harness.commit_timer(seconds)
    app = harness.bench_app(url)
    with app.app_context():
        imported, profile = harness.migrate_and_import(timed, structure, bench_notices.PROFILE)
        officer = timed("user", lambda: create_user(USERNAME, "officer@bench.example", PASSWORD, Role.PRIVACY))
        _, secret = timed("token", lambda: create_token(officer, "bench"))
        return {
            "seconds": seconds,
            "import_summary": str(imported),
            "profile_summary": str(profile),
            "customers": db.session.scalar(select(func.count()).select_from(Customer)),
            "volume_rows": db.session.scalar(select(func.count()).select_from(Volume)),
            "systems": list(db.session.scalars(select(System.key).order_by(System.key))),
            "token": secret,
        }


def _as_officer(work):
    """Run work(officer) acting as the officer, as the page's background job does (audit.carrying_actor)."""
    from sqlalchemy import select

    from breachdesk.audit.services import acting_as
    from breachdesk.auth.models import User
    from breachdesk.extensions import db

    officer = db.session.scalar(select(User).where(User.username == USERNAME))
    with acting_as(f"user:{officer.username}", officer.id):
        return work(officer)


def _confirm(incident_id: int, officer, shown):
    """What the confirmation does (notices/views.py approve_all and its job): the review again, refused unless it is
    what the page showed, then the reviewed drafts approved and queued."""
    from breachdesk.core.clock import now_utc
    from breachdesk.core.progress import QueueProgress
    from breachdesk.notices import review, services

    again = review.of_incident(incident_id, officer, now_utc())
    refused = again.refusal(shown.confirmation())
    if refused:
        raise harness.BenchFailure(f"the confirmation was refused: {refused}")
    return services.approve_reviewed(incident_id, again.reviewed(), officer, QueueProgress(queue.Queue()))


def _unsent(incident_id: int) -> tuple[int, int]:
    """(messages of the incident not yet sent, of which failed), in a fresh transaction."""
    from sqlalchemy import func, select

    from breachdesk.extensions import db
    from breachdesk.notices.models import Notice, OutboxMessage, OutboxStatus

    db.session.rollback()
    rows = dict(
        db.session.execute(
            select(OutboxMessage.status, func.count())
            .join(Notice, Notice.id == OutboxMessage.notice_id)
            .where(Notice.incident_id == incident_id, OutboxMessage.status != OutboxStatus.SENT)
            .group_by(OutboxMessage.status)
        ).all()
    )
    db.session.rollback()
    return sum(rows.values()), rows.get(OutboxStatus.FAILED, 0)


def measure_flow(url: str, token: str, systems: list[str], timeout: float, profile: Path | None) -> dict[str, Any]:
    """The timeline, step by step: POST, statements, generate, review, approve, then wait for the last message sent.
    `profile`: cProfile the steps up to the approval into that file."""
    from sqlalchemy import func, select

    from breachdesk.core.clock import now_utc
    from breachdesk.core.progress import QueueProgress
    from breachdesk.extensions import db
    from breachdesk.incidents.models import Incident
    from breachdesk.notices import review, services
    from breachdesk.notices.models import Notice, OutboxMessage
    from tests.incident_fixtures import write_statements

    app = harness.bench_app(url)
    client = app.test_client()
    body = {"title": "Bench: end to end", "aware_at": AWARE_AT, "systems": systems, "nature": ["confidentiality"]}
    marks: dict[str, float] = {}
    profiler = cProfile.Profile() if profile else None
    with app.app_context():
        if profiler:
            profiler.enable()
        started_at, start = now_utc(), time.perf_counter()
        answer = client.post("/api/v1/incidents", json=body, headers={"Authorization": f"Bearer {token}"})
        marks["post"] = time.perf_counter()
        if answer.status_code != 201:
            raise harness.BenchFailure(f"POST /api/v1/incidents answered {answer.status_code}: {answer.text[:500]}")
        incident_id = answer.json["id"]
        write_statements(db.session.get(Incident, incident_id))
        db.session.commit()
        marks["statements"] = time.perf_counter()
        notices = _as_officer(lambda officer: services.generate_all(incident_id, officer, QueueProgress(queue.Queue())))
        marks["generate"] = time.perf_counter()
        shown = _as_officer(lambda officer: review.of_incident(incident_id, officer, now_utc()))
        marks["review"] = time.perf_counter()
        queued = _as_officer(lambda officer: _confirm(incident_id, officer, shown)).queued
        marks["approve"] = time.perf_counter()
        if profiler:
            profiler.disable()
            profiler.dump_stats(profile)
        while (left := _unsent(incident_id))[0]:
            if left[1]:
                raise harness.BenchFailure(f"{left[1]} messages failed; see the dispatchers' logs")
            if time.perf_counter() - start > timeout:
                raise harness.BenchFailure(f"{left[0]} messages still unsent after {timeout:g} s")
            time.sleep(POLL_SECONDS)
        mine = OutboxMessage.notice_id.in_(select(Notice.id).where(Notice.incident_id == incident_id))
        first, last, attempts = db.session.execute(
            select(
                func.min(OutboxMessage.sent_at), func.max(OutboxMessage.sent_at), func.sum(OutboxMessage.attempts)
            ).where(mine)
        ).one()
        ids = list(db.session.scalars(select(OutboxMessage.id).where(mine).order_by(OutboxMessage.id)))
        # filing alerted the privacy team: those messages went out too (before the notices', by id)
        alert_ids = list(db.session.scalars(select(OutboxMessage.id).where(OutboxMessage.alert_mail_id.is_not(None))))
    steps, before = {}, start
    for name, at in marks.items():
        steps[name] = round(at - before, 3)
        before = at
    queued_in, total = marks["approve"] - start, (last - started_at).total_seconds()
    steps["sent"] = round(total - queued_in, 3)
    return {
        "incident_id": incident_id,
        "affected_customers": answer.json["impact"]["totals"]["customers"],
        "answer_bytes": len(answer.data),
        "notices": notices,
        "messages": queued,
        "attempts": attempts,
        "steps": steps,
        "queue_seconds": round(queued_in, 3),
        "total_seconds": round(total, 3),
        "sending_seconds": round((last - first).total_seconds(), 3),
        "outbox_ids": ids,
        "alert_ids": alert_ids,
    }


def worker_main(argv: list[str]) -> int:
    parser = harness.part_parser("bench_end_to_end.py", "end-to-end", WORKER_MODES)
    parser.add_argument("--setup", type=Path, help="flow: the setup part's answer (token, systems)")
    parser.add_argument("--timeout", type=float, default=1800, help="flow: seconds to wait for the last message")
    parser.add_argument("--profile", type=Path, help="flow: cProfile the steps up to the approval into this file")
    args = parser.parse_args(argv)
    if args.mode == "setup":
        answer = measure_setup(args.url, args.structure)
    else:
        setup = json.loads(args.setup.read_text())
        answer = measure_flow(args.url, setup["token"], setup["systems"], args.timeout, args.profile)
    args.out.write_text(json.dumps(answer, default=str))
    return 0


# --- one database -----------------------------------------------------------------------------------


def start_dispatchers(env: dict[str, str], stub_url: str, logs: Path, args) -> list[subprocess.Popen]:
    """`breachdesk dispatch --forever` processes polling the outbox, as a scheduler would; the first under
    cProfile with --profile."""
    env = {**env, "BREACHDESK_MAIL_BACKEND": "sendgrid", "BREACHDESK_SENDGRID_API_HOST": stub_url}
    command = [*harness.breachdesk_command(), "dispatch", "--forever", "--interval", "0.2"]
    started = []
    for number in range(args.dispatchers):
        argv = command
        if args.profile and number == 0:
            argv = [sys.executable, "-m", "cProfile", "-o", str(logs / "dispatcher.prof"), *command]
        with (logs / f"dispatcher-{number}.err").open("wb") as err:
            started.append(
                subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=err, preexec_fn=_interruptible)
            )
    return started


def _interruptible() -> None:
    """In a dispatcher before it starts: SIGINT interrupts it, even when this script was started in the background
    by a shell, which ignores SIGINT in its background jobs, an ignorance their children inherit."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a live process so far (Linux: /proc/<pid>/stat, in clock ticks)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stop_dispatchers(dispatchers: list[subprocess.Popen]) -> list[float]:
    """SIGINT, so that a profiled one writes its profile; each is a process this script started. Returns the CPU
    seconds each used, read just before."""
    used = [cpu_seconds(process.pid) if process.poll() is None else 0.0 for process in dispatchers]
    for process in dispatchers:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
    for process in dispatchers:
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return used


def dispatch_settings(env: dict[str, str]) -> dict[str, Any]:
    """The dispatchers' configuration, read as they read it."""
    from breachdesk import create_app

    saved = dict(os.environ)
    os.environ.update(env)
    try:
        config = create_app().config
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return {key: config.get(key) for key in ("DISPATCH_CONCURRENCY", "DISPATCH_BATCH", "DISPATCH_MAX_PER_SECOND")}


def bench_database(name: str, url: str, data: dict[str, Any], work: Path, args) -> dict[str, Any]:
    env, logs = harness.start_database(name, url, work, args.postgres_wait)
    env["SENDGRID_API_KEY"] = bench_notices.API_KEY
    for option in ("concurrency", "batch"):
        if getattr(args, option) is not None:
            env[f"BREACHDESK_DISPATCH_{option.upper()}"] = str(getattr(args, option))
    setup = harness.run_part(
        SCRIPT, "setup (migrate, import, profile, officer, token)", "setup", url, ["--structure", data["structure"]],
        env, logs, args.timeout,
    )  # fmt: skip
    for key in ("customers", "volume_rows"):
        harness.expect(f"the import: {key}", setup[key], data[key])
    print(f"  {setup['import_summary']}; {setup['profile_summary']}")
    if name == "postgresql":
        harness.vacuum_analyze(url)
    settings = dispatch_settings(env)
    stub = bench_notices.Stub(env, logs, delay=args.latency_ms / 1000)
    dispatchers = start_dispatchers(env, stub.url, logs, args)
    try:
        flow = harness.run_part(
            SCRIPT, "flow (POST, statements, generate, review, approve, until the last message is sent)", "flow", url,
            ["--setup", str(logs / "setup.json"), "--timeout", str(args.timeout),
             *(["--profile", str(logs / "flow.prof")] if args.profile else [])], env, logs, args.timeout,
        )  # fmt: skip
        dispatchers_cpu = stop_dispatchers(dispatchers)
        received = stub.stop()
    except BaseException:
        stop_dispatchers(dispatchers)
        stub.kill()
        raise
    ids, alert_ids = flow.pop("outbox_ids"), flow.pop("alert_ids")
    harness.expect(
        "stub: requests, one per message (and alert)", len(received["outbox_ids"]), flow["messages"] + len(alert_ids)
    )
    harness.expect("stub: the outbox ids, each once", sorted(received["outbox_ids"]), sorted(ids + alert_ids))
    received.pop("outbox_ids")
    in_flight = settings["DISPATCH_CONCURRENCY"] * args.dispatchers
    ideal = flow["messages"] * args.latency_ms / 1000 / in_flight + flow["queue_seconds"]
    result = {
        "database": name,
        "url": url,
        "setup": {k: v for k, v in setup.items() if k not in ("token", "systems")},
        "dispatch_settings": settings,
        "dispatchers": args.dispatchers,
        "in_flight": in_flight,
        "latency_ms": args.latency_ms,
        "flow": flow,
        "dispatchers_cpu_seconds": [round(seconds, 1) for seconds in dispatchers_cpu],
        "stub": received,
        "ideal_seconds": round(ideal, 3),
        "ratio": round(flow["total_seconds"] / ideal, 3),
    }
    if args.profile:
        for part in ("flow", "dispatcher"):
            result[f"{part}_profile_top"] = harness.profile_top(str(logs / f"{part}.prof"), 40, "cumulative")
            for line in result[f"{part}_profile_top"]:
                print(f"  [{name} {part} profile] {line}")
    if name == "sqlite":
        result["database_mb"] = harness.sqlite_size_mb(url)
    print(
        f"    {flow['messages']:,} messages to {flow['affected_customers']:,} customers: total "
        f"{flow['total_seconds']:.1f} s (queue {flow['queue_seconds']:.1f} s), ideal {ideal:.1f} s"
    )
    return result


# --- report ------------------------------------------------------------------------------------------


def report(payload: dict[str, Any]) -> list[str]:
    rows = []
    for r in payload["runs"]:
        f, s = r["flow"], r["flow"]["steps"]
        rows.append(
            (
                r["database"],
                f"{f['affected_customers']:,}",
                f"{f['messages']:,}",
                str(r["in_flight"]),
                f"{s['post']:.1f}",
                f"{s['statements']:.1f}",
                f"{s['generate']:.1f}",
                f"{s['review']:.1f}",
                f"{s['approve']:.1f}",
                f"{f['queue_seconds']:.1f}",
                f"{s['sent']:.1f}",
                f"{f['total_seconds']:.1f}",
                f"{r['ideal_seconds']:.1f}",
                f"{f['messages'] / f['sending_seconds']:.0f}" if f["sending_seconds"] else "-",
            )
        )
    lines = harness.table(
        (
            "database", "customers", "messages", "in flight", "POST s", "statements s", "generate s", "review s",
            "confirm + approve s",
            "queue s", "then sent s", "total s", "ideal s", "msgs/s",
        ),
        rows,
    )  # fmt: skip
    lines.append("")
    for r in payload["runs"]:
        f = r["flow"]
        lines += [
            f"{r['database']}: total {f['total_seconds']:.1f} s: goal < {GOAL_SECONDS:.0f} s "
            f"{harness.mark(f['total_seconds'] < GOAL_SECONDS)}; {r['ratio']:.2f}x of (messages x "
            f"{r['latency_ms']:.0f} ms / {r['in_flight']} in flight) + queue = {r['ideal_seconds']:.1f} s: goal "
            f"<= {GOAL_RATIO}x {harness.mark(r['ratio'] <= GOAL_RATIO)}",
            f"  POST answer {f['answer_bytes']:,} bytes; {f['attempts']:,} attempts for {f['messages']:,} messages; "
            f"first to last message sent {f['sending_seconds']:.1f} s; dispatch {r['dispatch_settings']}, "
            f"{r['dispatchers']} dispatcher(s)",
            f"  CPU seconds: flow process {f['process']['user_seconds'] + f['process']['system_seconds']:.1f} "
            f"(POST, generate, review, approve, polling), dispatcher(s) {sum(r['dispatchers_cpu_seconds']):.1f} "
            f"({sum(r['dispatchers_cpu_seconds']) / f['messages'] * 1000:.2f} ms a message), stub "
            f"{r['stub']['cpu_seconds']:.1f}; load average before / after the run "
            f"{payload['load_average_before'][0]:.1f} / {payload['load_average_after'][0]:.1f} "
            f"on {payload['cpus']} CPUs",
        ]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = harness.bench_parser(__doc__, customers=10_000, volume_rows=1_000_000, postgres_url=POSTGRES_URL)
    parser.add_argument("--latency-ms", type=float, default=50.0, help="the provider's answer time (default 50)")
    parser.add_argument("--dispatchers", type=int, default=1, help="dispatcher processes (default 1)")
    parser.add_argument(
        "--concurrency", type=int, help="sends in flight in each dispatcher (default: DISPATCH_CONCURRENCY as shipped)"
    )
    parser.add_argument("--batch", type=int, help="messages claimed at a time (default: DISPATCH_BATCH as shipped)")
    parser.add_argument("--profile", action="store_true", help="cProfile the flow and the first dispatcher")
    args = parser.parse_args(argv)
    if args.dispatchers < 1:
        parser.error("--dispatchers: at least 1")
    for option in ("concurrency", "batch"):
        if getattr(args, option) is not None and getattr(args, option) < 1:
            parser.error(f"--{option}: at least 1")
    return harness.run_benchmark(
        "end_to_end",
        args,
        bench_database=bench_database,
        report=report,
        sources=tuple(
            f"breachdesk/{name}"
            for name in ("api/views.py", "notices/services.py", "notices/outbox.py", "notices/mail.py", "config.py")
        ),
        latency_ms=args.latency_ms,
        goals={"total_seconds": GOAL_SECONDS, "ratio": GOAL_RATIO},
        measure=HOW_MEASURED,
    )


if __name__ == "__main__":
    sys.exit(harness.run_script(main, worker_main, WORKER_MODES))
