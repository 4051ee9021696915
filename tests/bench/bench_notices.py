"""Benchmark an incident's notices at scale: generate, approve and queue, dispatch through SendGrid.

    .venv/bin/python tests/bench/bench_notices.py [--customers 10000] [--volume-rows 200000] [--seed 42]
                                                  [--batch 200] [--skip-postgres] [--keep DIR] [--timeout 1800]
                                                  [--postgres-url URL] [--postgres-wait 60] [--profile]

The product requirement: generating, approving and queueing the notices of 10,000 affected customers of
one incident takes under 30 seconds; dispatching them through the SendGrid backend is limited by the
server, not by BreachDesk (compared with a bare loop of the same HTTP calls in the same run).

For each database (a fresh SQLite file; on PostgreSQL a database of its own, default
breachdesk_bench_notices, created when missing and dropped at the end when this run created it, never
the test suite's `test`, and emptied with DROP SCHEMA public CASCADE first), each part in a fresh
process under harness's measuring wrapper (wall time, peak RSS from getrusage(RUSAGE_CHILDREN)):

1. SETUP (timed for information): the migrations, the generated inventory (inventory.cli.run_import +
   commit; its customers and volume rows checked), an organisation profile (GDPR, a DPO: `PROFILE`)
   through import_inventory + commit, a privacy user (auth.services.create_user), and one incident
   filed with open_incident() + commit on every system key: nearly every customer is affected and gets
   one pending controller obligation. PostgreSQL then gets VACUUM ANALYZE, as autovacuum would shortly
   after the import;
2. GENERATE: notices.services.generate_all(incident, user, NoProgress()) (it commits batch by batch),
   acting as the user, as the web job does. Checked: one draft per pending customer obligation;
3. REVIEW, APPROVE AND QUEUE: notices.review.of_incident(incident, user, now) (what the review page computes and
   the confirmation computes again: every draft judged, the summary's figures, the fingerprint), then
   notices.services.approve_reviewed(incident, review.reviewed(), user, NoProgress()), each timed: every draft
   approved and its outbox rows written. Checked: the review finds every draft approvable, and the messages
   queued are the drafts' recipients, one outbox row each;
4. SLOW PROVIDER: the first --slow-messages (2,000) messages through a second stub that answers after
   --provider-latency-ms (20), as the real API takes its time: dispatch_round() against the bare calls
   made from as many threads as the dispatcher keeps in flight (1.00x: limited by the server), and a
   sample of bare calls one at a time;
5. DISPATCH: the rest, with the app configured with MAIL_BACKEND="sendgrid", SENDGRID_API_HOST=<the stub> and
   SENDGRID_API_KEY=SG.bench in the environment; the backend from notices.mail.backend_from(); then
   notices.outbox.dispatch_round(backend, batch=--batch) until a round claims nothing. The BASELINE runs
   in the same process, interleaved: after each dispatch round, a bare loop makes as many HTTP calls as
   that round claimed to the same stub with the same `sendgrid` library client
   (SendGridAPIClient(api_key, host).send(body): the v3 body as the backend builds it, one personalization,
   a category, custom args, and the subject, text and html of the incident's notice of median size, read before
   the loop), no database.
   Only the calls are timed: dispatch time is the sum of the dispatch_round() calls (the last, empty
   claim included), baseline time the sum of the bare loops. Checked: every outbox message is `sent`,
   and the stub received exactly one request per message (custom_args.outbox_id unique, and the set
   of them is the outbox's ids), and one per baseline call.

The SendGrid stand-in is tests/notices/mailstub.py's SendGridStub (answers 202), run in a SEPARATE
PROCESS of its own (`bench_notices.py stub`), one per database: it does not compete with the measured
process for its interpreter lock, and its memory (it keeps every request) is not counted in the
measured process's peak RSS. It reports its own CPU time and peak RSS at the end.

Reported per database: count, seconds (perf_counter around the call, commits included) and notices or
messages per second for each step, the process's wall time and peak RSS (and its own ru_maxrss before
the step: interpreter, app and imports), the dispatch / baseline ratio. Goals: queueing 10,000 (generate
+ review + approve) under 30 s: ok or MISSED; the dispatch ratio is printed (1.0x: limited by the server).
Results are written as JSON to tests/bench/results/notices-<timestamp>.json. Data comes from
generate_inventory.py (through harness.prepare_data) into a temporary directory or --keep DIR.

The measured parts run as `bench_notices.py setup|generate|approve|dispatch|stub ...` (internal; see
`worker_main`).
"""

