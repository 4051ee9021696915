"""Benchmark the deadline dashboard under load and the reminder tick, on SQLite and (when it answers) PostgreSQL.

    .venv/bin/python tests/bench/bench_dashboard.py [--incidents 5000] [--obligations 100000] [--customers 2000]
                                                    [--volume-rows 20000] [--seed 42] [--users 3] [--workers 4]
                                                    [--clients 10] [--rounds 4] [--seconds 10] [--repeat 7]
                                                    [--targets dashboard,bare,view] [--first-ticks 3] [--profile]
                                                    [--skip-postgres] [--keep DIR]
                                                    [--timeout 1800] [--postgres-url URL]

The requirement: with 5,000 incidents and 100,000 obligations, the dashboard's median and p95 latency
under 10 concurrent clients against gunicorn, and the ratio against a bare route running the same SQL
in the same run (information); goal p95 under 200 ms. A scheduler tick over 100,000 open obligations
under 1 second.

For each database (a fresh SQLite file; on PostgreSQL a database of its own, default
breachdesk_bench_dashboard, created when missing and dropped at the end when this run created it,
never the test suite's `test`, and emptied with DROP SCHEMA public CASCADE first):

1. SETUP, in a fresh process: the migrations (flask_migrate.upgrade), the generated inventory
   (generate_inventory.py, 2,000 customers and 20,000 volume rows by default, through
   harness.prepare_data; inventory.cli.run_import, checked), --users viewers (`bench-viewer-N`,
   time zone Europe/Paris, made with auth.services.create_user), then generate_incidents.py's seeded
   incidents and obligations (Core executemany into the real tables; due times from 3 days before the
   setup to 10 days after it). PostgreSQL then gets VACUUM ANALYZE, as autovacuum would shortly after;
2. PARTS, in a fresh process, one client, no concurrency, through Flask's test client (logged in as a
   viewer): GET /dashboard, GET /bench/bare, GET /bench/view (dashboard_bare_app.py) and each step of the
   view alone (counts(), the queue's page of incidents, the soonest duties of its incidents as ORM
   entities, delivery_of(), incident_figures(), render_template() alone): one warm-up round, then
   --repeat rounds, each step once per round, gc.collect() before each (not timed). Where a request's
   time goes, without the queueing;
3. LOAD: two gunicorn servers, --workers sync workers each, with the same environment:
   `breachdesk:create_app()` (the application as deployed) and `dashboard_bare_app:make_app()` (the
   same app plus the baseline routes). A fresh client process logs --clients clients in (one session
   each, round-robin over the viewers; BREACHDESK_RATELIMIT_ENABLED=false so that the logins are not
   throttled), warms every worker up (each client two requests to each target, not kept, the pages'
   counts checked against the bare route's), then runs --rounds rounds; in each round every target gets
   --seconds seconds of load, the targets' order rotating from round to round so that machine noise hits
   each alike. Load: --clients threads, each issuing its request, reading the whole answer and
   issuing the next one at once (a closed loop, a new connection each: gunicorn's sync workers close
   it), http.client, latency = perf_counter() from before connecting to the last byte. A client's
   request still running at the end of the --seconds is waited for and counted. Targets:
   * GET /dashboard on the application, with the client's session cookie;
   * baseline: GET /bench/bare on the baseline server: the same SQL (counts(), the first page of
     incident_queue() and the soonest duties of its incidents fetched as rows, delivery_of(),
     incident_figures()), JSON out;
   * info: GET /bench/view on the baseline server: the view's own calls (ORM entities, times and duties
     put into words) without the template.
   Every answer must be 200 (and the dashboard's must be the dashboard, not the login page);
4. TICK, in a fresh process (the app with DIGEST_HOUR_UTC=24: no digest), one fixed `now`:
   * the baseline: the SELECT the tick needs (pending obligations of open incidents due by now + 12 h,
     the largest offset, without an escalation alert: the tick's own statement), every row fetched;
   * --first-ticks times: (untimed) the previous first tick's alerts, alert mails and their outbox
     messages deleted (on PostgreSQL then VACUUM ANALYZE of those tables, so that the next first tick
     meets them as the first did, not behind tens of thousands of dead index entries), then the
     baseline, then a first tick: `tick(now)`, which records an escalation
     for every overdue obligation, a reminder for each one in a reminder window, and queues their
     e-mails, one per kind, offset and set of people (to every viewer for an escalation; a reminder
     goes to the incident's owner, here none);
     checked against the baseline's rows (alerts by kind, mails, messages);
   * a warm-up, then --repeat rounds of (baseline, steady-state tick), the tick with the same `now`
     right after: nothing new to record (checked: no alert, mail or message).

Reported per database: median and p95 (nearest rank) and p99 of the latencies, requests per second,
the ratio dashboard / bare of the medians and of the p95s (and the spread of the per-round median
ratios), the goals marked ok or MISSED (p95 < 200 ms; each tick < 1 s), the parts' medians, the
tick's figures and counts, and the peak RSS of each measured process (getrusage, through
harness's measuring wrapper; not the servers').
--profile adds one cProfile'd GET /dashboard (test client) and one profiled first and steady tick per
database (top functions printed; .prof files in results/). Prints tables per database and writes the
results as JSON to tests/bench/results/dashboard-<timestamp>.json.

Noise: the load generator, both servers and the database share the machine's cores; on two cores
another benchmark or test run moves single figures a lot. The ratios are measured interleaved (rounds
rotating over the targets, the tick's baseline in the same rounds), which is what keeps them fair.

The measured parts run as `bench_dashboard.py setup|parts|load|tick ...` (internal; see `worker_main`).
"""

