"""The canary judge's configuration and results, as Kayenta's NetflixACAJudge has them.

Names follow Kayenta (``kayenta-core`` ``CanaryConfig``, ``CanaryMetricConfig``,
``CanaryClassifierConfig``; ``kayenta-judge`` ``NetflixACAJudge.scala``,
``BaseMetricClassifier.scala``, ``BaseScorer.scala``) so that a Kayenta canary config means the
same thing here. The spec layer (``opsplane.spec.canary_config``) builds these from JSON.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, TypeAlias

Label: TypeAlias = Literal["Pass", "High", "Low", "Nodata", "NodataFailMetric", "Error"]
"""A metric's classification (``MetricClassificationLabel`` in ``BaseMetricClassifier.scala``).

``NodataFailMetric`` is a metric with ``mustHaveData`` that had none: it counts as a failure in
its groups. ``Error`` is a metric whose classification failed (Kayenta catches the exception in
``NetflixACAJudge.classifyMetric``); groups leave it out.
"""

Direction: TypeAlias = Literal["increase", "decrease", "either"]
"""Which change fails the metric (``MetricDirection``): a rise, a fall, or both."""

NanStrategy: TypeAlias = Literal["remove", "replace"]
"""What happens to NaN samples (``NaNStrategy``): dropped, or replaced by 0.0."""

OutlierStrategy: TypeAlias = Literal["remove", "keep"]
"""Whether outliers are dropped before the test (``OutlierStrategy``)."""

EffectSizeMeasure: TypeAlias = Literal["meanRatio", "cles"]
"""How the size of a change is measured (``effectSize.measure``): the ratio of the means
(experiment / control) or the common-language effect size (Vargha-Delaney A)."""

Verdict: TypeAlias = Literal["pass", "marginal", "fail"]
"""The run's verdict (``ThresholdScoreClassifier``: Pass, Marginal, Fail)."""

TOLERANCE = 0.25
"""``NetflixACAJudge.classifyMetric`` builds its classifier with ``tolerance = 0.25``."""

CONFIDENCE_LEVEL = 0.98
"""``NetflixACAJudge.classifyMetric`` builds its classifier with ``confLevel = 0.98``."""

OUTLIER_FACTOR = 3.0
"""Default ``outliers.outlierFactor`` (``NetflixACAJudge.classifyMetric``)."""


@dataclass(frozen=True, slots=True)
class EffectSize:
    """Effect-size thresholds of one metric (``effectSize`` in its canary configuration).

    A significant change is only High (Low) when its effect size is at least ``allowed_increase``
    (at most ``allowed_decrease``); a critical metric only fails the run when it passes the
    ``critical_*`` threshold too. Use :meth:`for_measure` for Kayenta's defaults.
    """

    measure: EffectSizeMeasure = "meanRatio"
    allowed_increase: float = 1.0
    allowed_decrease: float = 1.0
    critical_increase: float = 1.0
    critical_decrease: float = 1.0

    @classmethod
    def for_measure(
        cls,
        measure: EffectSizeMeasure = "meanRatio",
        *,
        allowed_increase: float | None = None,
        allowed_decrease: float | None = None,
        critical_increase: float | None = None,
        critical_decrease: float | None = None,
    ) -> EffectSize:
        """Thresholds with NetflixACAJudge's defaults: 1.0 (no change) for ``meanRatio``, 0.5
        (no change) for ``cles`` (``defaultEffect`` in ``NetflixACAJudge.classifyMetric``)."""
        default = 0.5 if measure == "cles" else 1.0
        return cls(
            measure,
            default if allowed_increase is None else allowed_increase,
            default if allowed_decrease is None else allowed_decrease,
            default if critical_increase is None else critical_increase,
            default if critical_decrease is None else critical_decrease,
        )


