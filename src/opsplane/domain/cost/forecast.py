"""Month-end spend from daily spend: a linear trend plus a day-of-week effect, by least squares.

The model, fitted with ``numpy.linalg.lstsq`` on the last :data:`HISTORY_DAYS` days::

    spend(day) = a + b * t + s[weekday(day)]        (s[Monday] = 0; six weekday dummies)

It is the additive trend-plus-seasonality regression of Hyndman & Athanasopoulos, *Forecasting:
Principles and Practice* (3rd ed.), section 7.4 ("Some useful predictors": trend and seasonal
dummy variables). With fewer than two weeks of history the weekday effect cannot be told from
noise, so the fit drops it (trend only); with fewer than a week it is the mean. Predictions
below zero are taken as zero: spend never flows back.

The month-end figure is the month's actual spend so far plus the predictions for its remaining
days, and the crossing date is the first day on which the cumulative spend (actual, then
forecast) reaches the budget. :func:`forecast_period` does the same for a custom period.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Final, Literal, TypeAlias

import numpy as np
import numpy.typing as npt

from opsplane.domain.cost.money import EXACT, ZERO

Method: TypeAlias = Literal["trend+weekly", "trend", "mean", "none"]

HISTORY_DAYS: Final = 91
"""Fit on at most 13 weeks, so an old trend does not outweigh the recent one."""

SEASONAL_MIN_DAYS: Final = 14
TREND_MIN_DAYS: Final = 7
_MICRO: Final = Decimal("0.000001")


@dataclass(frozen=True, slots=True)
class Forecast:
    """Spend expected by the end of a period: the month of ``through``, or a custom one.

    Attributes:
        through: The last day with actual spend.
        actual: Spend in the period up to and including ``through``.
        month_end: ``actual`` plus the predicted spend of the period's remaining days (the
            name says month, the usual period; for a custom period it is that period's end).
        daily: The predicted spend of each remaining day.
        method: Which model fitted (see the module docs).
        crossing: The first day the cumulative period spend reaches the budget, if it does.
    """

    through: date
    actual: Decimal
    month_end: Decimal
    daily: tuple[tuple[date, Decimal], ...]
    method: Method
    crossing: date | None = None


def forecast_month_end(
    daily_spend: Sequence[tuple[date, Decimal]], *, budget: Decimal | None = None
) -> Forecast:
    """Forecast the month of the last day in ``daily_spend``.

    Args:
        daily_spend: Spend per consecutive day, oldest first (missing days count as 0; see
            :func:`~opsplane.domain.cost.budget.daily_spend`).
        budget: When given, the crossing date is computed against it.

    Raises:
        ValueError: ``daily_spend`` is empty or its days are not consecutive.
    """
    _check(daily_spend)
    month_start = daily_spend[-1][0].replace(day=1)
    next_month = (month_start + timedelta(days=32)).replace(day=1)
    in_month = [(d, v) for d, v in daily_spend if d >= month_start]
    return forecast_period(daily_spend, in_month, next_month, budget=budget)


def forecast_period(
    history: Sequence[tuple[date, Decimal]],
    in_period: Sequence[tuple[date, Decimal]],
    end: date,
    *,
    budget: Decimal | None = None,
) -> Forecast:
    """Forecast the spend of a period that ends before ``end`` (a custom budget period).

    Args:
        history: Spend per consecutive day to fit on (the last :data:`HISTORY_DAYS` are used),
            ending on the last day with actual spend.
        in_period: Every day of the period so far with its spend (the actual), ending on the
            same day as ``history``; the period's days before the history starts count too.
        end: The first day after the period.
        budget: When given, the crossing date is computed against it.

    Raises:
        ValueError: ``history`` is empty or its days are not consecutive.
    """
    _check(history)
    through = history[-1][0]
    future = [through + timedelta(days=i) for i in range(1, (end - through).days)]
    predicted, method = _predict(history[-HISTORY_DAYS:], future)
    daily = tuple(
        (d, Decimal(f"{v:.6f}").quantize(_MICRO)) for d, v in zip(future, predicted, strict=True)
    )
    actual = ZERO
    for _, v in in_period:
        actual = EXACT.add(actual, v)
    period_end = actual
    for _, v in daily:
        period_end = EXACT.add(period_end, v)
    crossing = None if budget is None else _crossing([*in_period, *daily], budget)
    return Forecast(through, actual, period_end, daily, method, crossing)


def _check(daily_spend: Sequence[tuple[date, Decimal]]) -> None:
    if not daily_spend:
        msg = "no daily spend to forecast from"
        raise ValueError(msg)
    days = [d for d, _ in daily_spend]
    if any((b - a).days != 1 for a, b in itertools.pairwise(days)):
        msg = "daily spend must have one entry per consecutive day"
        raise ValueError(msg)


def _predict(
    history: Sequence[tuple[date, Decimal]], future: Sequence[date]
) -> tuple[npt.NDArray[np.float64], Method]:
    if not future:
        return np.zeros(0), "none"
    y = np.array([float(v) for _, v in history])
    if len(y) < TREND_MIN_DAYS:
        return np.full(len(future), max(float(y.mean()), 0.0)), "mean"
    origin = history[0][0]
    seasonal = len(y) >= SEASONAL_MIN_DAYS
    design = _design([d for d, _ in history], origin, seasonal=seasonal)
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    predicted = _design(future, origin, seasonal=seasonal) @ coef
    return np.maximum(predicted, 0.0), "trend+weekly" if seasonal else "trend"


def _design(days: Sequence[date], origin: date, *, seasonal: bool) -> npt.NDArray[np.float64]:
    """Columns: intercept, day number, and (when seasonal) one dummy per weekday but Monday."""
    t = np.array([(d - origin).days for d in days], dtype=np.float64)
    columns = [np.ones_like(t), t]
    if seasonal:
        weekday = np.array([d.weekday() for d in days])
        columns.extend((weekday == k).astype(np.float64) for k in range(1, 7))
    return np.column_stack(columns)


def _crossing(cumulative_days: Sequence[tuple[date, Decimal]], budget: Decimal) -> date | None:
    total = ZERO
    for day, value in cumulative_days:
        total = EXACT.add(total, value)
        if total >= budget:
            return day
    return None