import gc
import http.client
import json
import os
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

import generate_incidents
import harness

HERE = Path(__file__).resolve().parent
SCRIPT = str(Path(__file__).resolve())
POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1/breachdesk_bench_dashboard"
#: how it measures, as written into the results file
HOW_MEASURED = (
    "load: gunicorn sync workers, closed-loop client threads (http.client, a connection per request), "
    "latency from connect to last byte, targets rotated per round; parts and tick: one fresh "
    "process each, a warm-up, gc.collect() before each timed call, time.perf_counter(); median and "
    "nearest-rank p95"
)
PASSWORD = "bench-Horse-7-battery"
USER_ZONE = "Europe/Paris"
GOAL_P95_MS = 200.0
GOAL_TICK_SECONDS = 1.0
SECRET_KEY = "bench-dashboard-secret"
#: load targets: name -> (label, server, path)
TARGETS = {
    "dashboard": ("GET /dashboard (app, logged in)", "app", "/dashboard"),
    "bare": ("baseline: GET /bench/bare (same SQL)", "bare", "/bench/bare"),
    "view": ("info: GET /bench/view (view, no template)", "bare", "/bench/view"),
}
#: single-client parts: name -> label
PARTS = {
    "dashboard": "GET /dashboard (test client)",
    "bare": "GET /bench/bare (same SQL)",
    "view": "GET /bench/view (view, no template)",
    "counts": "  counts(now)",
    "queue": "  the queue's page of incidents (incident_queue)",
    "duties": "  their soonest duties, ORM entities (first_duties)",
    "delivery": "  delivery_of(those duties)",
    "figures": "  incident_figures(the page's incidents)",
    "render": "  render_template() alone",
}
DASHBOARD_MARK = b"Are we going to miss anything?"
#: the baseline routes' numbers that do not move with the clock
STABLE = ("rows", "duties", "delivery", "figures", "incidents", "pending")
WORKER_MODES = ("setup", "parts", "load", "tick")


# --- the measured processes -----------------------------------------------------------------------


def _app(url: str, **config: Any):
    return harness.bench_app(url, SECRET_KEY=SECRET_KEY, **config)


def _user(number: int) -> str:
    return f"bench-viewer-{number}"


def measure_setup(url: str, structure: str, incidents: int, obligations: int, seed: int, users: int) -> dict[str, Any]:
    """Migrate, import the inventory, make the viewers, generate the incidents and obligations."""
    from sqlalchemy import func, select

    from breachdesk.auth.models import Role
    from breachdesk.auth.services import create_user
    from breachdesk.core.clock import now_utc
    from breachdesk.deadlines.models import Obligation
    from breachdesk.extensions import db
    from breachdesk.incidents.models import Incident
    from breachdesk.inventory.models import Customer, Volume

    seconds: dict[str, float] = {}
    timed = harness.commit_timer(seconds)
    app = _app(url)
    with app.app_context():
        imported, _ = harness.migrate_and_import(timed, structure)
        timed(
            "users",
            lambda: [
                create_user(_user(n), f"{_user(n)}@example.com", PASSWORD, Role.VIEWER, USER_ZONE)
                for n in range(1, users + 1)
            ],
        )
        generated = timed(
            "generate",
            lambda: generate_incidents.generate(db.session.connection(), incidents, obligations, seed, now_utc()),
        )

        def count(model) -> int:
            return db.session.scalar(select(func.count()).select_from(model))

        return {
            "seconds": seconds,
            "import_summary": str(imported),
            "generated": generated,
            "customers": count(Customer),
            "volume_rows": count(Volume),
            "incidents": count(Incident),
            "obligations": count(Obligation),
            "rss_mb_self": harness.rss_mb(),
        }


