"""Known limitations of Kayenta's judge (``known_limitation_cases.json``): we keep them.

These are user reports (``spinnaker/kayenta`` #426 and #780, ``spinnaker/spinnaker`` #6278)
where Kayenta says Pass and the user expected a failure: error counts that are mostly zero, a
change of spread without a change of location, and 7 of 10 points jumping while the
interval's lower bound stays near 0. opsplane returns what Kayenta returns, on purpose:

- The judge's promise is compatibility: a Kayenta canary config gives the same verdict here,
  so a team can move its configs over and trust the history it has. Changing the statistics
  would change verdicts of configs that were tuned against Kayenta.
- Each case is the Mann-Whitney test doing what it is specified to do (a practically
  significant *location shift*, ``lowerCI > 0.25 x |estimate|``); it is the wrong tool for
  them, not a wrong computation. ``docs/canary.md`` says which tool fits instead (the SLO
  burn-rate analysis for sparse error counts; a percentile metric for spread).

So each test pins Kayenta's outcome, and the reporter's numbers where the report has them.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from opsplane.domain.canary import EffectSize, MannWhitneyClassifier
from opsplane.domain.canary.model import Classification
from tests.domain.canary.vectors import load, require, samples

VECTORS = load("known_limitation_cases.json")
CASES: list[dict[str, Any]] = VECTORS.get("cases", [])
NUMBER = r"(-?\d+(?:\.\d+)?(?:E-?\d+)?)"


def classify(case: dict[str, Any]) -> Classification:
    """The judge's classifier (tolerance 0.25, confidence 0.98) with the case's thresholds."""
    p = case["params"]
    thresholds = EffectSize.for_measure(
        "meanRatio",
        allowed_increase=p.get("allowedIncrease"),
        allowed_decrease=p.get("allowedDecrease"),
        critical_increase=p.get("criticalIncrease"),
        critical_decrease=p.get("criticalDecrease"),
    )
    classifier = MannWhitneyClassifier(p["tolerance"], p["confLevel"], thresholds)
    return classifier.classify(
        samples(case["control"]), samples(case["experiment"]), case["direction"]
    )


def test_every_known_limitation_is_collected() -> None:
    require("known_limitation_cases.json")
    assert len(CASES) == 4


@pytest.mark.parametrize(
    "case",
    CASES,
    ids=lambda c: f"{c['name']} ({c['source']}): {c['upstream_result']} as in Kayenta",
)
def test_the_judge_keeps_kayentas_outcome(case: dict[str, Any]) -> None:
    assert classify(case).label == case["upstream_result"]


def test_the_reporters_debug_values_are_reproduced() -> None:
    """spinnaker/spinnaker#6278 printed Kayenta's interval, estimate and bounds."""
    require("known_limitation_cases.json")
    case = next(c for c in CASES if "CI = [" in c["detail"])
    found = re.search(
        rf"CI = \[{NUMBER}, {NUMBER}\], estimate = {NUMBER}, bounds = \+/-{NUMBER}, "
        rf"meanRatio = {NUMBER}",
        case["detail"],
    )
    assert found is not None
    lower, upper, estimate, bound, ratio = (float(g) for g in found.groups())
    result = classify(case)
    assert result.test is not None
    assert result.test.ci_lower == pytest.approx(lower, rel=1e-12)
    assert (result.test.ci_upper, result.test.estimate) == pytest.approx(
        (upper, estimate), rel=1e-12
    )
    assert 0.25 * abs(result.test.estimate) == pytest.approx(bound, rel=1e-12)
    assert result.deviation == pytest.approx(ratio, rel=1e-12)
