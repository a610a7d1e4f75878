"""Budgets: thresholds crossed by spend and by forecast, periods, and spend per scope."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from opsplane.domain.cost.budget import (
    DEFAULT_THRESHOLDS,
    Budget,
    BudgetPeriod,
    BudgetScope,
    SpendRecord,
    daily_spend,
    evaluate_budget,
    newly_crossed,
    spent_in,
)
from tests.domain.cost.builders import D

TEAM = Budget("payments", BudgetScope("payments"), D(100))
CHECKOUT = Budget("checkout", BudgetScope("payments", "checkout"), D(40))


def test_the_default_thresholds_are_50_75_80_90_and_100_percent() -> None:
    assert [str(t) for t in DEFAULT_THRESHOLDS] == ["0.5", "0.75", "0.8", "0.9", "1"]


@pytest.mark.parametrize(
    ("spent", "forecast", "crossed", "ahead"),
    [
        (D(10), None, [], []),
        (D(50), None, ["0.5"], []),
        (D("79.99"), D(95), ["0.5", "0.75"], ["0.8", "0.9"]),
        (D(80), D(120), ["0.5", "0.75", "0.8"], ["0.9", "1"]),
        (D(130), D(200), ["0.5", "0.75", "0.8", "0.9", "1"], []),
    ],
    ids=[
        "10 of 100 crosses nothing",
        "exactly half crosses 50 %",
        "just under 80 % with a 95 forecast warns of 80 and 90 % ahead",
        "80 with a 120 forecast warns of 90 and 100 % ahead",
        "overspent crosses everything and leaves nothing ahead",
    ],
)
def test_thresholds_crossed_by_spend_and_by_forecast(
    spent: D, forecast: D | None, crossed: list[str], ahead: list[str]
) -> None:
    status = evaluate_budget(TEAM, spent, forecast)
    assert [str(t) for t in status.crossed] == crossed
    assert [str(t) for t in status.forecast_crossed] == ahead


def test_status_reports_what_is_left() -> None:
    status = evaluate_budget(TEAM, D("130.5"))
    assert status.remaining == D("-30.5")
    assert status.used == pytest.approx(1.305)


def test_each_threshold_is_notified_once() -> None:
    status = evaluate_budget(TEAM, D(85))
    assert [str(t) for t in newly_crossed(status, [D("0.5"), D("0.75")])] == ["0.8"]


def test_custom_thresholds_are_kept_in_order() -> None:
    budget = Budget("b", BudgetScope("n"), D(10), thresholds=(D("1.2"), D("0.25")))
    assert [str(t) for t in evaluate_budget(budget, D(13)).crossed] == ["0.25", "1.2"]


def test_a_monthly_period_is_the_calendar_month() -> None:
    assert BudgetPeriod().bounds(date(2025, 12, 31)) == (date(2025, 12, 1), date(2026, 1, 1))
    assert BudgetPeriod().bounds(date(2024, 2, 10)) == (date(2024, 2, 1), date(2024, 3, 1))


def test_a_custom_period_is_its_own_range() -> None:
    period = BudgetPeriod("custom", date(2026, 1, 5), date(2026, 2, 5))
    assert period.bounds(date(2026, 1, 20)) == (date(2026, 1, 5), date(2026, 2, 5))
    with pytest.raises(ValueError, match="needs a start and an end"):
        BudgetPeriod("custom").bounds(date(2026, 1, 1))


def test_invalid_budgets_say_what_is_wrong() -> None:
    budget = Budget(
        "", BudgetScope(""), D(0), BudgetPeriod("custom"), thresholds=(D(0),), currency="usd"
    )
    assert budget.problems() == [
        ("name", "must not be empty"),
        ("namespace", "must not be empty"),
        ("amount", "must be more than 0"),
        ("currency", "is not an ISO 4217 currency code: 'usd'"),
        ("thresholds[0]", "must be a fraction above 0 (1 is 100 %)"),
        ("period", "a custom period needs start < end"),
    ]
    assert TEAM.problems() == []


def _at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


RECORDS = [
    SpendRecord(_at(1), "payments", "checkout", D(10)),
    SpendRecord(_at(2), "payments", "search", D(5)),
    SpendRecord(_at(2, 23), "payments", "checkout", D("2.5")),
    SpendRecord(datetime(2026, 2, 28, 23, tzinfo=UTC), "payments", "checkout", D(99)),
    SpendRecord(_at(3), "growth", "checkout", D(7)),
]


def test_spend_counts_against_the_namespace_and_the_service_budget() -> None:
    today = date(2026, 3, 15)
    assert spent_in(RECORDS, TEAM, today) == D("17.5")
    assert spent_in(RECORDS, CHECKOUT, today) == D("12.5")


def test_days_are_utc_days() -> None:
    late = SpendRecord(
        datetime(2026, 3, 31, 23, 30, tzinfo=UTC) + timedelta(hours=1), "payments", "x", D(1)
    )
    assert spent_in([late], TEAM, date(2026, 3, 15)) == 0


def test_daily_spend_fills_days_without_spend_with_zero() -> None:
    days = daily_spend(
        RECORDS, BudgetScope("payments", "checkout"), date(2026, 3, 1), date(2026, 3, 4)
    )
    assert [str(v) for _, v in days] == ["10", "2.5", "0", "0"]
