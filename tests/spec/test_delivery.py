"""The ``delivery:`` section of opsplane/v1 specs: a policy, or problems with file and path."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from opsplane.domain.delivery import AnalysisPolicy, DeliveryPolicy
from opsplane.spec import load_paths
from opsplane.spec.delivery import deliveries
from tests.cli.test_cli import service


def load(tmp_path: Path, delivery: Any) -> tuple[list[DeliveryPolicy], list[str]]:
    spec = {**service("checkout", 99.9), "delivery": delivery}
    path = tmp_path / "checkout.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    found, problems = deliveries(load_paths([path]))
    return [policy for _, policy in found], [f"{p.path}: {p.message}" for p in problems]


def test_the_design_example_parses_with_argo_defaults(tmp_path: Path) -> None:
    delivery = {
        "strategy": "canary",
        "steps": [5, 25, 50, 100],
        "analysis": {"interval": "1m", "failure_limit": 3, "metrics": ["availability"]},
    }
    assert load(tmp_path, delivery) == (
        [
            DeliveryPolicy(
                "canary", (5, 25, 50, 100), 0, AnalysisPolicy(("availability",), 60_000, 5, 3, 0)
            )
        ],
        [],
    )


def test_argo_spellings_and_manual_pauses_are_accepted(tmp_path: Path) -> None:
    delivery = {
        "strategy": "blueGreen",
        "autoPromotionEnabled": False,
        "scaleDownDelay": "10m",
        "pause": "manual",
        "analysis": {"failureLimit": 2, "initialDelay": "30s", "metrics": ["availability"]},
    }
    [policy], problems = load(tmp_path, delivery)
    assert problems == []
    assert (policy.strategy, policy.auto_promote, policy.scale_down_delay, policy.pause) == (
        "blue-green",
        False,
        600_000,
        None,
    )
    assert policy.analysis == AnalysisPolicy(("availability",), 60_000, 5, 2, 30_000)


@pytest.mark.parametrize(
    ("delivery", "problem"),
    [
        ({"steps": [5, 150]}, "delivery.steps: weights must be within 1..100, not 150"),
        ({"strategy": "linear"}, "delivery.strategy: Input should be 'canary', 'blue-green'"),
        ({"pause": "soon"}, "delivery.pause: invalid duration 'soon'"),
        ({"analysis": {"metrics": ["latency"]}}, "delivery.analysis.metrics[0]: no SLO named"),
        ({"analysis": {"metrics": []}}, "delivery.analysis.metrics: List should have at least"),
        ({"canary": {}}, "delivery.canary: unknown field"),
    ],
    ids=[
        "a weight above 100",
        "an unknown strategy",
        "a pause that is no duration",
        "an analysis of an SLO the service does not have",
        "an analysis of nothing",
        "a misspelt key",
    ],
)
def test_a_bad_delivery_section_is_one_problem_at_its_path(
    tmp_path: Path, delivery: dict[str, Any], problem: str
) -> None:
    policies, problems = load(tmp_path, delivery)
    assert policies == []
    assert len(problems) == 1
    assert problems[0].startswith(problem)
