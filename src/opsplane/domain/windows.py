"""Multiwindow, multi-burn-rate alert windows (SRE Workbook, chapter 5).

A catalog says, for one SLO period, how much of the error budget each alert tier may see
consumed before it fires, and over which long and short windows. The burn-rate factor follows:

    factor = budget_fraction x period / long_window

For a 30-day period this gives the Workbook's 14.4 (2 % in 1 h), 6 (5 % in 6 h), 3 (10 % in 1 d)
and 1 (10 % in 3 d). The catalog format is Sloth's ``AlertWindows`` (``sloth.slok.dev/v1``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from opsplane.domain.duration import DAY, HOUR, MINUTE
from opsplane.types import Millis


@dataclass(frozen=True, slots=True)
class AlertWindow:
    """One burn-rate condition: ``budget_percent`` % of the budget gone within ``long``.

    The ``short`` window only makes the alert reset quickly once the burn stops.
    """

    budget_percent: float
    short: Millis
    long: Millis

    def burn_factor(self, period: Millis) -> float:
        """The burn rate that consumes ``budget_percent`` of the budget in ``long``.

        Computed in the same order as Sloth (``internal/alert/window.go``) so floats match bit
        for bit: hours of budget consumption first, then divided by the window in hours.
        """
        hours_required = self.budget_percent * (period / HOUR) / 100
        return hours_required / (self.long / HOUR)


@dataclass(frozen=True, slots=True)
class AlertWindows:
    """A catalog: the four conditions of the page and ticket tiers for one SLO period."""

    period: Millis
    page_quick: AlertWindow
    page_slow: AlertWindow
    ticket_quick: AlertWindow
    ticket_slow: AlertWindow

    def all(self) -> tuple[AlertWindow, AlertWindow, AlertWindow, AlertWindow]:
        """The four conditions, page first."""
        return (self.page_quick, self.page_slow, self.ticket_quick, self.ticket_slow)

    def durations(self) -> list[Millis]:
        """Every distinct short and long window, shortest first (Sloth's recording order)."""
        return sorted({w for cond in self.all() for w in (cond.short, cond.long)})

    def for_period(self, period: Millis) -> AlertWindows:
        """The same windows and budget fractions, re-targeted at another period.

        Factors are derived from the fractions, so a 7d SLO keeps "page when 2 % of the budget
        burns in an hour" and gets a factor of 3.36 instead of 14.4.
        """
        return AlertWindows(
            period, self.page_quick, self.page_slow, self.ticket_quick, self.ticket_slow
        )


# SRE Workbook, "Alerting on SLOs": table 5-8 (recommended page parameters: 2 % in 1h, 5 % in
# 6h) and the section's ticket rules (10 % in 1d and in 3d), with short windows of 1/12 of the
# long ones. Identical to Sloth's embedded internal/alert/windows/google-30d.yaml.
GOOGLE_30D = AlertWindows(
    period=30 * DAY,
    page_quick=AlertWindow(2, 5 * MINUTE, 1 * HOUR),
    page_slow=AlertWindow(5, 30 * MINUTE, 6 * HOUR),
    ticket_quick=AlertWindow(10, 2 * HOUR, 1 * DAY),
    ticket_slow=AlertWindow(10, 6 * HOUR, 3 * DAY),
)

# Sloth's internal/alert/windows/google-28d.yaml: the same fractions and windows over 28 days.
GOOGLE_28D = GOOGLE_30D.for_period(28 * DAY)

DEFAULT_CATALOGS: dict[Millis, AlertWindows] = {c.period: c for c in (GOOGLE_30D, GOOGLE_28D)}


def catalog_for(
    own: AlertWindows | None,
    period: Millis,
    catalogs: Mapping[Millis, AlertWindows],
    *,
    derive: bool,
) -> AlertWindows | None:
    """The alert windows of an SLO with period ``period``.

    The SLO's own catalog wins; then the catalog for its period; then, when ``derive`` is
    set, the Workbook's windows re-targeted at the period. ``None`` means no catalog applies
    (Sloth refuses such a period).
    """
    if own is not None:
        return own.for_period(period)
    if period in catalogs:
        return catalogs[period]
    return GOOGLE_30D.for_period(period) if derive else None


def tier_can_fire(factor: float, objective_ratio: float) -> bool:
    """Whether an error ratio can ever exceed ``factor x budget``.

    An error ratio is at most 1, so a tier whose threshold ``factor x (1 - objective)`` is 1 or
    more never fires (e.g. a 14.4x page on a 90 % SLO would need a 144 % error ratio).
    """
    return factor * (1 - objective_ratio) < 1