import cProfile
import itertools
import json
import os
import resource
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import harness

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1/breachdesk_bench_notices"
#: how it measures, as written into the results file
HOW_MEASURED = (
    "setup, generate, approve, dispatch each in a fresh process under a wrapper "
    "(getrusage(RUSAGE_CHILDREN): wall, CPU, peak RSS); each step measured once, perf_counter "
    "around the call and its commits; the baseline interleaved with dispatch in its process, "
    "as many bare sendgrid-library calls after each round as it claimed; the SendGrid stub "
    "(tests/notices/mailstub.py) in a process of its own"
)
PROFILE = (
    "format: breachdesk-inventory/1\n"
    "organisation: {name: Bench, country: FR, lead_supervisory_authority: CNIL, regimes: [GDPR], "
    "dpo_name: Dana, dpo_email: dpo@bench.example}\n"
)
AWARE_AT = "2026-01-05T10:00:00Z"
USERNAME = "bench-privacy"
PASSWORD = "correct-Horse-7-battery"
API_KEY = "SG.bench"
#: the product owner's goal: generate + review + approve for this many customers, in under this many seconds
GOAL_NOTICES = 10_000
GOAL_QUEUE_SECONDS = 30.0
WORKER_MODES = ("setup", "generate", "approve", "dispatch", "stub")
SCRIPT = str(Path(__file__).resolve())


# --- the measured processes -----------------------------------------------------------------------


def measure_setup(url: str, structure: str) -> dict[str, Any]:
    """Migrate, import the inventory and the profile, create the user, file the incident on every system."""
    sys.path.insert(0, str(harness.ROOT))  # the test suite's statements for recipients
    from sqlalchemy import func, select

    from breachdesk.auth.models import Role
    from breachdesk.auth.services import create_user
    from breachdesk.deadlines.models import Obligation
    from breachdesk.extensions import db
    from breachdesk.impact.models import ImpactCustomer
    from breachdesk.impact.services import current_snapshot
    from breachdesk.incidents.services import open_incident
    from breachdesk.inventory.models import Contact, Customer, System, Volume
    from breachdesk.notices.services import customer_obligations_without_notice
    from tests.incident_fixtures import write_statements

    seconds: dict[str, float] = {}
    timed = harness.commit_timer(seconds)
    app = harness.bench_app(url)
    with app.app_context():
        imported, profile = harness.migrate_and_import(timed, structure, PROFILE)
        timed("user", lambda: create_user(USERNAME, "privacy@bench.example", PASSWORD, Role.PRIVACY))
        keys = list(db.session.scalars(select(System.key).order_by(System.key)))
        incident = timed(
            "open_incident",
            lambda: open_incident(
                {"title": "Bench: notices", "aware_at": AWARE_AT, "systems": keys, "nature": ["confidentiality"]}, None
            ),
        )
        write_statements(incident)
        db.session.commit()
        snapshot = current_snapshot(incident.id)
        kinds = db.session.execute(
            select(Obligation.recipient_kind, Obligation.status, func.count())
            .where(Obligation.incident_id == incident.id)
            .group_by(Obligation.recipient_kind, Obligation.status)
            .order_by(Obligation.recipient_kind)
        ).all()
        return {
            "seconds": seconds,
            "import_summary": str(imported),
            "profile_summary": str(profile),
            "customers": db.session.scalar(select(func.count()).select_from(Customer)),
            "volume_rows": db.session.scalar(select(func.count()).select_from(Volume)),
            "contacts": db.session.scalar(select(func.count()).select_from(Contact)),
            "incident_id": incident.id,
            "incident_systems": len(keys),
            "affected_customers": db.session.scalar(
                select(func.count()).select_from(ImpactCustomer).where(ImpactCustomer.snapshot_id == snapshot.id)
            ),
            "obligations": sum(n for *_, n in kinds),
            "obligations_by_kind": [[kind, str(status.value), n] for kind, status, n in kinds],
            "to_notify": len(customer_obligations_without_notice(incident.id)),
            "rss_mb_self": harness.rss_mb(),
        }


def _as_user(step):
    """Run step(user) in an app context, acting as the privacy user as the web job does; (answer, seconds)."""
    from sqlalchemy import select

    from breachdesk.audit.services import acting_as
    from breachdesk.auth.models import User
    from breachdesk.extensions import db

    user = db.session.scalar(select(User).where(User.username == USERNAME))
    with acting_as(f"user:{user.username}", user.id):
        start = time.perf_counter()
        answer = step(user)
        seconds = time.perf_counter() - start
    db.session.rollback()
    return answer, seconds


def measure_generate(url: str, incident_id: int) -> dict[str, Any]:
    from sqlalchemy import func, select

    from breachdesk.core.progress import NoProgress
    from breachdesk.extensions import db
    from breachdesk.notices.models import Notice
    from breachdesk.notices.services import generate_all

    app = harness.bench_app(url)
    with app.app_context():
        rss_before = harness.rss_mb()
        count, seconds = _as_user(lambda user: generate_all(incident_id, user, NoProgress()))
        rss_end = harness.rss_mb()
        rows = db.session.execute(
            select(
                Notice.status, Notice.recipients, func.length(Notice.text_body), func.length(Notice.html_body)
            ).where(Notice.incident_id == incident_id)
        ).all()
        return {
            "seconds": round(seconds, 3),
            "count": count,
            "notices": len(rows),
            "by_status": dict(Counter(str(status.value) for status, *_ in rows)),
            "messages_expected": sum(len(recipients) for _, recipients, *_ in rows),
            "without_recipients": sum(not recipients for _, recipients, *_ in rows),
            "text_chars_mean": round(sum(r[2] for r in rows) / max(len(rows), 1)),
            "html_chars_mean": round(sum(r[3] for r in rows) / max(len(rows), 1)),
            "rss_mb_self": {"before": rss_before, "end": rss_end},
        }


