"""How fast the dispatcher may send: the operator's ceiling per second, what a provider's 429 asks, and the lease a
batch needs for its sending, refused at start when too short."""

import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from breachdesk import create_app
from breachdesk.config import DISPATCH_BATCH, DISPATCH_CONCURRENCY, DISPATCH_LEASE_SECONDS, MAIL_TIMEOUT
from breachdesk.extensions import db
from breachdesk.notices import services
from breachdesk.notices.mail import FileBackend, Paced, backend_from, provider_wait
from breachdesk.notices.outbox import dispatch_round
from breachdesk.notices.pacing import Pacer, batch_sending_seconds, lease_problem
from tests.incident_fixtures import duty

T = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


class FakeClock:
    """A monotonic clock that moves only when told, and a sleep that moves it."""

    def __init__(self):
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)


# --- the ceiling per second -------------------------------------------------------------------------------------


def test_sends_asking_at_once_are_given_slots_one_interval_apart():
    clock = FakeClock()
    pacer = Pacer(4, clock=clock)
    assert [pacer.reserve() for _ in range(5)] == [0, 0.25, 0.5, 0.75, 1.0]


def test_an_idle_spell_earns_no_burst():
    """Slots are never earlier than now: after a quiet minute the next sends are paced as ever, not all at once."""
    clock = FakeClock()
    pacer = Pacer(2, clock=clock)
    assert pacer.reserve() == 0
    clock.now += 60
    assert [pacer.reserve() for _ in range(3)] == [0, 0.5, 1.0]
    clock.now += 0.25  # a quarter into the next free slot's wait
    assert pacer.reserve() == 1.25


def test_no_ceiling_never_waits():
    clock = FakeClock()
    pacer = Pacer(0, clock=clock, sleep=clock.sleep)
    for _ in range(100):
        pacer.wait()
    assert clock.slept == []


def test_a_pacer_shared_by_threads_gives_each_send_a_slot_of_its_own():
    """Sixteen threads asking at the same instant get sixteen distinct slots, a tenth of a second apart: the
    ceiling holds for the dispatcher, not per thread."""
    clock = FakeClock()
    pacer = Pacer(10, clock=clock)
    start = threading.Barrier(16)
    waits: list[float] = []

    def ask():
        start.wait(timeout=30)
        waits.append(pacer.reserve())

    threads = [threading.Thread(target=ask) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(round(w, 9) for w in waits) == [round(n / 10, 9) for n in range(16)]


def test_a_paced_backend_waits_for_its_slot_before_each_send(tmp_path):
    clock = FakeClock()
    backend = Paced(Recording(), Pacer(5, clock=clock, sleep=clock.sleep))
    for number in range(3):
        backend.send(number)
    assert clock.slept == pytest.approx([0, 0.2, 0.4]) and backend.backend.sent == [0, 1, 2]


class Recording:
    def __init__(self):
        self.sent = []

    def send(self, mail):
        self.sent.append(mail)
        return "ok"


def test_the_configured_ceiling_paces_the_configured_backend(app, tmp_path):
    app.config.update(MAIL_BACKEND="file", OUTBOX_DIR=str(tmp_path), DISPATCH_MAX_PER_SECOND=8)
    paced = backend_from(app.config, app.instance_path)
    assert isinstance(paced, Paced) and isinstance(paced.backend, FileBackend) and paced.pacer.interval == 0.125
    app.config.update(DISPATCH_MAX_PER_SECOND=0)
    assert isinstance(backend_from(app.config, app.instance_path), FileBackend)


def test_a_round_under_a_ceiling_takes_at_least_the_time_its_slots_span(
    app, incident, privacy, sendgrid_stub, monkeypatch
):
    """Eleven messages at five a second: the last request reaches the provider at least two seconds after the
    round starts, however fast the machine (a slow one only adds to it), and never more than the ceiling's worth
    of requests arrive in any second, give or take a late thread."""
    monkeypatch.setenv("SENDGRID_API_KEY", "SG.test-key")
    app.config.update(
        MAIL_BACKEND="sendgrid", SENDGRID_API_HOST=sendgrid_stub.url, DISPATCH_MAX_PER_SECOND=5, DISPATCH_CONCURRENCY=8
    )
    notice = services.generate_notice(duty(incident, "acme"), privacy)
    notice.recipients = [f"contact{n}@acme.example" for n in range(11)]
    services.approve_notice(notice, privacy)
    db.session.commit()
    started = time.monotonic()
    assert dispatch_round(backend_from(app.config, app.instance_path)).sent == 11
    arrivals = sendgrid_stub.arrivals
    assert arrivals[-1] - started >= 2.0
    assert max(sum(1 for a in arrivals if first <= a < first + 1) for first in arrivals) <= 2 * 5


# --- what a provider's 429 asks ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers, wait",
    [
        ({"Retry-After": "120"}, 120),  # seconds (RFC 9110 10.2.3)
        ({"Retry-After": format_datetime(T + timedelta(seconds=90), usegmt=True)}, 90),  # or an HTTP date
        ({"Retry-After": format_datetime(T - timedelta(seconds=5), usegmt=True)}, 0),  # a date gone: now
        ({"X-RateLimit-Reset": str(int(T.timestamp()) + 60)}, 60),  # SendGrid: when its period ends
        ({"Retry-After": "30", "X-RateLimit-Reset": str(int(T.timestamp()) + 60)}, 30),  # Retry-After first
        ({"X-RateLimit-Reset": str(int(T.timestamp()) - 60)}, 0),
        ({"Retry-After": "soon"}, 0),  # unreadable: the dispatcher's own backoff then
        ({"Retry-After": "-5"}, 0),
        ({}, 0),
    ],
)
def test_the_providers_wait_is_read_from_retry_after_else_its_rate_limit_reset(headers, wait):
    assert provider_wait(headers, T) == wait


