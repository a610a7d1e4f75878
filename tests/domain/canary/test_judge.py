"""The judge end to end (``NetflixACAJudge.classifyMetric`` + ``ScoringHelper``), on rules the
upstream vectors do not reach: NaN strategies, outlier removal, mustHaveData, errors, reasons."""

from __future__ import annotations

import math

import numpy as np
import pytest

from opsplane.domain.canary import (
    CanaryConfig,
    EffectSize,
    MetricConfig,
    RankSumShift,
    ScoreThresholds,
    classify_metric,
    judge,
    mann_whitney_u_test,
)
from opsplane.domain.canary.judge import transform
from opsplane.domain.canary.zeroin import zeroin

THRESHOLDS = ScoreThresholds(75, 50)
BASE = [10.0, 10.4, 9.8, 10.1, 9.9, 10.2, 10.0, 9.7, 10.3, 10.1, 9.9, 10.0]


def samples(values: list[float]) -> np.ndarray:
    return np.array(values, dtype=np.float64)


def test_nans_are_removed_by_default_and_replaced_by_zero_on_request() -> None:
    values = samples([1.0, math.nan, 2.0])
    assert transform(values, MetricConfig("m")).tolist() == [1.0, 2.0]
    assert transform(values, MetricConfig("m", nan_strategy="replace")).tolist() == [1.0, 0.0, 2.0]


def test_outliers_are_removed_with_the_judges_less_sensitive_iqr_fences() -> None:
    """IQRDetector(outlierFactor, reduceSensitivity = true): the 1st/99th percentiles widen the
    fences, so with factor 3.0 only a far value goes."""
    values = samples([*BASE, 50.0])
    kept = transform(values, MetricConfig("m", outlier_strategy="remove"))
    assert kept.tolist() == BASE
    assert len(transform(values, MetricConfig("m"))) == len(BASE) + 1


def test_all_nan_samples_are_nodata_and_count_toward_the_nodata_rule() -> None:
    result = classify_metric(MetricConfig("m"), samples([math.nan] * 3), samples(BASE))
    assert result.label == "Nodata"
    assert result.classification.reason == "Missing data for m"


def test_empty_samples_pass_with_nan_strategy_replace_as_in_kayenta() -> None:
    result = classify_metric(MetricConfig("m", nan_strategy="replace"), samples([]), samples(BASE))
    assert result.label == "Pass"
    assert "replace" in result.classification.reason


def test_must_have_data_fails_its_group_without_failing_the_run() -> None:
    config = CanaryConfig(
        (MetricConfig("needed", ("g",), must_have_data=True), MetricConfig("ok", ("g",))),
        thresholds=THRESHOLDS,
    )
    result = judge(config, {"ok": BASE}, {"ok": BASE[::-1]})
    assert [m.label for m in result.metrics] == ["NodataFailMetric", "Pass"]
    assert (result.score, result.verdict) == (50.0, "marginal")


def test_a_critical_metric_without_data_fails_the_run() -> None:
    config = CanaryConfig(
        (
            MetricConfig("needed", ("g",), critical=True, must_have_data=True),
            MetricConfig("ok", ("g",)),
        ),
        thresholds=THRESHOLDS,
    )
    result = judge(config, {"ok": BASE}, {"ok": BASE[::-1]})
    assert result.metrics[0].label == "Nodata"
    assert result.metrics[0].critical
    assert (result.score, result.verdict) == (0.0, "fail")
    assert result.reason == "Canary Failed: Missing data for needed"


def test_a_sample_that_cannot_be_tested_is_an_error_as_in_kayenta() -> None:
    """One value each side, one of them 0 (so the noise for constant samples leaves it alone):
    at ``mu = min(x) - max(y)`` the two observations tie, the statistic has no variance,
    Kayenta's ``wilcoxonDiff`` throws and the judge reports Error, which groups leave out."""
    config = CanaryConfig(
        (MetricConfig("one", ("g",)), MetricConfig("ok", ("g",))), thresholds=THRESHOLDS
    )
    result = judge(config, {"one": [3.0], "ok": BASE}, {"one": [0.0], "ok": BASE[::-1]})
    assert result.metrics[0].label == "Error"
    assert result.metrics[0].classification.reason.startswith("Metric Classification Failed")
    assert (result.score, result.verdict) == (100.0, "pass")


def test_direction_increase_ignores_a_drop() -> None:
    lower = [v / 2 for v in BASE]
    either = classify_metric(MetricConfig("m"), samples(BASE), samples(lower))
    increase = classify_metric(
        MetricConfig("m", direction="increase"), samples(BASE), samples(lower)
    )
    assert (either.label, increase.label) == ("Low", "Pass")
    assert increase.classification.reason.endswith("a fall, which direction increase ignores")


def test_a_rise_smaller_than_the_allowed_increase_passes() -> None:
    metric = MetricConfig("m", effect_size=EffectSize.for_measure(allowed_increase=3.0))
    result = classify_metric(metric, samples(BASE), samples([v * 2 for v in BASE]))
    assert result.label == "Pass"
    assert result.classification.reason.endswith("a rise, but smaller than the allowed increase 3")


def test_every_metric_gets_a_reason_with_the_numbers() -> None:
    result = classify_metric(MetricConfig("latency"), samples(BASE), samples([v * 2 for v in BASE]))
    assert result.label == "High"
    assert result.classification.reason.startswith(
        "latency was classified as High: 98% CI of the shift ["
    )
    assert "meanRatio 2 vs allowed 1" in result.classification.reason


def test_thresholds_must_come_from_somewhere() -> None:
    with pytest.raises(ValueError, match="score thresholds are required"):
        judge(CanaryConfig((MetricConfig("m"),)), {}, {})


def test_the_three_searches_in_lock_step_take_the_steps_they_take_alone() -> None:
    """:meth:`RankSumShift.interval` shares evaluations between its searches; each search must
    still land where a search of its own (``BrentSolver.solve`` per root) lands."""
    rng = np.random.default_rng(3)
    x, y = rng.poisson(3, 300).astype(np.float64), rng.poisson(3.4, 280).astype(np.float64)
    shift = RankSumShift(x, y)
    mu_min, mu_max = float(x.min() - y.max()), float(x.max() - y.min())
    z = 2.3263478740408408  # qnorm(0.99)

    def alone(q: float) -> float:
        f_lower, f_upper = shift.diff(mu_min, q), shift.diff(mu_max, q)
        return zeroin(mu_min, mu_max, f_lower, f_upper, lambda m: shift.diff(m, q))

    test = mann_whitney_u_test(x, y, 0.98)
    assert (test.ci_lower, test.ci_upper, test.estimate) == (alone(z), alone(-z), alone(0.0))
