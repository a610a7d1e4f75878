"""Metric providers for analysis runs (:class:`~opsplane.ports.MetricProvider`).

Each turns a metric's ``query`` into a result and judges it by the metric's conditions, as an
Argo Rollouts provider does (``metricproviders/``). The backends stay outside ``app/``: a
provider reads through a port or a callable that the composition root wires to an adapter.

- :class:`SLIProvider`: an SLO's error ratio over a window, through an
  :class:`~opsplane.ports.SLIReader`, so the embedded store and Prometheus (or Thanos, Mimir)
  answer it alike. ``query`` is ``<slo id>`` or ``<slo id>[5m]``.
- :class:`QueryProvider`: any instant query, through a callable such as
  :meth:`MetricStore.instant <opsplane.adapters.metricstore.MetricStore.instant>`; the result
  is the vector's values, as Argo's Prometheus provider gives them (``result[0]``).
- :class:`CounterRatioProvider`: the error ratio of monotonic ``(requests, errors)`` counters
  over the requests since the previous measurement, such as the built-in proxy's per-backend
  counts; ``query`` names the counters (a backend).
- :class:`JudgeProvider`: the Kayenta judge on control and experiment samples; the result is
  the score, and with no conditions the verdict decides the phase, as in Argo's Kayenta
  provider (pass: Successful, marginal: Inconclusive, fail: Failed).
- :class:`JudgeGate`: a ``delivery:`` section's judge (provider ``judge``): the judge and the
  rollout's versions are looked up by the metric's ``query`` (the service's name), and each
  judged query is sampled at the instants of :meth:`JudgePolicy.instants
  <opsplane.domain.delivery.JudgePolicy.instants>`, for the stable and the canary version.
- :class:`BurnRateProvider`: the burn rate of an SLO from the engine's latest statuses;
  ``query`` is ``<slo id>`` (its shortest window) or ``<slo id>[1h]``.
- :class:`Providers`: picks one of these by the metric's ``provider`` name.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from opsplane.domain.analysis import (
    AnalysisMetric,
    Measurement,
    ResultValue,
    format_value,
    measurement_from_result,
)
from opsplane.domain.analysis.phases import MeasurementPhase
from opsplane.domain.canary import CanaryConfig, ScoreThresholds, judge
from opsplane.domain.delivery import JudgePolicy
from opsplane.domain.duration import format_duration, parse_duration
from opsplane.domain.evaluation import SLOStatus
from opsplane.domain.slo import SLO
from opsplane.errors import DatasourceError
from opsplane.ports import MetricProvider, RatioRequest, SLIReader
from opsplane.types import Millis

InstantQuery = Callable[[str, Millis], Mapping[Any, float]]
"""An instant query at a time: a vector as ``{labels: value}`` (``MetricStore.instant``)."""
Counters = Callable[[str], tuple[int, int] | None]
"""``(requests, errors)`` so far for a name; ``None`` when it has none."""
Samples = Mapping[str, list[float]]
SampleSource = Callable[[AnalysisMetric, Millis], tuple[Samples, Samples]]
"""The control and experiment samples a judgement at a time compares."""
Judges = Callable[[str], JudgePolicy]
"""The judge of a service, by name; raises :class:`DatasourceError` when it has none."""
Versions = Callable[[str], tuple[str, str]]
"""``(stable, canary)`` versions of a service's rollout in progress (else DatasourceError)."""

_WINDOWED = re.compile(r"^\s*(?P<id>[^\s\[\]]+)\s*(?:\[(?P<window>[^\]]+)\])?\s*$")


def _judged(metric: AnalysisMetric, result: ResultValue, at: Millis) -> Measurement:
    return measurement_from_result(metric, result, started_at=at, finished_at=at)


def _slo_and_window(query: str) -> tuple[str, Millis | None]:
    """``id`` or ``id[5m]``.

    Raises:
        DatasourceError: anything else (the analysis records an Error measurement).
    """
    match = _WINDOWED.match(query)
    if match is None:
        raise DatasourceError(f"query {query!r}: write <slo id> or <slo id>[window]")
    window = match["window"]
    try:
        return match["id"], None if window is None else parse_duration(window)
    except ValueError as exc:
        raise DatasourceError(f"query {query!r}: {exc}") from exc


@dataclass
class SLIProvider:
    """An SLO's error ratio over ``[at - window, at]``; ``result`` is ``[ratio]``.

    Args:
        reader: The embedded store or a Prometheus reader.
        slos: The SLOs by id.
        window: The window when the query names none (an analysis interval suits).
    """

    reader: SLIReader
    slos: Mapping[str, SLO]
    window: Millis = 60_000

    def measure(self, metric: AnalysisMetric, at: Millis) -> Measurement:
        """Read the ratio; no data gives ``[]`` (an Error measurement, as in Argo)."""
        slo_id, window = _slo_and_window(metric.query)
        slo = self.slos.get(slo_id)
        if slo is None:
            raise DatasourceError(f"metric {metric.name}: no SLO {slo_id!r}")
        span = window or self.window
        [ratios] = self.reader.error_ratios([RatioRequest(slo, (span,))], at)
        ratio = ratios.get(span)
        return _judged(metric, [] if ratio is None else [ratio], at)


@dataclass
class QueryProvider:
    """An instant query; ``result`` is the vector's values, ordered by their labels."""

    query: InstantQuery

    def measure(self, metric: AnalysisMetric, at: Millis) -> Measurement:
        """Run ``metric.query`` at ``at``."""
        vector = self.query(metric.query, at)
        return _judged(metric, [vector[key] for key in sorted(vector, key=repr)], at)


