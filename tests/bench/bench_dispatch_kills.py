"""How many notices a killed dispatcher sends twice: one notice to N recipients is drained by
`breachdesk dispatch` against a SendGrid-shaped stub answering in 20 ms, SIGKILLed K times at evenly spaced
points (after the stub has received a stated number of requests, not after some seconds) and restarted each
time, until every message is sent. Counts what the stub accepted more than once.

    .venv/bin/python tests/bench/bench_dispatch_kills.py                    # 2,000 messages, 10 kills
    .venv/bin/python tests/bench/bench_dispatch_kills.py --skip-postgres --messages 500 --kills 3
"""

import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import harness

CHECKOUT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(CHECKOUT))  # the test suite's inventory and SendGrid stub

from tests.inventories import PROFILE, import_text, load  # noqa: E402 - needs the checkout on the path
from tests.notices.mailstub import SendGridStub  # noqa: E402

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1/breachdesk_bench_dispatch_kills"
#: seconds: short, so that a killed dispatcher's claims come back soon; the lease still outlives a batch of BATCH
#: (two waves of DISPATCH_CONCURRENCY, 32, after the last wave of the batch before, each within MAIL_TIMEOUT), as
#: the app checks at start
LEASE_SECONDS, BATCH, MAIL_TIMEOUT = 6, 64, 2
GUARD = 600  # seconds: only against a hang


def queue(url: str, messages: int) -> None:
    """Migrations, the small inventory, one incident, Acme's notice to `messages` recipients, approved."""
    from flask_migrate import upgrade

    from breachdesk.auth.models import Role
    from breachdesk.auth.services import create_user
    from breachdesk.deadlines.models import Obligation
    from breachdesk.extensions import db
    from breachdesk.incidents.services import open_incident
    from breachdesk.notices import services
    from tests.incident_fixtures import write_statements

    app = harness.bench_app(url)
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory)
        load()
        # with our DPO, whom every notice names (GDPR Art. 33(3)(b))
        dpo = "  dpo_name: Camille DPO\n  dpo_email: dpo@parlons.example\n"
        import_text(PROFILE.replace("  undue_delay_target_hours: 48\n", "  undue_delay_target_hours: 48\n" + dpo))
        privacy = create_user("dpo", "dpo@parlons.example", "Kill-test-2026-dpo!", Role.PRIVACY)
        incident = open_incident(
            {"title": "Kill test", "aware_at": "2026-10-24T22:00:00Z", "systems": ["db"], "nature": ["integrity"]}, None
        )
        write_statements(incident)
        db.session.commit()
        duty = db.session.scalar(
            db.select(Obligation).where(Obligation.incident_id == incident.id, Obligation.recipient_key == "acme")
        )
        notice = services.generate_notice(duty, privacy)
        notice.recipients = [f"contact{i:05d}@acme.example" for i in range(messages)]
        services.approve_notice(notice, privacy)
        db.session.commit()
        db.engine.dispose()


def outbox(url: str, where: str = "") -> list[int]:
    """The ids of the outbox's messages: the notice's and the alerts its incident's filing queued."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.connect() as connection:
        ids = list(connection.execute(text(f"SELECT id FROM outbox_messages {where}")).scalars())  # noqa: S608
    engine.dispose()
    return ids


def queued(url: str) -> int:
    return len(outbox(url, "WHERE status = 'queued'"))


def drain(url: str, stub: SendGridStub, instance: Path, messages: int, kills: int) -> dict[str, int]:
    env = harness.clean_env(url, instance)
    env.update(
        BREACHDESK_MAIL_BACKEND="sendgrid",
        BREACHDESK_SENDGRID_API_HOST=stub.url,
        SENDGRID_API_KEY="SG.bench",
        BREACHDESK_DISPATCH_LEASE_SECONDS=str(LEASE_SECONDS),
        BREACHDESK_MAIL_TIMEOUT=str(MAIL_TIMEOUT),
        BREACHDESK_DISPATCH_BATCH=str(BATCH),
        BREACHDESK_LOG_LEVEL="WARNING",
    )
    command = [*harness.breachdesk_command(), "dispatch"]
    kill_points = [messages * (k + 1) // (kills + 1) for k in range(kills)]
    started = time.monotonic()
    killed = 0
    while queued(url):
        assert time.monotonic() - started < GUARD, "the drain did not finish"
        with subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) as process:
            while killed < kills and process.poll() is None and stub.received < kill_points[killed]:
                time.sleep(0.002)
            if killed < kills and process.poll() is None:
                process.send_signal(signal.SIGKILL)
                killed += 1
            _, errors = process.communicate(timeout=GUARD)
        # a dispatcher that cannot start (a refused configuration) would otherwise be restarted until GUARD
        assert process.returncode in (0, -signal.SIGKILL), errors.decode(errors="replace")[-2000:]
        time.sleep(0.1 if killed < kills else LEASE_SECONDS)  # claims of a killed one come back with its lease
    accepted, queued_ids = Counter(stub.accepted_outbox_ids()), set(outbox(url))
    harness.expect("accepted ids, all queued", set(accepted) - queued_ids, set())
    return {
        "messages": len(queued_ids),
        "kills": killed,
        "accepted": sum(accepted.values()),
        "sent twice or more": sum(1 for n in accepted.values() if n > 1),
        "repeats": sum(n - 1 for n in accepted.values()),
        "most times one message": max(accepted.values()),
        "lost": len(queued_ids - set(accepted)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = harness.bench_parser(__doc__, customers=4, volume_rows=6, postgres_url=POSTGRES_URL)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--latency-ms", type=float, default=20)
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory(prefix="breachdesk-bench-kills-") as work:
        urls = [("sqlite", f"sqlite:///{Path(work) / 'kills.db'}")]
        created = None if args.skip_postgres else harness.ensure_postgres_database(args.postgres_url)
        if created is not None:
            harness.reset_postgres(args.postgres_url, args.postgres_wait)
            urls.append(("postgresql", args.postgres_url))
        for name, url in urls:
            print(f"== {name}: {args.messages} messages, {args.kills} kills, provider {args.latency_ms} ms")
            queue(url, args.messages)
            with SendGridStub() as stub:
                stub.delay = args.latency_ms / 1000
                found = drain(url, stub, Path(work) / name, args.messages, args.kills)
            print("  " + ", ".join(f"{k} {v}" for k, v in found.items()))
            rows.append((name, *(str(v) for v in found.values())))
        if created:
            harness.drop_postgres_database(args.postgres_url)
    print()
    header = ("database", "messages", "kills", "accepted", "sent twice+", "repeats", "most", "lost")
    print("\n".join(harness.table(header, rows)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