def measure_approve(url: str, incident_id: int) -> dict[str, Any]:
    from sqlalchemy import func, select

    from breachdesk.core.clock import now_utc
    from breachdesk.core.progress import NoProgress
    from breachdesk.extensions import db
    from breachdesk.notices import review
    from breachdesk.notices.models import Notice, OutboxMessage
    from breachdesk.notices.services import approve_reviewed

    app = harness.bench_app(url)
    with app.app_context():
        rss_before = harness.rss_mb()
        notices = db.session.scalar(select(func.count()).select_from(Notice).where(Notice.incident_id == incident_id))
        db.session.rollback()
        reviewed, review_seconds = _as_user(lambda user: review.of_incident(incident_id, user, now_utc()))
        done, seconds = _as_user(lambda user: approve_reviewed(incident_id, reviewed.reviewed(), user, NoProgress()))
        rss_end = harness.rss_mb()
        statuses = db.session.execute(
            select(Notice.status, func.count()).where(Notice.incident_id == incident_id).group_by(Notice.status)
        ).all()
        outbox = db.session.execute(
            select(OutboxMessage.status, func.count())
            .join(Notice)
            .where(Notice.incident_id == incident_id)
            .group_by(OutboxMessage.status)
        ).all()
        return {
            "review_seconds": round(review_seconds, 3),
            "approvable": len(reviewed.approvable),
            "seconds": round(seconds, 3),
            "queued": done.queued,
            "left": done.left,
            "notices": notices,
            "notices_by_status": {str(status.value): n for status, n in statuses},
            "outbox_by_status": {str(status.value): n for status, n in outbox},
            "rss_mb_self": {"before": rss_before, "end": rss_end},
        }


def measure_dispatch(
    url: str,
    incident_id: int,
    stub_url: str,
    batch: int,
    profile: str | None,
    slow_stub_url: str | None,
    slow_messages: int,
) -> dict[str, Any]:
    """dispatch_round() until it claims nothing, each round followed by as many bare library calls."""
    from sendgrid import SendGridAPIClient
    from sqlalchemy import func, select

    from breachdesk.deadlines.models import Obligation, ObligationStatus
    from breachdesk.extensions import db
    from breachdesk.notices.mail import CATEGORY, backend_from
    from breachdesk.notices.models import Notice, OutboxMessage
    from breachdesk.notices.outbox import dispatch_round

    app = harness.bench_app(url)
    app.config.update(MAIL_BACKEND="sendgrid", SENDGRID_API_HOST=stub_url)
    with app.app_context():
        backend = backend_from(app.config, app.instance_path)
        sender, timeout = app.config["MAIL_FROM"], float(app.config["MAIL_TIMEOUT"])
        # the baseline's body: the incident's notice of median size (read now, not in the loop)
        mine = Notice.incident_id == incident_id
        median = db.session.scalar(select(func.count()).select_from(Notice).where(mine)) // 2
        subject, text_body, html_body, notice_id = db.session.execute(
            select(Notice.subject, Notice.text_body, Notice.html_body, Notice.id)
            .where(mine)
            .order_by(func.length(Notice.text_body) + func.length(Notice.html_body), Notice.id)
            .offset(median)
            .limit(1)
        ).one()
        db.session.rollback()
        client = SendGridAPIClient(api_key=os.environ["SENDGRID_API_KEY"], host=stub_url)
        client.client.timeout = timeout
        numbers = itertools.count()  # next() is atomic: the slow phase calls from several threads

        def bare_send(client=client) -> None:
            number = next(numbers)
            response = client.send(  # the v3 body as the backend builds it (notices.mail.request_body)
                {
                    "from": {"email": sender},
                    "subject": subject,
                    "personalizations": [
                        {
                            "to": [{"email": f"baseline-{number}@bench.example"}],
                            "custom_args": {
                                "baseline": str(number),
                                "notice_id": str(notice_id),
                                "incident_id": str(incident_id),
                            },
                        }
                    ],
                    "content": [{"type": "text/plain", "value": text_body}, {"type": "text/html", "value": html_body}],
                    "categories": [CATEGORY],
                }
            )
            if response.status_code != 202:
                raise SystemExit(f"baseline: the stub answered {response.status_code}")

        # filing the incident alerted the privacy team: those messages go out with the notices' (first, by id)
        alert_ids = list(db.session.scalars(select(OutboxMessage.id).where(OutboxMessage.alert_mail_id.is_not(None))))
        rss_before = harness.rss_mb()
        slow = measure_slow_provider(slow_stub_url, slow_messages, batch, bare_send) if slow_stub_url else None
        profiler = cProfile.Profile() if profile else None
        totals = dict.fromkeys(("claimed", "sent", "retried", "failed"), 0)
        dispatch_times: list[float] = []
        baseline_times: list[float] = []
        made = 0
        while True:
            start = time.perf_counter()
            result = (
                profiler.runcall(dispatch_round, backend, batch=batch)
                if profiler
                else dispatch_round(backend, batch=batch)
            )
            dispatch_times.append(time.perf_counter() - start)
            if not result.claimed:
                break
            for key in totals:
                totals[key] += getattr(result, key)
            start = time.perf_counter()
            for _ in range(result.claimed):
                bare_send()
            baseline_times.append(time.perf_counter() - start)
            made += result.claimed
        rss_end = harness.rss_mb()
        if profiler:
            profiler.dump_stats(profile)
        db.session.rollback()
        outbox = db.session.execute(
            select(OutboxMessage.id, OutboxMessage.status)
            .join(Notice)
            .where(Notice.incident_id == incident_id)
            .order_by(OutboxMessage.id)
        ).all()
        obligations = db.session.execute(
            select(Obligation.status, func.count())
            .where(Obligation.incident_id == incident_id, Obligation.id.in_(select(Notice.obligation_id)))
            .group_by(Obligation.status)
        ).all()
        return {
            "seconds": round(sum(dispatch_times), 3),
            "rounds": len(dispatch_times),
            "batch": batch,
            **totals,
            "round_ms": harness.stats(dispatch_times[:-1] or dispatch_times),
            "baseline_seconds": round(sum(baseline_times), 3),
            "baseline_calls": made,
            "baseline_round_ms": harness.stats(baseline_times or [0.0]),
            "outbox_by_status": dict(Counter(str(status.value) for _, status in outbox)),
            "outbox_ids": [i for i, _ in outbox],
            "alert_ids": alert_ids,
            "obligations_sent": sum(n for status, n in obligations if status == ObligationStatus.SENT),
            "obligations_by_status": {str(status.value): n for status, n in obligations},
            "body_chars": {"subject": len(subject), "text": len(text_body), "html": len(html_body)},
            "rss_mb_self": {"before": rss_before, "end": rss_end},
            "slow_provider": slow,
        }


