"""The alerts of an SLO as data, with the exact PromQL semantics of the generated rules.

Each :class:`AlertDefinition` mirrors one alerting rule of ``render/prometheus/native.py``
(``alert_rules``): the page and ticket burn-rate tiers, the no-data alert and the OpenSLO
burn-rate conditions, with the same names, severities, ``for`` durations and thresholds. Their
predicates read window error ratios (``slo:sli_error:ratio_rate<window>``) and decide whether the
rule's expression returns a sample, as Prometheus would:

- A comparison with NaN is false (IEEE 754, which PromQL's filters follow), and a missing
  window ratio (``None``) gives an empty vector, so a comparison on it is false as well.
- ``absent()`` is true only for a missing ratio; a NaN sample is present.
- Thresholds are computed with the same float operations as the rule text: ``factor *
  error_budget`` with both printed in Go's shortest representation, which round-trips, so the
  floats are identical to the ones Prometheus multiplies.

The tiers are the SRE Workbook's multiwindow, multi-burn-rate alerts (chapter 5, "Alerting on
SLOs", recommendation 6): a condition holds when the burn rate is over its factor in both its
long and its short window, and a tier fires when any of its conditions holds.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeAlias

from opsplane.domain.alert_naming import condition_alertname, severity_level
from opsplane.domain.slo import DEFAULT_SEVERITY, SLO, BurnRateCondition, ComparisonOp
from opsplane.domain.windows import AlertWindow, AlertWindows, tier_can_fire
from opsplane.types import AlertTier, Millis

Ratios: TypeAlias = Mapping[Millis, float | None]
"""Error ratio by window length; a window that is missing or ``None`` had no sample."""

_COMPARE: dict[ComparisonOp, Callable[[float, float], bool]] = {
    "lt": operator.lt,
    "lte": operator.le,
    "gt": operator.gt,
    "gte": operator.ge,
}


def divide(dividend: float, divisor: float) -> float:
    """``dividend / divisor`` as Go (and so PromQL) divides float64s: no exception on zero.

    ``x / 0`` is ±Inf for a non-zero ``x`` and NaN for ``0 / 0`` (IEEE 754). A 100 % objective
    has an error budget of 0, so its burn rates are infinite as soon as one request fails.
    """
    if divisor != 0:
        return dividend / divisor
    if dividend == 0 or math.isnan(dividend):
        return math.nan
    return math.copysign(math.inf, dividend) * math.copysign(1.0, divisor)


@dataclass(frozen=True, slots=True)
class BurnCondition:
    """``max(ratio_<short> > (factor * eb)) and max(ratio_<long> > (factor * eb))``.

    Attributes:
        windows: The short and the long window, in the rule's order.
        factor: ``AlertWindow.burn_factor(period)``, as printed in the rule.
        error_budget: ``SLO.error_budget_ratio``, as printed in the rule.
    """

    windows: tuple[Millis, ...]
    factor: float
    error_budget: float

    @property
    def threshold(self) -> float:
        """The error ratio to exceed: PromQL evaluates ``(factor * eb)`` to this float."""
        return self.factor * self.error_budget

    def holds(self, ratios: Ratios) -> bool:
        """Every window's ratio is present and strictly over the threshold (``and``)."""
        threshold = self.threshold
        for window in self.windows:
            ratio = ratios.get(window)
            # An absent ratio leaves the vector empty; NaN > x is false in Go as in Python.
            if ratio is None or not ratio > threshold:
                return False
        return True


@dataclass(frozen=True, slots=True)
class MultiBurnRate:
    """A tier's expression: its live conditions joined with ``or``."""

    conditions: tuple[BurnCondition, ...]

    @property
    def windows(self) -> tuple[Millis, ...]:
        """The windows read, in rule order (short, long of each condition), without repeats."""
        return tuple(dict.fromkeys(w for c in self.conditions for w in c.windows))

    def holds(self, ratios: Ratios) -> bool:
        """Any condition holds."""
        return any(c.holds(ratios) for c in self.conditions)


@dataclass(frozen=True, slots=True)
class Absent:
    """``absent(slo:sli_error:ratio_rate<window>{...})``: true while no sample exists."""

    window: Millis

    @property
    def windows(self) -> tuple[Millis, ...]:
        """The one window read."""
        return (self.window,)

    def holds(self, ratios: Ratios) -> bool:
        """True only for a missing ratio; NaN is a sample and makes ``absent()`` empty."""
        return ratios.get(self.window) is None


@dataclass(frozen=True, slots=True)
class BurnRateComparison:
    """``max(ratio_<window>) without (sloth_window) / eb <op> threshold`` (OpenSLO burnrate)."""

    window: Millis
    error_budget: float
    op: ComparisonOp
    threshold: float

    @property
    def windows(self) -> tuple[Millis, ...]:
        """The lookback window."""
        return (self.window,)

    def holds(self, ratios: Ratios) -> bool:
        """The burn rate ``ratio / eb`` compares true; false for a missing ratio or NaN."""
        ratio = ratios.get(self.window)
        if ratio is None:
            return False
        return _COMPARE[self.op](divide(ratio, self.error_budget), self.threshold)


