"""An event batch acknowledged with 202 survives ``kill -9`` of ``opsplane serve``.

A real server process takes event batches from a few client threads. At a random moment of
that load it gets SIGKILL; the test reads the embedded metric store the server left behind,
restarts the server, and repeats. After every kill:

- every acknowledged batch is stored: the SLO's counters grew by at least the acknowledged
  counts (a 202 means "durable", see ``opsplane.app.events``);
- nothing else is: they grew by at most the acknowledged counts plus those of the batches
  still in flight when the server died (which may or may not have been stored);
- batches are stored whole: the good and the bad counter grew by the same number of batches;
- the counters only ever grow, so a restarted server continues them instead of restarting
  from zero; a last round without a kill checks the exact sum.

The kill moments come from a seeded generator; process timing makes them vary anyway.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np

from opsplane.adapters.metricstore import MetricStore
from opsplane.app.events import _labels
from tests.server.serve_process import ServeProcess, opsplane

ROUNDS = 3
CLIENTS = 4
EVENTS_PER_BATCH = 50
GOOD, TOTAL = 3, 4  # per event: a batch adds 150 good and 50 bad events
BATCH = {
    "events": [
        {"service": "checkout", "slo": "availability", "good": GOOD, "total": TOTAL}
        for _ in range(EVENTS_PER_BATCH)
    ]
}
BATCH_GOOD, BATCH_BAD = GOOD * EVENTS_PER_BATCH, (TOTAL - GOOD) * EVENTS_PER_BATCH
LABELS = {o: _labels("payments", "checkout", "availability", o) for o in ("good", "bad")}
SEED = 9
MIN_ACKED_BEFORE_KILL = 5
LOAD_TIMEOUT_S = 20.0
JOIN_TIMEOUT_S = 15.0


@dataclass
class Ledger:
    """What the clients know of their batches: acknowledged, or in flight at the crash."""

    acked: int = 0
    in_flight: int = 0
    unexpected: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, outcome: str, detail: str = "") -> None:
        with self.lock:
            if outcome == "acked":
                self.acked += 1
            elif outcome == "in flight":
                self.in_flight += 1
            else:
                self.unexpected.append(detail)


def push_until(url: str, token: str, stop: threading.Event, ledger: Ledger) -> None:
    """One client: push batches one after another until ``stop`` or the server is gone."""
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=url, headers=headers, timeout=10.0) as client:
        while not stop.is_set():
            try:
                response = client.post("/api/v1/namespaces/payments/events", json=BATCH)
            except httpx.ConnectError:
                return  # the server is gone; this batch never reached it
            except httpx.TransportError:
                ledger.count("in flight")  # sent, no answer: stored or not
                return
            if response.status_code == 202:
                ledger.count("acked")
            else:
                ledger.count("unexpected", f"{response.status_code} {response.text[:200]}")


def counters(metrics_dir: Path) -> dict[str, list[float]]:
    """Every stored value of the good and the bad counter (the server must not run)."""
    with MetricStore.open(metrics_dir) as store:
        return {o: store.read(labels)[1].tolist() for o, labels in LABELS.items()}


def last(values: list[float]) -> float:
    return values[-1] if values else 0.0


def load_and_kill(server: ServeProcess, token: str, delay_s: float) -> Ledger:
    """Clients push batches; SIGKILL the server ``delay_s`` after they got going."""
    ledger, stop = Ledger(), threading.Event()
    clients = [
        threading.Thread(target=push_until, args=(server.url, token, stop, ledger), daemon=True)
        for _ in range(CLIENTS)
    ]
    for client in clients:
        client.start()
    deadline = time.monotonic() + LOAD_TIMEOUT_S
    while ledger.acked < MIN_ACKED_BEFORE_KILL and time.monotonic() < deadline:
        time.sleep(0.01)
    assert ledger.acked >= MIN_ACKED_BEFORE_KILL, f"no load got through:\n{server.tail()}"
    time.sleep(delay_s)
    server.kill()
    stop.set()
    for client in clients:
        client.join(JOIN_TIMEOUT_S)
        assert not client.is_alive(), "a client hung after the server died"
    assert not ledger.unexpected, ledger.unexpected[:5]
    return ledger


def test_every_acknowledged_batch_survives_kill_9_and_restarts_continue_the_counters(
    serve: ServeProcess,
) -> None:
    token = opsplane("token", "create", "--namespace", "payments", "--db", serve.db_url).strip()
    delays = random.Random(SEED)
    good = bad = 0.0
    for round_ in range(ROUNDS):
        serve.start()
        ledger = load_and_kill(serve, token, delays.uniform(0.0, 1.0))
        stored = counters(serve.metrics_dir)
        grown = last(stored["good"]) - good, last(stored["bad"]) - bad
        where = f"round {round_}: {ledger}, counters grew by {grown}"
        assert ledger.acked * BATCH_GOOD <= grown[0], f"acknowledged events lost; {where}"
        assert grown[0] <= (ledger.acked + ledger.in_flight) * BATCH_GOOD, where
        assert grown[0] / BATCH_GOOD == grown[1] / BATCH_BAD, f"a batch half stored; {where}"
        for values in stored.values():
            assert np.all(np.diff(values) >= 0), f"a counter went down; {where}"
        good, bad = last(stored["good"]), last(stored["bad"])
        print(where)  # with -s: how much load each kill cut into

    serve.start()
    with httpx.Client(base_url=serve.url, timeout=10.0) as client:
        for _ in range(3):
            response = client.post(
                "/api/v1/namespaces/payments/events",
                json=BATCH,
                headers={"Authorization": f"Bearer {token}"},
            )
            assert response.status_code == 202, response.text
    serve.stop()
    stored = counters(serve.metrics_dir)
    assert (last(stored["good"]), last(stored["bad"])) == (
        good + 3 * BATCH_GOOD,
        bad + 3 * BATCH_BAD,
    )