@dataclass
class CounterRatioProvider:
    """``errors / requests`` since the previous measurement of the same counters.

    The first measurement covers everything counted so far. Like PromQL's
    ``increase(errors[i]) / increase(requests[i])`` over the analysis interval, a canary that
    turns bad shows at once rather than being diluted by its good past. With no new request
    the result is ``[]`` (no data: an Error measurement).
    """

    counters: Counters
    _last: dict[str, tuple[int, int]] = field(default_factory=dict, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def measure(self, metric: AnalysisMetric, at: Millis) -> Measurement:
        """The ratio over the requests counted since the last call for ``metric.query``."""
        now = self.counters(metric.query)
        if now is None:
            raise DatasourceError(f"metric {metric.name}: no counters for {metric.query!r}")
        with self._lock:
            requests, errors = self._last.get(metric.query, (0, 0))
            self._last[metric.query] = now
        new_requests, new_errors = now[0] - requests, now[1] - errors
        if new_requests < 0 or new_errors < 0:  # a counter reset: count from zero again
            new_requests, new_errors = now
        result: list[float] = [new_errors / new_requests] if new_requests > 0 else []
        return _judged(metric, result, at)


@dataclass
class JudgeProvider:
    """The Kayenta judge; ``result`` is ``{"score": 87.5, "verdict": "marginal"}``.

    With conditions, they judge ``result`` (``result.score >= 90``); without, the verdict
    gives the phase as Argo's Kayenta provider does (``metricproviders/kayenta``).
    """

    config: CanaryConfig
    thresholds: ScoreThresholds
    samples: SampleSource

    def measure(self, metric: AnalysisMetric, at: Millis) -> Measurement:
        """Fetch the samples, judge them, and turn the verdict into a phase."""
        control, experiment = self.samples(metric, at)
        judgement = judge(self.config, control, experiment, self.thresholds)
        result = {"score": judgement.score, "verdict": judgement.verdict}
        if metric.success_condition or metric.failure_condition:
            return _judged(metric, result, at)
        phases: dict[str, MeasurementPhase] = {
            "pass": "Successful",
            "marginal": "Inconclusive",
            "fail": "Failed",
        }
        phase = phases[judgement.verdict]
        return Measurement(phase, at, at, format_value(result), judgement.reason or "")


def judge_samples(
    query: InstantQuery, policy: JudgePolicy, version: str, at: Millis
) -> dict[str, list[float]]:
    """One version's samples of every judged metric, by metric name.

    Each sample is the sum of the query's vector at one instant (the version's series summed,
    as ``sum(...)`` would); an instant with no series is NaN, which the metric's NaN strategy
    removes or replaces (``NetflixACAJudge.transformMetric``).
    """
    instants = policy.instants(at)
    out: dict[str, list[float]] = {}
    for judged in policy.queries:
        text = judged.for_version(version)
        vectors = (query(text, t) for t in instants)
        out[judged.metric] = [math.fsum(v.values()) if v else math.nan for v in vectors]
    return out


@dataclass
class JudgeGate:
    """The ``judge`` metric of a ``delivery:`` section, for every service.

    ``metric.query`` is the service's name: its judge comes from ``judges`` and its versions
    from ``versions`` at every measurement, then :class:`JudgeProvider` judges the stable
    version's samples (control) against the canary's (experiment).
    """

    judges: Judges
    versions: Versions
    query: InstantQuery

    def measure(self, metric: AnalysisMetric, at: Millis) -> Measurement:
        """Sample both versions over the judge's lookback and judge them."""
        policy = self.judges(metric.query)
        stable, canary = self.versions(metric.query)

        def samples(_: AnalysisMetric, when: Millis) -> tuple[Samples, Samples]:
            return (
                judge_samples(self.query, policy, stable, when),
                judge_samples(self.query, policy, canary, when),
            )

        return JudgeProvider(policy.config, policy.thresholds, samples).measure(metric, at)


@dataclass
class BurnRateProvider:
    """An SLO's burn rate from the latest statuses; ``result`` is ``[burn rate]``."""

    statuses: Callable[[], Sequence[SLOStatus]]

    def measure(self, metric: AnalysisMetric, at: Millis) -> Measurement:
        """The burn over the named window, or the shortest one."""
        slo_id, window = _slo_and_window(metric.query)
        status = next((s for s in self.statuses() if s.slo_id == slo_id), None)
        if status is None:
            raise DatasourceError(f"metric {metric.name}: no status for SLO {slo_id!r} yet")
        windows = sorted(status.windows, key=lambda w: w.window)
        chosen = windows[:1] if window is None else [w for w in windows if w.window == window]
        if not chosen:
            known = ", ".join(format_duration(w.window) for w in windows)
            raise DatasourceError(f"metric {metric.name}: SLO {slo_id} has windows {known}")
        burn = chosen[0].burn_rate
        return _judged(metric, [] if burn is None else [burn], at)


@dataclass
class Providers:
    """Dispatches on :attr:`AnalysisMetric.provider`; an empty name takes ``default``."""

    by_name: Mapping[str, MetricProvider]
    default: str = ""

    def measure(self, metric: AnalysisMetric, at: Millis) -> Measurement:
        """Ask the metric's provider.

        Raises:
            DatasourceError: no provider has that name.
        """
        name = metric.provider or self.default
        provider = self.by_name.get(name)
        if provider is None:
            known = ", ".join(sorted(self.by_name)) or "none"
            raise DatasourceError(f"metric {metric.name}: no provider {name!r} (known: {known})")
        return provider.measure(metric, at)
