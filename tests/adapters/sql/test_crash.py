"""An acknowledged evaluation tick survives ``kill -9`` (DESIGN.md, "No lost data").

A writer process (``crash_writer.py``) saves ticks in a loop and prints each tick after
``save_evaluation`` returns. We SIGKILL it at random moments (during start-up and migration,
or in the middle of the tick loop), reopen the database, and require:

- every acknowledged tick is there, for every SLO: nothing acknowledged is lost;
- every SLO's latest status is the same, whole tick: no tick is half written;
- the history holds each tick exactly once, with no gaps.

The kill points come from a seeded generator; the process timing makes them vary anyway.
"""

from __future__ import annotations

import os
import random
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

from opsplane.adapters.sql import SqlStateStore
from tests.adapters.sql.crash_writer import SLO_IDS, tick_status, tick_transition

WRITER = Path(__file__).with_name("crash_writer.py")
ROUNDS = 8
SEED = 4
ACK_TIMEOUT_S = 60.0


class Writer:
    """A running ``crash_writer.py`` and the ticks it has acknowledged so far."""

    def __init__(self, url: str, first_tick: int) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(WRITER), url, str(first_tick)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.acknowledged: list[int] = []
        self._pending = b""

    def wait_for_acks(self, count: int) -> None:
        """Block until ``count`` more ticks are acknowledged (fail if the writer dies)."""
        assert self.process.stdout is not None
        wanted = len(self.acknowledged) + count
        deadline = time.monotonic() + ACK_TIMEOUT_S
        while len(self.acknowledged) < wanted:
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"the writer acknowledged nothing for {ACK_TIMEOUT_S}s"
            readable, _, _ = select.select([self.process.stdout], [], [], remaining)
            if readable and not self._read_available():
                _, err = self.process.communicate()
                raise AssertionError(f"the writer exited on its own:\n{err.decode()}")

    def kill(self) -> None:
        """SIGKILL the writer, then collect the acknowledgements still in the pipe."""
        os.kill(self.process.pid, signal.SIGKILL)
        out, err = self.process.communicate()
        assert self.process.returncode == -signal.SIGKILL, err.decode()
        self._take(out)

    def _read_available(self) -> bool:
        assert self.process.stdout is not None
        chunk = os.read(self.process.stdout.fileno(), 65536)
        self._take(chunk)
        return bool(chunk)

    def _take(self, chunk: bytes) -> None:
        *lines, self._pending = (self._pending + chunk).split(b"\n")
        self.acknowledged.extend(int(line) for line in lines)


def committed_tick(url: str, acknowledged: list[int]) -> int:
    """Check the database after a crash; return its last committed tick (-1 for none)."""
    with SqlStateStore.open(url) as store:
        statuses = store.latest_statuses()
        alerts = store.load_alert_states()
        histories = {slo: store.alert_history(slo, limit=10**9) for slo in SLO_IDS}
    last = statuses[0].at if statuses else -1
    assert last >= max(acknowledged, default=-1), "an acknowledged tick was lost"
    expected = [tick_status(slo, last) for slo in sorted(SLO_IDS)] if last >= 0 else []
    assert statuses == expected, "the latest statuses are not one whole tick"
    assert alerts == {(s.slo_id, "page"): s.alerts[0] for s in expected}
    for slo, history in histories.items():
        assert history == [tick_transition(slo, t) for t in range(last, -1, -1)], slo
    return last


def test_every_acknowledged_tick_survives_kill_9_of_the_writer(db_url: str) -> None:
    rng = random.Random(SEED)
    acknowledged: list[int] = []
    next_tick = 0
    for _ in range(ROUNDS):
        writer = Writer(db_url, next_tick)
        if rng.random() < 0.3:  # anywhere from interpreter start-up to the first ticks
            time.sleep(rng.uniform(0.0, 1.0))
        else:  # somewhere inside the tick loop
            writer.wait_for_acks(rng.randint(1, 40))
            time.sleep(rng.uniform(0.0, 0.005))
        writer.kill()
        acknowledged.extend(writer.acknowledged)
        next_tick = committed_tick(db_url, acknowledged) + 1
    assert len(acknowledged) >= ROUNDS // 2, "too few ticks were acknowledged to mean anything"