def measure_slow_provider(stub_url: str, messages: int, batch: int, bare_send: Callable) -> dict[str, Any]:
    """The first `messages` messages through a stub that takes its time, as the real API does: rounds of
    dispatch_round(), each followed by as many bare calls from as many threads as the dispatcher uses, and
    a sample of bare calls one at a time. Limited by the server means dispatch ~ the concurrent bare calls."""
    from flask import current_app
    from sendgrid import SendGridAPIClient

    from breachdesk.notices.mail import SendGridBackend
    from breachdesk.notices.outbox import dispatch_round

    threads = int(current_app.config["DISPATCH_CONCURRENCY"])
    timeout = float(current_app.config["MAIL_TIMEOUT"])
    backend = SendGridBackend(os.environ["SENDGRID_API_KEY"], stub_url, timeout)
    client = SendGridAPIClient(api_key=os.environ["SENDGRID_API_KEY"], host=stub_url)
    client.client.timeout = timeout
    sent = calls = 0
    dispatch_seconds = baseline_seconds = 0.0
    with ThreadPoolExecutor(max_workers=threads) as pool:
        while sent < messages:
            later = _only_due(min(batch, messages - sent))  # a round sends what is due: the rest waits meanwhile
            start = time.perf_counter()
            result = dispatch_round(backend, batch=batch)
            dispatch_seconds += time.perf_counter() - start
            _due_again(later)
            if not result.claimed:
                break
            sent += result.sent
            start = time.perf_counter()
            list(pool.map(lambda _: bare_send(client), range(result.claimed)))
            baseline_seconds += time.perf_counter() - start
            calls += result.claimed
    sample = min(100, messages)
    start = time.perf_counter()
    for _ in range(sample):
        bare_send(client)
    sequential_seconds = time.perf_counter() - start
    return {
        "messages": sent,
        "concurrency": threads,
        "seconds": round(dispatch_seconds, 3),
        "baseline_calls": calls,
        "baseline_seconds": round(baseline_seconds, 3),
        "sequential_calls": sample,
        "sequential_seconds": round(sequential_seconds, 3),
    }


def _only_due(count: int) -> list[tuple[int, Any]]:
    """Leave the first `count` queued messages due and make the rest wait a day; returns what to restore."""
    from sqlalchemy import select, update

    from breachdesk.core.clock import now_utc
    from breachdesk.extensions import db
    from breachdesk.notices.models import OutboxMessage, OutboxStatus

    queued = db.session.execute(
        select(OutboxMessage.id, OutboxMessage.next_attempt_at)
        .where(OutboxMessage.status == OutboxStatus.QUEUED)
        .order_by(OutboxMessage.id)
    ).all()
    later = queued[count:]
    if later:
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.status == OutboxStatus.QUEUED, OutboxMessage.id >= later[0][0])
            .values(next_attempt_at=now_utc() + timedelta(days=1))
        )
    db.session.commit()
    return [tuple(row) for row in later]


