"""Properties of rate/increase and of the store, for any counter Hypothesis can think of."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opsplane.adapters.metricstore import MetricStore
from opsplane.domain import promrate
from opsplane.domain.slo import SLO, EventsSLI
from opsplane.ports import RatioRequest, Sample

# (gap to the previous sample in ms, increment, reset here)
steps = st.lists(
    st.tuples(
        st.integers(1, 120_000),
        st.one_of(st.just(0.0), st.floats(0, 1e6, allow_nan=False, allow_infinity=False)),
        st.booleans(),
    ),
    min_size=0,
    max_size=40,
)
times = st.integers(0, 6_000_000)
ranges = st.integers(1, 3_000_000)


def counter(
    spec: list[tuple[int, float, bool]], start: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    ts, vs, t, v = [], [], 0, start
    for gap, inc, reset in spec:
        t += gap
        v = inc if reset else v + inc
        ts.append(t)
        vs.append(v)
    return np.asarray(ts, np.int64), np.asarray(vs, np.float64)


@given(steps, times, ranges)
def test_counters_never_increase_by_a_negative_amount(
    spec: list[tuple[int, float, bool]], at: int, window: int
) -> None:
    ts, vs = counter(spec)
    for fn in (promrate.rate, promrate.increase):
        got = fn(ts, vs, at, window)
        assert got is None or got >= 0


@given(steps, st.lists(st.tuples(times, ranges), min_size=1, max_size=5))
def test_the_vectorised_form_is_bit_identical(
    spec: list[tuple[int, float, bool]], windows: list[tuple[int, int]]
) -> None:
    ts, vs = counter(spec)
    ends = np.asarray([a for a, _ in windows], np.int64)
    lengths = np.asarray([w for _, w in windows], np.int64)
    stats = promrate.window_stats(ts, vs, ends - lengths, ends)
    got, present = promrate.extrapolate_many(stats, ends - lengths, ends, lengths)
    for i, (at, window) in enumerate(windows):
        want = promrate.rate(ts, vs, at, window)
        assert bool(present[i]) == (want is not None)
        if want is not None:
            assert np.float64(want).tobytes() == got[i].tobytes()


@given(steps.filter(lambda s: len(s) >= 3), st.data())
def test_increases_add_up_over_adjacent_ranges_between_samples(
    spec: list[tuple[int, float, bool]], data: st.DataObject
) -> None:
    """With samples on every range edge nothing is extrapolated, so increases are additive."""
    ts, vs = counter(spec)
    a, b, c = sorted(
        data.draw(st.lists(st.integers(0, len(ts) - 1), min_size=3, max_size=3, unique=True))
    )
    whole = promrate.increase(ts, vs, int(ts[c]), int(ts[c] - ts[a]))
    first = promrate.increase(ts, vs, int(ts[b]), int(ts[b] - ts[a]))
    second = promrate.increase(ts, vs, int(ts[c]), int(ts[c] - ts[b]))
    assert whole is not None
    assert first is not None
    assert second is not None
    assert math.isclose(whole, first + second, rel_tol=1e-9, abs_tol=1e-6)


def _events() -> SLO:
    sli = EventsSLI(
        'sum(rate(r_total{code="500"}[{{.window}}]))', "sum(rate(r_total[{{.window}}]))"
    )
    return SLO("s", "a", 99.0, sli)


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(steps, steps, times, ranges, st.integers(1, 12))
def test_the_error_ratio_of_a_subset_of_the_traffic_is_within_0_and_1(
    ok: list[tuple[int, float, bool]],
    bad: list[tuple[int, float, bool]],
    at: int,
    window: int,
    split: int,
) -> None:
    store = MetricStore.in_memory(fanout=2)
    for code, spec in (("200", ok), ("500", bad)):
        ts, vs = counter(spec)
        labels = (("__name__", "r_total"), ("code", code))
        samples = [Sample(labels, int(t), float(v)) for t, v in zip(ts, vs, strict=True)]
        for i in range(0, len(samples), split):
            store.append(samples[i : i + split])
    ratio = store.error_ratios([RatioRequest(_events(), (window,))], at)[0][window]
    assert ratio is None or math.isnan(ratio) or 0.0 <= ratio <= 1.0


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(steps, st.lists(times, min_size=1, max_size=4), ranges, st.integers(1, 9))
def test_the_store_reads_across_blocks_exactly_as_one_series(
    spec: list[tuple[int, float, bool]], ats: list[int], window: int, split: int
) -> None:
    ts, vs = counter(spec, start=3.0)
    labels = (("__name__", "r_total"), ("code", "500"))
    store = MetricStore.in_memory(fanout=3)
    samples = [Sample(labels, int(t), float(v)) for t, v in zip(ts, vs, strict=True)]
    for i in range(0, len(samples), split):  # many small blocks, merged at several levels
        store.append(samples[i : i + split])
    for at in ats:
        want = promrate.rate(ts, vs, at, window)
        got = store.instant(f'sum(rate(r_total{{code="500"}}[{window}ms]))', at)
        assert got == ({} if want is None else {(): want})


@given(st.lists(st.tuples(st.integers(0, 50), st.floats(0, 100)), max_size=30), st.integers(1, 7))
def test_stored_samples_are_the_in_order_prefix_of_what_arrived(
    arrivals: list[tuple[int, float]], split: int
) -> None:
    labels = (("__name__", "g"),)
    store = MetricStore.in_memory()
    for i in range(0, len(arrivals), split):
        store.append([Sample(labels, t, v) for t, v in arrivals[i : i + split]])
    kept, latest = [], -1
    for t, v in arrivals:  # Prometheus' head appender: strictly newer than the latest sample
        if t > latest:
            kept.append((t, v))
            latest = t
    ts, values = store.read(labels)
    assert list(zip(ts.tolist(), values.tolist(), strict=True)) == kept
