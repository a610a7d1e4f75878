"""Evaluate SLOs at an instant: burn rates, error budget and alert states, from window ratios.

Pure: the caller passes the instant (epoch ms), each window's error ratio and the alert states
of the previous evaluation; nothing here reads a clock or a store. Ratios come from the metric
store (or a Prometheus server) and must be computed as PromQL computes the recorded
``slo:sli_error:ratio_rate<window>`` series: a missing ratio means the recording rule returned
no sample, NaN means it returned ``0/0``.

The numbers follow ``docs/slo-math.md``:

- burn rate over a window = error ratio / error budget (SRE Workbook, chapter 5, "Alert on burn
  rate"). The budget is Sloth's ``slo:error_budget:ratio``, ``vector(1-<objective ratio>)``, so a
  status agrees bit for bit with ``slo:current_burn_rate:ratio`` and
  ``slo:period_burn_rate:ratio`` recorded by the generated rules.
- budget remaining = 1 - period burn rate (``slo:period_error_budget_remaining:ratio``);
  negative once the budget is overspent. Consumed = 1 - remaining.
- alerts: :mod:`opsplane.domain.alerting_rules` decides whether each rule's expression holds
  and :mod:`opsplane.domain.alert_state` steps Prometheus' state machine.

A status reports a NaN ratio (no events in the window) as ``None``, like a missing one, since
neither has a meaningful burn rate; the alert predicates still tell them apart (``absent()``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from opsplane.domain.alert_state import RESOLVED_RETENTION, inactive, next_status, transition
from opsplane.domain.alerting_rules import (
    AlertDefinition,
    Ratios,
    alert_definitions,
    alert_windows,
    divide,
)
from opsplane.domain.evaluation import AlertStatus, AlertTransition, SLOStatus, WindowStatus
from opsplane.domain.periods import period_name, period_window
from opsplane.domain.slo import SLO
from opsplane.domain.windows import AlertWindows
from opsplane.types import Millis


def metadata_error_budget(slo: SLO) -> float:
    """``1 - objective / 100``: the float of Sloth's ``slo:error_budget:ratio`` recording.

    The rules print ``vector(1-<objective / 100>)`` with Go's shortest repr, which round-trips,
    so Prometheus computes this exact float. The alert thresholds use the other order,
    ``SLO.error_budget_ratio`` (see ``docs/slo-math.md``, "Error budget").
    """
    return 1 - slo.objective / 100


def known(ratio: float | None) -> float | None:
    """The ratio, or ``None`` when it is missing or NaN (no events: nothing to report)."""
    return None if ratio is None or math.isnan(ratio) else ratio


def burn_rate(ratio: float | None, error_budget: float) -> float | None:
    """``ratio / error_budget``; ``None`` without a known ratio or when it is NaN.

    The result is NaN only for ``0 / 0``: no errors against a budget of 0 (a 100 % objective).
    """
    value = known(ratio)
    return None if value is None else known(divide(value, error_budget))


def budget_remaining(period_ratio: float | None, error_budget: float) -> float | None:
    """``1 - period_ratio / error_budget``: 1 untouched, 0 spent, negative overspent."""
    burn = burn_rate(period_ratio, error_budget)
    return None if burn is None else 1 - burn


@dataclass(frozen=True, slots=True)
class SLOPlan:
    """What evaluating one SLO needs that does not change from tick to tick.

    Build it once with :func:`plan` and evaluate it every tick with :func:`evaluate_plan`; a
    scheduler evaluating 1,000 SLOs a tick then spends nothing on deriving alert rules.

    Attributes:
        slo: The SLO.
        catalog: Its alert windows (``catalog_for(..., derive=True)``).
        default_period: The period of an SLO that names none.
        definitions: ``alert_definitions(slo, catalog)``.
        windows: ``alert_windows(slo, catalog)``: the windows a status reports.
        error_budget: :func:`metadata_error_budget`, which burn rates divide by.
        period_name: The period as a status prints it.
    """

    slo: SLO
    catalog: AlertWindows
    default_period: Millis
    definitions: tuple[AlertDefinition, ...]
    windows: tuple[Millis, ...]
    error_budget: float
    period_name: str

    def period_window(self, at: Millis) -> tuple[Millis, Millis]:
        """``(start, length)`` of the period evaluated at ``at``."""
        return period_window(self.slo.period, self.default_period, at)

    def windows_at(self, at: Millis) -> list[Millis]:
        """Every window length :func:`evaluate_plan` reads at ``at``, shortest first.

        The recorded alert windows, any window an alert reads (an OpenSLO lookback may equal
        the nominal period) and the length of the period window at ``at``.
        """
        read = {w for d in self.definitions for w in d.windows}
        return sorted({*self.windows, *read, self.period_window(at)[1]})


def plan(slo: SLO, catalog: AlertWindows, default_period: Millis) -> SLOPlan:
    """Derive once what every evaluation of ``slo`` needs."""
    return SLOPlan(
        slo=slo,
        catalog=catalog,
        default_period=default_period,
        definitions=alert_definitions(slo, catalog),
        windows=tuple(alert_windows(slo, catalog)),
        error_budget=metadata_error_budget(slo),
        period_name=period_name(slo.period, default_period),
    )


def evaluation_windows(
    slo: SLO, catalog: AlertWindows, default_period: Millis, at: Millis
) -> list[Millis]:
    """Every window length :func:`evaluate` reads at ``at`` (:meth:`SLOPlan.windows_at`)."""
    return plan(slo, catalog, default_period).windows_at(at)


def evaluate_alerts(
    slo_id: str,
    definitions: Sequence[AlertDefinition],
    ratios: Ratios,
    previous: Mapping[str, AlertStatus],
    *,
    at: Millis,
    resolved_retention: Millis = RESOLVED_RETENTION,
) -> tuple[tuple[AlertStatus, ...], list[AlertTransition]]:
    """Step every alert of one SLO; ``previous`` is keyed by :attr:`AlertDefinition.key`.

    An alert whose previous status has another alert name (the rule was renamed) starts over
    from ``inactive``, as a new Prometheus rule would. Name and severity always come from the
    definition.
    """
    statuses: list[AlertStatus] = []
    transitions: list[AlertTransition] = []
    for d in definitions:
        before = previous.get(d.key)
        if before is None or before.name != d.alertname:
            before = inactive(d.key, d.alertname, d.severity)
        elif before.severity != d.severity:
            before = replace(before, severity=d.severity)
        after = next_status(
            before, holds=d.holds(ratios), hold=d.hold, at=at, resolved_retention=resolved_retention
        )
        statuses.append(after)
        change = transition(slo_id, before, after, at)
        if change is not None:
            transitions.append(change)
    return tuple(statuses), transitions


def evaluate(
    slo: SLO,
    catalog: AlertWindows,
    default_period: Millis,
    ratios: Ratios,
    previous: Mapping[str, AlertStatus],
    *,
    at: Millis,
    resolved_retention: Millis = RESOLVED_RETENTION,
) -> tuple[SLOStatus, list[AlertTransition]]:
    """The status of one SLO at ``at`` and the alert transitions of this evaluation.

    ``at`` and the options are keyword-only: ``default_period`` and ``at`` are both integers
    of milliseconds and must not be swapped by position.

    Args:
        slo: The SLO.
        catalog: Its alert windows (``catalog_for(..., derive=True)``).
        default_period: The period of an SLO that names none.
        ratios: Error ratio by window length: every window of :func:`evaluation_windows`.
        previous: Alert statuses of the previous evaluation, by alert key.
        at: The evaluation instant, epoch milliseconds.
        resolved_retention: How long a resolved alert stays ``resolved`` (Prometheus: 15m).
    """
    return evaluate_plan(
        plan(slo, catalog, default_period),
        ratios,
        previous,
        at=at,
        resolved_retention=resolved_retention,
    )


def evaluate_plan(
    slo_plan: SLOPlan,
    ratios: Ratios,
    previous: Mapping[str, AlertStatus],
    *,
    at: Millis,
    resolved_retention: Millis = RESOLVED_RETENTION,
) -> tuple[SLOStatus, list[AlertTransition]]:
    """:func:`evaluate` for a precompiled :class:`SLOPlan`."""
    slo, budget = slo_plan.slo, slo_plan.error_budget
    start, length = slo_plan.period_window(at)
    windows = tuple(
        WindowStatus(w, known(r := ratios.get(w)), burn_rate(r, budget)) for w in slo_plan.windows
    )
    period_ratio = known(ratios.get(length))
    remaining = budget_remaining(period_ratio, budget)
    alerts, transitions = evaluate_alerts(
        slo.id,
        slo_plan.definitions,
        ratios,
        previous,
        at=at,
        resolved_retention=resolved_retention,
    )
    status = SLOStatus(
        slo_id=slo.id,
        service=slo.service,
        slo=slo.name,
        objective=slo.objective,
        period=slo_plan.period_name,
        at=at,
        period_start=start,
        windows=windows,
        period_error_ratio=period_ratio,
        budget_remaining=remaining,
        budget_consumed=None if remaining is None else 1 - remaining,
        alerts=alerts,
    )
    return status, transitions


@dataclass(frozen=True, slots=True)
class SLOInput:
    """One SLO of a tick: its catalog, the window ratios read for it and, optionally, its plan.

    ``plan`` is :func:`plan` of the SLO, kept by a caller that evaluates it every tick; it is
    derived when omitted.
    """

    slo: SLO
    catalog: AlertWindows
    ratios: Ratios
    plan: SLOPlan | None = None


def evaluate_many(
    inputs: Iterable[SLOInput],
    default_period: Millis,
    previous: Mapping[str, Mapping[str, AlertStatus]],
    *,
    at: Millis,
    resolved_retention: Millis = RESOLVED_RETENTION,
) -> tuple[list[SLOStatus], list[AlertTransition]]:
    """One evaluation tick over many SLOs; ``previous`` is keyed by SLO id, then alert key."""
    statuses: list[SLOStatus] = []
    transitions: list[AlertTransition] = []
    empty: Mapping[str, AlertStatus] = {}
    for item in inputs:
        compiled = item.plan or plan(item.slo, item.catalog, default_period)
        status, changes = evaluate_plan(
            compiled,
            item.ratios,
            previous.get(item.slo.id, empty),
            at=at,
            resolved_retention=resolved_retention,
        )
        statuses.append(status)
        transitions.extend(changes)
    return statuses, transitions
