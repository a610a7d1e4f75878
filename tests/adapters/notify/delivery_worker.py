"""A delivery worker for the fault test: ``deliver_due`` in a loop, until it is killed.

:func:`work` runs in a forked child process (the test process has imported everything
already, so a worker is up in milliseconds rather than the second a fresh interpreter needs
to import SQLAlchemy, Alembic and httpx; 20 kills then fit the time budget). It opens its own
outbox and HTTP client, writes one byte to ``ready_fd`` once it is about to deliver, and then
delivers through a real webhook receiver until SIGKILL; with ``drain`` it instead returns once
nothing is pending or in flight. Run as a script it does the same in a fresh interpreter.
"""

from __future__ import annotations

import os
import sys
import time
from random import Random

from opsplane.adapters.notify import WebhookConfig, WebhookReceiver, http_client
from opsplane.adapters.sql.outbox import SqlOutbox
from opsplane.app.delivery import DeliveryOptions, deliver_due
from opsplane.domain.notify import RetryPolicy
from opsplane.types import Millis

IDLE_S = 0.005
POLICY = RetryPolicy(base_ms=20, cap_ms=200, max_attempts=None, max_age_ms=None)
"""Fast backoff: the test's server fails 1 request in 10 with a 503."""


class WallClock:
    """The real clock, for a real process."""

    def now_ms(self) -> Millis:
        """Unix epoch milliseconds."""
        return time.time_ns() // 1_000_000


def options(lease_ms: Millis) -> DeliveryOptions:
    """Small batches, short leases: a killed worker's rows are due again soon."""
    return DeliveryOptions(policy=POLICY, batch=5, lease_ms=lease_ms, send_budget_ms=lease_ms // 4)


def work(db_url: str, hook_url: str, lease_ms: Millis, ready_fd: int, drain: bool) -> None:
    """Deliver until killed (or, with ``drain``, until the outbox has nothing left to send)."""
    clock, rng = WallClock(), Random(os.getpid())
    with SqlOutbox.open(db_url) as outbox, http_client(timeout=2.0) as client:
        receivers = {"ops": WebhookReceiver(WebhookConfig("ops", url=hook_url), client)}
        os.write(ready_fd, b"r")
        while True:
            report = deliver_due(outbox, receivers, clock, rng, options(lease_ms))
            if drain:
                counts = outbox.counts()
                if counts["pending"] + counts["sending"] == 0:
                    return
            if report.claimed == 0:
                time.sleep(IDLE_S)


if __name__ == "__main__":
    url, hook, lease = sys.argv[1], sys.argv[2], int(sys.argv[3])
    work(url, hook, lease, sys.stdout.fileno(), drain="--drain" in sys.argv)