def _due_again(later: list[tuple[int, Any]]) -> None:
    from sqlalchemy import bindparam, update

    from breachdesk.extensions import db
    from breachdesk.notices.models import OutboxMessage

    table = OutboxMessage.__table__
    if later:
        db.session.execute(
            update(table).where(table.c.id == bindparam("message_id")).values(next_attempt_at=bindparam("at")),
            [{"message_id": message_id, "at": at} for message_id, at in later],
        )
    db.session.commit()


def run_stub(out: Path, url_file: Path, delay: float) -> None:
    """Serve the SendGrid stand-in until stdin closes, then summarise what it received."""
    sys.path.insert(0, str(harness.ROOT))
    from tests.notices.mailstub import SendGridStub

    with SendGridStub() as stub:
        stub.delay = delay
        partial = url_file.with_suffix(".tmp")
        partial.write_text(stub.url)
        partial.replace(url_file)  # the parent sees the whole URL or nothing
        sys.stdin.read()
        with stub.lock:
            requests = list(stub.requests)
    outbox_ids, sizes = [], {"dispatch": [], "baseline": [], "other": []}
    for request in requests:
        personalizations = request["body"].get("personalizations") or [{}]
        args = personalizations[0].get("custom_args", {})
        kind = "dispatch" if "outbox_id" in args else "baseline" if "baseline" in args else "other"
        if kind == "dispatch":
            outbox_ids.append(int(args["outbox_id"]))
        sizes[kind].append(len(json.dumps(request["body"])))
    usage = resource.getrusage(resource.RUSAGE_SELF)
    out.write_text(
        json.dumps(
            {
                "requests": len(requests),
                "statuses": dict(Counter(str(r["status"]) for r in requests)),
                "paths": dict(Counter(r["path"] for r in requests)),
                "outbox_ids": outbox_ids,
                "baseline": len(sizes["baseline"]),
                "other": len(sizes["other"]),
                "body_bytes_mean": {k: round(sum(v) / len(v)) if v else 0 for k, v in sizes.items()},
                "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
                "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
                "delay_ms": delay * 1000,
            }
        )
    )


def worker_main(argv: list[str]) -> int:
    parser = harness.part_parser(
        "bench_notices.py",
        "notices",
        WORKER_MODES,
        url_help="the database URL (stub: a file the stub's own URL is written to)",
    )
    parser.add_argument("--incident", type=int, help="generate, approve, dispatch: the incident's id")
    parser.add_argument("--stub-url", help="dispatch: the SendGrid stub's URL")
    parser.add_argument("--batch", type=int, default=200, help="dispatch: messages claimed per round")
    parser.add_argument("--profile", help="dispatch: cProfile the dispatch rounds into this file")
    parser.add_argument("--slow-stub-url", help="dispatch: a stub that answers slowly, for the first messages")
    parser.add_argument("--slow-messages", type=int, default=0, help="dispatch: how many go to the slow stub")
    parser.add_argument("--delay", type=float, default=0.0, help="stub: seconds to think before each answer")
    args = parser.parse_args(argv)
    if args.mode == "stub":
        run_stub(args.out, Path(args.url), args.delay)
        return 0
    if args.mode == "setup":
        answer = measure_setup(args.url, args.structure)
    elif args.mode == "generate":
        answer = measure_generate(args.url, args.incident)
    elif args.mode == "approve":
        answer = measure_approve(args.url, args.incident)
    else:
        answer = measure_dispatch(
            args.url, args.incident, args.stub_url, args.batch, args.profile, args.slow_stub_url, args.slow_messages
        )
    args.out.write_text(json.dumps(answer, default=str))
    return 0


# --- one database -----------------------------------------------------------------------------------


class Stub:
    """The SendGrid stand-in in a process of its own: started, its URL awaited; stop() returns its summary."""

    def __init__(self, env: dict[str, str], logs: Path, name: str = "stub", delay: float = 0.0):
        self.out, self.url_file = logs / f"{name}.json", logs / f"{name}.url"
        self.url_file.unlink(missing_ok=True)
        command = [sys.executable, SCRIPT, "stub", str(self.url_file), "--out", str(self.out), "--delay", str(delay)]
        self.stderr = (logs / f"{name}.err").open("wb")
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=self.stderr, stderr=self.stderr, env=env)
        deadline = time.monotonic() + 30
        while not self.url_file.is_file():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.kill()
                raise harness.BenchFailure(f"the SendGrid stub did not start; see {logs / f'{name}.err'}")
            time.sleep(0.05)
        self.url = self.url_file.read_text()
        print(
            f"  SendGrid stub (process {self.process.pid}, answers after {delay * 1000:.0f} ms) at {self.url}",
            flush=True,
        )

    def stop(self) -> dict[str, Any]:
        self.process.stdin.close()
        try:
            code = self.process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            self.kill()
            raise harness.BenchFailure("the SendGrid stub did not stop") from None
        self.stderr.close()
        if code != 0 or not self.out.is_file():
            raise harness.BenchFailure(f"the SendGrid stub failed (exit {code}); see {self.out.with_suffix('.err')}")
        return json.loads(self.out.read_text())

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()  # the one process this object started
            self.process.wait()
        self.stderr.close()


