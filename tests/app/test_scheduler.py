"""The scheduler ticks on interval boundaries, catches up without drifting, and stops cleanly."""

from __future__ import annotations

import threading
from itertools import pairwise

from opsplane.app.engine import Engine, Tick
from opsplane.app.scheduler import Scheduler
from opsplane.domain.duration import MINUTE
from opsplane.testing import FakeClock, FunctionReader, InMemoryStateStore
from tests.app.test_engine import SHOP


def _scheduler(clock: FakeClock, stop: threading.Event, ticks: list[Tick], limit: int) -> Scheduler:
    def on_tick(tick: Tick) -> None:
        ticks.append(tick)
        if len(ticks) == limit:
            stop.set()

    engine = Engine([SHOP], FunctionReader(lambda *_: 0.0), state=InMemoryStateStore())
    return Scheduler(engine, clock, MINUTE, on_tick=on_tick)


def test_ticks_land_on_interval_boundaries() -> None:
    clock, stop, ticks = FakeClock(now=90_000), threading.Event(), []

    def wait(seconds: float) -> bool:
        clock.advance(round(seconds * 1000))
        return stop.is_set()

    assert _scheduler(clock, stop, ticks, 3).run(stop, wait) == 3
    assert [t.at for t in ticks] == [120_000, 180_000, 240_000]


def test_a_slow_tick_is_followed_by_the_next_boundary_not_a_backlog() -> None:
    clock, stop, ticks = FakeClock(now=0), threading.Event(), []

    def wait(seconds: float) -> bool:
        clock.advance(round(seconds * 1000) + 5 * MINUTE)  # every wait overruns by 5 minutes
        return stop.is_set()

    _scheduler(clock, stop, ticks, 3).run(stop, wait)
    gaps = {b.at - a.at for a, b in pairwise(ticks)}
    assert all(gap % MINUTE == 0 for gap in gaps)
    assert min(gaps) >= MINUTE


def test_a_set_stop_event_ends_the_loop_before_any_tick() -> None:
    stop = threading.Event()
    stop.set()
    assert _scheduler(FakeClock(), stop, [], 1).run(stop) == 0
