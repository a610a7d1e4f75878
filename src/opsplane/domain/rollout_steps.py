"""The parts of a rollout: its steps, its two strategies, and the commands it emits.

Steps and strategies are Argo Rollouts' (``spec.strategy.canary.steps``,
``spec.strategy.blueGreen``); commands are what :mod:`opsplane.domain.rollout` asks a runner to
carry out. All are frozen values, so a rollout's state can be stored and compared whole.

Added in 0.1.0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, TypeAlias

from opsplane.domain.analysis import AnalysisMetric
from opsplane.types import Millis

DEFAULT_CANARY_WEIGHTS: Final = (5, 25, 50, 100)
DEFAULT_SCALE_DOWN_DELAY: Final[Millis] = 30_000
"""Argo's ``scaleDownDelaySeconds`` default (``defaults.DefaultScaleDownDelaySeconds``)."""


@dataclass(frozen=True, slots=True)
class SetWeight:
    """Send ``percent`` of the traffic to the new version (``setWeight``)."""

    percent: int


@dataclass(frozen=True, slots=True)
class Pause:
    """Wait ``duration`` ms, or until promoted when ``None`` (``pause: {duration}``)."""

    duration: Millis | None = None


@dataclass(frozen=True, slots=True)
class Analyze:
    """Run an analysis and wait for its verdict (an inline ``analysis`` step)."""

    metrics: tuple[AnalysisMetric, ...]


@dataclass(frozen=True, slots=True)
class ScaleDownOld:
    """Blue-green: after ``delay`` ms, scale the old version down; it cannot come back after."""

    delay: Millis


Step: TypeAlias = SetWeight | Pause | Analyze | ScaleDownOld


@dataclass(frozen=True, slots=True)
class CanaryStrategy:
    """Canary steps, in order (``spec.strategy.canary.steps``)."""

    steps: tuple[Step, ...]


@dataclass(frozen=True, slots=True)
class BlueGreenStrategy:
    """``spec.strategy.blueGreen``, durations in milliseconds."""

    pre_promotion: tuple[AnalysisMetric, ...] = ()
    post_promotion: tuple[AnalysisMetric, ...] = ()
    auto_promote: bool = True
    auto_promotion_delay: Millis = 0
    scale_down_delay: Millis = DEFAULT_SCALE_DOWN_DELAY


Strategy: TypeAlias = CanaryStrategy | BlueGreenStrategy


def canary_steps(
    metrics: Sequence[AnalysisMetric],
    weights: Sequence[int] = DEFAULT_CANARY_WEIGHTS,
    pause: Millis | None = 0,
) -> CanaryStrategy:
    """Each weight, then an analysis of ``metrics`` (if any), then a pause (unless 0)."""
    steps: list[Step] = []
    for weight in weights:
        steps.append(SetWeight(weight))
        if metrics:
            steps.append(Analyze(tuple(metrics)))
        if pause != 0:
            steps.append(Pause(pause))
    return CanaryStrategy(tuple(steps))


@dataclass(frozen=True, slots=True)
class SetWeights:
    """Command: route the service by ``weights`` (backend, percent)."""

    weights: tuple[tuple[str, int], ...]


@dataclass(frozen=True, slots=True)
class RecordEvent:
    """Command: record a deployment event ``version`` (e.g. ``v2 canary 25%``)."""

    version: str
    started_at: Millis
    finished_at: Millis


@dataclass(frozen=True, slots=True)
class CorrelateIncidents:
    """Command: add ``detail`` to the timeline of the service's open incidents."""

    detail: str
    at: Millis


@dataclass(frozen=True, slots=True)
class ScaleDown:
    """Command: scale ``backend`` (the old version) down."""

    backend: str


Command: TypeAlias = SetWeights | RecordEvent | CorrelateIncidents | ScaleDown


def blue_green_steps(strategy: BlueGreenStrategy) -> tuple[Step, ...]:
    """Blue-green as steps: preview, pre-promotion analysis, gate, promote, post, scale down."""
    steps: list[Step] = [SetWeight(0)]
    if strategy.pre_promotion:
        steps.append(Analyze(strategy.pre_promotion))
    if not strategy.auto_promote:
        steps.append(Pause(None))
    elif strategy.auto_promotion_delay > 0:
        steps.append(Pause(strategy.auto_promotion_delay))
    steps.append(SetWeight(100))
    if strategy.post_promotion:
        steps.append(Analyze(strategy.post_promotion))
    steps.append(ScaleDownOld(strategy.scale_down_delay))
    return tuple(steps)
