"""A delivery worker killed with SIGKILL 20 times loses no notification (issue 5, "Must show").

Each round enqueues a fresh batch, starts a worker process (``delivery_worker.py``, forked)
that delivers through a real webhook receiver to a local server, and SIGKILLs it at a random
point: either a random time after it started, or right after the server received a random
number of requests, which is mid-delivery (after the send, before or while the outcome is
committed). A final worker drains the outbox. The server records every request's
``X-Opsplane-Delivery-Id`` and answers 1 in 10 with a 503, so retries happen under faults too.

Required: every notification reached the server with a 2xx at least once; each row is
``sent``; no row was sent more often than it was claimed; and duplicates, which at-least-once
delivery allows, number at most one per kill (only the send in flight when the worker died
can be repeated).
"""

from __future__ import annotations

import multiprocessing
import os
import select
import signal
import time
from collections import Counter
from collections.abc import Callable
from random import Random

from opsplane.adapters.sql.outbox import SqlOutbox
from opsplane.domain.notify import Notification
from tests.adapters.notify.delivery_worker import WallClock, work
from tests.adapters.notify.factories import notification, page_alert
from tests.adapters.notify.http_server import RecordingServer, Reply, recording_server

KILLS = 20
BATCH = 25
SEED = 5
LEASE_MS = 400
READY_TIMEOUT_S = 10.0
DRAIN_TIMEOUT_S = 60.0
DELIVERED = 200
FAILED = 503


def batch(round_number: int) -> list[Notification]:
    """The round's notifications, each its own alert group."""
    return [
        notification(
            dedup_key=f"r{round_number}-{i}",
            alerts=(page_alert(labels={"alertname": "Burn", "n": f"{round_number}-{i}"}),),
        )
        for i in range(BATCH)
    ]


class Worker:
    """A forked ``delivery_worker.work`` process."""

    def __init__(self, db_url: str, hook_url: str, *, drain: bool = False) -> None:
        read_end, write_end = os.pipe()
        context = multiprocessing.get_context("fork")
        self.process = context.Process(
            target=work, args=(db_url, hook_url, LEASE_MS, write_end, drain), daemon=True
        )
        self.process.start()
        os.close(write_end)
        ready, _, _ = select.select([read_end], [], [], READY_TIMEOUT_S)
        os.close(read_end)
        assert ready, "the worker did not start"

    def kill(self) -> None:
        """SIGKILL, as a crash or ``kill -9`` would."""
        assert self.process.pid is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.join()
        assert self.process.exitcode == -signal.SIGKILL


def wait_for_requests(server: RecordingServer, count: int, limit_s: float) -> None:
    """Until the server has seen ``count`` requests, or ``limit_s`` passed."""
    deadline = time.monotonic() + limit_s
    while len(server.requests) < count and time.monotonic() < deadline:
        time.sleep(0.0005)


def test_killing_the_worker_mid_delivery_20_times_loses_no_notification(
    db_url: str, record_property: Callable[[str, object], None]
) -> None:
    rng = Random(SEED)
    answers = Random(SEED)
    enqueued: list[Notification] = []

    def answer() -> Reply:
        return Reply(FAILED if answers.random() < 0.1 else DELIVERED, delay_s=0.001)

    with recording_server(answer) as server, SqlOutbox.open(db_url) as outbox:
        hook = server.url("/hook")
        for round_number in range(KILLS):
            fresh = batch(round_number)
            outbox.enqueue(fresh, WallClock().now_ms())
            enqueued.extend(fresh)
            worker = Worker(db_url, hook)
            if rng.random() < 0.3:  # anywhere, from start-up on
                time.sleep(rng.uniform(0.0, 0.2))
            else:  # right after a send reached the server
                wait_for_requests(server, len(server.requests) + rng.randint(1, 15), 1.0)
                time.sleep(rng.uniform(0.0, 0.002))
            worker.kill()
        drainer = Worker(db_url, hook, drain=True)
        drainer.process.join(DRAIN_TIMEOUT_S)
        assert drainer.process.exitcode == 0, "the outbox was not drained"
        entries = outbox.entries()
        requests = list(server.requests)

    expected = {n.delivery_id for n in enqueued}
    delivered = Counter(r.headers["x-opsplane-delivery-id"] for r in requests if r.status == 200)
    sends = Counter(r.headers["x-opsplane-delivery-id"] for r in requests)
    assert expected - set(delivered) == set(), "a notification was lost"
    assert set(sends) == expected
    assert {e.state for e in entries} == {"sent"}
    assert all(sends[e.notification.delivery_id] <= e.attempts for e in entries)
    group_keys = Counter(r.json()["groupKey"] for r in requests if r.status == 200)
    assert len(group_keys) == len(enqueued)  # deduplicated by key: one group per notification
    duplicates = sum(delivered.values()) - len(delivered)
    assert duplicates <= KILLS
    retried = sum(1 for r in requests if r.status == FAILED)
    record_property("notifications", len(enqueued))
    record_property("duplicates", duplicates)
    record_property("retried_503", retried)
    print(  # shown with -s or -rP: the measured result
        f"fault test: {len(enqueued)} notifications, {KILLS} kills, {len(requests)} requests, "
        f"{retried} answered 503 and retried, {duplicates} duplicate deliveries, 0 lost"
    )
