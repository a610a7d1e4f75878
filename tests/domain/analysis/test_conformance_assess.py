"""Metric phases agree with Argo Rollouts' ``analysis/analysis_test.go``.

Each case of ``assess_metric_status_cases.json`` gives a metric (absent fields take Argo's
defaults), the counters of its result and the phase of its last measurement; each expectation
is checked with the run terminating and not, as the vector says.
"""

from __future__ import annotations

from typing import Any

import pytest

from opsplane.domain.analysis import (
    AnalysisMetric,
    Measurement,
    MetricResult,
    assess_metric_status,
    failure_inconclusive_or_error,
)
from opsplane.domain.duration import parse_duration
from tests.domain.analysis.vectors import load, require

VECTORS = load("assess_metric_status_cases.json")
CASES: list[dict[str, Any]] = VECTORS.get("cases", [])
WHEN = {"terminating=true": "when terminating", "terminating=false": "while running"}
EXPECTATIONS = [
    pytest.param(
        case,
        flag == "terminating=true",
        phase,
        id=f"{case['name']}: {phase} {WHEN[flag]}",
    )
    for case in CASES
    for flag, phase in case["expected"].items()
]


def metric_of(raw: dict[str, Any]) -> AnalysisMetric:
    interval = raw.get("interval")
    return AnalysisMetric(
        name="m",
        interval=None if interval is None else parse_duration(interval),
        count=raw.get("count"),
        failure_limit=raw.get("failureLimit", 0),
        inconclusive_limit=raw.get("inconclusiveLimit", 0),
        consecutive_error_limit=raw.get("consecutiveErrorLimit", 4),
        consecutive_success_limit=raw.get("consecutiveSuccessLimit", 0),
    )


def result_of(raw: dict[str, Any]) -> MetricResult:
    last = Measurement(raw["lastMeasurementPhase"], started_at=0, finished_at=0)
    return MetricResult(
        name="m",
        phase="Running",
        count=raw.get("count", 0),
        successful=raw.get("successful", 0),
        failed=raw.get("failed", 0),
        inconclusive=raw.get("inconclusive", 0),
        error=raw.get("error", 0),
        consecutive_error=raw.get("consecutiveError", 0),
        consecutive_success=raw.get("consecutiveSuccess", 0),
        measurements=(last,),
    )


def test_every_assess_metric_status_vector_is_collected() -> None:
    require("assess_metric_status_cases.json")
    assert (len(CASES), len(EXPECTATIONS)) == (21, 39)


@pytest.mark.parametrize(("case", "terminating", "expected"), EXPECTATIONS)
def test_metric_phase_follows_the_counters_as_upstream(
    case: dict[str, Any], terminating: bool, expected: str
) -> None:
    phase = assess_metric_status(
        metric_of(case["metric"]), result_of(case["result"]), terminating=terminating
    )
    assert phase == expected


@pytest.mark.parametrize(
    "case", [c for c in CASES if "message" in c], ids=lambda c: f"{c['name']} says why"
)
def test_the_exceeded_limit_is_worded_as_upstream(case: dict[str, Any]) -> None:
    _, message = failure_inconclusive_or_error(metric_of(case["metric"]), result_of(case["result"]))
    assert message == case["message"]