def measure_parts(url: str, repeat: int, profile: str | None) -> dict[str, Any]:
    """One client, in process: the whole requests and each step of the view alone, in rounds."""
    import dashboard_bare_app
    from flask import render_template
    from flask_login import login_user
    from sqlalchemy import select

    from breachdesk.auth.models import User
    from breachdesk.core.clock import now_utc
    from breachdesk.dashboard import queries
    from breachdesk.dashboard.views import DUTIES_SHOWN, PER_PAGE
    from breachdesk.extensions import db

    app = dashboard_bare_app.add_routes(_app(url, WTF_CSRF_ENABLED=False, RATELIMIT_ENABLED=False))
    client = app.test_client()
    response = client.post("/login", data={"username": _user(1), "password": PASSWORD})
    harness.expect("login: status", response.status_code, 302)
    plan: dict[str, Any] = {}

    def get(path: str) -> bytes:
        """A request as a server makes it: the test client pushes (and pops) its own app context."""
        answer = client.get(path)
        harness.expect(f"GET {path}: status", answer.status_code, 200)
        return answer.data

    numbers = json.loads(get("/bench/bare"))

    def check_page(body: bytes) -> None:
        harness.expect(
            "GET /dashboard shows the pending count",
            f"<strong>{numbers['pending']:,}</strong> pending".encode() in body,
            True,
        )

    def check_json(body: bytes) -> None:  # overdue and due-within counts move with the clock: not compared
        got = json.loads(body)
        harness.expect("the JSON numbers", {k: got[k] for k in STABLE}, {k: numbers[k] for k in STABLE})

    def prepare_render() -> None:
        board = dashboard_bare_app.Board(now_utc(), dashboard_bare_app.ZONE)
        counts = queries.counts(board.now)
        page, incidents = dashboard_bare_app.queue_page(board, counts, 1)
        plan["user"] = db.session.scalar(select(User).where(User.username == _user(1)))
        plan["render"] = {"board": board, "counts": counts, "page": page, "incidents": incidents, "focus": None}

    def render() -> str:
        with app.test_request_context("/dashboard"):  # within the step's app context, as in a request
            login_user(plan["user"])
            return render_template("dashboard/index.html", **plan["render"])

    def page_ids() -> None:
        plan["ids"] = [row.id for row in dashboard_bare_app.page_rows(now_utc())]
        db.session.rollback()

    def duty_ids() -> None:
        page_ids()
        plan["duties"] = [d.id for found in queries.first_duties(plan["ids"], DUTIES_SHOWN).values() for d in found]
        db.session.rollback()

    def nothing() -> None:
        pass

    sizes: dict[str, int] = {}

    def sized(name: str, check: Callable[[Any], None]) -> Callable[[Any], None]:
        """The check, and the answer's size kept: the pages' sizes are reported."""

        def checked(body: bytes | str) -> None:
            check(body)
            sizes[name] = len(body)

        return checked

    @contextmanager
    def own_app_context():
        with app.app_context():
            yield
            db.session.rollback()

    # the requests push their own app context; the view's steps alone run in one of their own each
    whole_requests = ("dashboard", "bare", "view")
    steps = {
        "dashboard": (nothing, lambda: get("/dashboard"), sized("dashboard", check_page)),
        "bare": (nothing, lambda: get("/bench/bare"), sized("bare", check_json)),
        "view": (nothing, lambda: get("/bench/view"), sized("view", check_json)),
        "counts": (
            nothing,
            lambda: queries.counts(now_utc()),
            lambda counts: harness.expect("counts", counts["pending"], numbers["pending"]),
        ),
        "queue": (
            nothing,
            lambda: queries.RowPagination(
                select=queries.incident_queue(now_utc()), page=1, per_page=PER_PAGE, count=False
            ),
            lambda page: harness.expect("queue page", len(page.items), numbers["rows"]),
        ),
        "duties": (
            page_ids,
            lambda: queries.first_duties(plan["ids"], DUTIES_SHOWN),
            lambda found: harness.expect("duties", sum(map(len, found.values())), numbers["duties"]),
        ),
        "delivery": (
            duty_ids,
            lambda: queries.delivery_of(plan["duties"]),
            lambda found: harness.expect("delivery", len(found), numbers["delivery"]),
        ),
        "figures": (
            page_ids,
            lambda: queries.incident_figures(plan["ids"]),
            lambda found: harness.expect("incident figures", len(found), numbers["figures"]),
        ),
        "render": (prepare_render, render, sized("render", lambda html: check_page(html.encode()))),
    }
    times = harness.step_rounds(
        steps, repeat, around=lambda name: nullcontext() if name in whole_requests else own_app_context()
    )
    plan.clear()
    result: dict[str, Any] = {"times": times, "numbers": numbers, "bytes": sizes, "rss_mb_self": harness.rss_mb()}
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.runcall(get, "/dashboard")
        profiler.dump_stats(profile)
        result["profile"] = profile
    return result


class Client:
    """One load client: its own session on the application (logged in), http.client, a new connection per
    request."""

    def __init__(self, servers: dict[str, tuple[str, int]], username: str):
        self.servers = servers
        self.cookie = ""
        page = self.request("app", "/login")[1].decode()
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        form = urllib.parse.urlencode({"csrf_token": token, "username": username, "password": PASSWORD})
        status, _ = self.request("app", "/login", form)
        if status != 302:
            raise SystemExit(f"login as {username}: status {status}")

    def request(self, server: str, path: str, form: str | None = None) -> tuple[int, bytes]:
        host, port = self.servers[server]
        connection = http.client.HTTPConnection(host, port, timeout=300)
        try:
            headers = {"Cookie": self.cookie} if self.cookie else {}
            if form is not None:
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            connection.request("POST" if form is not None else "GET", path, body=form, headers=headers)
            response = connection.getresponse()
            body = response.read()
            for header, value in response.getheaders():
                if header.lower() == "set-cookie" and value.startswith("session="):
                    self.cookie = value.split(";", 1)[0]
            return response.status, body
        finally:
            connection.close()


