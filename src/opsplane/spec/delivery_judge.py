"""``delivery.analysis.judge``: the Kayenta canary judge as a rollout gate.

A judge block is a Kayenta canary configuration written in the spec's YAML, plus where each
metric's samples come from:

```yaml
judge:
  lookback: 10m                     # samples cover [at - lookback, at] ...
  step: 30s                         # ... one every step (a range query's instants)
  thresholds: {pass: 95, marginal: 75}       # classifier.scoreThresholds
  group_weights: {errors: 100}               # classifier.groupWeights (optional)
  metrics:
    - name: error-rate
      groups: [errors]                       # optional; default: [<name>]
      query: sum(rate(http_requests_total{version="{{version}}",code=~"5.."}[1m]))
      direction: increase                    # the rest: analysisConfigurations.canary
      critical: true
```

The metrics, thresholds and weights are handed to
:func:`~opsplane.spec.canary_config.parse_canary_config` as the Kayenta JSON they stand for
(``{"metrics": [{"name", "groups", "analysisConfigurations": {"canary": {...}}}],
"classifier": {...}}``), so the judge block and ``opsplane canary judge --config`` accept and
refuse exactly the same settings. Its problems are moved back to where they are in the spec:
``metrics[0].analysisConfigurations.canary.direction`` becomes
``delivery.analysis.judge.metrics[0].direction``.

Added in 0.2.0.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field, field_validator

from opsplane.domain.delivery import (
    DEFAULT_LOOKBACK,
    DEFAULT_SAMPLE_STEP,
    VERSION_PLACEHOLDER,
    JudgePolicy,
    JudgeQuery,
)
from opsplane.domain.duration import format_duration, parse_duration
from opsplane.errors import Problem, SpecError
from opsplane.spec.canary_config import parse_canary_config
from opsplane.spec.documents import Document
from opsplane.spec.edge import Strict

MAX_SAMPLES = 1_000
"""Samples per version and metric at most (``lookback / step + 1``): each is one query."""

_METRIC_KEYS = ("name", "groups")
"""Keys of a judge metric that are Kayenta's ``metrics[]`` keys; ``query`` is opsplane's."""

_MOVES = (
    (
        re.compile(r"^metrics\[(\d+)\]\.(?:analysisConfigurations|extensions)\.canary"),
        r"metrics[\1]",
    ),
    (re.compile(r"^classifier\.groupWeights"), "group_weights"),
    (re.compile(r"^classifier\.scoreThresholds"), "thresholds"),
    (re.compile(r"^classifier$"), "thresholds"),
)
"""Kayenta config paths -> judge block paths (anything else is at the same path)."""


def _duration(value: str) -> str:
    parse_duration(value)  # raises ValueError with the reason
    return value


class JudgeSpec(Strict):
    """The judge block; metrics, thresholds and weights are checked as Kayenta's config."""

    lookback: str = Field(format_duration(DEFAULT_LOOKBACK), description="Samples' window.")
    step: str = Field(format_duration(DEFAULT_SAMPLE_STEP), description="Between two samples.")
    thresholds: dict[str, Any] = Field(description="{pass: N, marginal: N}: scoreThresholds.")
    group_weights: dict[str, Any] = Field(default_factory=dict)
    metrics: list[dict[str, Any]] = Field(min_length=1)

    _durations = field_validator("lookback", "step")(_duration)


def judge_policy(
    spec: JudgeSpec, doc: Document, *at: str | int
) -> tuple[JudgePolicy | None, list[Problem]]:
    """The judge of a parsed block at path ``at``; ``None`` with its problems."""
    lookback, step = parse_duration(spec.lookback), parse_duration(spec.step)
    problems = _sampling_problems(doc, at, lookback, step)
    queries: list[JudgeQuery] = []
    for i, metric in enumerate(spec.metrics):
        query = metric.get("query")
        if not isinstance(query, str) or VERSION_PLACEHOLDER not in query:
            message = (
                "is required"
                if query is None
                else f"must be a query with {VERSION_PLACEHOLDER} in it (else control and "
                "experiment are the same series)"
            )
            problems.append(doc.problem(message, *at, "metrics", i, "query"))
        else:
            queries.append(JudgeQuery(str(metric.get("name", "")), query))
    try:
        config = parse_canary_config(_kayenta(spec), doc.file)
    except SpecError as exc:
        return None, problems + [_moved(doc, at, p) for p in exc.problems]
    if problems or config.thresholds is None:
        return None, problems
    return JudgePolicy(config, tuple(queries), config.thresholds, lookback, step), []


def _sampling_problems(
    doc: Document, at: tuple[str | int, ...], lookback: int, step: int
) -> list[Problem]:
    if step > lookback:
        return [doc.problem("must not be longer than lookback", *at, "step")]
    if lookback // step + 1 > MAX_SAMPLES:
        message = (
            f"lookback / step must give at most {MAX_SAMPLES} samples, not {lookback // step + 1}"
        )
        return [doc.problem(message, *at, "step")]
    return []


def _kayenta(spec: JudgeSpec) -> dict[str, Any]:
    """The Kayenta canary configuration the block stands for."""
    metrics = []
    for metric in spec.metrics:
        canary = {k: v for k, v in metric.items() if k not in (*_METRIC_KEYS, "query")}
        kayenta = {k: metric[k] for k in _METRIC_KEYS if k in metric}
        if "groups" not in kayenta and isinstance(metric.get("name"), str):
            # Kayenta scores grouped metrics only (ScoringHelper); its UI always sets a group.
            # Without one, a judge whose metrics all pass would score 0 and fail.
            kayenta["groups"] = [metric["name"]]
        metrics.append({**kayenta, "analysisConfigurations": {"canary": canary}})
    classifier = {"groupWeights": spec.group_weights, "scoreThresholds": spec.thresholds}
    return {"metrics": metrics, "classifier": classifier}


def _moved(doc: Document, at: tuple[str | int, ...], problem: Problem) -> Problem:
    """A problem of the Kayenta config, at its place in the spec."""
    path = problem.path
    for pattern, replacement in _MOVES:
        path = pattern.sub(replacement, path)
    base = doc.path(*at)
    return Problem(doc.file, f"{base}{'' if path.startswith('[') else '.'}{path}", problem.message)
