"""``rate``/``increase`` as Prometheus 2.42 computes them: by hand, and against promtool."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from opsplane.domain import promrate
from tests.adapters.metricstore.promtool_cases import (
    Case,
    Series,
    check_with_promtool,
    random_counter,
)

S = 1000  # ms


def _arrays(points: list[tuple[int, float]]) -> tuple[np.ndarray, np.ndarray]:
    ts = np.asarray([t * S for t, _ in points], np.int64)
    return ts, np.asarray([v for _, v in points], np.float64)


# (id, samples as (seconds, value), eval time s, range s, expected increase)
HAND_CASES = [
    (
        "samples on both edges of a closed range are both selected: no extrapolation",
        [(0, 0.0), (60, 60.0), (120, 120.0), (180, 180.0), (240, 240.0), (300, 300.0)],
        300,
        300,
        300.0,
    ),
    (
        "gaps to the edges under 1.1 sample intervals are extrapolated in full",
        [(15, 10.0), (75, 20.0), (135, 30.0)],
        150,
        150,
        # sampled 120 s, avg 60 s: +15 s at each edge -> 20 * 150/120
        25.0,
    ),
    (
        "the start extrapolation stops where the counter would reach zero",
        [(60, 5.0), (120, 15.0)],
        180,
        180,
        # zero point 30 s before the first sample; +60 s at the end: 10 * 150/60
        25.0,
    ),
    (
        "gaps over 1.1 sample intervals extrapolate by half an interval",
        [(100, 100.0), (110, 110.0), (120, 120.0)],
        200,
        200,
        # sampled 20 s, avg 10 s: 100 s and 80 s gaps add 5 s each -> 20 * 30/20
        30.0,
    ),
    (
        "a counter reset adds the value before the reset",
        [(0, 10.0), (60, 20.0), (120, 5.0), (180, 15.0)],
        180,
        180,
        # 15 - 10 + 20
        25.0,
    ),
    (
        "a flat counter increases by zero",
        [(0, 7.0), (60, 7.0), (120, 7.0)],
        120,
        120,
        0.0,
    ),
]


@pytest.mark.parametrize(
    ("points", "at_s", "range_s", "expected"),
    [c[1:] for c in HAND_CASES],
    ids=[c[0] for c in HAND_CASES],
)
def test_increase_by_hand(
    points: list[tuple[int, float]], at_s: int, range_s: int, expected: float
) -> None:
    ts, values = _arrays(points)
    assert promrate.increase(ts, values, at_s * S, range_s * S) == pytest.approx(expected)
    rate = promrate.rate(ts, values, at_s * S, range_s * S)
    assert rate == pytest.approx(expected / range_s)


def test_fewer_than_two_samples_give_no_result() -> None:
    ts, values = _arrays([(0, 1.0), (60, 2.0)])
    assert promrate.rate(ts, values, 30 * S, 40 * S) is None  # only t=0 selected
    assert promrate.rate(ts, values, 500 * S, 60 * S) is None  # nothing selected
    assert promrate.rate(ts[:0], values[:0], 0, 60 * S) is None


def test_range_selection_is_closed_at_both_ends() -> None:
    ts = np.asarray([0, 60_000, 120_000], np.int64)
    assert promrate.select_range(ts, 120_000, 120_000) == slice(0, 3)
    assert promrate.select_range(ts, 119_999, 119_999) == slice(0, 2)
    assert promrate.select_range(ts, 120_001, 120_000) == slice(1, 3)


def test_range_seconds_follows_go_duration_seconds() -> None:
    # time.Duration.Seconds(): float64(sec) + float64(nsec)/1e9, not ms / 1000.
    assert promrate.range_seconds(1001) == 1.0 + 0.001
    assert promrate.range_seconds(300_000) == 300.0
    assert promrate.range_seconds(1500) == 1.5


def _random_case(rng: random.Random) -> tuple[Series, int, int]:
    """A counter with gaps, resets and sparse stretches; an evaluation time; a range."""
    n = rng.randint(0, 60)
    interval = rng.choice([250, 1000, 15_000, 60_000])
    values = random_counter(rng, n, gaps=rng.choice([0.0, 0.3, 0.8]), resets=0.08)
    at = rng.randint(0, n * interval + 2 * interval)
    window = rng.choice([2, 4, 7, 15, 40]) * interval + rng.choice([0, 500, 1500, 37_000])
    return Series("x", interval, tuple(values)), at, window


def test_vectorised_form_is_bit_identical_to_the_scalar_one() -> None:
    rng = random.Random(7)
    for _ in range(300):
        series, at, window = _random_case(rng)
        ts, vs = series.arrays()
        ends = np.asarray([at, at + 17_000, max(at - 60_000, 0)], np.int64)
        ranges = np.asarray([window, 2 * window, window], np.int64)
        stats = promrate.window_stats(ts, vs, ends - ranges, ends)
        for is_rate in (True, False):
            got, present = promrate.extrapolate_many(
                stats, ends - ranges, ends, ranges, is_rate=is_rate
            )
            fn = promrate.rate if is_rate else promrate.increase
            for i in range(3):
                want = fn(ts, vs, int(ends[i]), int(ranges[i]))
                assert bool(present[i]) == (want is not None)
                if want is not None:
                    assert np.float64(want).tobytes() == got[i].tobytes()


@pytest.mark.promtool
def test_rate_and_increase_are_bit_identical_to_promtool(promtool: str, tmp_path: Path) -> None:
    rng = random.Random(2024)
    cases = []
    for i in range(400):
        series, at, window = _random_case(rng)
        ts, vs = series.arrays()
        fn = "rate" if i % 2 else "increase"
        expected = getattr(promrate, fn)(ts, vs, at, window)
        cases.append(Case([series], f"{fn}(x[{window}ms])", at, expected))
    assert sum(c.expected is None for c in cases) < len(cases) / 3  # mostly real results
    check_with_promtool(promtool, tmp_path, cases)
