"""A service's delivery policy (the spec's ``delivery:``), and the rollout strategy it means.

The policy says how a new version goes out: canary weights or blue-green, the pauses, and
which of the service's SLOs gate each step. Each gating SLO becomes one analysis metric: the
SLO's error ratio over the analysis interval must stay within the error budget,
``result[0] <= 1 - objective`` (a ratio with no traffic, NaN, passes: no request is not a bad
request). The same metrics drive opsplane's own rollouts (:func:`rollout_strategy`, provider
``sli``) and the generated Argo Rollouts ``AnalysisTemplate``.

A policy may also gate each step on the Kayenta canary judge (:class:`JudgePolicy`): one more
metric, provider ``judge``, whose ``query`` is the service's name. The provider looks the
judge up by that name and compares the stable version's series (control) with the canary's
(experiment); opsplane's rollouts only, Argo has no such template here.

Added in 0.1.0. The judge gate was added in 0.2.0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal, TypeAlias

from opsplane.domain.analysis import AnalysisMetric
from opsplane.domain.canary import CanaryConfig, ScoreThresholds
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
JUDGE_PROVIDER: Final = "judge"
"""The provider name of the canary judge's metric (``server.delivery``'s ``JudgeGate``)."""
JUDGE_METRIC: Final = "canary-judge"
"""The name of the judge's analysis metric (SLO gates may not use it)."""
VERSION_PLACEHOLDER: Final = "{{version}}"
"""Replaced in judge queries by the stable version (control) or the canary's (experiment)."""
DEFAULT_LOOKBACK: Final[Millis] = 10 * MINUTE
DEFAULT_SAMPLE_STEP: Final[Millis] = 30_000


@dataclass(frozen=True, slots=True)
class JudgeQuery:
    """Where one judged metric's samples come from.

    Attributes:
        metric: The name of a metric of the judge's :class:`CanaryConfig`.
        query: An instant query (PromQL) with :data:`VERSION_PLACEHOLDER` in it.
    """

    metric: str
    query: str

    def for_version(self, version: str) -> str:
        """The query of one version's series."""
        return self.query.replace(VERSION_PLACEHOLDER, version)


@dataclass(frozen=True, slots=True)
class JudgePolicy:
    """The Kayenta judge as a step gate.

    Before each measurement, every query is evaluated at ``at - lookback``, then every
    ``step`` until ``at`` (a Prometheus range query's instants), once per version; the two
    series are the judge's control and experiment samples.

    Attributes:
        config: The metrics' classifier settings and group weights (Kayenta's canary config).
        queries: One query per metric of ``config``, in its order.
        thresholds: ``scoreThresholds``: pass and marginal scores.
        lookback: The window the samples cover.
        step: Time between two samples.
    """

    config: CanaryConfig
    queries: tuple[JudgeQuery, ...]
    thresholds: ScoreThresholds
    lookback: Millis = DEFAULT_LOOKBACK
    step: Millis = DEFAULT_SAMPLE_STEP

    def instants(self, at: Millis) -> list[Millis]:
        """``at - lookback``, then every ``step`` while not after ``at`` (``at`` itself when
        ``lookback`` is a multiple of ``step``)."""
        return list(range(at - self.lookback, at + 1, self.step))


@dataclass(frozen=True, slots=True)
class AnalysisPolicy:
    """Which SLOs (and judge) gate each step, and how the analysis measures them.

    Attributes:
        slos: Names of the service's SLOs (may be empty when there is a judge).
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
    judge: JudgePolicy | None = None
    """The canary judge, one more metric of every analysis (:func:`judge_metric`)."""


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


def judge_metric(service: Service, policy: AnalysisPolicy) -> AnalysisMetric | None:
    """The judge's metric: provider ``judge``, ``query`` the service's name (its key).

    Without conditions, the verdict gives the phase as Argo's Kayenta provider does: pass is
    Successful, marginal Inconclusive, fail Failed (``JudgeProvider``).
    """
    if policy.judge is None:
        return None
    return AnalysisMetric(
        JUDGE_METRIC,
        interval=policy.interval,
        count=policy.count,
        failure_limit=policy.failure_limit,
        initial_delay=policy.initial_delay,
        provider=JUDGE_PROVIDER,
        query=service.name,
    )


def rollout_strategy(service: Service, policy: DeliveryPolicy) -> Strategy:
    """The strategy an opsplane rollout of ``service`` follows."""
    metrics: Sequence[AnalysisMetric] = ()
    if policy.analysis is not None:
        judged = judge_metric(service, policy.analysis)
        metrics = analysis_metrics(service, policy.analysis) + ((judged,) if judged else ())
    if policy.strategy == "canary":
        return canary_steps(metrics, policy.steps, policy.pause)
    return BlueGreenStrategy(
        pre_promotion=tuple(metrics),
        auto_promote=policy.auto_promote,
        auto_promotion_delay=policy.auto_promotion_delay,
        scale_down_delay=policy.scale_down_delay,
    )
