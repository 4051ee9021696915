"""How fast the dispatcher may send: the operator's ceiling on messages per second, and the lease a claimed
batch needs for the time its sending may take. Pure: plain values in, no Flask, no database."""

import math
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any


class Pacer:
    """At most `per_second` sends a second, shared by the dispatcher's threads: each send takes the next free
    slot, 1/per_second after the one before, and waits for it. An idle spell earns no burst: a slot is never
    earlier than now. 0 or less: no ceiling."""

    def __init__(
        self,
        per_second: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.interval = 1 / per_second if per_second > 0 else 0.0
        self.clock, self.sleep = clock, sleep
        self.next_free = -math.inf
        self.lock = threading.Lock()

    def reserve(self) -> float:
        """Take the next free slot; the seconds until it comes."""
        with self.lock:
            now = self.clock()
            slot = max(now, self.next_free)
            self.next_free = slot + self.interval
            return slot - now

    def wait(self) -> None:
        if self.interval:
            self.sleep(self.reserve())


def batch_sending_seconds(batch: int, concurrency: int, timeout: float, per_second: float) -> float:
    """The longest one claimed batch can take to send, each send counted at its timeout: `concurrency` at a
    time, so ceil(batch / concurrency) sends one after the other, after the last sends of the batch before (it
    is claimed while they are in flight), plus the wait for pacing slots (a batch takes batch / per_second
    seconds of them). A send can still outlast its timeout (the timeout bounds each wait on the network, not a
    provider that answers slowly but steadily): the lease is renewed while sending too."""
    pacing = batch / per_second if per_second > 0 else 0.0
    return (math.ceil(batch / max(1, concurrency)) + 1) * timeout + pacing


def lease_problem(config: Mapping[str, Any], batch: int | None = None) -> str:
    """Why the configured lease cannot hold a claimed batch through its sending (empty when it can): another
    dispatcher would take over messages still being sent, and send them again."""
    batch = batch or int(config["DISPATCH_BATCH"])
    needed = batch_sending_seconds(
        batch,
        int(config["DISPATCH_CONCURRENCY"]),
        float(config["MAIL_TIMEOUT"]),
        float(config["DISPATCH_MAX_PER_SECOND"]),
    )
    if float(config["DISPATCH_LEASE_SECONDS"]) >= needed:
        return ""
    return (
        f"DISPATCH_LEASE_SECONDS ({config['DISPATCH_LEASE_SECONDS']}) is shorter than the {needed:g} s a batch of "
        f"{batch} may take to send ({config['DISPATCH_CONCURRENCY']} at a time, each up to MAIL_TIMEOUT "
        f"{config['MAIL_TIMEOUT']} s, at most DISPATCH_MAX_PER_SECOND {config['DISPATCH_MAX_PER_SECOND']} a second, "
        "0 for no ceiling): raise the lease, or lower the batch or the timeout"
    )
