"""The ``judge`` provider of a ``delivery:`` section, on a real embedded store on disk."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from opsplane.adapters.metricstore import MetricStore
from opsplane.app.providers import JudgeGate, judge_samples
from opsplane.domain.analysis import AnalysisMetric
from opsplane.domain.canary import CanaryConfig, MetricConfig, ScoreThresholds
from opsplane.domain.delivery import JUDGE_METRIC, JUDGE_PROVIDER, JudgePolicy, JudgeQuery
from opsplane.domain.duration import MINUTE
from opsplane.errors import DatasourceError
from opsplane.ports import Sample

T0 = 1_767_225_600_000
ERRORS = 'sum(rate(http_requests_total{service="checkout",version="{{version}}",code="500"}[1m]))'
TOTAL = 'sum(rate(http_requests_total{service="checkout",version="{{version}}"}[1m]))'
METRIC = AnalysisMetric(
    JUDGE_METRIC, interval=MINUTE, count=3, provider=JUDGE_PROVIDER, query="checkout"
)


def traffic(version: str, errors_per_second: float, seed: int) -> list[Sample]:
    """15 minutes of counters every 5 s: 100 req/s, errors around ``errors_per_second``."""
    noise = random.Random(seed)
    samples, ok, bad = [], 0.0, 0.0
    for i in range(181):
        at = T0 - 15 * MINUTE + i * 5_000
        for code, value in (("200", ok), ("500", bad)):
            labels = (
                ("__name__", "http_requests_total"),
                ("code", code),
                ("service", "checkout"),
                ("version", version),
            )
            samples.append(Sample(labels, at, value))
        bad += 5 * errors_per_second * noise.uniform(0.8, 1.2)
        ok += 5 * 100
    return samples


@pytest.fixture
def store(tmp_path: Path) -> Iterator[MetricStore]:
    """v1 and v2 error at 1/s; v3 at 10/s (the same noise for v1 and v2: equal series)."""
    opened = MetricStore.open(tmp_path / "metrics")
    for version, rate, seed in (("v1", 1.0, 7), ("v2", 1.0, 7), ("v3", 10.0, 8)):
        opened.append(traffic(version, rate, seed))
    try:
        yield opened
    finally:
        opened.close()


def policy(*queries: JudgeQuery, lookback: int = 10 * MINUTE) -> JudgePolicy:
    metrics = tuple(
        MetricConfig(q.metric, (q.metric,), direction="increase", critical=q.metric == "errors")
        for q in queries
    )
    return JudgePolicy(CanaryConfig(metrics), queries, ScoreThresholds(95, 75), lookback, 30_000)


def gate(store: MetricStore, judged: JudgePolicy, canary: str) -> JudgeGate:
    def judges(service: str) -> JudgePolicy:
        assert service == "checkout"
        return judged

    return JudgeGate(judges, lambda _: ("v1", canary), store.instant)


def test_a_canary_with_a_clearly_worse_error_rate_fails_with_the_judges_reason(
    store: MetricStore,
) -> None:
    judged = policy(JudgeQuery("errors", ERRORS), JudgeQuery("requests", TOTAL))
    measured = gate(store, judged, "v3").measure(METRIC, T0)
    assert measured.phase == "Failed"
    assert "errors" in measured.message
    assert '"verdict":"fail"' in measured.value.replace(" ", "")


def test_equal_series_pass(store: MetricStore) -> None:
    judged = policy(JudgeQuery("errors", ERRORS), JudgeQuery("requests", TOTAL))
    measured = gate(store, judged, "v2").measure(METRIC, T0)
    assert measured.phase == "Successful", measured
    assert '"score":100' in measured.value.replace(" ", "")


def test_each_version_is_sampled_every_step_over_the_lookback(store: MetricStore) -> None:
    judged = policy(JudgeQuery("errors", ERRORS), lookback=2 * MINUTE)
    control = judge_samples(store.instant, judged, "v1", T0)["errors"]
    canary = judge_samples(store.instant, judged, "v3", T0)["errors"]
    assert len(control) == len(canary) == 5
    assert all(0.7 < value < 1.3 for value in control)
    assert all(7 < value < 13 for value in canary)


def test_an_instant_without_data_is_nan(store: MetricStore) -> None:
    judged = policy(JudgeQuery("errors", ERRORS), lookback=MINUTE)
    assert all(math.isnan(v) for v in judge_samples(store.instant, judged, "v9", T0)["errors"])
    before = judge_samples(store.instant, judged, "v1", T0 - 15 * MINUTE + 30_000)["errors"]
    assert math.isnan(before[0])
    assert not math.isnan(before[-1])


def test_a_gate_without_a_judge_or_a_rollout_raises_a_datasource_error(
    store: MetricStore,
) -> None:
    def nothing(service: str) -> tuple[str, str]:
        raise DatasourceError(f"judge: service {service} has no rollout in progress")

    judged = policy(JudgeQuery("errors", ERRORS))
    with pytest.raises(DatasourceError, match="no rollout in progress"):
        JudgeGate(lambda _: judged, nothing, store.instant).measure(METRIC, T0)
