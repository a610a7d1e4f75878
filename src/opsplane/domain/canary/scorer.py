"""The weighted-sum group scorer and the score thresholds.

Kayenta's ``scorers/WeightedSumScorer.scala``, ``scorers/ScoringHelper.scala`` and
``classifiers/score/ThresholdScoreClassifier.scala``.

Every group scores the share of its metrics that passed, out of those with data (Pass, High,
Low and NodataFailMetric; Nodata and Error are left out). The summary is the sum of group
scores times their weights / 100; groups without an explicit weight share ``100 - sum of
weights`` equally. A critical metric that did not pass, or Nodata for at least half of the
metrics, makes the summary 0. Muted metrics are left out of all of it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal

from opsplane.domain.canary.model import (
    GroupScore,
    MetricResult,
    ScoreResult,
    ScoreThresholds,
    Verdict,
)

NODATA_THRESHOLD = 50
"""``WeightedSumScorer.NODATA_THRESHOLD``: Nodata for this % of metrics or more scores 0."""

_WITH_DATA = ("Pass", "High", "Low", "NodataFailMetric")
"""The labels a group counts (``numTotal`` in ``calculateGroupScore``)."""


def group_score(name: str, labels: Sequence[str]) -> GroupScore:
    """``calculateGroupScore``: 100 x passed / (Pass + High + Low + NodataFailMetric)."""
    counts = Counter(labels)
    total = sum(counts[label] for label in _WITH_DATA)
    no_data = total == 0
    score = 0.0 if no_data else counts["Pass"] / total * 100
    return GroupScore(name, score, no_data, dict(counts), len(labels))


def group_scores(results: Sequence[MetricResult]) -> tuple[GroupScore, ...]:
    """``calculateGroupScores``: one score per group, in order of first appearance."""
    labels: dict[str, list[str]] = {}
    for result in results:
        for group in result.groups:
            labels.setdefault(group, []).append(result.label)
    return tuple(group_score(name, group_labels) for name, group_labels in labels.items())


def effective_weights(
    groups: Sequence[GroupScore], weights: Mapping[str, float]
) -> dict[str, float]:
    """Each group's weight: its own, or an equal share of what the explicit weights leave of
    100 (``calculatedWeight`` in ``calculateSummaryScore``)."""
    unweighted = [g.name for g in groups if g.name not in weights]
    implicit = (100 - sum(weights.values())) / len(unweighted) if unweighted else 0.0
    return {g.name: weights.get(g.name, implicit) for g in groups}


def summary_score(groups: Sequence[GroupScore], weights: Mapping[str, float]) -> float:
    """``calculateSummaryScore``: the weighted sum of group scores, rounded half-up to 2 places.

    A group without data counts as 100.
    """
    weight = effective_weights(groups, weights)
    total = 0.0
    for group in groups:
        effective = 100.0 if group.no_data else group.score
        total += effective * (weight[group.name] / 100)
    return round_half_up(total, 2)


def round_half_up(value: float, places: int) -> float:
    """commons-math ``Precision.round``: the decimal text of ``value``, rounded half up."""
    quantum = Decimal(1).scaleb(-places)
    return float(Decimal(repr(value)).quantize(quantum, rounding=ROUND_HALF_UP))


def score(results: Sequence[MetricResult], weights: Mapping[str, float]) -> ScoreResult:
    """``ScoringHelper.score`` + ``WeightedSumScorer.score``: muted metrics left out, then a
    critical failure or too much Nodata scores 0, else the weighted sum."""
    counted = [r for r in results if not r.muted]
    groups = group_scores(counted)
    failures = [r for r in counted if r.critical and r.label != "Pass"]
    if failures:
        reason = f"Canary Failed: {failures[0].classification.reason}"
        return ScoreResult(groups, 0.0, len(counted), reason)
    nodata = sum(1 for r in counted if r.label == "Nodata")
    if counted and nodata / len(counted) * 100 >= NODATA_THRESHOLD:
        reason = f"Canary Failed: {NODATA_THRESHOLD}% or more metrics returned NODATA"
        return ScoreResult(groups, 0.0, len(counted), reason)
    return ScoreResult(groups, summary_score(groups, weights), len(counted))


def verdict(summary: float, thresholds: ScoreThresholds) -> Verdict:
    """``ThresholdScoreClassifier``: pass at or above ``pass``, marginal at or above
    ``marginal``, else fail."""
    if summary >= thresholds.pass_:
        return "pass"
    if summary >= thresholds.marginal:
        return "marginal"
    return "fail"
