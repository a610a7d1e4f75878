"""Kayenta canary configuration JSON -> :class:`~opsplane.domain.canary.CanaryConfig`.

Reads what Kayenta's NetflixACAJudge reads (``NetflixACAJudge.classifyMetric``,
``ScoringHelper.score``): ``metrics[].name``, ``metrics[].groups``, each metric's
``analysisConfigurations.canary`` (or the older ``extensions.canary``, as in Kayenta's own
``test-config.json``; ``analysisConfigurations`` wins when both are there), and
``classifier.groupWeights`` and ``classifier.scoreThresholds``. Everything else of a Kayenta
config (``query``, ``templates``, ``applications``, ...) is ignored, as the judge ignores it.

The ``canary`` block is checked strictly although Kayenta falls back to defaults: an unknown key
(``critcal``) or value (``direction: "up"``) is reported rather than silently meaning
"not critical" or "either". Every problem is ``FILE:PATH: message``.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AllowInfNan, Field, StrictBool
from pydantic import Strict as StrictValue

from opsplane.domain.canary import CanaryConfig, EffectSize, MetricConfig, ScoreThresholds
from opsplane.errors import Problem, SpecError
from opsplane.spec.documents import Document
from opsplane.spec.edge import Lenient, Strict, parse_model

JUDGE_NAME = "NetflixACAJudge-v1.0"
"""The only judge opsplane implements (``NetflixACAJudge.judgeName``)."""

Number = Annotated[float, StrictValue(), AllowInfNan(False)]
"""A JSON number (not a string of one), finite."""


class _EffectSize(Strict):
    measure: Literal["meanRatio", "cles"] = "meanRatio"
    allowed_increase: Number | None = Field(None, alias="allowedIncrease")
    allowed_decrease: Number | None = Field(None, alias="allowedDecrease")
    critical_increase: Number | None = Field(None, alias="criticalIncrease")
    critical_decrease: Number | None = Field(None, alias="criticalDecrease")


class _Outliers(Strict):
    strategy: Literal["remove", "keep"] = "keep"
    outlier_factor: Annotated[Number, Field(gt=0)] = Field(3.0, alias="outlierFactor")


class _Canary(Strict):
    """``analysisConfigurations.canary`` of one metric."""

    direction: Literal["increase", "decrease", "either"] = "either"
    nan_strategy: Literal["remove", "replace"] = Field("remove", alias="nanStrategy")
    critical: StrictBool = False
    must_have_data: StrictBool = Field(False, alias="mustHaveData")
    muted: StrictBool = False
    effect_size: _EffectSize = Field(
        default_factory=lambda: _EffectSize.model_validate({}), alias="effectSize"
    )
    outliers: _Outliers = Field(default_factory=lambda: _Outliers.model_validate({}))


class _Metric(Lenient):
    name: Annotated[str, Field(min_length=1)]
    groups: list[str] = Field(default_factory=list)
    analysis_configurations: dict[str, Any] = Field(
        default_factory=dict, alias="analysisConfigurations"
    )
    extensions: dict[str, Any] = Field(default_factory=dict)


class _Thresholds(Lenient):
    pass_: Number = Field(alias="pass")
    marginal: Number


class _Classifier(Lenient):
    group_weights: dict[str, Annotated[Number, Field(ge=0)]] = Field(
        default_factory=dict, alias="groupWeights"
    )
    score_thresholds: _Thresholds | None = Field(None, alias="scoreThresholds")


class _Judge(Lenient):
    name: str = JUDGE_NAME


class _Config(Lenient):
    metrics: Annotated[list[_Metric], Field(min_length=1)]
    classifier: _Classifier = Field(default_factory=lambda: _Classifier.model_validate({}))
    judge: _Judge = Field(default_factory=_Judge)


def load_canary_config(path: str | Path) -> CanaryConfig:
    """Read and check a Kayenta canary configuration file (else :class:`SpecError`)."""
    return parse_canary_config(read_json(path), str(path))


def read_json(path: str | Path) -> Any:
    """A JSON file's content; an unreadable file or a syntax error is a :class:`SpecError`."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError([Problem(name, "", f"cannot read file: {exc}")]) from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        raise SpecError([Problem(name, where, f"invalid JSON: {exc.msg}")]) from exc


