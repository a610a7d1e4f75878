"""The scheduler: scrape due targets, then evaluate every SLO, every interval.

Ticks are aligned to multiples of the interval (as Prometheus aligns rule evaluation), a slow
tick is followed at once by the next due one rather than drifting, and ``stop`` ends the loop
between ticks so shutdown never interrupts a write.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from opsplane.app.engine import Engine, Tick
from opsplane.app.scrape import Target, due_targets, scrape_once
from opsplane.ports import Clock, SampleSink, Scraper
from opsplane.types import Millis


@dataclass
class Scheduler:
    """Runs :class:`Engine` ticks (and scrapes, when targets are given) on a clock."""

    engine: Engine
    clock: Clock
    interval: Millis
    targets: Sequence[Target] = ()
    scraper: Scraper | None = None
    sink: SampleSink | None = None
    on_tick: Callable[[Tick], None] = lambda tick: None
    _last_scrape: dict[str, Millis] = field(init=False, default_factory=dict)

    def next_tick(self, after: Millis) -> Millis:
        """The first interval boundary strictly after ``after``."""
        return (after // self.interval + 1) * self.interval

    def run_once(self, at: Millis) -> Tick:
        """Scrape what is due, then evaluate at ``at``."""
        if self.targets and self.scraper is not None and self.sink is not None:
            due = due_targets(self.targets, at, self._last_scrape)
            scrape_once(due, self.scraper, self.sink, at)
        tick = self.engine.tick(at)
        self.on_tick(tick)
        return tick

    def run(self, stop: threading.Event, wait: Callable[[float], bool] | None = None) -> int:
        """Tick until ``stop`` is set; returns how many ticks ran."""
        sleep = wait or stop.wait
        ticks = 0
        due = self.next_tick(self.clock.now_ms())
        while not stop.is_set():
            delay = (due - self.clock.now_ms()) / 1000
            if delay > 0 and sleep(delay):
                break
            self.run_once(due)
            ticks += 1
            due = max(due + self.interval, self.next_tick(self.clock.now_ms() - self.interval))
        return ticks
