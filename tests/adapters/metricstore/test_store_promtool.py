"""The store's SLI error ratios are the numbers Prometheus computes for the generated rules.

Random scenarios (steady traffic, flat counters, resets, gaps, sparse samples, missing error
series) are stored, evaluated by :meth:`MetricStore.error_ratios`, and the same ratio
expression the native recording rules use is checked by ``promtool test rules`` with exact
float comparison. Sums here add at most two series: float addition of two numbers does not
depend on their order, while promtool loads its series in Go map order.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from pathlib import Path

import pytest

from opsplane.adapters.metricstore import MetricStore
from opsplane.domain.duration import format_duration
from opsplane.domain.slo import SLI, SLO, EventsSLI, GoodTotalSLI, LatencySLI
from opsplane.ports import RatioRequest, Sample
from opsplane.render.prometheus import sli as sli_exprs
from opsplane.render.prometheus.promql import with_window
from tests.adapters.metricstore.promtool_cases import (
    Case,
    Series,
    check_with_promtool,
    random_counter,
)

EVENTS = EventsSLI(
    'sum(rate(http_requests_total{job="x",code=~"5.."}[{{.window}}]))',
    'sum(rate(http_requests_total{job="x"}[{{.window}}]))',
)
GOOD_TOTAL = GoodTotalSLI(
    'sum(increase(good_total{job="x"}[{{.window}}]))',
    'sum(increase(all_total{job="x"}[{{.window}}]))',
)
LATENCY = LatencySLI("lat_seconds", 0.3, 'job="x"')
LATENCY_WHOLE = LatencySLI("lat_seconds", 1.0, 'job="x"')

SELECTORS = {
    "events": [
        'http_requests_total{code="200",job="x"}',
        'http_requests_total{code="500",job="x"}',
    ],
    "good_total": ['all_total{job="x"}', 'good_total{job="x"}'],
    "latency": ['lat_seconds_count{job="x"}', 'lat_seconds_bucket{job="x",le="0.3"}'],
    "latency_whole": ['lat_seconds_count{job="x"}', 'lat_seconds_bucket{job="x",le="1.0"}'],
}
SLIS: dict[str, SLI] = {
    "events": EVENTS,
    "good_total": GOOD_TOTAL,
    "latency": LATENCY,
    "latency_whole": LATENCY_WHOLE,
}


def rule_expr(sli: SLI, window: int) -> str:
    """The expression the native rules record (render/prometheus/native.py)."""
    if isinstance(sli, EventsSLI):
        template = f"(({sli.error_query}) or (0 * ({sli.total_query})))\n/\n({sli.total_query})\n"
    else:
        template = sli_exprs.error_ratio(sli)
    return with_window(template, window)


def _labels(selector: str) -> tuple[tuple[str, str], ...]:
    name, _, rest = selector.partition("{")
    pairs = [p.split("=", 1) for p in rest.rstrip("}").split(",")] if rest else []
    return tuple(sorted([("__name__", name), *((k, v.strip('"')) for k, v in pairs)]))


def scenario(rng: random.Random, kind: str) -> tuple[list[Series], int, list[int]]:
    """Two counters (total, and errors/good/bucket below it), a time and three windows."""
    interval = rng.choice([1000, 15_000, 60_000])
    n = rng.randint(5, 90)
    gaps = rng.choice([0.0, 0.1, 0.5])
    total = random_counter(rng, n, gaps=gaps, resets=rng.choice([0.0, 0.05]))
    part = random_counter(rng, n, gaps=gaps, resets=rng.choice([0.0, 0.05]))
    if kind == "events" and rng.random() < 0.2:
        part = [None] * n  # no error series at all: errors fall back to 0 * total
    if rng.random() < 0.1:
        total = [None if v is None else 5.0 for v in total]  # zero traffic: 0/0
        part = [None if v is None else 0.0 for v in part]
    first, second = SELECTORS[kind]
    series = [Series(first, interval, tuple(total)), Series(second, interval, tuple(part))]
    at = rng.randint(interval, n * interval + interval)
    windows = [rng.choice([2, 5, 10, 30]) * interval + rng.choice([0, 1000, 30_000]) for _ in "abc"]
    return series, at, sorted(set(windows))


def same(a: Mapping[int, float | None], b: Mapping[int, float | None]) -> bool:
    """Equal ratios, NaN equal to NaN (bit patterns aside)."""

    def one(x: float | None, y: float | None) -> bool:
        if x is None or y is None:
            return x is y
        return x == y or (math.isnan(x) and math.isnan(y))

    return a.keys() == b.keys() and all(one(a[k], b[k]) for k in a)


def store_with(series: list[Series], store: MetricStore) -> MetricStore:
    for s in series:
        ts, values = s.arrays()
        labels = _labels(s.selector)
        samples = [Sample(labels, int(t), float(v)) for t, v in zip(ts, values, strict=True)]
        for i in range(0, len(samples), 7):  # several appends: several blocks
            store.append(samples[i : i + 7])
    return store


@pytest.mark.promtool
def test_window_ratios_are_bit_identical_to_prometheus(promtool: str, tmp_path: Path) -> None:
    rng = random.Random(99)
    cases: list[Case] = []
    outcomes = {"value": 0, "none": 0, "nan": 0}
    for i in range(240):
        kind = list(SLIS)[i % len(SLIS)]
        series, at, windows = scenario(rng, kind)
        slo = SLO("svc", f"s{i}", 99.0, SLIS[kind])
        store = store_with(series, MetricStore.in_memory())
        ratios = store.error_ratios([RatioRequest(slo, tuple(windows))], at)[0]
        if i % 8 == 0:  # the same through WAL, flushes and merged blocks on disk
            on_disk = store_with(series, MetricStore.open(tmp_path / f"s{i}", flush_samples=30))
            assert same(on_disk.error_ratios([RatioRequest(slo, tuple(windows))], at)[0], ratios)
            on_disk.close()
        for window in windows:
            expected = ratios[window]
            key = "none" if expected is None else "nan" if math.isnan(expected) else "value"
            outcomes[key] += 1
            expr = rule_expr(SLIS[kind], window)
            cases.append(
                Case(series, expr, at, expected, notes={"window": format_duration(window)})
            )
    assert min(outcomes.values()) >= 10, outcomes  # every outcome is exercised
    check_with_promtool(promtool, tmp_path, cases)
