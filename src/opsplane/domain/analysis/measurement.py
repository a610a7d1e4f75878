"""One measurement of a metric: when it was taken, what it read and what phase that gives.

Argo Rollouts' ``Measurement`` (``pkg/apis/rollouts/v1alpha1/analysis_types.go``). Providers
here answer synchronously, so a measurement is always finished: its phase is one of
Successful, Failed, Inconclusive or Error, never Running.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass

from opsplane.domain.analysis.evaluate import ResultValue, evaluate_result
from opsplane.domain.analysis.metric import AnalysisMetric
from opsplane.domain.analysis.phases import MeasurementPhase
from opsplane.types import Millis


@dataclass(frozen=True, slots=True)
class Measurement:
    """A finished measurement.

    Attributes:
        phase: Its phase, from the metric's conditions (or Error when it could not be taken).
        started_at: When the provider was asked (Unix epoch milliseconds).
        finished_at: When it answered; ``None`` lets :meth:`AnalysisRun.record` stamp it.
        value: The measured result as text, as Argo stores it (``"[0.97]"``).
        message: Why it is an Error (or a note from the provider).
    """

    phase: MeasurementPhase
    started_at: Millis
    finished_at: Millis | None = None
    value: str = ""
    message: str = ""


def measurement_from_result(
    metric: AnalysisMetric, result: ResultValue, *, started_at: Millis, finished_at: Millis
) -> Measurement:
    """What a provider returns once it has a ``result``: its phase from the conditions."""
    evaluation = evaluate_result(
        result,
        success_condition=metric.success_condition,
        failure_condition=metric.failure_condition,
    )
    return Measurement(
        evaluation.phase, started_at, finished_at, format_value(result), evaluation.message
    )


def error_measurement(message: str, *, started_at: Millis, finished_at: Millis) -> Measurement:
    """A measurement that could not be taken (the provider failed): phase Error."""
    return Measurement("Error", started_at, finished_at, "", message)


def format_value(result: ResultValue) -> str:
    """A result as text: Go's spelling of numbers (``NaN``, ``+Inf``), arrays as ``[a,b]``."""
    if result is None:
        return ""
    if isinstance(result, bool):
        return "true" if result else "false"
    if isinstance(result, float):
        if math.isnan(result):
            return "NaN"
        if math.isinf(result):
            return "+Inf" if result > 0 else "-Inf"
        return repr(result)
    if isinstance(result, int | str):
        return str(result)
    if isinstance(result, Mapping):
        return json.dumps(result, sort_keys=True, default=str)
    return "[" + ",".join(format_value(item) for item in result) + "]"
