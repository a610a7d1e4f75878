"""The canary judge: Kayenta's ``NetflixACAJudge`` (``kayenta-judge`` ``NetflixACAJudge.scala``).

For every metric of the configuration: handle NaNs, drop outliers when asked, summarise both
samples, then classify with a :class:`MannWhitneyClassifier` at ``tolerance = 0.25`` and
``confLevel = 0.98`` (fixed in Kayenta) and the metric's effect-size thresholds. Then score the
results (:mod:`.scorer`) and compare the score with the thresholds.
"""

from __future__ import annotations

from collections.abc import Mapping

from opsplane.domain.canary.classifier import MannWhitneyClassifier
from opsplane.domain.canary.mannwhitney import AllTiedError
from opsplane.domain.canary.model import (
    CONFIDENCE_LEVEL,
    TOLERANCE,
    CanaryConfig,
    Classification,
    Judgement,
    MetricConfig,
    MetricResult,
    ScoreThresholds,
)
from opsplane.domain.canary.scorer import effective_weights, score, verdict
from opsplane.domain.canary.stats import summary
from opsplane.domain.canary.transforms import handle_nans, iqr_outliers, remove_outliers
from opsplane.domain.canary.types import Samples, as_samples


def transform(values: Samples, metric: MetricConfig) -> Samples:
    """``NetflixACAJudge.transformMetric``: NaNs first, then outliers (IQR, reduced sensitivity)."""
    out = handle_nans(values, metric.nan_strategy)
    if metric.outlier_strategy == "remove":
        out = remove_outliers(
            out, iqr_outliers(out, metric.outlier_factor, reduce_sensitivity=True)
        )
    return out


def classify_metric(metric: MetricConfig, control: Samples, experiment: Samples) -> MetricResult:
    """``NetflixACAJudge.classifyMetric`` for one metric's two samples."""
    control = transform(control, metric)
    experiment = transform(experiment, metric)
    classifier = MannWhitneyClassifier(TOLERANCE, CONFIDENCE_LEVEL, metric.effect_size)
    try:
        classification = classifier.classify(
            control,
            experiment,
            metric.direction,
            metric.nan_strategy,
            critical=metric.critical,
            data_required=metric.must_have_data,
            name=metric.name,
        )
    except AllTiedError as exc:  # Kayenta catches the RuntimeException and reports Error
        classification = Classification("Error", f"Metric Classification Failed: {exc}")
    return MetricResult(
        metric.name,
        metric.groups,
        classification,
        muted=metric.muted,
        experiment=summary(experiment),
        control=summary(control),
    )


def judge(
    config: CanaryConfig,
    control: Mapping[str, Samples | list[float]],
    experiment: Mapping[str, Samples | list[float]],
    thresholds: ScoreThresholds | None = None,
) -> Judgement:
    """Judge a canary run: classify each configured metric, score, and give the verdict.

    A metric missing from ``control`` or ``experiment`` has no data there (as when Kayenta's
    query returns nothing).

    Args:
        config: The canary configuration.
        control: Baseline samples by metric name.
        experiment: Canary samples by metric name.
        thresholds: Overrides ``config.thresholds``.

    Raises:
        ValueError: no thresholds were given either way.
    """
    limits = thresholds or config.thresholds
    if limits is None:
        msg = "score thresholds are required (classifier.scoreThresholds)"
        raise ValueError(msg)
    results = tuple(
        classify_metric(
            metric,
            as_samples(control.get(metric.name, [])),
            as_samples(experiment.get(metric.name, [])),
        )
        for metric in config.metrics
    )
    scored = score(results, config.group_weights)
    return Judgement(
        scored.score,
        verdict(scored.score, limits),
        scored.reason,
        scored.groups,
        results,
        limits,
        effective_weights(scored.groups, config.group_weights),
    )