@dataclass(frozen=True, slots=True)
class MetricConfig:
    """One metric of a canary configuration (``CanaryMetricConfig`` + its ``canary`` analysis).

    Defaults are NetflixACAJudge's: direction ``either``, NaNs removed, outliers kept (factor
    3.0 when removed), not critical, data not required, not muted.
    """

    name: str
    groups: tuple[str, ...] = ()
    direction: Direction = "either"
    nan_strategy: NanStrategy = "remove"
    outlier_strategy: OutlierStrategy = "keep"
    outlier_factor: float = OUTLIER_FACTOR
    critical: bool = False
    must_have_data: bool = False
    muted: bool = False
    effect_size: EffectSize = field(default_factory=EffectSize)


@dataclass(frozen=True, slots=True)
class ScoreThresholds:
    """``scoreThresholds``: a score >= ``pass_`` passes, >= ``marginal`` is marginal."""

    pass_: float
    marginal: float


@dataclass(frozen=True, slots=True)
class CanaryConfig:
    """The parts of a Kayenta canary configuration the judge reads.

    ``group_weights`` is ``classifier.groupWeights``; groups without a weight share what is left
    of 100 (``WeightedSumScorer``). ``thresholds`` is ``classifier.scoreThresholds`` when the
    configuration has it.
    """

    metrics: tuple[MetricConfig, ...]
    group_weights: Mapping[str, float] = field(default_factory=dict)
    thresholds: ScoreThresholds | None = None


@dataclass(frozen=True, slots=True)
class Summary:
    """Descriptive statistics of one sample (``MetricStatistics``); an empty one is all zeros."""

    min: float
    max: float
    mean: float
    std: float
    count: int


@dataclass(frozen=True, slots=True)
class ShiftTest:
    """The Mann-Whitney confidence interval of the shift experiment - control, and its estimate."""

    ci_lower: float
    ci_upper: float
    estimate: float


@dataclass(frozen=True, slots=True)
class Classification:
    """What a metric classifier returns (``MetricClassification``), plus how it got there.

    Attributes:
        label: The classification.
        reason: Why, in words; never empty.
        deviation: The mean ratio experiment / control (NaN when a mean is 0), 1.0 when the
            test did not run; Kayenta reports it as the result's ``ratio``.
        critical: The metric is critical and its failure fails the whole run.
        effect_size: The effect size the thresholds were checked against (NaN when undefined
            or when the test did not run).
        test: The Mann-Whitney interval and estimate, when the test ran.
    """

    label: Label
    reason: str
    deviation: float = 1.0
    critical: bool = False
    effect_size: float = math.nan
    test: ShiftTest | None = None


@dataclass(frozen=True, slots=True)
class MetricResult:
    """One metric's judgement (``CanaryAnalysisResult``)."""

    name: str
    groups: tuple[str, ...]
    classification: Classification
    muted: bool = False
    experiment: Summary | None = None
    control: Summary | None = None

    @property
    def label(self) -> Label:
        """The classification label."""
        return self.classification.label

    @property
    def critical(self) -> bool:
        """Whether this result fails the run on its own."""
        return self.classification.critical


@dataclass(frozen=True, slots=True)
class GroupScore:
    """One group's score (``GroupScore`` in ``BaseScorer.scala``): % of its metrics that pass.

    ``no_data`` is true when no metric of the group had data; such a group scores 0 but counts
    as 100 in the summary (``WeightedSumScorer.calculateSummaryScore``).
    """

    name: str
    score: float
    no_data: bool
    label_counts: Mapping[str, int]
    num_metrics: int


@dataclass(frozen=True, slots=True)
class ScoreResult:
    """The scorer's result (``ScoreResult``): group scores, the summary score and why it is 0."""

    groups: tuple[GroupScore, ...]
    score: float
    num_metrics: int
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Judgement:
    """A whole canary judgement (``CanaryJudgeResult``): the verdict and every metric.

    ``weights`` is the weight each group had in the score, explicit or implicit.
    """

    score: float
    verdict: Verdict
    reason: str | None
    groups: tuple[GroupScore, ...]
    metrics: tuple[MetricResult, ...]
    thresholds: ScoreThresholds
    weights: Mapping[str, float] = field(default_factory=dict)
