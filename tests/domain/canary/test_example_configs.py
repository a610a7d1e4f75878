"""The two example canary configs of ``../shared/conformance/kayenta``, read and judged.

``example_canary_config_judge_test.json`` is Kayenta's ``kayenta-judge`` ``test-config.json``
(old ``extensions.canary`` key, weights ``{requests: 50, system: 50}``, one metric in two
groups, groups without weight, thresholds 95/75). ``example_canary_config_muted_metric.json``
is the config of Kayenta's integration test ``mutedMetricsAreNotTakenIntoFinalScore``, judged
here on samples drawn like that test's (``application-cases.yml``, ``muted-metric-analysis-case``).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from opsplane.domain.canary import CanaryConfig, EffectSize, MetricConfig, ScoreThresholds, judge
from opsplane.spec.canary_config import load_canary_config
from tests.domain.canary.vectors import require

RNG_SEED = 7


def config(name: str) -> CanaryConfig:
    return load_canary_config(require(name))


def uniform(low: float, high: float, n: int = 60) -> list[float]:
    """A gauge between two bounds, as Kayenta's integration tests generate them."""
    return np.random.default_rng(RNG_SEED + int(low)).uniform(low, high, n).tolist()


def test_the_judge_test_config_reads_as_kayenta_reads_it() -> None:
    canary = config("example_canary_config_judge_test.json")
    assert canary.metrics == (
        MetricConfig("cpu", ("system", "example")),
        MetricConfig("requests", ("requests", "example")),
        MetricConfig("foo", ("bar",)),
    )
    assert canary.metrics[0].effect_size == EffectSize("meanRatio", 1.0, 1.0, 1.0, 1.0)
    assert dict(canary.group_weights) == {"requests": 50.0, "system": 50.0}
    assert canary.thresholds == ScoreThresholds(95.0, 75.0)


def test_groups_without_weight_share_nothing_when_the_weights_make_100() -> None:
    """cpu High: system 0 x 50% + requests 100 x 50%; example (50) and bar (100) weigh 0."""
    canary = config("example_canary_config_judge_test.json")
    control = {"cpu": uniform(40, 45), "requests": uniform(100, 110), "foo": uniform(1, 2)}
    experiment = {**control, "cpu": uniform(80, 90)}
    result = judge(canary, control, experiment)
    assert [m.label for m in result.metrics] == ["High", "Pass", "Pass"]
    assert {g.name: g.score for g in result.groups} == {
        "system": 0.0,
        "example": 50.0,
        "requests": 100.0,
        "bar": 100.0,
    }
    assert dict(result.weights) == {"system": 50.0, "example": 0.0, "requests": 50.0, "bar": 0.0}
    assert (result.score, result.verdict) == (50.0, "fail")


def test_a_canary_like_its_baseline_passes_the_judge_test_config() -> None:
    canary = config("example_canary_config_judge_test.json")
    control = {"cpu": uniform(40, 45), "requests": uniform(100, 110), "foo": uniform(1, 2)}
    experiment = {name: list(reversed(values)) for name, values in control.items()}
    result = judge(canary, control, experiment)
    assert (result.score, result.verdict) == (100.0, "pass")


def test_no_data_at_all_scores_0() -> None:
    canary = config("example_canary_config_judge_test.json")
    result = judge(canary, {}, {})
    assert [m.label for m in result.metrics] == ["Nodata"] * 3
    assert (result.score, result.verdict) == (0.0, "fail")
    assert result.reason == "Canary Failed: 50% or more metrics returned NODATA"


@pytest.fixture
def muted_samples() -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    """``muted-metric-analysis-case``: the failing metric jumps from 40-45 to 1000."""
    control = {"Failing metric": uniform(40, 45), "Successful metric": uniform(40, 45, 61)}
    experiment = {"Failing metric": [1000.0] * 60, "Successful metric": uniform(40, 45, 59)}
    return control, experiment


def test_a_muted_critical_metric_does_not_fail_the_run(
    muted_samples: tuple[dict[str, list[float]], dict[str, list[float]]],
) -> None:
    """Kayenta's integration test: Failing metric High, Successful metric Pass, run passes."""
    canary = config("example_canary_config_muted_metric.json")
    muted, kept = canary.metrics
    assert (muted.muted, muted.critical, muted.direction) == (True, True, "increase")
    assert (kept.muted, kept.critical) == (False, True)
    result = judge(canary, *muted_samples)
    assert {m.name: m.label for m in result.metrics} == {
        "Failing metric": "High",
        "Successful metric": "Pass",
    }
    assert result.metrics[0].critical
    assert (result.score, result.verdict) == (100.0, "pass")


def test_the_same_metric_unmuted_fails_the_run(
    muted_samples: tuple[dict[str, list[float]], dict[str, list[float]]],
) -> None:
    canary = config("example_canary_config_muted_metric.json")
    unmuted = CanaryConfig(
        tuple(replace(m, muted=False) for m in canary.metrics),
        canary.group_weights,
        canary.thresholds,
    )
    result = judge(unmuted, *muted_samples)
    assert (result.score, result.verdict) == (0.0, "fail")
    assert result.reason is not None
    assert result.reason.startswith(
        "Canary Failed: Failing metric was classified as High (Critical)"
    )


def test_example_configs_are_the_ones_documented() -> None:
    names = sorted(p.name for p in Path(require("README.md")).parent.glob("example_*.json"))
    assert names == [
        "example_canary_config_judge_test.json",
        "example_canary_config_muted_metric.json",
    ]