def parse_canary_config(data: Any, file: str = "<canary config>") -> CanaryConfig:
    """Check a loaded canary configuration.

    Raises:
        SpecError: one problem per finding.
    """
    doc = Document(file, 0, 1, data)
    if not isinstance(data, dict):
        raise SpecError([doc.problem("expected a JSON object: a Kayenta canary configuration")])
    model, problems = parse_model(_Config, doc, data)
    if model is None:
        raise SpecError(problems)
    metrics = [_metric(doc, i, m, problems) for i, m in enumerate(model.metrics)]
    problems += _whole_config_problems(doc, model)
    if problems:
        raise SpecError(problems)
    thresholds = model.classifier.score_thresholds
    return CanaryConfig(
        tuple(m for m in metrics if m is not None),
        dict(model.classifier.group_weights),
        None if thresholds is None else ScoreThresholds(thresholds.pass_, thresholds.marginal),
    )


def _metric(
    doc: Document, index: int, metric: _Metric, problems: list[Problem]
) -> MetricConfig | None:
    """One metric with its ``canary`` block (appends problems; ``None`` when it has some)."""
    key, raw = _canary_block(metric)
    canary, found = parse_model(_Canary, doc, raw, "metrics", index, key, "canary")
    problems += found
    if canary is None:
        return None
    e = canary.effect_size
    return MetricConfig(
        name=metric.name,
        groups=tuple(metric.groups),
        direction=canary.direction,
        nan_strategy=canary.nan_strategy,
        outlier_strategy=canary.outliers.strategy,
        outlier_factor=canary.outliers.outlier_factor,
        critical=canary.critical,
        must_have_data=canary.must_have_data,
        muted=canary.muted,
        effect_size=EffectSize.for_measure(
            e.measure,
            allowed_increase=e.allowed_increase,
            allowed_decrease=e.allowed_decrease,
            critical_increase=e.critical_increase,
            critical_decrease=e.critical_decrease,
        ),
    )


def _canary_block(metric: _Metric) -> tuple[str, Any]:
    """Where the metric's canary settings are: ``analysisConfigurations`` or ``extensions``."""
    if "canary" in metric.analysis_configurations or "canary" not in metric.extensions:
        return "analysisConfigurations", metric.analysis_configurations.get("canary") or {}
    return "extensions", metric.extensions["canary"] or {}


def _whole_config_problems(doc: Document, model: _Config) -> list[Problem]:
    """Checks across fields: unique metric names, weights, threshold order, the judge."""
    problems: list[Problem] = []
    counts = Counter(m.name for m in model.metrics)
    for i, metric in enumerate(model.metrics):
        if counts[metric.name] > 1:
            problems.append(
                doc.problem(f"duplicate metric name {metric.name!r}", "metrics", i, "name")
            )
    total = sum(model.classifier.group_weights.values())
    if total > 100:
        message = f"group weights add up to {total:g}; they must not exceed 100"
        problems.append(doc.problem(message, "classifier", "groupWeights"))
    thresholds = model.classifier.score_thresholds
    if thresholds is not None and thresholds.marginal > thresholds.pass_:
        message = (
            f"marginal ({thresholds.marginal:g}) must not be above pass ({thresholds.pass_:g})"
        )
        problems.append(doc.problem(message, "classifier", "scoreThresholds", "marginal"))
    if model.judge.name != JUDGE_NAME:
        message = f"judge {model.judge.name!r} is not supported; opsplane implements {JUDGE_NAME}"
        problems.append(doc.problem(message, "judge", "name"))
    return problems
