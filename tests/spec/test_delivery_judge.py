"""``delivery.analysis.judge``: a Kayenta canary config in the spec, checked as Kayenta's is."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from opsplane.domain.canary import EffectSize, MetricConfig, ScoreThresholds
from opsplane.domain.delivery import (
    JUDGE_METRIC,
    JUDGE_PROVIDER,
    DeliveryPolicy,
    JudgePolicy,
    JudgeQuery,
    rollout_strategy,
)
from opsplane.domain.rollout_steps import Analyze, CanaryStrategy
from opsplane.render.argo import argo_manifests
from opsplane.spec import load_paths
from opsplane.spec.delivery import deliveries
from tests.cli.test_cli import service

ERRORS = 'sum(rate(http_requests_total{service="checkout",version="{{version}}",code=~"5.."}[1m]))'


def judge(**overrides: Any) -> dict[str, Any]:
    block: dict[str, Any] = {
        "lookback": "10m",
        "step": "30s",
        "thresholds": {"pass": 95, "marginal": 75},
        "metrics": [
            {"name": "error-rate", "query": ERRORS, "direction": "increase", "critical": True}
        ],
    }
    return {**block, **overrides}


def load(
    tmp_path: Path, analysis: dict[str, Any], slo: str = "availability"
) -> tuple[list[tuple[Any, DeliveryPolicy]], list[str]]:
    delivery = {"strategy": "canary", "steps": [10, 50, 100], "analysis": analysis}
    spec = service("checkout", 99.9)
    spec["slos"][0]["name"] = slo
    path = tmp_path / "checkout.yaml"
    path.write_text(yaml.safe_dump({**spec, "delivery": delivery}))
    found, problems = deliveries(load_paths([path]))
    return found, [str(p).removeprefix(f"{path}:") for p in problems]


def test_a_judge_block_becomes_the_kayenta_config_and_its_queries(tmp_path: Path) -> None:
    metric = {
        "name": "latency",
        "groups": ["speed"],
        "query": "sum(rate(latency_seconds_sum{version='{{version}}'}[1m]))",
        "direction": "increase",
        "nan_strategy": "replace",
        "mustHaveData": True,  # Kayenta's camelCase is accepted too
        "effect_size": {"allowed_increase": 1.1, "critical_increase": 1.5},
        "outliers": {"strategy": "remove"},
    }
    block = judge(group_weights={"speed": 100}, metrics=[metric], lookback="5m", step="15s")
    [(_, policy)], problems = load(tmp_path, {"metrics": [], "judge": block})
    assert problems == []
    assert policy.analysis is not None
    assert policy.analysis.slos == ()
    expected = MetricConfig(
        "latency",
        ("speed",),
        direction="increase",
        nan_strategy="replace",
        outlier_strategy="remove",
        must_have_data=True,
        effect_size=EffectSize("meanRatio", 1.1, 1.0, 1.5, 1.0),
    )
    found = policy.analysis.judge
    assert isinstance(found, JudgePolicy)
    assert (found.queries, found.thresholds, found.lookback, found.step) == (
        (JudgeQuery("latency", metric["query"]),),
        ScoreThresholds(95, 75),
        300_000,
        15_000,
    )
    assert found.config.metrics == (expected,)
    assert dict(found.config.group_weights) == {"speed": 100}
    assert found.instants(1_000_000)[:2] == [700_000, 715_000]
    assert found.instants(1_000_000)[-1] == 1_000_000
    assert len(found.instants(1_000_000)) == 21


def test_a_judged_metric_without_groups_is_a_group_of_its_own(tmp_path: Path) -> None:
    [(_, policy)], _ = load(tmp_path, {"judge": judge()})
    assert policy.analysis is not None
    assert policy.analysis.judge is not None
    [metric] = policy.analysis.judge.config.metrics
    assert (metric.name, metric.groups, metric.critical) == ("error-rate", ("error-rate",), True)


def test_the_strategy_has_one_judge_metric_per_analysis_step_after_the_slo_gates(
    tmp_path: Path,
) -> None:
    analysis = {"metrics": ["availability"], "interval": "1m", "count": 3, "judge": judge()}
    [(parsed, policy)], problems = load(tmp_path, analysis)
    assert problems == []
    strategy = rollout_strategy(parsed.service, policy)
    assert isinstance(strategy, CanaryStrategy)
    steps = strategy.steps
    analyses = [s for s in steps if isinstance(s, Analyze)]
    assert len(analyses) == 3
    for step in analyses:
        slo, judged = step.metrics
        assert (slo.name, slo.provider) == ("availability", "sli")
        assert (judged.name, judged.provider, judged.query) == (
            JUDGE_METRIC,
            JUDGE_PROVIDER,
            "checkout",
        )
        assert (judged.interval, judged.count, judged.success_condition) == (60_000, 3, "")


@pytest.mark.parametrize(
    ("analysis", "problem"),
    [
        pytest.param(
            {"judge": judge(metrics=[{"name": "e", "query": ERRORS, "direction": "up"}])},
            "delivery.analysis.judge.metrics[0].direction: Input should be 'increase', "
            "'decrease' or 'either'",
            id="a direction Kayenta does not know",
        ),
        pytest.param(
            {"judge": judge(metrics=[{"name": "e", "query": ERRORS, "critcal": True}])},
            "delivery.analysis.judge.metrics[0].critcal: unknown field",
            id="a misspelt classifier key",
        ),
        pytest.param(
            {"judge": judge(metrics=[{"name": "e", "query": 'sum(rate(x{version="v2"}[1m]))'}])},
            "delivery.analysis.judge.metrics[0].query: must be a query with {{version}} in it",
            id="a query that does not tell the versions apart",
        ),
        pytest.param(
            {"judge": judge(metrics=[{"name": "e"}])},
            "delivery.analysis.judge.metrics[0].query: is required",
            id="a metric without a query",
        ),
        pytest.param(
            {"judge": judge(thresholds={"pass": 50, "marginal": 70})},
            "delivery.analysis.judge.thresholds.marginal: marginal (70) must not be above pass",
            id="thresholds in the wrong order",
        ),
        pytest.param(
            {"judge": judge(group_weights={"a": 60, "b": 60})},
            "delivery.analysis.judge.group_weights: group weights add up to 120",
            id="group weights above 100",
        ),
        pytest.param(
            {"judge": judge(lookback="1m", step="2m")},
            "delivery.analysis.judge.step: must not be longer than lookback",
            id="a step longer than the lookback",
        ),
        pytest.param(
            {"judge": judge(lookback="1d", step="1s")},
            "delivery.analysis.judge.step: lookback / step must give at most 1000 samples",
            id="too many samples",
        ),
        pytest.param(
            {"judge": judge(lookback="soon")},
            "delivery.analysis.judge.lookback: invalid duration 'soon'",
            id="a lookback that is no duration",
        ),
        pytest.param(
            {"judge": {k: v for k, v in judge().items() if k != "thresholds"}},
            "delivery.analysis.judge.thresholds: is required",
            id="no thresholds",
        ),
        pytest.param(
            {"metrics": []},
            "delivery.analysis.metrics: List should have at least 1 item (an SLO) unless a judge",
            id="an analysis with neither SLOs nor a judge",
        ),
    ],
)
def test_a_bad_judge_is_one_problem_at_its_place_in_the_spec(
    tmp_path: Path, analysis: dict[str, Any], problem: str
) -> None:
    found, problems = load(tmp_path, analysis)
    assert found == []
    assert [p[: len(problem)] for p in problems] == [problem], problems


def test_duplicate_judged_metrics_are_each_reported(tmp_path: Path) -> None:
    twice = {"name": "e", "query": ERRORS}
    _, problems = load(tmp_path, {"judge": judge(metrics=[twice, twice])})
    assert problems == [
        f"delivery.analysis.judge.metrics[{i}].name: duplicate metric name 'e'" for i in (0, 1)
    ]


def test_an_slo_gate_may_not_take_the_judges_metric_name(tmp_path: Path) -> None:
    analysis = {"metrics": [JUDGE_METRIC], "judge": judge()}
    assert load(tmp_path, analysis, slo=JUDGE_METRIC) == (
        [],
        [
            "delivery.analysis.metrics[0]: 'canary-judge' is the judge's metric; an SLO of that "
            "name cannot gate too"
        ],
    )
    assert load(tmp_path, {"metrics": [JUDGE_METRIC]}, slo=JUDGE_METRIC)[1] == []


def test_argo_manifests_leave_the_judge_out(tmp_path: Path) -> None:
    [(judged_only, policy)], _ = load(tmp_path, {"judge": judge()})
    kinds = [m["kind"] for m in argo_manifests(judged_only.service, policy).manifests]
    assert kinds == ["Rollout"]  # an AnalysisTemplate without metrics is invalid in Argo
    [(both, policy)], _ = load(tmp_path, {"metrics": ["availability"], "judge": judge()})
    template, _ = argo_manifests(both.service, policy).manifests
    assert [m["name"] for m in template["spec"]["metrics"]] == ["availability"]
