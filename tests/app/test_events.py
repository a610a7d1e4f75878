"""Pushed good/total events become two counters per SLO; a batch is stored whole or not at all."""

from __future__ import annotations

import math
import threading

import pytest

from opsplane.adapters.metricstore import MetricStore
from opsplane.app.events import FUTURE_GRACE_MS, Event, EventIngest, events_sli
from opsplane.domain.slo import SLO, Origin, Service
from opsplane.errors import SpecError
from opsplane.ports import Sample
from opsplane.testing import FakeClock, ListSink

NS = "payments"
T0 = FakeClock().now
SERVICES = [
    Service(
        "shop",
        tuple(SLO("shop", name, 99.9, events_sli(NS, "shop", name)) for name in ("a", "b")),
        Origin("test", 0, "opsplane/v1", "Service"),
    )
]


def counters(samples: list[Sample]) -> list[tuple[str, str, int, float]]:
    """(slo, outcome, timestamp, value) per sample."""
    return [
        (dict(s.labels)["slo"], dict(s.labels)["outcome"], s.timestamp, s.value) for s in samples
    ]


def ingest(sink: ListSink, clock: FakeClock | None = None) -> EventIngest:
    return EventIngest(sink, lambda _labels: None, clock or FakeClock())


def test_counts_accumulate_per_slo_one_sample_per_series_and_instant() -> None:
    sink, clock = ListSink(), FakeClock()
    events = ingest(sink, clock)
    batch = [Event("shop", "a", 9, 10), Event("shop", "b", 5, 5), Event("shop", "a", 1, 3)]
    assert events.push(NS, SERVICES, batch) == 3
    clock.advance(1_000)
    events.push(NS, SERVICES, [Event("shop", "a", 2, 2)])
    assert counters(sink.samples) == [
        ("a", "good", T0, 10.0),
        ("a", "bad", T0, 3.0),
        ("b", "good", T0, 5.0),
        ("b", "bad", T0, 0.0),
        ("a", "good", T0 + 1_000, 12.0),
        ("a", "bad", T0 + 1_000, 3.0),
    ]


def test_timestamped_events_are_stored_at_their_instant_in_time_order() -> None:
    sink = ListSink()
    ingest(sink).push(
        NS,
        SERVICES,
        [Event("shop", "a", 1, 1, T0 - 60_000), Event("shop", "b", 1, 2, T0 - 120_000)],
    )
    assert [(slo, at) for slo, _, at, _ in counters(sink.samples)] == [
        ("b", T0 - 120_000),
        ("b", T0 - 120_000),
        ("a", T0 - 60_000),
        ("a", T0 - 60_000),
    ]


def test_one_bad_event_rejects_the_batch_with_one_problem_per_finding() -> None:
    sink = ListSink()
    events = ingest(sink)
    events.push(NS, SERVICES, [Event("shop", "a", 1, 1, T0)])
    batch = [
        Event("shop", "a", 1, 1),
        Event("cart", "a", 1, 1),
        Event("shop", "b", math.nan, -1),
        Event("shop", "b", 3, 2),
        Event("shop", "a", 1, 1, T0 - 1),
        Event("shop", "b", 1, math.inf, -5),
    ]
    with pytest.raises(SpecError) as raised:
        events.push(NS, SERVICES, batch)
    assert [str(p) for p in raised.value.problems] == [
        "events[1]:slo: no SLO cart/a in namespace 'payments'",
        "events[2]:good: must be a finite number >= 0, got nan",
        "events[2]:total: must be a finite number >= 0, got -1",
        "events[3]:good: 3 good events out of 2 in total",
        "events[4]:timestamp: is before the last stored event of this SLO",
        "events[5]:total: must be a finite number >= 0, got inf",
        "events[5]:timestamp: must be after 1970",
    ]
    assert len(sink.samples) == 2  # the first batch only


