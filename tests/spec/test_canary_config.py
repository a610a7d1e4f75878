"""Kayenta canary configs: what each field means, and every problem as ``FILE:PATH: message``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from opsplane.domain.canary import EffectSize, MetricConfig, ScoreThresholds
from opsplane.errors import SpecError
from opsplane.spec.canary_config import load_canary_config, parse_canary_config


def config(*metrics: dict[str, Any], **top: Any) -> dict[str, Any]:
    """A config with these metrics and top-level keys."""
    return {"metrics": list(metrics), **top}


def metric(name: str = "latency", **canary: Any) -> dict[str, Any]:
    return {
        "name": name,
        "query": {"type": "prometheus", "metricName": "x"},
        "groups": ["g"],
        "analysisConfigurations": {"canary": canary},
    }


def problems(data: Any) -> list[str]:
    with pytest.raises(SpecError) as info:
        parse_canary_config(data, "canary.json")
    return [str(p) for p in info.value.problems]


def test_defaults_are_netflix_aca_judges() -> None:
    (m,) = parse_canary_config(config(metric())).metrics
    assert m == MetricConfig("latency", ("g",))
    assert (m.direction, m.nan_strategy, m.outlier_strategy, m.outlier_factor) == (
        "either",
        "remove",
        "keep",
        3.0,
    )
    assert m.effect_size == EffectSize("meanRatio", 1.0, 1.0, 1.0, 1.0)


def test_every_canary_setting_is_read() -> None:
    settings = {
        "direction": "increase",
        "nanStrategy": "replace",
        "critical": True,
        "mustHaveData": True,
        "muted": True,
        "effectSize": {"measure": "cles", "allowedIncrease": 0.8, "criticalIncrease": 0.9},
        "outliers": {"strategy": "remove", "outlierFactor": 2},
    }
    (m,) = parse_canary_config(config(metric(**settings))).metrics
    assert m == MetricConfig(
        "latency",
        ("g",),
        direction="increase",
        nan_strategy="replace",
        outlier_strategy="remove",
        outlier_factor=2.0,
        critical=True,
        must_have_data=True,
        muted=True,
        effect_size=EffectSize("cles", 0.8, 0.5, 0.9, 0.5),
    )


def test_the_old_extensions_key_is_read_and_analysis_configurations_wins() -> None:
    old = {"name": "a", "extensions": {"canary": {"direction": "decrease"}}}
    both = {
        **metric("b", direction="increase"),
        "extensions": {"canary": {"direction": "decrease"}},
    }
    a, b = parse_canary_config(config(old, both)).metrics
    assert (a.direction, b.direction) == ("decrease", "increase")


def test_classifier_weights_and_thresholds() -> None:
    classifier = {
        "groupWeights": {"g": 70, "h": 30},
        "scoreThresholds": {"pass": 90, "marginal": 60},
    }
    canary = parse_canary_config(config(metric(), classifier=classifier))
    assert dict(canary.group_weights) == {"g": 70.0, "h": 30.0}
    assert canary.thresholds == ScoreThresholds(90.0, 60.0)
    assert parse_canary_config(config(metric())).thresholds is None


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(
            config(metric(direction="up")),
            "canary.json:metrics[0].analysisConfigurations.canary.direction: "
            "Input should be 'increase', 'decrease' or 'either'",
            id="an unknown direction is a problem, not 'either' as in Kayenta",
        ),
        pytest.param(
            config(metric(critcal=True)),
            "canary.json:metrics[0].analysisConfigurations.canary.critcal: unknown field",
            id="a misspelt key in the canary block is a problem",
        ),
        pytest.param(
            config(metric(critical="yes")),
            "canary.json:metrics[0].analysisConfigurations.canary.critical: "
            "Input should be a valid boolean",
            id="critical must be a JSON boolean",
        ),
        pytest.param(
            config(metric(effectSize={"allowedIncrease": "1.2"})),
            "canary.json:metrics[0].analysisConfigurations.canary.effectSize.allowedIncrease: "
            "Input should be a valid number",
            id="effect sizes must be JSON numbers",
        ),
        pytest.param(
            config(metric(outliers={"strategy": "remove", "outlierFactor": 0})),
            "canary.json:metrics[0].analysisConfigurations.canary.outliers.outlierFactor: "
            "Input should be greater than 0",
            id="the outlier factor must be positive (IQRDetector's require)",
        ),
        pytest.param(
            config(metric(nanStrategy="drop")),
            "canary.json:metrics[0].analysisConfigurations.canary.nanStrategy: "
            "Input should be 'remove' or 'replace'",
            id="nanStrategy is remove or replace",
        ),
        pytest.param(
            {"metrics": []},
            "canary.json:metrics: List should have at least 1 item after validation, not 0",
            id="a config needs metrics",
        ),
        pytest.param(
            {"description": "no metrics"},
            "canary.json:metrics: is required",
            id="metrics is required",
        ),
        pytest.param(
            config({"groups": ["g"]}),
            "canary.json:metrics[0].name: is required",
            id="a metric needs a name",
        ),
        pytest.param(
            config(metric("a"), metric("a")),
            "canary.json:metrics[1].name: duplicate metric name 'a'",
            id="metric names are unique",
        ),
        pytest.param(
            config(metric(), classifier={"groupWeights": {"g": 80, "h": 30}}),
            "canary.json:classifier.groupWeights: group weights add up to 110; "
            "they must not exceed 100",
            id="group weights add up to at most 100",
        ),
        pytest.param(
            config(metric(), classifier={"groupWeights": {"g": -1}}),
            "canary.json:classifier.groupWeights.g: Input should be greater than or equal to 0",
            id="a group weight is not negative",
        ),
        pytest.param(
            config(metric(), classifier={"scoreThresholds": {"pass": 50, "marginal": 75}}),
            "canary.json:classifier.scoreThresholds.marginal: marginal (75) must not be above "
            "pass (50)",
            id="the marginal threshold is not above the pass threshold",
        ),
        pytest.param(
            config(metric(), judge={"name": "dredd-v1.0"}),
            "canary.json:judge.name: judge 'dredd-v1.0' is not supported; opsplane implements "
            "NetflixACAJudge-v1.0",
            id="another judge is refused rather than silently replaced",
        ),
        pytest.param(
            [1, 2],
            "canary.json: expected a JSON object: a Kayenta canary configuration",
            id="a config is an object",
        ),
    ],
)
def test_problems(data: Any, expected: str) -> None:
    assert expected in problems(data)


def test_every_problem_is_reported_at_once() -> None:
    data = config(metric("a", direction="up"), metric("b", muted=1))
    assert len(problems(data)) == 2


def test_a_file_that_is_not_json(tmp_path: Path) -> None:
    path = tmp_path / "canary.json"
    path.write_text('{"metrics": [\n  {"name": "a",}\n]}', encoding="utf-8")
    with pytest.raises(SpecError) as info:
        load_canary_config(path)
    (problem,) = info.value.problems
    message = "invalid JSON: Expecting property name enclosed in double quotes"
    assert str(problem) == f"{path}:line 2 column 16: {message}"


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as info:
        load_canary_config(tmp_path / "nope.json")
    assert str(info.value.problems[0]).startswith(f"{tmp_path / 'nope.json'}: cannot read file:")