def _phase(
    clients: list[Client],
    server: str,
    path: str,
    seconds: float | None,
    requests: int = 0,
    check: Callable[[int, bytes], str | None] | None = None,
) -> dict[str, Any]:
    """Every client in a thread, in a closed loop until `seconds` have passed (or `requests` each);
    returns the latencies (s) and any failure."""
    latencies: list[list[float]] = [[] for _ in clients]
    failures: list[str] = []
    sizes: list[int] = []
    barrier = threading.Barrier(len(clients) + 1)
    state: dict[str, float] = {}

    def loop(index: int, client: Client) -> None:
        barrier.wait()
        done = 0
        while (time.perf_counter() < state["deadline"]) if seconds else done < requests:
            start = time.perf_counter()
            try:
                status, body = client.request(server, path)
            except OSError as error:
                failures.append(f"{path}: {type(error).__name__}: {error}")
                return
            latencies[index].append(time.perf_counter() - start)
            done += 1
            problem = f"{path}: status {status}" if status != 200 else (check(status, body) if check else None)
            if problem:
                failures.append(problem)
                return
            if not sizes:
                sizes.append(len(body))

    threads = [threading.Thread(target=loop, args=(i, c), daemon=True) for i, c in enumerate(clients)]
    for thread in threads:
        thread.start()
    state["deadline"] = time.perf_counter() + (seconds or 0)
    started = time.perf_counter()
    barrier.wait()
    for thread in threads:
        thread.join()
    return {
        "latencies": [t for per_client in latencies for t in per_client],
        "failures": failures,
        "wall": time.perf_counter() - started,
        "bytes": sizes[0] if sizes else 0,
    }


def measure_load(
    app_base: str, bare_base: str, users: int, clients: int, rounds: int, seconds: float, targets: list[str]
) -> dict[str, Any]:
    servers = {}
    for name, base in (("app", app_base), ("bare", bare_base)):
        parts = urllib.parse.urlsplit(base)
        servers[name] = (parts.hostname, parts.port)
    people = [Client(servers, _user(i % users + 1)) for i in range(clients)]
    status, body = people[0].request("bare", "/bench/bare")
    harness.expect("GET /bench/bare", status, 200)
    numbers = json.loads(body)
    pending = f"<strong>{numbers['pending']:,}</strong> pending".encode()

    def check_dashboard(_: int, body: bytes) -> str | None:
        return None if DASHBOARD_MARK in body else "GET /dashboard: not the dashboard (the login page?)"

    def check_warm(_: int, body: bytes) -> str | None:
        return None if pending in body else "GET /dashboard: the pending count differs from the bare route's"

    checks = {"dashboard": check_dashboard}
    warm: dict[str, float] = {}
    for name in targets:  # two requests per client to each target: every worker has served each once or more
        _, server, path = TARGETS[name]
        phase = _phase(people, server, path, None, 2, check_warm if name == "dashboard" else None)
        if phase["failures"]:
            raise SystemExit(f"warm-up: {phase['failures'][0]}")
        warm[name] = phase["wall"]
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu_before = usage.ru_utime + usage.ru_stime
    per_round: dict[str, list[list[float]]] = {name: [] for name in targets}
    walls: dict[str, float] = {name: 0.0 for name in targets}
    sizes: dict[str, int] = {}
    orders = []
    wall_start = time.perf_counter()
    for round_number in range(rounds):
        shift = round_number % len(targets)
        order = targets[shift:] + targets[:shift]
        orders.append(order)
        for name in order:
            _, server, path = TARGETS[name]
            gc.collect()
            phase = _phase(people, server, path, seconds, check=checks.get(name))
            if phase["failures"]:
                raise SystemExit(
                    f"round {round_number + 1}, {name}: {len(phase['failures'])} failure(s), "
                    f"first: {phase['failures'][0]}"
                )
            per_round[name].append(phase["latencies"])
            walls[name] += phase["wall"]
            sizes[name] = phase["bytes"]
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "per_round": per_round,
        "walls": walls,
        "bytes": sizes,
        "orders": orders,
        "numbers": numbers,
        "warm_up_seconds": warm,
        "clients": clients,
        "client_cpu_seconds": round(usage.ru_utime + usage.ru_stime - cpu_before, 2),
        "rounds_wall_seconds": round(time.perf_counter() - wall_start, 2),
        "rss_mb_self": harness.rss_mb(),
    }


