"""Metric classifiers agree with Kayenta's ``ClassifierSuite.scala`` (``classifier_cases.json``).

Each case runs the named classifier with the case's own parameters (the tests use
``tolerance``/``confLevel`` other than the judge's 0.25/0.98) and checks what the upstream test
asserts: the label, and the ``critical`` flag, the deviation or a non-empty reason where it does.
"""

from __future__ import annotations

from typing import Any

import pytest

from opsplane.domain.canary import (
    Classification,
    EffectSize,
    MannWhitneyClassifier,
    MeanInequalityClassifier,
)
from tests.domain.canary.vectors import load, require, same, samples

VECTORS = load("classifier_cases.json")
CASES: list[dict[str, Any]] = VECTORS.get("cases", [])


def classify(case: dict[str, Any]) -> Classification:
    """Run the case's classifier on its samples."""
    classifier: MannWhitneyClassifier | MeanInequalityClassifier
    if case["classifier"] == "MeanInequalityClassifier":
        classifier = MeanInequalityClassifier()
    else:
        p = case["params"]
        thresholds = EffectSize(
            p["effectSizeMeasure"],
            allowed_increase=p["allowedIncrease"],
            allowed_decrease=p["allowedDecrease"],
            critical_increase=p["criticalIncrease"],
            critical_decrease=p["criticalDecrease"],
        )
        classifier = MannWhitneyClassifier(p["tolerance"], p["confLevel"], thresholds)
    return classifier.classify(
        samples(case["control"]),
        samples(case["experiment"]),
        case["direction"],
        case["nanStrategy"],
        critical=case["isCriticalMetric"],
        data_required=case["isDataRequired"],
        name="test-metric",
    )


def describe(case: dict[str, Any]) -> str:
    expected = case["expected"]
    outcome = expected.get("classification", "a reason")
    return f"{case['name']}: {outcome}"


def test_every_classifier_vector_is_collected() -> None:
    require("classifier_cases.json")
    assert len(CASES) == 27
    assert {c["classifier"] for c in CASES} == {"MannWhitneyClassifier", "MeanInequalityClassifier"}


@pytest.mark.parametrize("case", CASES, ids=describe)
def test_classification_agrees_with_kayenta(case: dict[str, Any]) -> None:
    result = classify(case)
    expected = case["expected"]
    if "classification" in expected:
        assert result.label == expected["classification"], result.reason
    if "critical" in expected:
        assert result.critical is expected["critical"]
    if "deviation" in expected:
        assert same(result.deviation, expected["deviation"])
    if expected.get("reason_non_empty"):
        assert result.reason.strip()


@pytest.mark.parametrize("case", CASES, ids=describe)
def test_every_classification_has_a_reason(case: dict[str, Any]) -> None:
    """Kayenta leaves Pass without a reason; opsplane always says why."""
    assert classify(case).reason.strip()
