"""The weighted-sum scorer agrees with Kayenta's ``ScorerSuite.scala`` (``scorer_cases.json``).

Each case's metrics come already labelled, with the critical flag their classifier returned;
the summary score (and group scores where asserted) must be Kayenta's.
"""

from __future__ import annotations

from typing import Any

import pytest

from opsplane.domain.canary import Classification, MetricResult, score
from tests.domain.canary.vectors import load, require

VECTORS = load("scorer_cases.json")
CASES: list[dict[str, Any]] = VECTORS.get("cases", [])


def result(metric: dict[str, Any], *, muted: bool = False) -> MetricResult:
    """A labelled metric result as the scorer sees it."""
    label = metric["classification"]
    classification = Classification(
        label, f"{metric['name']} is {label}", critical=metric["critical"]
    )
    return MetricResult(metric["name"], tuple(metric["groups"]), classification, muted=muted)


def test_every_scorer_vector_is_collected() -> None:
    require("scorer_cases.json")
    assert len(CASES) == 9


@pytest.mark.parametrize(
    "case", CASES, ids=lambda c: f"{c['name']}: {c['expected']['summaryScore']}"
)
def test_summary_score_agrees_with_kayenta(case: dict[str, Any]) -> None:
    scored = score([result(m) for m in case["metrics"]], case["groupWeights"])
    assert scored.score == case["expected"]["summaryScore"]
    groups = {g.name: g.score for g in scored.groups}
    for name, expected in case["expected"].get("groupScores", {}).items():
        assert groups[name] == expected
    if scored.score == 0.0 and case.get("why", "").startswith(("any result", "100%")):
        assert scored.reason is not None
        assert scored.reason.startswith("Canary Failed: ")


@pytest.mark.parametrize(
    "case", CASES, ids=lambda c: f"{c['name']}: a muted copy of every metric changes nothing"
)
def test_muted_metrics_do_not_count(case: dict[str, Any]) -> None:
    """``ScoringHelper`` drops muted results before scoring (Kayenta PR #819)."""
    metrics = [result(m) for m in case["metrics"]]
    muted = [
        result(
            {**m, "name": f"{m['name']}-muted", "classification": flip(m), "critical": True},
            muted=True,
        )
        for m in case["metrics"]
    ]
    assert score(metrics + muted, case["groupWeights"]).score == case["expected"]["summaryScore"]


def flip(metric: dict[str, Any]) -> str:
    """A label that would change the score if it counted."""
    return "Pass" if metric["classification"] != "Pass" else "Nodata"
