"""Measurement phases agree with Argo Rollouts' ``utils/evaluate/evaluate_test.go``.

The vectors' conditions are the literals ``true`` and ``false`` (so only the combination logic
is tested), ``null`` for "not set", and ``ERROR``, an unknown name, for a condition that cannot
be evaluated.
"""

from __future__ import annotations

from typing import Any

import pytest

from opsplane.domain.analysis import evaluate_result
from tests.domain.analysis.vectors import load, require

VECTORS = load("evaluate_result_cases.json")
CASES: list[dict[str, Any]] = VECTORS.get("cases", [])


def test_every_evaluate_result_vector_is_collected() -> None:
    require("evaluate_result_cases.json")
    assert len(CASES) == 8


@pytest.mark.parametrize(
    "case",
    CASES,
    ids=lambda c: (
        f"success {c['successCondition']} and failure {c['failureCondition']}"
        f" give {c['expected']} ({c['name']})"
    ),
)
def test_measurement_phase_follows_the_conditions_as_upstream(case: dict[str, Any]) -> None:
    evaluation = evaluate_result(
        [0.5],
        success_condition=case["successCondition"] or "",
        failure_condition=case["failureCondition"] or "",
    )
    assert evaluation.phase == case["expected"]
    if case["expected"] == "Error":
        assert "unknown name 'ERROR'" in evaluation.message
    else:
        assert evaluation.message == ""