def measure_tick(url: str, first_ticks: int, repeat: int, profile_dir: str | None) -> dict[str, Any]:
    from sqlalchemy import delete, func, select, text

    from breachdesk.auth.models import User
    from breachdesk.core.clock import now_utc
    from breachdesk.deadlines.models import Obligation, ObligationStatus
    from breachdesk.extensions import db
    from breachdesk.incidents.models import Incident, IncidentStatus
    from breachdesk.notices.models import AlertMail, OutboxMessage
    from breachdesk.reminders.models import Alert
    from breachdesk.reminders.rules import ESCALATION, alert_due, parse_offsets
    from breachdesk.reminders.services import ESCALATE_TO, tick

    app = _app(url, DIGEST_HOUR_UTC=24)
    with app.app_context():
        now = now_utc()
        offsets = parse_offsets(app.config["REMINDER_OFFSETS"])
        obligations, incidents, alerts = Obligation.__table__, Incident.__table__, Alert.__table__
        escalated = (
            select(alerts.c.id).where(alerts.c.obligation_id == obligations.c.id, alerts.c.kind == ESCALATION).exists()
        )
        #: what tick() selects first: its candidates (the same statement, on the tables)
        baseline = (
            select(
                obligations.c.id,
                obligations.c.incident_id,
                obligations.c.due_at,
                obligations.c.regime,
                obligations.c.stage,
                obligations.c.recipient,
            )
            .join(incidents, incidents.c.id == obligations.c.incident_id)
            .where(
                obligations.c.status == ObligationStatus.PENDING,
                obligations.c.due_at.is_not(None),
                obligations.c.due_at <= now + max(offsets),
                incidents.c.status != IncidentStatus.CLOSED,
                ~escalated,
            )
        )
        escalated_to = db.session.scalar(
            select(func.count()).select_from(User).where(User.role.in_(ESCALATE_TO), User.disabled_at.is_(None))
        )
        open_pending = db.session.scalar(
            select(func.count())
            .select_from(obligations)
            .join(incidents, incidents.c.id == obligations.c.incident_id)
            .where(obligations.c.status == ObligationStatus.PENDING, incidents.c.status != IncidentStatus.CLOSED)
        )
        db.session.rollback()

        def fetch() -> list[Any]:
            return db.session.connection().execute(baseline).all()

        def expected(rows: list[Any]) -> dict[str, Any]:
            kinds: dict[str, int] = {}
            groups = set()  # one mail per kind, offset and set of people: no incident here has an owner
            for row in rows:
                due = alert_due(row.due_at, now, offsets)
                kinds[due.kind] = kinds.get(due.kind, 0) + 1
                groups.add((due.kind, due.offset_minutes))
            escalation_mails = sum(1 for kind, _ in groups if kind == ESCALATION)
            return {
                "alerts": len(rows),
                "mails": len(groups),
                "messages": escalation_mails * escalated_to,
                "by_kind": kinds,
            }

        def reset() -> None:
            outbox = OutboxMessage.__table__
            db.session.execute(delete(outbox).where(outbox.c.alert_mail_id.is_not(None)))
            db.session.execute(delete(AlertMail.__table__))
            db.session.execute(delete(alerts))
            db.session.commit()
            if db.engine.dialect.name == "postgresql":  # the dead rows' index entries would slow the next inserts
                with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                    connection.execute(text("VACUUM ANALYZE alerts, alert_mails, outbox_messages"))

        def timed(work: Callable[[], Any]) -> tuple[float, Any]:
            db.session.rollback()
            gc.collect()  # not timed: no measured thing pays for the garbage of the one before
            start = time.perf_counter()
            answer = work()
            elapsed = time.perf_counter() - start
            db.session.rollback()
            return elapsed, answer

        def answer_of(result) -> dict[str, Any]:
            return {
                "alerts": result.alerts,
                "mails": result.mails,
                "messages": result.messages,
                "by_kind": result.by_kind,
            }

        times: dict[str, list[float]] = {"baseline_first": [], "first": []}
        harness.expect("alerts before the first tick", db.session.scalar(select(func.count()).select_from(alerts)), 0)
        timed(fetch)  # warm-up of the baseline
        first_answer: dict[str, Any] = {}
        for number in range(first_ticks):
            if number:
                reset()
            seconds, rows = timed(fetch)
            times["baseline_first"].append(seconds)
            want = expected(rows)
            seconds, result = timed(lambda: tick(now))
            harness.expect(f"first tick {number + 1}", answer_of(result), want)
            times["first"].append(seconds)
            first_answer = {**want, "baseline_rows": len(rows)}
        steady: dict[str, int] = {}
        times.update(
            harness.step_rounds(
                {
                    "baseline_steady": (db.session.rollback, fetch, lambda rows: steady.update(rows=len(rows))),
                    "steady": (
                        db.session.rollback,
                        lambda: tick(now),
                        lambda result: harness.expect(
                            "steady tick", answer_of(result), {"alerts": 0, "mails": 0, "messages": 0, "by_kind": {}}
                        ),
                    ),
                },
                repeat,
                around=harness.rolled_back,
            )
        )
        answer: dict[str, Any] = {
            "now": now.isoformat(),
            "times": times,
            "open_pending": open_pending,
            "first": first_answer,
            "steady_baseline_rows": steady["rows"],
            "escalation_recipients": escalated_to,
            "alerts_after": db.session.scalar(select(func.count()).select_from(alerts)),
            "rss_mb_self": harness.rss_mb(),
        }
        if profile_dir:
            import cProfile

            reset()
            for label in ("first", "steady"):
                profiler = cProfile.Profile()
                profiler.runcall(tick, now)
                path = str(Path(profile_dir) / f"tick-{label}.prof")
                profiler.dump_stats(path)
                answer[f"profile_{label}"] = path
        return answer