def bench_database(name: str, url: str, data: dict[str, Any], work: Path, args) -> dict[str, Any]:
    env, logs = harness.start_database(name, url, work, args.postgres_wait)
    env["SENDGRID_API_KEY"] = API_KEY
    setup = harness.run_part(
        SCRIPT,
        "setup (migrate, import, profile, user, file incident)",
        "setup",
        url,
        ["--structure", data["structure"]],
        env,
        logs,
        args.timeout,
    )
    for key in ("customers", "volume_rows"):
        harness.expect(f"the import: {key}", setup[key], data[key])
    if setup["to_notify"] == 0:
        raise harness.BenchFailure(
            "filing the incident created no pending customer obligation (was the profile imported?)"
        )
    harness.print_incident_setup(
        setup,
        setup["incident_systems"],
        f"{setup['obligations']:,} obligations, {setup['to_notify']:,} pending customer obligations to notify",
    )
    if name == "postgresql":
        harness.vacuum_analyze(url)
    incident = ["--incident", str(setup["incident_id"])]

    generate = harness.run_part(SCRIPT, "generate", "generate", url, incident, env, logs, args.timeout)
    harness.expect("generate_all's count", generate["count"], setup["to_notify"])
    harness.expect(
        "notices in the database",
        (generate["notices"], generate["by_status"]),
        (setup["to_notify"], {"draft": setup["to_notify"]}),
    )
    messages = generate["messages_expected"]
    print(f"    {generate['count']:,} notices in {generate['seconds']:.2f} s, {messages:,} recipients")

    approve = harness.run_part(SCRIPT, "review, approve and queue", "approve", url, incident, env, logs, args.timeout)
    harness.expect("drafts the review finds approvable", approve["approvable"], generate["notices"])
    harness.expect("approve_reviewed's count of messages queued", approve["queued"], messages)
    harness.expect("notices after approval", approve["notices_by_status"], {"approved": generate["notices"]})
    harness.expect("outbox rows", approve["outbox_by_status"], {"queued": messages})
    print(
        f"    reviewed in {approve['review_seconds']:.2f} s; {approve['queued']:,} messages queued in "
        f"{approve['seconds']:.2f} s"
    )
    if args.slow_messages >= messages:
        raise harness.BenchFailure(
            f"--slow-messages {args.slow_messages} leaves none of the {messages:,} messages "
            f"to dispatch at full speed; pass fewer"
        )

    stub = Stub(env, logs)
    slow_stub = Stub(env, logs, "stub-slow", args.provider_latency_ms / 1000) if args.slow_messages else None
    try:
        profile = logs / "dispatch.prof" if args.profile else None
        slow_options = (
            ["--slow-stub-url", slow_stub.url, "--slow-messages", str(args.slow_messages)] if slow_stub else []
        )
        dispatch = harness.run_part(
            SCRIPT,
            "dispatch and baseline",
            "dispatch",
            url,
            [
                *incident,
                "--stub-url",
                stub.url,
                "--batch",
                str(args.batch),
                *slow_options,
                *(["--profile", str(profile)] if profile else []),
            ],
            env,
            logs,
            args.timeout,
        )
        received = stub.stop()
        received_slow = slow_stub.stop() if slow_stub else None
    except BaseException:
        stub.kill()
        if slow_stub:
            slow_stub.kill()
        raise
    outbox_ids = dispatch.pop("outbox_ids")
    alert_ids = dispatch.pop("alert_ids")
    slow = dispatch["slow_provider"]
    slow_ids = received_slow["outbox_ids"] if received_slow else []
    fast = messages - len(slow_ids) + len(alert_ids)  # the filing's alerts are sent at full speed
    if slow:
        harness.expect("slow provider: messages sent", slow["messages"], len(slow_ids))
        harness.expect(
            "slow stub: answers",
            received_slow["statuses"],
            {"202": slow["messages"] + slow["baseline_calls"] + slow["sequential_calls"]},
        )
        harness.expect(
            "slow stub: requests from the baseline",
            received_slow["baseline"],
            slow["baseline_calls"] + slow["sequential_calls"],
        )
    harness.expect("dispatch: messages claimed, sent", (dispatch["claimed"], dispatch["sent"]), (fast, fast))
    harness.expect("outbox after dispatch", dispatch["outbox_by_status"], {"sent": messages})
    harness.expect("stub: answers", received["statuses"], {"202": fast + dispatch["baseline_calls"]})
    harness.expect("stub: requests from the dispatcher", len(received["outbox_ids"]), fast)
    harness.expect("stubs: distinct outbox ids", len(set(received["outbox_ids"] + slow_ids)), messages + len(alert_ids))
    harness.expect(
        "stubs: the outbox ids are the outbox's",
        sorted(received["outbox_ids"] + slow_ids),
        sorted(outbox_ids + alert_ids),
    )
    harness.expect("stub: requests from the baseline", received["baseline"], fast)
    harness.expect("stub: requests from neither", received["other"], 0)
    harness.expect("baseline calls", dispatch["baseline_calls"], fast)
    received.pop("outbox_ids")
    if received_slow:
        received_slow.pop("outbox_ids")
    if profile:
        dispatch["profile_top"] = harness.profile_top(str(profile), limit=25)
        for line in dispatch["profile_top"]:
            print(f"  [{name} dispatch profile] {line}")
    warnings = []
    if dispatch["obligations_sent"] != generate["notices"]:
        warnings.append(
            f"{dispatch['obligations_sent']:,} of {generate['notices']:,} notified obligations are "
            f"`sent` after dispatch: {dispatch['obligations_by_status']}"
        )
    if slow:
        print(
            f"    slow provider: {slow['messages']:,} messages sent in {slow['seconds']:.2f} s; concurrent baseline "
            f"{slow['baseline_seconds']:.2f} s"
        )
    print(
        f"    {fast:,} messages sent in {dispatch['seconds']:.2f} s ({dispatch['rounds']} rounds); "
        f"baseline {dispatch['baseline_seconds']:.2f} s; stub CPU {received['cpu_seconds']:.1f} s"
    )
    for warning in warnings:
        print(f"  WARNING: {warning}")

    result: dict[str, Any] = {
        "database": name,
        "url": url,
        "setup": setup,
        "generate": generate,
        "approve": approve,
        "dispatch": dispatch,
        "stub": received,
        "stub_slow": received_slow,
        "warnings": warnings,
        "queue_seconds": round(generate["seconds"] + approve["review_seconds"] + approve["seconds"], 3),
        "dispatch_ratio": round(dispatch["seconds"] / dispatch["baseline_seconds"], 2),
    }
    if name == "sqlite":
        result["database_mb"] = harness.sqlite_size_mb(url)
    return result


