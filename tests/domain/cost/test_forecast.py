"""Month-end forecasts on synthetic spend with a known trend and weekly pattern."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from opsplane.domain.cost.forecast import forecast_month_end
from tests.domain.cost.builders import D

WEEKLY = [0.0, 6.0, 6.0, 6.0, 4.0, -12.0, -10.0]  # Monday first: quiet weekends


def synthetic(
    first: date, last: date, *, noise: float = 0.0, seed: int = 7
) -> list[tuple[date, D]]:
    """``100 + 1.5 t + WEEKLY[weekday]`` per day, plus seeded Gaussian noise."""
    rng = np.random.default_rng(seed)
    out = []
    for t in range((last - first).days + 1):
        day = first + timedelta(days=t)
        value = 100 + 1.5 * t + WEEKLY[day.weekday()] + rng.normal(0, noise)
        out.append((day, D(f"{value:.2f}")))
    return out


def truth(first: date, month_end: date) -> float:
    return sum(
        v
        for _, v in ((d, float(x)) for d, x in synthetic(first, month_end))
        if _ >= month_end.replace(day=1)
    )


def test_trend_and_weekly_seasonality_are_recovered_exactly_without_noise() -> None:
    history = synthetic(date(2026, 2, 1), date(2026, 3, 12))
    forecast = forecast_month_end(history)
    assert forecast.method == "trend+weekly"
    assert forecast.through == date(2026, 3, 12)
    assert [d for d, _ in forecast.daily] == [
        date(2026, 3, 13) + timedelta(days=i) for i in range(19)
    ]
    expected = dict(synthetic(date(2026, 2, 1), date(2026, 3, 31)))
    for day, value in forecast.daily:
        assert float(value) == pytest.approx(float(expected[day]), abs=0.01)
    assert float(forecast.month_end) == pytest.approx(
        truth(date(2026, 2, 1), date(2026, 3, 31)), rel=1e-4
    )


def test_with_noise_the_month_end_is_within_one_percent() -> None:
    history = synthetic(date(2026, 1, 15), date(2026, 3, 10), noise=5.0)
    forecast = forecast_month_end(history)
    assert float(forecast.month_end) == pytest.approx(
        truth(date(2026, 1, 15), date(2026, 3, 31)), rel=0.01
    )


def test_the_crossing_date_is_the_first_day_the_cumulative_spend_reaches_the_budget() -> None:
    history = synthetic(date(2026, 2, 1), date(2026, 3, 12))
    month = dict(synthetic(date(2026, 2, 1), date(2026, 3, 31)))
    running, crossing = 0.0, None
    for day in sorted(d for d in month if d.month == 3):
        running += float(month[day])
        if running >= 3000 and crossing is None:
            crossing = day
    forecast = forecast_month_end(history, budget=D(3000))
    assert crossing is not None
    assert crossing > date(2026, 3, 12)
    assert forecast.crossing == crossing


def test_a_budget_already_spent_crossed_on_an_actual_day() -> None:
    history = synthetic(date(2026, 2, 1), date(2026, 3, 12))
    assert forecast_month_end(history, budget=D(150)).crossing == date(2026, 3, 2)


def test_a_budget_out_of_reach_is_not_crossed() -> None:
    assert (
        forecast_month_end(synthetic(date(2026, 2, 1), date(2026, 3, 12)), budget=D(10**6)).crossing
        is None
    )


def test_short_histories_fall_back_to_a_trend_then_to_the_mean() -> None:
    assert forecast_month_end(synthetic(date(2026, 3, 1), date(2026, 3, 10))).method == "trend"
    short = forecast_month_end([(date(2026, 3, 1), D(10)), (date(2026, 3, 2), D(20))])
    assert short.method == "mean"
    assert short.month_end == D(30) + 29 * D(15)


def test_the_last_day_of_the_month_has_nothing_left_to_forecast() -> None:
    forecast = forecast_month_end(synthetic(date(2026, 3, 1), date(2026, 3, 31)))
    assert (forecast.method, forecast.daily) == ("none", ())
    assert forecast.month_end == forecast.actual


def test_a_falling_trend_never_forecasts_negative_spend() -> None:
    falling = [(date(2026, 3, 1) + timedelta(days=i), D(max(0, 100 - 10 * i))) for i in range(10)]
    forecast = forecast_month_end(falling)
    assert all(v >= 0 for _, v in forecast.daily)


def test_gaps_and_empty_input_are_rejected() -> None:
    with pytest.raises(ValueError, match="consecutive"):
        forecast_month_end([(date(2026, 3, 1), D(1)), (date(2026, 3, 3), D(1))])
    with pytest.raises(ValueError, match="no daily spend"):
        forecast_month_end([])
