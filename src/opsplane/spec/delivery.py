"""The ``delivery:`` section of an ``opsplane/v1`` ``Service``, parsed into a policy.

```yaml
delivery:
  strategy: canary           # canary | blue-green
  steps: [5, 25, 50, 100]    # canary weights, percent
  pause: 5m                  # after each step's analysis; "manual" waits for a promote
  analysis: {interval: 1m, count: 5, failure_limit: 0, metrics: [availability]}
  # blue-green only:
  auto_promote: true
  auto_promotion_delay: 0s
  scale_down_delay: 30s
```

Keys are snake_case like the rest of the format; Argo Rollouts' camelCase names
(``failureLimit``, ``initialDelay``, ``autoPromotionEnabled``, ``scaleDownDelay``...) are
accepted too. ``analysis.metrics`` names SLOs of the same service. Every problem carries the
file and path, as all spec errors do.

``analysis.judge`` gates each step on the Kayenta canary judge too (docs/rollouts.md):

```yaml
  analysis:
    judge:
      lookback: 10m
      step: 30s
      thresholds: {pass: 95, marginal: 75}
      group_weights: {errors: 100}          # optional, classifier.groupWeights
      metrics:
        - name: error-rate
          query: sum(rate(http_requests_total{version="{{version}}",code=~"5.."}[1m]))
          direction: increase                # and any other key of Kayenta's canary block
          critical: true
```

A judge block is a Kayenta canary configuration written in YAML: it is checked by
:func:`opsplane.spec.canary_config.parse_canary_config` (one metric's keys besides ``name``,
``groups`` and ``query`` are its ``analysisConfigurations.canary``, in snake_case or Kayenta's
camelCase), and its problems are reported at their place in the spec.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import AliasChoices, Field, field_validator

from opsplane.domain.delivery import (
    DEFAULT_COUNT,
    JUDGE_METRIC,
    AnalysisPolicy,
    DeliveryPolicy,
    JudgePolicy,
)
from opsplane.domain.duration import parse_duration
from opsplane.domain.rollout import DEFAULT_CANARY_WEIGHTS
from opsplane.errors import Problem
from opsplane.spec.delivery_judge import JudgeSpec, judge_policy
from opsplane.spec.edge import Strict, parse_model
from opsplane.spec.parsed import Parsed

if TYPE_CHECKING:  # the loader checks delivery sections through this module
    from opsplane.spec.loader import LoadResult

MANUAL = "manual"


def _duration(value: str) -> str:
    parse_duration(value)  # raises ValueError with the reason
    return value


def _zero_or_duration(value: str) -> str:
    return value if value in ("0", "0s") else _duration(value)


class AnalysisSpec(Strict):
    """Which SLOs (and judge) gate each step, and how often they are measured."""

    metrics: list[str] = Field(
        default_factory=list, description="Names of this service's SLOs (or none with a judge)."
    )
    interval: str = "1m"
    count: int = Field(DEFAULT_COUNT, ge=1)
    failure_limit: int = Field(
        0, ge=0, validation_alias=AliasChoices("failure_limit", "failureLimit")
    )
    initial_delay: str = Field("0s", validation_alias=AliasChoices("initial_delay", "initialDelay"))

    judge: JudgeSpec | None = Field(None, description="The Kayenta canary judge as a gate.")

    _interval = field_validator("interval")(_duration)
    _delay = field_validator("initial_delay")(_zero_or_duration)


class DeliverySpec(Strict):
    """How new versions go out."""

    strategy: Literal["canary", "blue-green", "blueGreen"] = "canary"
    steps: list[int] = Field(default_factory=lambda: list(DEFAULT_CANARY_WEIGHTS), min_length=1)
    pause: str | None = Field(None, description='A duration, or "manual" to wait for a promote.')
    analysis: AnalysisSpec | None = None
    auto_promote: bool = Field(
        True, validation_alias=AliasChoices("auto_promote", "autoPromotionEnabled")
    )
    auto_promotion_delay: str = Field(
        "0s", validation_alias=AliasChoices("auto_promotion_delay", "autoPromotionDelay")
    )
    scale_down_delay: str = Field(
        "30s", validation_alias=AliasChoices("scale_down_delay", "scaleDownDelay")
    )

    @field_validator("steps")
    @classmethod
    def _weights(cls, steps: list[int]) -> list[int]:
        bad = [w for w in steps if not 0 < w <= 100]
        if bad:
            raise ValueError(f"weights must be within 1..100, not {bad[0]}")
        return steps

    @field_validator("pause")
    @classmethod
    def _pause(cls, value: str | None) -> str | None:
        return value if value is None or value == MANUAL else _zero_or_duration(value)

    _delays = field_validator("auto_promotion_delay", "scale_down_delay")(_zero_or_duration)


def _millis(text: str) -> int:
    return 0 if text in ("0", "0s") else parse_duration(text)


def _policy(spec: DeliverySpec, judge: JudgePolicy | None) -> DeliveryPolicy:
    analysis = None
    if spec.analysis is not None:
        a = spec.analysis
        analysis = AnalysisPolicy(
            tuple(a.metrics),
            _millis(a.interval),
            a.count,
            a.failure_limit,
            _millis(a.initial_delay),
            judge,
        )
    pause = None if spec.pause == MANUAL else _millis(spec.pause or "0")
    return DeliveryPolicy(
        "canary" if spec.strategy == "canary" else "blue-green",
        tuple(spec.steps),
        pause,
        analysis,
        spec.auto_promote,
        _millis(spec.auto_promotion_delay),
        _millis(spec.scale_down_delay),
    )


def parse_delivery(parsed: Parsed) -> tuple[DeliveryPolicy | None, list[Problem]]:
    """The policy of one parsed service; ``None`` without a ``delivery:`` section."""
    data: Any = parsed.doc.data
    raw = data.get("delivery") if isinstance(data, dict) else None
    if raw is None:
        return None, []
    spec, problems = parse_model(DeliverySpec, parsed.doc, raw, "delivery")
    problems += _unknown_slos(parsed, raw)
    judge: JudgePolicy | None = None
    if spec is not None and spec.analysis is not None:
        problems += _gate_problems(parsed, spec.analysis)
        if spec.analysis.judge is not None:
            judge, found = judge_policy(
                spec.analysis.judge, parsed.doc, "delivery", "analysis", "judge"
            )
            problems += found
    return (None if problems or spec is None else _policy(spec, judge)), problems


def _gate_problems(parsed: Parsed, analysis: AnalysisSpec) -> list[Problem]:
    """An analysis gates on something, and its metric names stay unique."""
    if not analysis.metrics and analysis.judge is None:
        message = "List should have at least 1 item (an SLO) unless a judge is given"
        return [parsed.doc.problem(message, "delivery", "analysis", "metrics")]
    if analysis.judge is not None and JUDGE_METRIC in analysis.metrics:
        i = analysis.metrics.index(JUDGE_METRIC)
        message = f"{JUDGE_METRIC!r} is the judge's metric; an SLO of that name cannot gate too"
        return [parsed.doc.problem(message, "delivery", "analysis", "metrics", i)]
    return []


def _unknown_slos(parsed: Parsed, raw: Any) -> list[Problem]:
    """Analysis metrics that name no SLO of the service (checked even if the rest is invalid)."""
    analysis = raw.get("analysis") if isinstance(raw, dict) else None
    names = analysis.get("metrics") if isinstance(analysis, dict) else None
    known = {slo.name for slo in parsed.service.slos}
    return [
        parsed.doc.problem(
            f"no SLO named {name!r} in this service (it has {', '.join(sorted(known))})",
            "delivery",
            "analysis",
            "metrics",
            i,
        )
        for i, name in enumerate(names if isinstance(names, list) else [])
        if isinstance(name, str) and name not in known
    ]


def deliveries(loaded: LoadResult) -> tuple[list[tuple[Parsed, DeliveryPolicy]], list[Problem]]:
    """Every service with a delivery policy, and every problem in those policies."""
    found: list[tuple[Parsed, DeliveryPolicy]] = []
    problems: list[Problem] = []
    for parsed in loaded.parsed:
        policy, found_problems = parse_delivery(parsed)
        problems += found_problems
        if policy is not None:
            found.append((parsed, policy))
    return found, problems
