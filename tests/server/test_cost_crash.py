"""A batch of runs acknowledged with 201 survives ``kill -9`` of ``opsplane serve``.

A real server process takes batches of priced runs from a few client threads, each batch with
run ids of its own. At a random moment of that load it gets SIGKILL; the test then reads the
SQLite database the server left behind and checks, per batch:

- every acknowledged batch is stored, every run of it (a 201 means committed);
- a batch in flight at the crash is stored whole or not at all (one transaction);
- nothing else is stored (no run of a batch that was never sent).

Two rounds, with a restart between them (which must read the database the kill left).
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from opsplane.adapters.sql.costs import SqlCostLedger
from tests.server.serve_process import ServeProcess, opsplane

ROUNDS = 2
CLIENTS = 3
RUNS_PER_BATCH = 20
SEED = 8
MIN_ACKED_BEFORE_KILL = 5
LOAD_TIMEOUT_S = 20.0
JOIN_TIMEOUT_S = 15.0
URL = "/api/v1/namespaces/payments/runs"


def batch(prefix: str) -> dict[str, Any]:
    run = {
        "service": "checkout",
        "actions": 1200,
        "llm": [{"model": "gpt-4o-mini", "input_tokens": 12000, "output_tokens": 800}],
    }
    return {"runs": [{**run, "run_id": f"{prefix}-{i}"} for i in range(RUNS_PER_BATCH)]}


@dataclass
class Sent:
    """The batches (by prefix) acknowledged, and in flight when the server died."""

    acked: set[str] = field(default_factory=set)
    in_flight: set[str] = field(default_factory=set)
    unexpected: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


def post_until(url: str, token: str, name: str, stop: threading.Event, sent: Sent) -> None:
    """One client: post batches ``<name>-<n>`` one after another until stopped or killed."""
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=url, headers=headers, timeout=10.0) as client:
        for n in itertools.count():
            if stop.is_set():
                return
            prefix = f"{name}-{n}"
            try:
                response = client.post(URL, json=batch(prefix))
            except httpx.ConnectError:
                return  # never reached the server
            except httpx.TransportError:
                with sent.lock:
                    sent.in_flight.add(prefix)
                return
            with sent.lock:
                if response.status_code == 201:
                    sent.acked.add(prefix)
                else:
                    sent.unexpected.append(f"{response.status_code} {response.text[:200]}")


def stored_batches(db: Path) -> dict[str, int]:
    """How many runs of each batch prefix the database holds (the server must not run)."""
    with SqlCostLedger.open(f"sqlite:///{db}") as ledger:
        records = ledger.cost_records("payments", limit=1_000_000)
    counts: dict[str, int] = {}
    for record in records:
        prefix = record.run_id.rsplit("-", 1)[0]
        counts[prefix] = counts.get(prefix, 0) + 1
    return counts


def load_and_kill(server: ServeProcess, token: str, round_: int, delay_s: float) -> Sent:
    sent, stop = Sent(), threading.Event()
    clients = [
        threading.Thread(
            target=post_until,
            args=(server.url, token, f"r{round_}c{c}", stop, sent),
            daemon=True,
        )
        for c in range(CLIENTS)
    ]
    for client in clients:
        client.start()
    deadline = time.monotonic() + LOAD_TIMEOUT_S
    while len(sent.acked) < MIN_ACKED_BEFORE_KILL and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(sent.acked) >= MIN_ACKED_BEFORE_KILL, f"no load got through:\n{server.tail()}"
    time.sleep(delay_s)
    server.kill()
    stop.set()
    for client in clients:
        client.join(JOIN_TIMEOUT_S)
        assert not client.is_alive(), "a client hung after the server died"
    assert not sent.unexpected, sent.unexpected[:5]
    return sent


def test_every_acknowledged_batch_of_runs_survives_kill_9_whole(serve: ServeProcess) -> None:
    token = opsplane("token", "create", "--namespace", "payments", "--db", serve.db_url).strip()
    delays = random.Random(SEED)
    acked: set[str] = set()
    in_flight: set[str] = set()
    db = Path(serve.db_url.removeprefix("sqlite:///"))
    for round_ in range(ROUNDS):
        serve.start()
        sent = load_and_kill(serve, token, round_, delays.uniform(0.0, 0.5))
        acked |= sent.acked
        in_flight |= sent.in_flight
        stored = stored_batches(db)
        where = f"round {round_}: {len(sent.acked)} acked, {len(sent.in_flight)} in flight"
        lost = sorted(p for p in acked if stored.get(p) != RUNS_PER_BATCH)
        assert not lost, f"acknowledged batches lost or cut: {lost[:5]}; {where}"
        partial = sorted(p for p, n in stored.items() if n != RUNS_PER_BATCH)
        assert not partial, f"batches stored in part: {partial[:5]}; {where}"
        unsent = sorted(set(stored) - acked - in_flight)
        assert not unsent, f"batches stored that were never sent: {unsent[:5]}; {where}"
        print(where)
