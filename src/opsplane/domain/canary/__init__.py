"""The canary judge, compatible with Kayenta's NetflixACAJudge (``spinnaker/kayenta``).

- :mod:`.judge`: ``NetflixACAJudge``: transform, classify and score every metric.
- :mod:`.classifier`: ``MannWhitneyClassifier`` and ``MeanInequalityClassifier``.
- :mod:`.mannwhitney`: the rank-sum confidence interval and shift estimate (R's
  ``wilcox.test(conf.int = TRUE)``), with :mod:`.zeroin`, R's Brent root finder.
- :mod:`.scorer`: ``WeightedSumScorer`` and ``ThresholdScoreClassifier``.
- :mod:`.transforms`, :mod:`.stats`: NaN and outlier handling, statistics and effect sizes.
- :mod:`.model`: the configuration and results.

Pure: numpy and scipy only, no I/O. ``docs/canary.md`` says where every number comes from.
"""

from __future__ import annotations

from opsplane.domain.canary.classifier import MannWhitneyClassifier, MeanInequalityClassifier
from opsplane.domain.canary.judge import classify_metric, judge
from opsplane.domain.canary.mannwhitney import (
    AllTiedError,
    RankSumShift,
    mann_whitney_u_test,
    wilcoxon_diff,
)
from opsplane.domain.canary.model import (
    CONFIDENCE_LEVEL,
    TOLERANCE,
    CanaryConfig,
    Classification,
    Direction,
    EffectSize,
    EffectSizeMeasure,
    GroupScore,
    Judgement,
    Label,
    MetricConfig,
    MetricResult,
    NanStrategy,
    OutlierStrategy,
    ScoreResult,
    ScoreThresholds,
    ShiftTest,
    Summary,
    Verdict,
)
from opsplane.domain.canary.scorer import effective_weights, score, verdict
from opsplane.domain.canary.types import Samples, as_samples

__all__ = [
    "CONFIDENCE_LEVEL",
    "TOLERANCE",
    "AllTiedError",
    "CanaryConfig",
    "Classification",
    "Direction",
    "EffectSize",
    "EffectSizeMeasure",
    "GroupScore",
    "Judgement",
    "Label",
    "MannWhitneyClassifier",
    "MeanInequalityClassifier",
    "MetricConfig",
    "MetricResult",
    "NanStrategy",
    "OutlierStrategy",
    "RankSumShift",
    "Samples",
    "ScoreResult",
    "ScoreThresholds",
    "ShiftTest",
    "Summary",
    "Verdict",
    "as_samples",
    "classify_metric",
    "effective_weights",
    "judge",
    "mann_whitney_u_test",
    "score",
    "verdict",
    "wilcoxon_diff",
]
