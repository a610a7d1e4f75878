"""The evaluation engine: read window ratios, evaluate SLOs, keep alert states.

One :meth:`Engine.tick` reads every SLO's window ratios in one batch from an
:class:`~opsplane.ports.SLIReader` (the embedded store or Prometheus), evaluates them with the
pure evaluator, and hands statuses and alert transitions to a
:class:`~opsplane.ports.StateStore` when there is one. Work per tick is proportional to the
number of SLOs and windows, never to the samples stored: the store answers each window from
prefix sums.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from opsplane.domain.alert_state import RESOLVED_RETENTION
from opsplane.domain.alerting_rules import AlertDefinition, alert_definitions
from opsplane.domain.duration import DAY, MINUTE
from opsplane.domain.evaluation import AlertStatus, AlertTransition, SLOStatus
from opsplane.domain.evaluator import SLOInput, SLOPlan, evaluate_many, plan
from opsplane.domain.slo import SLO, Service
from opsplane.domain.windows import DEFAULT_CATALOGS, AlertWindows, catalog_for
from opsplane.ports import RatioRequest, SLIReader, StateStore
from opsplane.types import Millis


@dataclass(frozen=True, slots=True)
class Tick:
    """The result of one evaluation."""

    at: Millis
    statuses: list[SLOStatus]
    transitions: list[AlertTransition]


@dataclass(frozen=True, slots=True)
class _Plan:
    """What never changes between ticks for one SLO."""

    slo: SLO
    catalog: AlertWindows
    definitions: tuple[AlertDefinition, ...]
    evaluation: SLOPlan


@dataclass
class Engine:
    """Evaluates a fixed set of services, tick after tick.

    Attributes:
        services: The services whose SLOs are evaluated.
        reader: Where window ratios come from.
        state: Where statuses and transitions go; ``None`` keeps them in memory only.
        default_period: The period of SLOs that name none.
        catalogs: Alert-window catalogs by period.
    """

    services: Sequence[Service]
    reader: SLIReader
    state: StateStore | None = None
    default_period: Millis = 30 * DAY
    catalogs: Mapping[Millis, AlertWindows] = field(default_factory=lambda: dict(DEFAULT_CATALOGS))
    _plans: list[_Plan] = field(init=False, default_factory=list)
    _previous: dict[str, dict[str, AlertStatus]] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        for service in self.services:
            for slo in service.slos:
                period = slo.period.length if slo.period else self.default_period
                catalog = catalog_for(slo.windows, period, self.catalogs, derive=True)
                assert catalog is not None  # derive=True always finds windows
                definitions = alert_definitions(slo, catalog)
                evaluation = plan(slo, catalog, self.default_period)
                self._plans.append(_Plan(slo, catalog, definitions, evaluation))
        if self.state is not None:
            for (slo_id, key), status in self.state.load_alert_states().items():
                self._previous.setdefault(slo_id, {})[key] = status

    def tick(self, at: Millis) -> Tick:
        """Evaluate every SLO at ``at`` and persist the result."""
        requests = [RatioRequest(p.slo, tuple(p.evaluation.windows_at(at))) for p in self._plans]
        ratios = self.reader.error_ratios(requests, at)
        inputs = [
            SLOInput(p.slo, p.catalog, r, p.evaluation)
            for p, r in zip(self._plans, ratios, strict=True)
        ]
        statuses, transitions = evaluate_many(inputs, self.default_period, self._previous, at=at)
        self._previous = {s.slo_id: {a.key: a for a in s.alerts} for s in statuses}
        if self.state is not None:
            self.state.save_evaluation(statuses, transitions)
        return Tick(at, statuses, transitions)

    def replay(self, at: Millis, step: Millis = MINUTE) -> Tick:
        """The state at ``at`` from evaluations every ``step`` over the time that matters.

        Without a running scheduler, alert states are rebuilt by evaluating from just before
        the longest ``for`` plus the resolved retention, so ``pending``, ``firing`` and
        ``resolved`` come out as a scheduler evaluating every ``step`` would have left them.
        """
        holds = [d.hold for p in self._plans for d in p.definitions]
        lookback = max(holds, default=0) + RESOLVED_RETENTION + step
        start = at - (lookback // step) * step
        transitions: list[AlertTransition] = []
        tick = Tick(at, [], [])
        for instant in range(start, at + 1, step):
            tick = self.tick(instant)
            transitions += tick.transitions
        return Tick(at, tick.statuses, transitions)
