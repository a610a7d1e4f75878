"""Argo Rollouts manifests: a Rollout strategy and an SLO AnalysisTemplate per service."""

from __future__ import annotations

import math
from typing import Any

import pytest
import yaml

from opsplane.domain.analysis import evaluate_result
from opsplane.domain.delivery import AnalysisPolicy, DeliveryPolicy, rollout_strategy
from opsplane.domain.duration import MINUTE
from opsplane.domain.rollout import Analyze, CanaryStrategy, Pause, SetWeight
from opsplane.render.argo import argo_manifests
from opsplane.render.prometheus.native import error_ratio_template
from opsplane.render.prometheus.promql import with_window
from opsplane.render.yamltext import dump
from tests.domain.builders import service_of, shop_slo

SECOND = 1_000
SLO = shop_slo(99.9)
SHOP = service_of(SLO)
GATE = AnalysisPolicy(("availability",), interval=MINUTE, count=5, failure_limit=1)
CANARY = DeliveryPolicy("canary", (5, 25, 50, 100), 5 * MINUTE, GATE)
TEMPLATE_REF = {"templates": [{"templateName": "shop-slos"}]}


def manifests(policy: DeliveryPolicy) -> list[dict[str, Any]]:
    """The manifests as a user's kubectl reads them: through the YAML the CLI writes."""
    rendered = argo_manifests(SHOP, policy, prometheus="http://prom:9090")
    return [yaml.safe_load(dump(m)) for m in rendered.manifests]


def test_a_gated_canary_is_an_analysis_template_and_a_rollout_of_the_deployment() -> None:
    template, rollout = manifests(CANARY)
    assert [(m["apiVersion"], m["kind"]) for m in (template, rollout)] == [
        ("argoproj.io/v1alpha1", "AnalysisTemplate"),
        ("argoproj.io/v1alpha1", "Rollout"),
    ]
    assert template["metadata"]["name"] == "shop-slos"
    assert rollout["metadata"]["name"] == "shop"
    assert rollout["metadata"]["namespace"] == template["metadata"]["namespace"] == "default"
    assert rollout["spec"]["workloadRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "shop",
    }
    steps = rollout["spec"]["strategy"]["canary"]["steps"]
    assert steps == [
        step
        for weight in (5, 25, 50, 100)
        for step in (
            {"setWeight": weight},
            {"analysis": TEMPLATE_REF},
            {"pause": {"duration": "5m"}},
        )
    ]


def test_each_gating_slo_is_a_prometheus_metric_on_the_rules_error_ratio() -> None:
    template, _ = manifests(CANARY)
    assert template["spec"]["args"] == [{"name": "prometheus-address", "value": "http://prom:9090"}]
    [metric] = template["spec"]["metrics"]
    assert metric == {
        "name": "availability",
        "interval": "1m",
        "count": 5,
        "failureLimit": 1,
        "successCondition": "isNaN(result[0]) || result[0] <= 0.001",
        "provider": {
            "prometheus": {
                "address": "{{args.prometheus-address}}",
                "query": with_window(error_ratio_template(SLO), MINUTE).strip(),
            }
        },
    }


@pytest.mark.parametrize(
    ("ratio", "phase"),
    [(0.0005, "Successful"), (0.001, "Successful"), (0.002, "Failed"), (math.nan, "Successful")],
    ids=[
        "half the budget passes",
        "exactly the budget passes",
        "twice the budget fails",
        "no traffic (NaN) passes",
    ],
)
def test_the_success_condition_holds_the_error_ratio_to_the_budget(
    ratio: float, phase: str
) -> None:
    template, _ = manifests(CANARY)
    condition = template["spec"]["metrics"][0]["successCondition"]
    assert (
        evaluate_result([ratio], success_condition=condition, failure_condition="").phase == phase
    )


def test_a_canary_without_a_gate_steps_and_waits_for_promotion() -> None:
    [rollout] = manifests(DeliveryPolicy("canary", (20, 100), None))
    assert rollout["spec"]["strategy"]["canary"]["steps"] == [
        {"setWeight": 20},
        {"pause": {}},
        {"setWeight": 100},
        {"pause": {}},
    ]


def test_blue_green_previews_then_promotes_after_the_pre_promotion_analysis() -> None:
    policy = DeliveryPolicy(
        "blue-green",
        analysis=GATE,
        auto_promote=True,
        auto_promotion_delay=30 * SECOND,
        scale_down_delay=10 * MINUTE,
    )
    _, rollout = manifests(policy)
    assert rollout["spec"]["strategy"] == {
        "blueGreen": {
            "activeService": "shop",
            "previewService": "shop-preview",
            "autoPromotionEnabled": True,
            "autoPromotionSeconds": 30,
            "scaleDownDelaySeconds": 600,
            "prePromotionAnalysis": TEMPLATE_REF,
        }
    }
    manual = manifests(DeliveryPolicy("blue-green", auto_promote=False))[0]
    assert manual["spec"]["strategy"]["blueGreen"]["autoPromotionEnabled"] is False
    assert "autoPromotionSeconds" not in manual["spec"]["strategy"]["blueGreen"]


def test_opsplanes_own_rollout_follows_the_same_steps_and_budget() -> None:
    strategy = rollout_strategy(SHOP, CANARY)
    assert isinstance(strategy, CanaryStrategy)
    [gate] = {step.metrics for step in strategy.steps if isinstance(step, Analyze)}
    assert [(m.provider, m.query, m.success_condition) for m in gate] == [
        ("sli", "shop-availability[1m]", "isNaN(result[0]) || result[0] <= 0.001")
    ]
    assert [s for s in strategy.steps if not isinstance(s, Analyze)] == [
        step for weight in (5, 25, 50, 100) for step in (SetWeight(weight), Pause(5 * MINUTE))
    ]
