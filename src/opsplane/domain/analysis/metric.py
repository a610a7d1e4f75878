"""An analysis metric: what to measure, how often, and the limits that end it.

The fields are Argo Rollouts' ``Metric`` (``pkg/apis/rollouts/v1alpha1/analysis_types.go``),
durations in milliseconds; the defaults and the validation rules are Argo's
(``utils/defaults/defaults.go``, ``utils/analysis/factory.go`` ``ValidateMetric``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from opsplane.domain.analysis.condition_lexer import ExpressionError
from opsplane.domain.analysis.evaluate import compile_condition
from opsplane.types import Millis

DEFAULT_CONSECUTIVE_ERROR_LIMIT: Final = 4
"""``defaults.DefaultConsecutiveErrorLimit``: a fifth Error in a row ends the metric."""
DEFAULT_ERROR_RETRY_INTERVAL: Final[Millis] = 10_000
"""``analysis.DefaultErrorRetryInterval``: an Error measurement is retried after 10 s."""
MEASUREMENT_HISTORY_LIMIT: Final = 10
"""``analysis.DefaultMeasurementHistoryLimit``: measurements kept per metric."""


@dataclass(frozen=True, slots=True)
class AnalysisMetric:
    """One metric of an analysis run (Argo's ``Metric``).

    Attributes:
        name: Unique within the run.
        success_condition: A condition over ``result`` (see :mod:`.condition_parser`); empty
            means "not set".
        failure_condition: Likewise.
        interval: Time between measurements; ``None`` measures once (unless ``count`` says
            otherwise, which then needs an interval).
        count: How many measurements to take; ``None`` or 0 means "until stopped" when there is
            an interval, and 1 when there is none (``EffectiveCount``).
        failure_limit: Failed measurements tolerated; -1 disables the limit (Argo >= 1.8,
            then ``consecutive_success_limit`` must be set).
        inconclusive_limit: Inconclusive measurements tolerated.
        consecutive_error_limit: Errors in a row tolerated (default 4).
        consecutive_success_limit: Successes in a row that end the metric Successful; 0
            disables it.
        initial_delay: Wait this long after the run starts before the first measurement.
        dry_run: Measured and reported, but never decides the run (``dryRun``).
        provider: Which metric provider measures it (the app layer resolves the name).
        query: What the provider should measure (a PromQL query, an SLO name, ...).
    """

    name: str
    success_condition: str = ""
    failure_condition: str = ""
    interval: Millis | None = None
    count: int | None = None
    failure_limit: int = 0
    inconclusive_limit: int = 0
    consecutive_error_limit: int = DEFAULT_CONSECUTIVE_ERROR_LIMIT
    consecutive_success_limit: int = 0
    initial_delay: Millis = 0
    dry_run: bool = False
    provider: str = ""
    query: str = ""

    @property
    def effective_count(self) -> int | None:
        """``Metric.EffectiveCount``: the measurements to take, or ``None`` for "until stopped"."""
        if not self.count:
            return 1 if self.interval is None else None
        return self.count


def validate_metric(metric: AnalysisMetric) -> list[str]:
    """Every problem with one metric (``ValidateMetric``), plus conditions that cannot parse.

    Argo reports the first problem only, and finds an unparsable condition only when a
    measurement errors on it; here every problem is reported before the run starts.
    """
    problems = [] if metric.name else ["name must not be empty"]
    problems += _limit_problems(metric)
    problems += _count_problems(metric)
    if metric.interval is not None and metric.interval <= 0:
        problems.append("interval must be greater than zero")
    if metric.initial_delay < 0:
        problems.append("initialDelay must be >= 0")
    problems += _condition_problems(metric)
    return problems


def _limit_problems(metric: AnalysisMetric) -> list[str]:
    fl, csl = metric.failure_limit, metric.consecutive_success_limit
    checks = (
        (csl < 0, "consecutiveSuccessLimit must be >= 0"),
        (fl < -1, "failureLimit must be >= 0, or -1 to be disabled"),
        (csl == 0 and fl == -1, "failureLimit and consecutiveSuccessLimit cannot both be disabled"),
        (metric.inconclusive_limit < 0, "inconclusiveLimit must be >= 0"),
        (metric.consecutive_error_limit < 0, "consecutiveErrorLimit must be >= 0"),
    )
    return [message for failed, message in checks if failed]


def _count_problems(metric: AnalysisMetric) -> list[str]:
    count = metric.count or 0
    fl, csl = metric.failure_limit, metric.consecutive_success_limit
    checks = (
        (count < 0, "count must be >= 0"),
        (
            0 < count < fl + csl and csl >= 0 and fl >= 0,
            f"count ({count}) must be >= failureLimit + consecutiveSuccessLimit"
            f" ({fl} + {csl}) if both >= 0",
        ),
        (0 < count < csl and fl < 0, "count must be >= consecutiveSuccessLimit"),
        (0 < count < metric.inconclusive_limit, "count must be >= inconclusiveLimit"),
        (count > 1 and metric.interval is None, "interval must be specified when count > 1"),
    )
    return [message for failed, message in checks if failed]


def validate_metrics(metrics: Sequence[AnalysisMetric]) -> list[str]:
    """Every problem with a run's metrics (``ValidateMetrics``), each prefixed ``metrics[i]``."""
    if not metrics:
        return ["no metrics specified"]
    problems: list[str] = []
    seen: set[str] = set()
    for i, metric in enumerate(metrics):
        if metric.name in seen:
            problems.append(f"metrics[{i}]: duplicate name '{metric.name}'")
        seen.add(metric.name)
        problems.extend(f"metrics[{i}]: {problem}" for problem in validate_metric(metric))
    return problems


def _condition_problems(metric: AnalysisMetric) -> list[str]:
    problems: list[str] = []
    for field, source in (
        ("successCondition", metric.success_condition),
        ("failureCondition", metric.failure_condition),
    ):
        if not source:
            continue
        try:
            compile_condition(source)
        except ExpressionError as exc:
            problems.append(f"{field}: {exc}")
    return problems
