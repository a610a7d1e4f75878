"""Budgets per namespace (tenant) or service, over a month or a custom period.

A budget's thresholds are fractions of its amount (default 50, 75, 80, 90 and 100 %). A
threshold is *crossed* when the spend reaches ``amount * threshold``, and *forecast to be
crossed* when the forecast month-end (or period-end) spend reaches it. The alerting pipeline
notifies each threshold once per period: :func:`newly_crossed` says which ones are new.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Final, Literal

from opsplane.domain.cost.money import (
    APPROX,
    DEFAULT_CURRENCY,
    EXACT,
    ZERO,
    check_amount,
    is_currency,
)

DEFAULT_THRESHOLDS: Final = tuple(Decimal(t) for t in ("0.5", "0.75", "0.8", "0.9", "1"))
"""Alert at 50, 75, 80, 90 and 100 % of the budget (the FinOps issue's defaults)."""


@dataclass(frozen=True, slots=True)
class BudgetScope:
    """What a budget covers: a whole namespace, or one service in it."""

    namespace: str
    service: str | None = None

    def covers(self, namespace: str, service: str) -> bool:
        """Whether spend of ``service`` in ``namespace`` counts against this scope."""
        return namespace == self.namespace and self.service in (None, service)

    def __str__(self) -> str:
        return self.namespace if self.service is None else f"{self.namespace}/{self.service}"


@dataclass(frozen=True, slots=True)
class BudgetPeriod:
    """A calendar month (UTC), or a custom ``[start, end)`` range of days."""

    kind: Literal["monthly", "custom"] = "monthly"
    start: date | None = None
    end: date | None = None

    def bounds(self, today: date) -> tuple[date, date]:
        """The ``[start, end)`` days of the period that contains ``today``."""
        if self.kind == "custom":
            if self.start is None or self.end is None:
                msg = "a custom budget period needs a start and an end"
                raise ValueError(msg)
            return self.start, self.end
        first = today.replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
        return first, following


@dataclass(frozen=True, slots=True)
class Budget:
    """An amount that spend in ``scope`` should stay under during each period."""

    name: str
    scope: BudgetScope
    amount: Decimal
    period: BudgetPeriod = BudgetPeriod()
    thresholds: tuple[Decimal, ...] = DEFAULT_THRESHOLDS
    currency: str = DEFAULT_CURRENCY

    def problems(self) -> list[tuple[str, str]]:
        """``(field, message)`` for every problem; empty when the budget is usable."""
        out: list[tuple[str, str]] = []
        if not self.name:
            out.append(("name", "must not be empty"))
        if not self.scope.namespace:
            out.append(("namespace", "must not be empty"))
        if (msg := check_amount(self.amount)) is not None:
            out.append(("amount", msg))
        elif self.amount == 0:
            out.append(("amount", "must be more than 0"))
        if not is_currency(self.currency):
            out.append(("currency", f"is not an ISO 4217 currency code: {self.currency!r}"))
        if not self.thresholds:
            out.append(("thresholds", "must not be empty"))
        for i, t in enumerate(self.thresholds):
            if not t.is_finite() or t <= 0 or t > 10:
                out.append((f"thresholds[{i}]", "must be a fraction above 0 (1 is 100 %)"))
        if self.period.kind == "custom" and not (
            self.period.start and self.period.end and self.period.start < self.period.end
        ):
            out.append(("period", "a custom period needs start < end"))
        return out

    def limit(self, threshold: Decimal) -> Decimal:
        """The spend at which ``threshold`` is crossed."""
        return EXACT.multiply(self.amount, threshold)


@dataclass(frozen=True, slots=True)
class BudgetStatus:
    """Where a budget stands: spend, forecast, and the thresholds each has crossed."""

    budget: Budget
    spent: Decimal
    forecast: Decimal | None
    crossed: tuple[Decimal, ...]
    forecast_crossed: tuple[Decimal, ...]

    @property
    def remaining(self) -> Decimal:
        """What is left of the amount (negative when overspent)."""
        return EXACT.subtract(self.budget.amount, self.spent)

    @property
    def used(self) -> float:
        """Spend as a fraction of the amount (1.0 is all of it)."""
        return float(APPROX.divide(self.spent, self.budget.amount))


def evaluate_budget(
    budget: Budget, spent: Decimal, forecast: Decimal | None = None
) -> BudgetStatus:
    """Which thresholds ``spent`` has crossed, and which ``forecast`` will cross as well.

    ``forecast_crossed`` lists only thresholds not crossed yet: the warnings that come early.
    """
    crossed = tuple(t for t in sorted(budget.thresholds) if spent >= budget.limit(t))
    ahead: tuple[Decimal, ...] = ()
    if forecast is not None:
        ahead = tuple(
            t for t in sorted(budget.thresholds) if t not in crossed and forecast >= budget.limit(t)
        )
    return BudgetStatus(budget, spent, forecast, crossed, ahead)


def newly_crossed(status: BudgetStatus, notified: Iterable[Decimal]) -> tuple[Decimal, ...]:
    """Thresholds crossed (by spend) that have not been notified yet this period."""
    seen = set(notified)
    return tuple(t for t in status.crossed if t not in seen)


@dataclass(frozen=True, slots=True)
class SpendRecord:
    """Money spent at one moment by one service (a priced run, an imported bill row)."""

    at: datetime
    namespace: str
    service: str
    amount: Decimal


def spent_in(records: Sequence[SpendRecord], budget: Budget, today: date) -> Decimal:
    """What ``budget``'s scope spent in the period containing ``today`` (days in UTC)."""
    start, end = budget.period.bounds(today)
    total = ZERO
    for r in records:
        if budget.scope.covers(r.namespace, r.service) and start <= _utc_day(r.at) < end:
            total = EXACT.add(total, r.amount)
    return total


def daily_spend(
    records: Sequence[SpendRecord], scope: BudgetScope, first: date, last: date
) -> list[tuple[date, Decimal]]:
    """Spend per UTC day from ``first`` to ``last`` inclusive (days without spend are 0)."""
    days = (last - first).days + 1
    totals = [ZERO] * max(days, 0)
    for r in records:
        offset = (_utc_day(r.at) - first).days
        if scope.covers(r.namespace, r.service) and 0 <= offset < days:
            totals[offset] = EXACT.add(totals[offset], r.amount)
    return [(first + timedelta(days=i), v) for i, v in enumerate(totals)]


def _utc_day(at: datetime) -> date:
    return at.astimezone(UTC).date()