AlertExpr: TypeAlias = MultiBurnRate | Absent | BurnRateComparison


@dataclass(frozen=True, slots=True)
class AlertDefinition:
    """One alerting rule of an SLO.

    Attributes:
        key: Stable id inside the SLO: ``page``, ``ticket``, ``no_data`` or
            ``condition:<name>`` (:attr:`AlertStatus.key`).
        alertname: The rule's ``alert``.
        severity: The rule's ``severity`` label (P0..P3, or OpenSLO free text).
        sloth_severity: The rule's ``sloth_severity`` label: ``page``, ``ticket``,
            ``no_data`` or the OpenSLO severity as written.
        hold: The rule's ``for`` (0 when it has none).
        expr: The expression, as data.
    """

    key: str
    alertname: str
    severity: str
    sloth_severity: str
    hold: Millis
    expr: AlertExpr

    @property
    def windows(self) -> tuple[Millis, ...]:
        """The window ratios the expression reads."""
        return self.expr.windows

    def holds(self, ratios: Ratios) -> bool:
        """Whether the rule's expression returns a sample for these window ratios."""
        return self.expr.holds(ratios)


def tier_conditions(slo: SLO, tier: AlertTier, catalog: AlertWindows) -> tuple[AlertWindow, ...]:
    """The conditions of a tier that can fire (``tier_can_fire``), as native.py keeps them."""
    conds = (
        (catalog.page_quick, catalog.page_slow)
        if tier == "page"
        else (catalog.ticket_quick, catalog.ticket_slow)
    )
    return tuple(
        c for c in conds if tier_can_fire(c.burn_factor(catalog.period), slo.objective_ratio)
    )


def tier_alert(slo: SLO, tier: AlertTier, catalog: AlertWindows) -> AlertDefinition | None:
    """The page or ticket alert; ``None`` when disabled, unnamed or unable to ever fire."""
    meta = slo.alerting.tier(tier)
    if meta.disabled or not slo.alerting.name:
        return None
    live = tier_conditions(slo, tier, catalog)
    if not live:
        return None
    eb = slo.error_budget_ratio
    expr = MultiBurnRate(
        tuple(BurnCondition((c.short, c.long), c.burn_factor(catalog.period), eb) for c in live)
    )
    severity = meta.severity or DEFAULT_SEVERITY[tier]
    return AlertDefinition(tier, slo.alerting.name, severity, tier, 0, expr)


def no_data_alert(slo: SLO, catalog: AlertWindows) -> AlertDefinition | None:
    """``<name>NoData``: the shortest page window's ratio absent for ``no_data_for``."""
    wait = slo.alerting.no_data_for
    if wait is None or not slo.alerting.name:
        return None
    severity = slo.alerting.ticket.severity or DEFAULT_SEVERITY["ticket"]
    name = f"{slo.alerting.name}NoData"
    return AlertDefinition(
        "no_data", name, severity, "no_data", wait, Absent(catalog.page_quick.short)
    )


def condition_alert(slo: SLO, cond: BurnRateCondition) -> AlertDefinition:
    """An OpenSLO burnrate condition: ``ratio(lookback) / eb <op> threshold`` for alertAfter."""
    expr = BurnRateComparison(cond.lookback, slo.error_budget_ratio, cond.op, cond.threshold)
    return AlertDefinition(
        f"condition:{cond.name}",
        condition_alertname(slo, cond),
        severity_level(cond.severity),
        cond.severity,
        cond.alert_after,
        expr,
    )


def alert_definitions(slo: SLO, catalog: AlertWindows) -> tuple[AlertDefinition, ...]:
    """Every alert of an SLO, in the order native.py writes its rules.

    Args:
        slo: The SLO.
        catalog: Its alert windows (``catalog_for(..., derive=True)``), whose ``period`` is the
            nominal period the burn factors are derived from.
    """
    tiers = (tier_alert(slo, "page", catalog), tier_alert(slo, "ticket", catalog))
    found = [d for d in (*tiers, no_data_alert(slo, catalog)) if d is not None]
    return (*found, *(condition_alert(slo, c) for c in slo.conditions))


def alert_windows(slo: SLO, catalog: AlertWindows) -> list[Millis]:
    """Every window the rules record a ratio for, shortest first (native ``recorded_windows``).

    The catalog's windows plus OpenSLO lookbacks, without the period (reported apart).
    """
    extra = {c.lookback for c in slo.conditions}
    return sorted((set(catalog.durations()) | extra) - {catalog.period})