def worker_main(argv: list[str]) -> int:
    parser = harness.part_parser(
        "bench_dashboard.py", "dashboard", WORKER_MODES, url_help="the database URL (load: the application's base URL)"
    )
    parser.add_argument("--incidents", type=int, default=5000)
    parser.add_argument("--obligations", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--users", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--profile", help="parts: a .prof file; tick: a folder for them")
    parser.add_argument("--bare", help="load: the baseline server's base URL")
    parser.add_argument("--clients", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--targets", default=",".join(TARGETS))
    parser.add_argument("--first-ticks", type=int, default=3)
    args = parser.parse_args(argv)
    if args.mode == "setup":
        answer = measure_setup(args.url, args.structure, args.incidents, args.obligations, args.seed, args.users)
    elif args.mode == "parts":
        answer = measure_parts(args.url, args.repeat, args.profile)
    elif args.mode == "load":
        answer = measure_load(
            args.url, args.bare, args.users, args.clients, args.rounds, args.seconds, args.targets.split(",")
        )
    else:
        answer = measure_tick(args.url, args.first_ticks, args.repeat, args.profile)
    args.out.write_text(json.dumps(answer, default=str))
    return 0


# --- one database -----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Gunicorn:
    """A gunicorn server this benchmark started (its own session: stopped by its process group)."""

    def __init__(self, label: str, app: str, workers: int, env: dict[str, str], logs: Path):
        self.label, self.port = label, _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = logs / f"gunicorn-{label}.log"
        command = [
            str(Path(sys.executable).parent / "gunicorn"),
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--timeout",
            "300",
            "--graceful-timeout",
            "10",
            "--pythonpath",
            str(HERE),
            app,
        ]
        print(f"  gunicorn {label}: {' '.join(command[1:])}", flush=True)
        self.log = self.log_path.open("wb")
        self.process = subprocess.Popen(command, stdout=self.log, stderr=self.log, env=env, start_new_session=True)
        deadline = time.monotonic() + 60
        while True:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                connection.request("GET", "/healthz")
                status = connection.getresponse().status
                connection.close()
                if status == 200:
                    break
            except OSError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise harness.BenchFailure(f"gunicorn {label} did not answer; see {self.log_path}")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)  # the master stops its workers
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)  # the group of the one process this object started
                self.process.wait()
        self.log.close()


