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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise

from opsplane.domain.slo import EventsSLI, Service
from opsplane.errors import Problem, SpecError
from opsplane.ports import Clock, Sample, SampleSink
from opsplane.types import Millis

METRIC = "opsplane_events_total"
FUTURE_GRACE_MS = 10 * 60_000
"""How far after the server's clock an event's timestamp may be: Grafana Mimir's
``-validation.create-grace-period`` default. A later event would hold the SLO's counters in the
future (every later event has to follow it), out of every evaluation window until then; beyond
2109 the store would drop it after the batch was acknowledged."""
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
    """Turns event batches into counter samples; one per process (it keeps running totals).

    Batches are stored one at a time, in the order they take the lock. Events without a
    timestamp get the time their batch takes it, or 1 ms after the SLO's last stored sample
    when the clock has not moved on since (or went back): concurrent batches neither collide
    on an instant nor fail as "before the last stored event". An event stamped with the
    instant of the SLO's last stored sample goes 1 ms later for the same reason: the store
    keeps the first sample of an instant (as Prometheus rejects a duplicate), so the batch
    would have been acknowledged and then lost at the next restart.
    """

    def __init__(self, sink: SampleSink, last_value: LastValue, clock: Clock) -> None:
        self._sink = sink
        self._last_value = last_value
        self._clock = clock
        self._counters: dict[tuple[str, str, str], _Counters] = {}
        self._lock = threading.Lock()

    def push(self, namespace: str, services: Sequence[Service], events: Sequence[Event]) -> int:
        """Store a batch for ``namespace``'s ``services``; how many events were stored.

        Raises:
            SpecError: one problem per invalid event (nothing is stored): unknown service or
                SLO in this namespace, negative or non-finite counts, ``good > total``, counts
                that would overflow the counters, or a timestamp before the SLO's last stored
                event or more than :data:`FUTURE_GRACE_MS` after the server's clock.
        """
        known = {(s.name, slo.name) for s in services for slo in s.slos}
        with self._lock:
            pending, problems = self._pending(namespace, known, events, self._clock.now_ms())
            if problems:
                raise SpecError(problems)
            items: Iterable[tuple[tuple[_Counters, Millis], tuple[float, float]]] = pending.items()
            if any(a > b for (_, a), (_, b) in pairwise(pending)):
                items = sorted(items, key=_instant)
            samples: list[Sample] = []
            for (counters, at), (good, bad) in items:
                samples += (Sample(counters.good, at, good), Sample(counters.bad, at, bad))
            self._sink.append(samples)
            for (counters, at), (good, bad) in pending.items():
                if at >= counters.at:
                    counters.at, counters.good_value, counters.bad_value = at, good, bad
        return len(events)

    def _pending(
        self,
        namespace: str,
        known: set[tuple[str, str]],
        events: Sequence[Event],
        now: Millis,
    ) -> tuple[dict[tuple[_Counters, Millis], tuple[float, float]], list[Problem]]:
        """The counters' values per SLO and instant (the last of an instant includes the
        earlier counts), and the problems of the batch."""
        problems: list[Problem] = []
        pending: dict[tuple[_Counters, Millis], tuple[float, float]] = {}
        latest: dict[_Counters, tuple[Millis, float, float]] = {}
        future = now + FUTURE_GRACE_MS
        for index, event in enumerate(events):
            good, total, at = event.good, event.total, event.at
            key = (event.service, event.slo)
            if not (key in known and 0.0 <= good <= total < _INF and (at is None or at >= 0)):
                found = _problems(event, known, namespace)  # the slow path names each fault
                if found:
                    problems += [Problem(f"events[{index}]", f, m) for f, m in found]
                    continue
            if at is not None and at > future:
                msg = f"is more than {FUTURE_GRACE_MS // 60_000}m after the server's clock"
                problems.append(Problem(f"events[{index}]", "timestamp", msg))
                continue
            counters = self._counters_of(namespace, *key)
            last = latest.get(counters)
            if last is None:
                last = (counters.at, counters.good_value, counters.bad_value)
            if at is None:  # now, or just after the last stored sample if the clock lags
                at = now if now > counters.at else counters.at + 1
            elif at == counters.at:  # the store keeps the first sample of an instant only
                at += 1
            if at < last[0]:
                msg = "is before the last stored event of this SLO"
                problems.append(Problem(f"events[{index}]", "timestamp", msg))
                continue
            values = (last[1] + good, last[2] + (total - good))
            if values[0] == _INF or values[1] == _INF:
                msg = "would overflow the SLO's counters (at most about 1.8e308)"
                problems.append(Problem(f"events[{index}]", "total", msg))
                continue
            latest[counters] = (at, *values)
            pending[(counters, at)] = values
        return pending, problems

    def _counters_of(self, namespace: str, service: str, slo: str) -> _Counters:
        key = (namespace, service, slo)
        found = self._counters.get(key)
        if found is None:
            good = _labels(namespace, service, slo, "good")
            bad = _labels(namespace, service, slo, "bad")
            found = _Counters(good, bad)
            stored = [self._last_value(good), self._last_value(bad)]
            if stored[0] is not None or stored[1] is not None:
                found.at = max(s[0] for s in stored if s is not None)
                found.good_value = stored[0][1] if stored[0] is not None else 0.0
                found.bad_value = stored[1][1] if stored[1] is not None else 0.0
            self._counters[key] = found
        return found


_INF = math.inf


@dataclass(eq=False, slots=True)
class _Counters:
    """The two counters of one SLO and their last stored values (hashed by identity)."""

    good: tuple[tuple[str, str], ...]
    bad: tuple[tuple[str, str], ...]
    at: Millis = -1
    good_value: float = 0.0
    bad_value: float = 0.0


def _instant(item: tuple[tuple[_Counters, Millis], tuple[float, float]]) -> Millis:
    return item[0][1]


def _problems(event: Event, known: set[tuple[str, str]], namespace: str) -> list[tuple[str, str]]:
    """What is wrong with an event (``_pending`` checks the common case faster first)."""
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
