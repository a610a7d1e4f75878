"""The notifier loop: flush alert groups when they are due and deliver the outbox.

It runs beside the scheduler. :meth:`Notifier.on_tick` hands each evaluation to the pipeline
and wakes the loop, which then sleeps until the earliest of: the next group flush, the next
outbox poll, or the next tick. A flush's notifications are delivered in the same wakeup, so a
page leaves at its group's flush time, not at the next poll.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from random import Random

from opsplane.app.alerting import AlertPipeline
from opsplane.app.delivery import DeliveryOptions, DeliveryReport, deliver_due
from opsplane.app.engine import Tick
from opsplane.domain.notify import SECOND
from opsplane.ports import Clock, Outbox, Receiver
from opsplane.types import Millis

logger = logging.getLogger(__name__)


@dataclass
class Notifier:
    """Flushes the pipeline on time and delivers what the outbox holds.

    Attributes:
        pipeline: The alerting pipeline.
        outbox: Where notifications wait (the pipeline's outbox).
        receivers: Receivers by integration id.
        clock: The time.
        options: Delivery batch, lease and retry policy.
        poll_ms: How often the outbox is polled for retries that came due.
    """

    pipeline: AlertPipeline
    outbox: Outbox
    receivers: Mapping[str, Receiver]
    clock: Clock
    options: DeliveryOptions = field(default_factory=DeliveryOptions)
    poll_ms: Millis = SECOND
    rng: Random = field(default_factory=Random)
    _wake: threading.Event = field(init=False, default_factory=threading.Event)

    def on_tick(self, tick: Tick) -> None:
        """Give the tick's alerts to the pipeline and wake the loop to re-plan."""
        self.pipeline.observe(tick)
        self._wake.set()

    def step(self) -> DeliveryReport:
        """Flush what is due now, then deliver every due notification."""
        now = self.clock.now_ms()
        wake = self.pipeline.next_wakeup()
        if wake is not None and wake <= now:
            self.pipeline.flush(now)
        report = deliver_due(self.outbox, self.receivers, self.clock, self.rng, self.options)
        while report.sent + report.retried + report.dead == self.options.batch:
            report = deliver_due(self.outbox, self.receivers, self.clock, self.rng, self.options)
        return report

    def run(self, stop: threading.Event) -> None:
        """Step until ``stop`` is set; a failing step is logged and retried at the next poll."""
        while not stop.is_set():
            try:
                self.step()
            except Exception:  # the loop must outlive a database hiccup
                logger.exception("notifier step failed; retrying")
            now = self.clock.now_ms()
            wake = self.pipeline.next_wakeup()
            until = now + self.poll_ms if wake is None else min(wake, now + self.poll_ms)
            self._wake.wait(max(until - now, 0) / 1000)
            self._wake.clear()