def test_batches_in_the_same_millisecond_get_distinct_instants() -> None:
    sink, clock = ListSink(), FakeClock()
    events = ingest(sink, clock)
    events.push(NS, SERVICES, [Event("shop", "a", 1, 1)])
    events.push(NS, SERVICES, [Event("shop", "a", 1, 2)])  # the clock did not move
    clock.advance(-5_000)  # nor does a clock stepping back fail a batch
    events.push(NS, SERVICES, [Event("shop", "a", 1, 1)])
    assert counters(sink.samples)[::2] == [
        ("a", "good", T0, 1.0),
        ("a", "good", T0 + 1, 2.0),
        ("a", "good", T0 + 2, 3.0),
    ]


def test_counters_continue_from_the_stored_values() -> None:
    store = MetricStore.in_memory()

    def last(labels: tuple[tuple[str, str], ...]) -> tuple[int, float] | None:
        ts, values = store.read(labels)
        return (int(ts[-1]), float(values[-1])) if len(ts) else None

    ingest_once = EventIngest(store, last, FakeClock())
    ingest_once.push(NS, SERVICES, [Event("shop", "a", 90, 100)])
    clock = FakeClock()
    clock.advance(60_000)
    EventIngest(store, last, clock).push(NS, SERVICES, [Event("shop", "a", 10, 10)])
    good = store.read(events_labels("a", "good"))
    bad = store.read(events_labels("a", "bad"))
    assert good[1].tolist() == [90.0, 100.0]
    assert bad[1].tolist() == [10.0, 10.0]


def events_labels(slo: str, outcome: str) -> tuple[tuple[str, str], ...]:
    return (
        ("__name__", "opsplane_events_total"),
        ("namespace", NS),
        ("outcome", outcome),
        ("service", "shop"),
        ("slo", slo),
    )


def test_concurrent_batches_are_all_stored_in_order() -> None:
    store = MetricStore.in_memory()

    class WallClock:
        def now_ms(self) -> int:
            return T0

    events = EventIngest(store, lambda _labels: None, WallClock())

    def client() -> None:
        for _ in range(50):
            events.push(NS, SERVICES, [Event("shop", "a", 1, 2), Event("shop", "b", 1, 1)])

    threads = [threading.Thread(target=client) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ts, values = store.read(events_labels("a", "bad"))
    assert len(ts) == 200
    assert values[-1] == 200.0
    assert store.stats.duplicate == store.stats.out_of_order == 0


def test_a_batch_stamped_at_the_last_stored_instant_is_stored_1_ms_later_not_dropped() -> None:
    store = MetricStore.in_memory()

    def last(labels: tuple[tuple[str, str], ...]) -> tuple[int, float] | None:
        ts, values = store.read(labels)
        return (int(ts[-1]), float(values[-1])) if len(ts) else None

    at = T0 - 60_000
    EventIngest(store, last, FakeClock()).push(NS, SERVICES, [Event("shop", "a", 5, 5, at)])
    EventIngest(store, last, FakeClock()).push(NS, SERVICES, [Event("shop", "a", 7, 7, at)])
    ts, good = store.read(events_labels("a", "good"))
    assert (ts.tolist(), good.tolist()) == ([at, at + 1], [5.0, 12.0])
    assert store.stats.duplicate == 0


def test_events_far_in_the_future_or_overflowing_the_counters_are_rejected() -> None:
    sink = ListSink()
    events = ingest(sink)
    events.push(NS, SERVICES, [Event("shop", "b", 1e308, 1e308)])
    batch = [
        Event("shop", "a", 1, 1, T0 + FUTURE_GRACE_MS),
        Event("shop", "a", 1, 1, T0 + FUTURE_GRACE_MS + 1),
        Event("shop", "b", 1e308, 1e308),
    ]
    with pytest.raises(SpecError) as raised:
        events.push(NS, SERVICES, batch)
    assert [str(p) for p in raised.value.problems] == [
        "events[1]:timestamp: is more than 10m after the server's clock",
        "events[2]:total: would overflow the SLO's counters (at most about 1.8e308)",
    ]
    assert len(sink.samples) == 2  # the first batch only
