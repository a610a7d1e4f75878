"""Analysis runs with Argo Rollouts semantics: measurements, metric phases, run phases.

Pure ports of the parts of argoproj/argo-rollouts that turn measurements into a verdict, so
that an analysis behaves in opsplane as in Argo (the vectors in
``../shared/conformance/argo-rollouts/`` pin it down):

- :mod:`.phases`: the phases and their order (Failed > Error > Inconclusive).
- :mod:`.condition_lexer`, :mod:`.condition_parser`, :mod:`.condition_eval`: the condition
  language (the part of expr-lang that templates use), without ``eval``.
- :mod:`.evaluate`: the phase of one measurement (``utils/evaluate/evaluate.go``).
- :mod:`.metric`: a metric, its defaults and its validation.
- :mod:`.measurement`: one finished measurement.
- :mod:`.assess`: counters and the metric phase (``analysis/analysis.go``).
- :mod:`.run`: the run as a step machine over injected time.

Added in 0.1.0.
"""

from __future__ import annotations

from opsplane.domain.analysis.assess import (
    MetricResult,
    add_measurement,
    assess_metric_status,
    failure_inconclusive_or_error,
)
from opsplane.domain.analysis.condition_lexer import ExpressionError
from opsplane.domain.analysis.evaluate import (
    Condition,
    Evaluation,
    ResultValue,
    compile_condition,
    evaluate_result,
)
from opsplane.domain.analysis.measurement import (
    Measurement,
    error_measurement,
    format_value,
    measurement_from_result,
)
from opsplane.domain.analysis.metric import (
    DEFAULT_CONSECUTIVE_ERROR_LIMIT,
    DEFAULT_ERROR_RETRY_INTERVAL,
    MEASUREMENT_HISTORY_LIMIT,
    AnalysisMetric,
    validate_metric,
    validate_metrics,
)
from opsplane.domain.analysis.phases import (
    ORDER,
    AnalysisPhase,
    MeasurementPhase,
    is_completed,
    is_worse,
    worst,
)
from opsplane.domain.analysis.run import AnalysisRun, Measure

__all__ = [
    "DEFAULT_CONSECUTIVE_ERROR_LIMIT",
    "DEFAULT_ERROR_RETRY_INTERVAL",
    "MEASUREMENT_HISTORY_LIMIT",
    "ORDER",
    "AnalysisMetric",
    "AnalysisPhase",
    "AnalysisRun",
    "Condition",
    "Evaluation",
    "ExpressionError",
    "Measure",
    "Measurement",
    "MeasurementPhase",
    "MetricResult",
    "ResultValue",
    "add_measurement",
    "assess_metric_status",
    "compile_condition",
    "error_measurement",
    "evaluate_result",
    "failure_inconclusive_or_error",
    "format_value",
    "is_completed",
    "is_worse",
    "measurement_from_result",
    "validate_metric",
    "validate_metrics",
    "worst",
]
