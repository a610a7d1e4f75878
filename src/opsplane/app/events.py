"""Good/total events pushed through the API, stored as counters in the embedded metric store.

A client reports, per SLO, how many events happened and how many were good (``{"service":
"shop", "slo": "availability", "good": 998, "total": 1000}``), optionally with a timestamp.
Each SLO gets two counters, which an events SLI reads like any Prometheus counter::

    opsplane_events_total{namespace="payments", service="shop", slo="availability", outcome="good"}
    opsplane_events_total{namespace="payments", service="shop", slo="availability", outcome="bad"}

so ``error_query: sum(rate(opsplane_events_total{service="shop",slo="availability",
outcome="bad"}[{{.window}}]))`` and ``total_query`` without ``outcome`` give the error ratio
(:func:`events_sli`). Counts are added to the counters' last values, kept in memory after the
first read of each series. A batch is checked completely before anything is stored, and the
counters are appended in one durable write: an acknowledged batch survives ``kill -9``.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from opsplane.domain.slo import EventsSLI, Service
from opsplane.errors import Problem, SpecError
from opsplane.ports import Clock, Sample, SampleSink
from opsplane.types import Millis

METRIC = "opsplane_events_total"
LastValue = Callable[[tuple[tuple[str, str], ...]], tuple[Millis, float] | None]


@dataclass(frozen=True, slots=True)
class Event:
    """``good`` of ``total`` events of one SLO, at ``at`` (``None``: when received)."""

    service: str
    slo: str
    good: float
    total: float
    at: Millis | None = None


def events_sli(namespace: str, service: str, slo: str) -> EventsSLI:
    """The events SLI that reads what :class:`EventIngest` stores for one SLO."""
    base = f'namespace="{namespace}",service="{service}",slo="{slo}"'
    return EventsSLI(
        f'sum(rate({METRIC}{{{base},outcome="bad"}}[{{{{.window}}}}]))',
        f"sum(rate({METRIC}{{{base}}}[{{{{.window}}}}]))",
    )


class EventIngest:
    """Turns event batches into counter samples; one per process (it keeps running totals)."""

    def __init__(self, sink: SampleSink, last_value: LastValue, clock: Clock) -> None:
        self._sink = sink
        self._last_value = last_value
        self._clock = clock
        self._totals: dict[tuple[tuple[str, str], ...], tuple[Millis, float]] = {}
        self._lock = threading.Lock()

    def push(self, namespace: str, services: Sequence[Service], events: Sequence[Event]) -> int:
        """Store a batch for ``namespace``'s ``services``; how many events were stored.

        Raises:
            SpecError: one problem per invalid event (nothing is stored): unknown service or
                SLO in this namespace, negative or non-finite counts, ``good > total``, or a
                timestamp before the SLO's last stored event.
        """
        known = {(s.name, slo.name) for s in services for slo in s.slos}
        now = self._clock.now_ms()
        with self._lock:
            samples, problems = self._samples(namespace, known, events, now)
            if problems:
                raise SpecError(problems)
            self._sink.append([s for s, _ in samples])
            for sample, _ in samples:
                self._totals[sample.labels] = (sample.timestamp, sample.value)
        return len(events)

    def _samples(
        self,
        namespace: str,
        known: set[tuple[str, str]],
        events: Sequence[Event],
        now: Millis,
    ) -> tuple[list[tuple[Sample, int]], list[Problem]]:
        problems: list[Problem] = []
        pending: dict[tuple[tuple[str, str], ...], tuple[Millis, float]] = {}
        samples: list[tuple[Sample, int]] = []
        for index, event in enumerate(events):
            where = f"events[{index}]"
            found = _problems(event, known, namespace)
            if found:
                problems += [Problem(where, field, msg) for field, msg in found]
                continue
            at = now if event.at is None else event.at
            counts = (("good", event.good), ("bad", event.total - event.good))
            for outcome, count in counts:
                labels = _labels(namespace, event.service, event.slo, outcome)
                last = pending.get(labels) or self._last(labels)
                if last is not None and at < last[0]:
                    msg = "is before the last stored event of this SLO"
                    problems.append(Problem(where, "timestamp", msg))
                    break
                value = (last[1] if last else 0.0) + count
                pending[labels] = (at, value)
                samples.append((Sample(labels, at, value), index))
        return _latest_per_instant(samples), problems

    def _last(self, labels: tuple[tuple[str, str], ...]) -> tuple[Millis, float] | None:
        if labels not in self._totals:
            last = self._last_value(labels)
            if last is None:
                return None
            self._totals[labels] = last
        return self._totals[labels]


def _problems(event: Event, known: set[tuple[str, str]], namespace: str) -> list[tuple[str, str]]:
    out = []
    if (event.service, event.slo) not in known:
        out.append(("slo", f"no SLO {event.service}/{event.slo} in namespace {namespace!r}"))
    for field, value in (("good", event.good), ("total", event.total)):
        if not math.isfinite(value) or value < 0:
            out.append((field, f"must be a finite number >= 0, got {value}"))
    if not out and event.good > event.total:
        out.append(("good", f"{event.good} good events out of {event.total} in total"))
    if event.at is not None and event.at < 0:
        out.append(("timestamp", "must be after 1970"))
    return out


def _labels(namespace: str, service: str, slo: str, outcome: str) -> tuple[tuple[str, str], ...]:
    return (
        ("__name__", METRIC),
        ("namespace", namespace),
        ("outcome", outcome),
        ("service", service),
        ("slo", slo),
    )


def _latest_per_instant(samples: list[tuple[Sample, int]]) -> list[tuple[Sample, int]]:
    """One sample per series and instant: the last, which includes the earlier counts."""
    latest: dict[tuple[tuple[tuple[str, str], ...], Millis], tuple[Sample, int]] = {}
    for sample, index in samples:
        latest[(sample.labels, sample.timestamp)] = (sample, index)
    return sorted(latest.values(), key=lambda item: item[0].timestamp)
