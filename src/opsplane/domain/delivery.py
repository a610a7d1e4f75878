"""A service's delivery policy (the spec's ``delivery:``), and the rollout strategy it means.

The policy says how a new version goes out: canary weights or blue-green, the pauses, and
which of the service's SLOs gate each step. Each gating SLO becomes one analysis metric: the
SLO's error ratio over the analysis interval must stay within the error budget,
``result[0] <= 1 - objective`` (a ratio with no traffic, NaN, passes: no request is not a bad
request). The same metrics drive opsplane's own rollouts (:func:`rollout_strategy`, provider
``sli``) and the generated Argo Rollouts ``AnalysisTemplate``.

Added in 0.1.0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal, TypeAlias

from opsplane.domain.analysis import AnalysisMetric
from opsplane.domain.duration import MINUTE, format_duration
from opsplane.domain.rollout import (
    DEFAULT_CANARY_WEIGHTS,
    DEFAULT_SCALE_DOWN_DELAY,
    BlueGreenStrategy,
    Strategy,
    canary_steps,
)
from opsplane.domain.slo import SLO, Service
from opsplane.types import Millis

DeliveryStrategy: TypeAlias = Literal["canary", "blue-green"]
SLI_PROVIDER: Final = "sli"
"""The provider name of SLO error-ratio metrics (:class:`opsplane.app.providers.SLIProvider`)."""
DEFAULT_COUNT: Final = 5
"""Measurements per analysis: an inline step must end, so it needs a count (Argo's ``count``)."""


@dataclass(frozen=True, slots=True)
class AnalysisPolicy:
    """Which SLOs gate each step, and how the analysis measures them.

    Attributes:
        slos: Names of the service's SLOs.
        interval: Time between measurements (also the window of each error ratio).
        count: Measurements per analysis.
        failure_limit: Failed measurements tolerated (Argo's ``failureLimit``).
        initial_delay: Wait after a step before its first measurement (``initialDelay``).
    """

    slos: tuple[str, ...]
    interval: Millis = MINUTE
    count: int = DEFAULT_COUNT
    failure_limit: int = 0
    initial_delay: Millis = 0


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    """How new versions of a service go out.

    Attributes:
        strategy: ``canary`` or ``blue-green``.
        steps: Canary weights, in percent.
        pause: After each canary step's analysis: 0 goes on at once, a duration waits, and
            ``None`` waits to be promoted.
        analysis: The SLO gate; ``None`` steps without analysis.
        auto_promote: Blue-green: promote once the pre-promotion analysis passed.
        auto_promotion_delay: Blue-green: wait this long before promoting automatically.
        scale_down_delay: Blue-green: keep the old version this long after promotion.
    """

    strategy: DeliveryStrategy = "canary"
    steps: tuple[int, ...] = DEFAULT_CANARY_WEIGHTS
    pause: Millis | None = 0
    analysis: AnalysisPolicy | None = None
    auto_promote: bool = True
    auto_promotion_delay: Millis = 0
    scale_down_delay: Millis = DEFAULT_SCALE_DOWN_DELAY


def budget_condition(slo: SLO) -> str:
    """``isNaN(result[0]) || result[0] <= <error budget ratio>``, the budget to 10 digits."""
    return f"isNaN(result[0]) || result[0] <= {slo.error_budget_ratio:.10g}"


def gating_slos(service: Service, policy: AnalysisPolicy) -> tuple[SLO, ...]:
    """The SLOs the policy names, in its order.

    Raises:
        KeyError: the service has no SLO of one of the names (the spec loader reports it).
    """
    by_name = {slo.name: slo for slo in service.slos}
    return tuple(by_name[name] for name in policy.slos)


def analysis_metrics(service: Service, policy: AnalysisPolicy) -> tuple[AnalysisMetric, ...]:
    """One metric per gating SLO: its error ratio over the interval within its budget."""
    window = format_duration(policy.interval)
    return tuple(
        AnalysisMetric(
            slo.name,
            success_condition=budget_condition(slo),
            interval=policy.interval,
            count=policy.count,
            failure_limit=policy.failure_limit,
            initial_delay=policy.initial_delay,
            provider=SLI_PROVIDER,
            query=f"{slo.id}[{window}]",
        )
        for slo in gating_slos(service, policy)
    )


def rollout_strategy(service: Service, policy: DeliveryPolicy) -> Strategy:
    """The strategy an opsplane rollout of ``service`` follows."""
    metrics: Sequence[AnalysisMetric] = (
        analysis_metrics(service, policy.analysis) if policy.analysis else ()
    )
    if policy.strategy == "canary":
        return canary_steps(metrics, policy.steps, policy.pause)
    return BlueGreenStrategy(
        pre_promotion=tuple(metrics),
        auto_promote=policy.auto_promote,
        auto_promotion_delay=policy.auto_promotion_delay,
        scale_down_delay=policy.scale_down_delay,
    )
