"""The ``costs:`` section of an opsplane/v1 service: its budget, and every problem at its path."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from opsplane.domain.cost.budget import DEFAULT_THRESHOLDS, Budget, BudgetPeriod, BudgetScope
from opsplane.spec import load_paths
from opsplane.spec.cost_budget import parse_budget_period, period_text
from tests.cli.test_cli import assert_no_traceback, opsplane

TOTAL = 'sum(rate(http_requests_total{job="checkout"}[{{.window}}]))'
ERRORS = 'sum(rate(http_requests_total{job="checkout",code=~"5.."}[{{.window}}]))'


def spec(costs: Any) -> dict[str, Any]:
    return {
        "apiVersion": "opsplane/v1",
        "kind": "Service",
        "metadata": {"name": "checkout", "namespace": "payments"},
        "slos": [
            {"name": "availability", "objective": 99.9,
             "sli": {"events": {"error_query": ERRORS, "total_query": TOTAL}}}
        ],
        "costs": costs,
    }  # fmt: skip


def load(tmp_path: Path, costs: Any) -> tuple[list[str], Any]:
    file = tmp_path / "checkout.yaml"
    file.write_text(yaml.safe_dump(spec(costs)), encoding="utf-8")
    result = load_paths([file])
    problems = [str(p).removeprefix(f"{file}:") for p in result.problems]
    return problems, (result.services[0] if result.services else None)


def test_designs_monthly_usd_budget_becomes_the_services_budget(tmp_path: Path) -> None:
    costs = {
        "model_rates": "litellm",
        "compute_rate_per_second": 0.000016,
        "budget": {"monthly_usd": 500, "alert_at": [0.5, 0.75, 0.9]},
    }
    problems, service = load(tmp_path, costs)
    assert problems == []
    assert service.budget == Budget(
        "checkout",
        BudgetScope("payments", "checkout"),
        Decimal(500),
        BudgetPeriod(),
        (Decimal("0.5"), Decimal("0.75"), Decimal("0.9")),
        "USD",
    )


def test_amount_currency_and_a_custom_period(tmp_path: Path) -> None:
    costs = {"budget": {"name": "q1-ai", "amount": "1200.50", "currency": "EUR",
                        "period": "2026-01-01..2026-04-01"}}  # fmt: skip
    problems, service = load(tmp_path, costs)
    assert problems == []
    assert service.budget.name == "q1-ai"
    assert service.budget.amount == Decimal("1200.50")
    assert service.budget.currency == "EUR"
    assert service.budget.period == BudgetPeriod("custom", date(2026, 1, 1), date(2026, 4, 1))
    assert service.budget.thresholds == DEFAULT_THRESHOLDS


def test_a_service_without_costs_has_no_budget(tmp_path: Path) -> None:
    problems, service = load(tmp_path, None)
    assert problems == []
    assert service.budget is None


@pytest.mark.parametrize(
    ("budget", "expected"),
    [
        pytest.param({}, ["costs.budget: give exactly one of monthly_usd or amount"],
                     id="a budget needs an amount"),
        pytest.param({"monthly_usd": 5, "amount": 5},
                     ["costs.budget: give exactly one of monthly_usd or amount"],
                     id="monthly_usd and amount together are ambiguous"),
        pytest.param({"monthly_usd": 0}, ["costs.budget.monthly_usd: must be more than 0"],
                     id="a zero budget is refused"),
        pytest.param({"amount": -3}, ["costs.budget.amount: must not be negative (got -3)"],
                     id="a negative amount is refused"),
        pytest.param({"monthly_usd": 5, "currency": "EUR"},
                     ["costs.budget.monthly_usd: monthly_usd is a monthly USD amount: use amount, "
                      "currency and period instead"],
                     id="monthly_usd is in dollars"),
        pytest.param({"amount": 5, "currency": "euro"},
                     ["costs.budget.currency: is not an ISO 4217 currency code: 'euro'"],
                     id="a currency is an ISO code"),
        pytest.param({"amount": 5, "period": "2026-04-01..2026-01-01"},
                     ["costs.budget.period: invalid period '2026-04-01..2026-01-01': START must "
                      "be before END"],
                     id="a custom period runs forwards"),
        pytest.param({"amount": 5, "period": "weekly"},
                     ["costs.budget.period: invalid period 'weekly': use 'monthly' (calendar "
                      "month, UTC) or START..END (ISO days, END exclusive)"],
                     id="an unknown period"),
        pytest.param({"monthly_usd": 5, "alert_at": [0.5, 0]},
                     ["costs.budget.alert_at[1]: must be a fraction above 0 (1 is 100 %)"],
                     id="a threshold is a fraction above 0"),
        pytest.param({"monthly_usd": 5, "alert_at": []},
                     ["costs.budget.alert_at: List should have at least 1 item after "
                      "validation, not 0"],
                     id="alert_at is not empty"),
        pytest.param({"monthly_usd": 5, "alerts": [0.5]}, ["costs.budget.alerts: unknown field"],
                     id="unknown keys are errors"),
        pytest.param({"monthly_usd": 5, "name": "Bad Name"},
                     ["costs.budget.name: String should match pattern "
                      "'^[a-z0-9][-a-z0-9]{0,61}[a-z0-9]$'"],
                     id="a budget name is a name"),
    ],
)  # fmt: skip
def test_a_budget_problem_is_reported_at_its_path(
    tmp_path: Path, budget: dict[str, Any], expected: list[str]
) -> None:
    problems, _ = load(tmp_path, {"budget": budget})
    assert problems == expected


def test_validate_prints_file_path_message_and_exits_1(tmp_path: Path) -> None:
    file = tmp_path / "checkout.yaml"
    file.write_text(yaml.safe_dump(spec({"budget": {"monthly_usd": -1}})), encoding="utf-8")
    run = opsplane("validate", file)
    assert run.returncode == 1
    assert run.stderr.splitlines() == [
        f"{file}:costs.budget.monthly_usd: must not be negative (got -1)"
    ]
    assert_no_traceback(run)


@pytest.mark.parametrize("text", ["monthly", "2026-01-01..2026-02-01"])
def test_a_period_round_trips_through_its_text(text: str) -> None:
    assert period_text(parse_budget_period(text)) == text