def _load_stats(per_round: list[list[float]], wall: float) -> dict[str, Any]:
    everything = [t for phase in per_round for t in phase]
    ordered = sorted(everything)
    found = harness.stats(everything)
    del found["times_ms"]  # thousands of them: the per-round medians are kept instead
    found["p99_ms"] = round(ordered[max(0, -(-99 * len(ordered) // 100) - 1)] * 1000, 2)
    found["per_second"] = round(len(everything) / wall, 2) if wall else None
    found["round_medians_ms"] = [round(statistics.median(phase) * 1000, 2) for phase in per_round]
    return found


def bench_database(name: str, url: str, data: dict[str, Any], work: Path, args) -> dict[str, Any]:
    env, logs = harness.start_database(name, url, work, args.postgres_wait)
    logs.mkdir(parents=True)
    env.update(BREACHDESK_SECRET_KEY=SECRET_KEY, BREACHDESK_RATELIMIT_ENABLED="false")
    setup = harness.run_part(
        SCRIPT,
        "setup (migrate, import, users, generate incidents)",
        "setup",
        url,
        [
            "--structure",
            data["structure"],
            "--incidents",
            str(args.incidents),
            "--obligations",
            str(args.obligations),
            "--seed",
            str(args.seed),
            "--users",
            str(args.users),
        ],
        env,
        logs,
        args.timeout,
    )
    harness.expect_rows(
        "the setup did not write the data",
        setup,
        {
            "customers": data["customers"],
            "volume_rows": data["volume_rows"],
            "incidents": args.incidents,
            "obligations": args.obligations,
        },
    )
    generated = setup["generated"]
    print(
        f"  {setup['import_summary']}; {generated['incidents']:,} incidents ({generated['open_incidents']:,} open), "
        f"{generated['obligations']:,} obligations ({generated['pending_open']:,} of open incidents, "
        f"{generated['overdue_open']:,} overdue, {generated['in_reminder_windows_open']:,} due within 12 h)"
    )
    if name == "postgresql":
        harness.vacuum_analyze(url)
    result: dict[str, Any] = {"database": name, "url": url, "setup": setup}

    profile = str(harness.RESULTS / f"dashboard-{name}-view.prof") if args.profile else None
    parts = harness.run_part(
        SCRIPT,
        f"parts (one client, 1 warm-up + {args.repeat} rounds)",
        "parts",
        url,
        ["--repeat", str(args.repeat), *(["--profile", profile] if profile else [])],
        env,
        logs,
        args.timeout,
    )
    parts["stats"] = {key: harness.stats(times) for key, times in parts.pop("times").items()}
    print("    " + ", ".join(f"{key} {m['median_ms']:.0f} ms" for key, m in parts["stats"].items()))
    result["parts"] = parts

    servers: list[Gunicorn] = []
    try:
        servers.append(Gunicorn("app", "breachdesk:create_app()", args.workers, env, logs))
        servers.append(Gunicorn("bare", "dashboard_bare_app:make_app()", args.workers, env, logs))
        load = harness.run_part(
            SCRIPT,
            f"load ({args.clients} clients, {args.rounds} rounds x {len(args.targets)} targets x {args.seconds:g} s)",
            "load",
            servers[0].base,
            [
                "--bare",
                servers[1].base,
                "--users",
                str(args.users),
                "--clients",
                str(args.clients),
                "--rounds",
                str(args.rounds),
                "--seconds",
                str(args.seconds),
                "--targets",
                ",".join(args.targets),
            ],
            env,
            logs,
            args.timeout,
        )
    finally:
        for server in servers:
            server.stop()
    per_round = load.pop("per_round")
    load["stats"] = {key: _load_stats(phases, load["walls"][key]) for key, phases in per_round.items()}
    if "bare" in load["stats"]:
        base = load["stats"]["bare"]
        for found in load["stats"].values():
            found["vs_bare_median"] = round(found["median_ms"] / base["median_ms"], 2)
            found["vs_bare_p95"] = round(found["p95_ms"] / base["p95_ms"], 2)
            found["round_ratios"] = [
                round(a / b, 2) for a, b in zip(found["round_medians_ms"], base["round_medians_ms"], strict=True)
            ]
    print(
        "    "
        + ", ".join(
            f"{key} median {m['median_ms']:.0f} ms p95 {m['p95_ms']:.0f} ms ({m['runs']} requests)"
            for key, m in load["stats"].items()
        )
    )
    result["load"] = load

    tick = harness.run_part(
        SCRIPT,
        f"tick ({args.first_ticks} first ticks, 1 warm-up + {args.repeat} steady)",
        "tick",
        url,
        [
            "--first-ticks",
            str(args.first_ticks),
            "--repeat",
            str(args.repeat),
            *(["--profile", str(logs)] if args.profile else []),
        ],
        env,
        logs,
        args.timeout,
    )
    tick["stats"] = {key: harness.stats(times) for key, times in tick.pop("times").items()}
    for key, base in (("first", "baseline_first"), ("steady", "baseline_steady")):
        tick["stats"][key]["vs_baseline"] = round(tick["stats"][key]["median_ms"] / tick["stats"][base]["median_ms"], 2)
    for label in ("first", "steady"):
        if tick.get(f"profile_{label}"):
            kept = harness.RESULTS / f"dashboard-{name}-tick-{label}.prof"
            shutil.copy(tick[f"profile_{label}"], kept)
            tick[f"profile_{label}"] = str(kept)
    print("    " + ", ".join(f"{key} {m['median_ms']:.0f} ms" for key, m in tick["stats"].items()))
    result["tick"] = tick
    if name == "sqlite":
        result["database_mb"] = harness.sqlite_size_mb(url)
    return result


# --- report ------------------------------------------------------------------------------------------


def _profile_cumulative(path: str, limit: int = 25) -> list[str]:
    """The breachdesk functions (and the template's) that take the most time, callees included."""
    import io
    import pstats

    out = io.StringIO()
    pstats.Stats(path, stream=out).sort_stats("cumulative").print_stats(r"breachdesk|templates|dashboard_bare", limit)
    lines = [line for line in out.getvalue().splitlines() if line.strip()]
    header = next((i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls")), 0)
    return lines[header : header + limit + 1]


def report(payload: dict[str, Any], args) -> list[str]:
    data, runs = payload["data"], payload["runs"]
    sizes = []
    for r in runs:
        g = r["setup"]["generated"]
        sizes.append(
            (
                r["database"],
                f"{data['customers']:,}",
                f"{g['incidents']:,} ({g['open_incidents']:,} open)",
                f"{g['obligations']:,}",
                f"{r['tick']['open_pending']:,}",
                f"{g['overdue_open']:,}",
                f"{g['in_reminder_windows_open']:,}",
                f"{g['largest_incident']:,}",
                f"{r['setup']['seconds']['import']:.1f}",
                f"{r['setup']['seconds']['generate']:.1f}",
                f"{r['database_mb']:.0f}" if "database_mb" in r else "-",
            )
        )
    lines = harness.table(
        (
            "database",
            "customers",
            "incidents",
            "obligations",
            "pending, open incidents",
            "overdue at setup",
            "due within 12 h",
            "largest incident",
            "import s",
            "generate s",
            "file MB",
        ),
        sizes,
    )
    for r in runs:
        load = r["load"]
        rows = []
        for key, m in load["stats"].items():
            target = ""
            if key == "dashboard":
                target = harness.goal(GOAL_P95_MS, m["p95_ms"], "p95")  # the ratio: information
            ratios = m.get("round_ratios", [])
            rows.append(
                (
                    TARGETS[key][0],
                    str(m["runs"]),
                    f"{m['per_second']:.1f}",
                    f"{m['median_ms']:.1f}",
                    f"{m['p95_ms']:.1f}",
                    f"{m['p99_ms']:.1f}",
                    f"{m['max_ms']:.1f}",
                    f"{m['vs_bare_median']:.2f}x" if "vs_bare_median" in m else "-",
                    f"{m['vs_bare_p95']:.2f}x" if "vs_bare_p95" in m else "-",
                    f"{min(ratios):.2f}-{max(ratios):.2f}x" if ratios else "-",
                    f"{load['bytes'].get(key, 0) / 1024:.0f}",
                    target,
                )
            )
        lines += [
            "",
            f"{r['database']}: under load, {load['clients']} clients, {args.workers} gunicorn workers each, "
            f"{len(load['orders'])} rounds x {args.seconds:g} s per target, interleaved (the load "
            f"generator used {load['client_cpu_seconds']:.0f} s CPU in {load['rounds_wall_seconds']:.0f} s):",
            *harness.table(
                (
                    "measured",
                    "requests",
                    "req/s",
                    "median ms",
                    "p95 ms",
                    "p99 ms",
                    "max ms",
                    "median vs bare",
                    "p95 vs bare",
                    "round ratios",
                    "KB",
                    "goal",
                ),
                rows,
            ),
        ]
        parts = r["parts"]["stats"]
        whole = parts["dashboard"]["median_ms"]
        part_rows = [
            (PARTS[key], str(m["runs"]), f"{m['median_ms']:.1f}", f"{m['p95_ms']:.1f}", f"{m['median_ms'] / whole:.0%}")
            for key, m in parts.items()
        ]
        lines += [
            "",
            f"{r['database']}: one client, no load (test client, in process; rounds interleaved):",
            *harness.table(("measured", "runs", "median ms", "p95 ms", "of GET /dashboard"), part_rows),
        ]
        tick = r["tick"]
        t = tick["stats"]
        first = tick["first"]
        tick_rows = [
            (
                "baseline: the tick's SELECT, before a first tick",
                t["baseline_first"],
                "1.00x",
                f"{first['baseline_rows']:,} rows",
                "",
            ),
            (
                "first tick: tick(now)",
                t["first"],
                f"{t['first']['vs_baseline']:.2f}x",
                f"{first['by_kind'].get('escalation', 0):,} escalations, {first['by_kind'].get('reminder', 0):,} "
                f"reminders, {first['mails']:,} mails, {first['messages']:,} messages",
                f"<{GOAL_TICK_SECONDS:g} s {harness.mark(t['first']['median_ms'] < GOAL_TICK_SECONDS * 1000)}",
            ),
            (
                "baseline: the tick's SELECT, steady state",
                t["baseline_steady"],
                "1.00x",
                f"{tick['steady_baseline_rows']:,} rows",
                "",
            ),
            (
                "steady-state tick: tick(now), nothing new",
                t["steady"],
                f"{t['steady']['vs_baseline']:.2f}x",
                "0 alerts",
                f"<{GOAL_TICK_SECONDS:g} s {harness.mark(t['steady']['p95_ms'] < GOAL_TICK_SECONDS * 1000)}",
            ),
        ]
        lines += [
            "",
            f"{r['database']}: scheduler tick over {tick['open_pending']:,} open obligations (peak RSS "
            f"{tick['process']['peak_rss_mb']:.0f} MB):",
            *harness.table(
                ("measured", "runs", "median ms", "p95 ms", "vs baseline", "rows", "goal"),
                [
                    (label, str(m["runs"]), f"{m['median_ms']:.1f}", f"{m['p95_ms']:.1f}", ratio, rows, target)
                    for label, m, ratio, rows, target in tick_rows
                ],
            ),
        ]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = harness.bench_parser(__doc__, customers=2000, volume_rows=20_000, postgres_url=POSTGRES_URL)
    parser.add_argument("--incidents", type=int, default=5000)
    parser.add_argument("--obligations", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=3, help="viewers the clients log in as (default 3)")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers per server (default 4)")
    parser.add_argument("--clients", type=int, default=10, help="concurrent load clients (default 10)")
    parser.add_argument("--rounds", type=int, default=4, help="load rounds, each target once per round (default 4)")
    parser.add_argument("--seconds", type=float, default=10, help="seconds of load per target and round (default 10)")
    parser.add_argument(
        "--targets",
        default=",".join(TARGETS),
        help=f"load targets, comma-separated, of {', '.join(TARGETS)} (default all)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=7,
        help="rounds of the one-client parts and steady ticks after one warm-up (default 7)",
    )
    parser.add_argument(
        "--first-ticks", type=int, default=3, help="first ticks, the alerts deleted between them (default 3)"
    )
    parser.add_argument(
        "--profile", action="store_true", help="cProfile one GET /dashboard and one first and steady tick per database"
    )
    args = parser.parse_args(argv)
    args.targets = [t for t in args.targets.split(",") if t]
    unknown = sorted(set(args.targets) - set(TARGETS))
    if unknown or not args.targets:
        parser.error(f"--targets: of {', '.join(TARGETS)}")
    if args.repeat < 1 or args.rounds < 1 or args.first_ticks < 1 or args.clients < 1 or args.users < 1:
        parser.error("--repeat, --rounds, --first-ticks, --clients, --users: at least 1")

    return harness.run_benchmark(
        "dashboard",
        args,
        bench_database=bench_database,
        report=lambda payload: report(payload, args),
        epilogue=print_profiles,
        sources=(
            "breachdesk/dashboard/queries.py",
            "breachdesk/dashboard/views.py",
            "breachdesk/dashboard/words.py",
            "breachdesk/reminders/services.py",
            "templates/dashboard/index.html",
            "tests/bench/generate_incidents.py",
        ),
        arguments={k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        goals={"dashboard_p95_ms": GOAL_P95_MS, "tick_seconds": GOAL_TICK_SECONDS},
        measure=HOW_MEASURED,
    )


def print_profiles(payload: dict[str, Any]) -> None:
    for r in payload["runs"]:
        paths = [
            ("view", r["parts"].get("profile")),
            ("first tick", r["tick"].get("profile_first")),
            ("steady tick", r["tick"].get("profile_steady")),
        ]
        for what, path in paths:
            if path:
                print(f"\n  [{r['database']} profile of {what}: {path}; by own time]")
                for line in harness.profile_top(path, 20):
                    print(f"    {line}")
                print(f"  [{r['database']} profile of {what}; breachdesk and template functions by cumulative time]")
                for line in _profile_cumulative(path):
                    print(f"    {line}")


if __name__ == "__main__":
    sys.exit(harness.run_script(main, worker_main, WORKER_MODES))
