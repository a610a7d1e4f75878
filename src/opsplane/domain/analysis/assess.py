"""Counters of a metric's measurements, and the metric phase they give.

A port of ``analysis/analysis.go`` of Argo Rollouts: the counter updates of
``runMeasurements``, ``assessMetricStatus`` and ``assessMetricFailureInconclusiveOrError``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from opsplane.domain.analysis.measurement import Measurement
from opsplane.domain.analysis.metric import MEASUREMENT_HISTORY_LIMIT, AnalysisMetric
from opsplane.domain.analysis.phases import AnalysisPhase, is_completed


@dataclass(frozen=True, slots=True)
class MetricResult:
    """The state of one metric in a run (Argo's ``MetricResult``).

    ``count`` counts finished measurements that were not Errors; ``error`` counts Errors.
    ``phase`` never changes once it is completed.
    """

    name: str
    phase: AnalysisPhase = "Pending"
    count: int = 0
    successful: int = 0
    failed: int = 0
    inconclusive: int = 0
    error: int = 0
    consecutive_error: int = 0
    consecutive_success: int = 0
    measurements: tuple[Measurement, ...] = ()
    message: str = ""

    @property
    def last_measurement(self) -> Measurement | None:
        """The latest measurement, if any."""
        return self.measurements[-1] if self.measurements else None


def add_measurement(
    result: MetricResult, measurement: Measurement, history: int = MEASUREMENT_HISTORY_LIMIT
) -> MetricResult:
    """Count a finished measurement as ``runMeasurements`` does; keep the last ``history``.

    Successful, Failed and Inconclusive add to ``count`` and reset ``consecutive_error``;
    only Successful extends ``consecutive_success``; Error adds to ``error`` and
    ``consecutive_error`` but not to ``count``.
    """
    kept = (*result.measurements, measurement)[-max(history, 1) :]
    match measurement.phase:
        case "Successful":
            return replace(
                result,
                measurements=kept,
                successful=result.successful + 1,
                count=result.count + 1,
                consecutive_error=0,
                consecutive_success=result.consecutive_success + 1,
            )
        case "Failed":
            return replace(
                result,
                measurements=kept,
                failed=result.failed + 1,
                count=result.count + 1,
                consecutive_error=0,
                consecutive_success=0,
            )
        case "Inconclusive":
            return replace(
                result,
                measurements=kept,
                inconclusive=result.inconclusive + 1,
                count=result.count + 1,
                consecutive_error=0,
                consecutive_success=0,
            )
        case "Error":
            return replace(
                result,
                measurements=kept,
                error=result.error + 1,
                consecutive_error=result.consecutive_error + 1,
                consecutive_success=0,
            )


def failure_inconclusive_or_error(
    metric: AnalysisMetric, result: MetricResult
) -> tuple[AnalysisPhase | None, str]:
    """``assessMetricFailureInconclusiveOrError``: a limit that is exceeded, and a message.

    The checks run in order and a later one overwrites an earlier one, so when several limits
    are exceeded at once Error wins over Inconclusive, which wins over Failed.
    """
    phase: AnalysisPhase | None = None
    message = ""
    if metric.failure_limit >= 0 and result.failed > metric.failure_limit:
        phase = "Failed"
        message = f"failed ({result.failed}) > failureLimit ({metric.failure_limit})"
    if result.inconclusive > metric.inconclusive_limit:
        phase = "Inconclusive"
        message = (
            f"inconclusive ({result.inconclusive}) > inconclusiveLimit"
            f" ({metric.inconclusive_limit})"
        )
    if result.consecutive_error > metric.consecutive_error_limit:
        phase = "Error"
        message = (
            f"consecutiveErrors ({result.consecutive_error}) > consecutiveErrorLimit"
            f" ({metric.consecutive_error_limit})"
        )
    return phase, message


def assess_metric_status(
    metric: AnalysisMetric, result: MetricResult, *, terminating: bool
) -> AnalysisPhase:
    """``assessMetricStatus``: the phase of one metric after its latest measurement.

    In order: a completed phase stays; no measurement yet is Pending (Successful when the run
    is terminating); an exceeded limit decides; ``consecutive_success_limit`` reached is
    Successful; once ``count`` measurements are in, the metric is Successful, except that with
    a success limit it is Failed (failure limit disabled) or Inconclusive (both limits set);
    otherwise it keeps Running, or ends Successful when the run is terminating.
    """
    if is_completed(result.phase):
        return result.phase
    if not result.measurements:
        return "Successful" if terminating else "Pending"
    exceeded, _ = failure_inconclusive_or_error(metric, result)
    if exceeded is not None:
        return exceeded
    success_applies = metric.consecutive_success_limit > 0
    if success_applies and result.consecutive_success >= metric.consecutive_success_limit:
        return "Successful"
    count = metric.effective_count
    if count is not None and result.count >= count:
        if success_applies:
            return "Inconclusive" if metric.failure_limit >= 0 else "Failed"
        return "Successful"
    return "Successful" if terminating else "Running"