# --- the lease a batch needs ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "batch, concurrency, timeout, per_second, seconds",
    [
        # ceil(200 / 32) = 7 sends one after the other, each up to 20 s, after the last wave of the batch before
        (200, 32, 20, 0, 160),
        (32, 32, 20, 0, 40),
        (33, 32, 20, 0, 60),
        (200, 32, 20, 10, 180),  # and 20 s of pacing slots
        (10, 0, 5, 0, 55),  # a concurrency below one sends one at a time
    ],
)
def test_a_batch_may_take_its_waves_of_sends_each_at_its_timeout_plus_its_pacing(
    batch, concurrency, timeout, per_second, seconds
):
    assert batch_sending_seconds(batch, concurrency, timeout, per_second) == seconds


def settings(**changed) -> dict:
    defaults = {
        "DISPATCH_BATCH": 200,
        "DISPATCH_CONCURRENCY": 32,
        "MAIL_TIMEOUT": 20,
        "DISPATCH_MAX_PER_SECOND": 0,
        "DISPATCH_LEASE_SECONDS": 160,
    }
    return defaults | changed


def test_a_lease_as_long_as_a_batchs_sending_is_enough_and_a_second_less_is_refused_saying_why():
    assert lease_problem(settings()) == ""
    assert lease_problem(settings(DISPATCH_LEASE_SECONDS=159)) == (
        "DISPATCH_LEASE_SECONDS (159) is shorter than the 160 s a batch of 200 may take to send (32 at a time, each "
        "up to MAIL_TIMEOUT 20 s, at most DISPATCH_MAX_PER_SECOND 0 a second, 0 for no ceiling): raise the lease, "
        "or lower the batch or the timeout"
    )
    assert lease_problem(settings(DISPATCH_MAX_PER_SECOND=2)).startswith(
        "DISPATCH_LEASE_SECONDS (160) is shorter than the 260 s"
    )
    assert lease_problem(settings(DISPATCH_LEASE_SECONDS=159), batch=32) == ""  # a smaller batch: two waves


def test_the_shipped_defaults_give_a_batch_the_lease_it_needs():
    needed = batch_sending_seconds(DISPATCH_BATCH, DISPATCH_CONCURRENCY, MAIL_TIMEOUT, 0)
    assert needed <= DISPATCH_LEASE_SECONDS


def test_the_app_refuses_to_start_with_a_lease_shorter_than_a_batchs_sending(tmp_path, monkeypatch):
    monkeypatch.setenv("BREACHDESK_INSTANCE_PATH", str(tmp_path))
    with pytest.raises(RuntimeError, match=r"^DISPATCH_LEASE_SECONDS \(60\) is shorter than the 160 s a batch"):
        create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "DISPATCH_LEASE_SECONDS": 60})
    monkeypatch.setenv("BREACHDESK_DISPATCH_LEASE_SECONDS", "60")
    monkeypatch.setenv("BREACHDESK_DISPATCH_BATCH", "32")  # one wave of 32 after the last of the batch before: 40 s
    assert create_app({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}).config["DISPATCH_LEASE_SECONDS"] == 60


def test_dispatch_refuses_a_batch_its_lease_cannot_hold(app, runner):
    result = runner.invoke(args=["dispatch", "--once", "--batch", "1000"])
    assert result.exit_code == 2
    assert "Invalid value for --batch: DISPATCH_LEASE_SECONDS (180) is shorter than the 660 s a batch of 1000" in (
        result.output
    )