# --- report ------------------------------------------------------------------------------------------


def _rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f}" if seconds > 0 else "-"


def report(payload: dict[str, Any]) -> list[str]:
    data, runs = payload["data"], payload["runs"]
    sizes = [
        (
            r["database"],
            f"{data['customers']:,}",
            f"{data['volume_rows']:,}",
            f"{r['setup']['affected_customers']:,}",
            f"{r['setup']['to_notify']:,}",
            f"{r['generate']['notices']:,}",
            f"{r['approve']['queued']:,}",
            f"{r['generate']['text_chars_mean']:,}",
            f"{r['generate']['html_chars_mean']:,}",
            f"{r['setup']['seconds']['import']:.1f}",
            f"{r['setup']['seconds']['open_incident']:.1f}",
            f"{r['setup']['process']['peak_rss_mb']:.0f}",
        )
        for r in runs
    ]
    lines = harness.table(
        (
            "database",
            "customers",
            "volume rows",
            "affected",
            "pending obligations",
            "notices",
            "messages",
            "text chars",
            "html chars",
            "import s",
            "file incident s",
            "setup RSS MB",
        ),
        sizes,
    )
    for r in runs:
        g, a, d, stub = r["generate"], r["approve"], r["dispatch"], r["stub"]
        messages = a["queued"]
        rows = [
            (
                "1. generate_all",
                f"{g['notices']:,}",
                f"({g['messages_expected']:,})",
                f"{g['seconds']:.2f}",
                _rate(g["notices"], g["seconds"]),
                "-",
                f"{g['process']['wall_seconds']:.1f}",
                f"{g['process']['peak_rss_mb']:.0f}",
                f"{g['rss_mb_self']['before']:.0f}",
            ),
            (
                "2. review.of_incident",
                f"{a['notices']:,}",
                f"{messages:,}",
                f"{a['review_seconds']:.2f}",
                _rate(a["notices"], a["review_seconds"]),
                "-",
                "(with 3)",
                "(with 3)",
                "(with 3)",
            ),
            (
                "3. approve_reviewed (queue)",
                f"{a['notices']:,}",
                f"{messages:,}",
                f"{a['seconds']:.2f}",
                _rate(a["notices"], a["seconds"]),
                _rate(messages, a["seconds"]),
                f"{a['process']['wall_seconds']:.1f}",
                f"{a['process']['peak_rss_mb']:.0f}",
                f"{a['rss_mb_self']['before']:.0f}",
            ),
            (
                "   queue = 1 + 2 + 3",
                f"{g['notices']:,}",
                f"{messages:,}",
                f"{r['queue_seconds']:.2f}",
                _rate(g["notices"], r["queue_seconds"]),
                _rate(messages, r["queue_seconds"]),
                "-",
                "-",
                "-",
            ),
            (
                f"4. dispatch_round x {d['rounds']}",
                "-",
                f"{d['sent']:,}",
                f"{d['seconds']:.2f}",
                "-",
                _rate(d["sent"], d["seconds"]),
                f"{d['process']['wall_seconds']:.1f}",
                f"{d['process']['peak_rss_mb']:.0f}",
                f"{d['rss_mb_self']['before']:.0f}",
            ),
            (
                "   baseline: bare sendgrid loop",
                "-",
                f"{d['baseline_calls']:,}",
                f"{d['baseline_seconds']:.2f}",
                "-",
                _rate(d["baseline_calls"], d["baseline_seconds"]),
                "(same)",
                "(same)",
                "(same)",
            ),
        ]
        scale = "" if g["notices"] >= GOAL_NOTICES else f" (only {g['notices']:,} notices: not the goal's size)"
        lines += [
            "",
            f"{r['database']}:",
            *harness.table(
                (
                    "step",
                    "notices",
                    "messages",
                    "seconds",
                    "notices/s",
                    "msgs/s",
                    "process wall s",
                    "peak RSS MB",
                    "RSS before MB",
                ),
                rows,
            ),
            f"  goal: queue {GOAL_NOTICES:,} < {GOAL_QUEUE_SECONDS:.0f} s (generate + review + approve): "
            f"{r['queue_seconds']:.1f} s {harness.mark(r['queue_seconds'] < GOAL_QUEUE_SECONDS)}{scale}",
            f"  dispatch / baseline: {r['dispatch_ratio']:.2f}x (the bare HTTP calls are "
            f"{d['baseline_seconds'] / d['seconds']:.0%} of dispatch time; 1.00x = limited by the server)",
            f"    per message: dispatch {d['seconds'] / d['sent'] * 1000:.2f} ms, baseline "
            f"{d['baseline_seconds'] / d['sent'] * 1000:.2f} ms, our own "
            f"{(d['seconds'] - d['baseline_seconds']) / d['sent'] * 1000:.2f} ms; per round of up to "
            f"{d['batch']}: dispatch median {d['round_ms']['median_ms']:.0f} ms, baseline "
            f"{d['baseline_round_ms']['median_ms']:.0f} ms",
            *slow_provider_lines(d["slow_provider"], r["stub_slow"]),
            f"  stub (own process): {stub['requests']:,} requests, CPU {stub['cpu_seconds']:.1f} s, "
            f"peak RSS {stub['peak_rss_mb']:.0f} MB; request body bytes: dispatch "
            f"{stub['body_bytes_mean']['dispatch']:,}, baseline {stub['body_bytes_mean']['baseline']:,}",
        ]
        lines += [f"  WARNING: {w}" for w in r["warnings"]]
    return lines


def slow_provider_lines(slow: dict[str, Any] | None, stub: dict[str, Any] | None) -> list[str]:
    """The dispatcher against a provider that takes its time, as the real API does."""
    if not slow:
        return []
    rate = slow["messages"] / slow["seconds"]
    return [
        f"  slow provider (answers after {stub['delay_ms']:.0f} ms), the first {slow['messages']:,} messages: "
        f"dispatch {rate:,.0f} msgs/s with {slow['concurrency']} in flight; the same calls bare from "
        f"{slow['concurrency']} threads {slow['baseline_calls'] / slow['baseline_seconds']:,.0f} msgs/s: "
        f"{slow['seconds'] / slow['baseline_seconds']:.2f}x (1.00x = limited by the server); one bare call at a "
        f"time {slow['sequential_calls'] / slow['sequential_seconds']:,.0f} msgs/s"
    ]


def main(argv: list[str] | None = None) -> int:
    parser = harness.bench_parser(__doc__, customers=10_000, volume_rows=200_000, postgres_url=POSTGRES_URL)
    parser.add_argument("--batch", type=int, default=200, help="messages claimed per dispatch round (default 200)")
    parser.add_argument(
        "--slow-messages",
        type=int,
        default=2000,
        help="messages sent first through a stub that answers after --provider-latency-ms (0: none)",
    )
    parser.add_argument(
        "--provider-latency-ms",
        type=float,
        default=20.0,
        help="how long the slow stub thinks before answering (default 20 ms)",
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="cProfile the dispatch rounds (not the baseline): top functions printed, .prof in logs",
    )
    args = parser.parse_args(argv)
    if args.batch < 1:
        parser.error("--batch: at least 1")
    return harness.run_benchmark(
        "notices",
        args,
        bench_database=bench_database,
        report=report,
        sources=tuple(
            f"breachdesk/{name}"
            for name in (
                "notices/services.py",
                "notices/outbox.py",
                "notices/mail.py",
                "notices/rendering.py",
                "audit/services.py",
                "deadlines/services.py",
            )
        ),
        profile=PROFILE,
        aware_at=AWARE_AT,
        batch=args.batch,
        goals={"queue_notices": GOAL_NOTICES, "queue_seconds": GOAL_QUEUE_SECONDS},
        measure=HOW_MEASURED,
    )


if __name__ == "__main__":
    sys.exit(harness.run_script(main, worker_main, WORKER_MODES))
