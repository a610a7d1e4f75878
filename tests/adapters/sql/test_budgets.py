"""The budget store: one contract on the in-memory fake, SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from opsplane.adapters.sql.budgets import SqlBudgets
from opsplane.domain.cost.budget import Budget, BudgetPeriod, BudgetScope
from opsplane.testing import InMemoryBudgets
from tests.adapters.sql.conftest import fresh_postgres_schema, postgres_base_url

NOW = 1_767_225_600_000


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def budgets(request: pytest.FixtureRequest) -> Iterator[Any]:
    if request.param == "memory":
        yield InMemoryBudgets()
    elif request.param == "sqlite":
        tmp = request.getfixturevalue("tmp_path")
        with SqlBudgets.open(f"sqlite:///{tmp / 'state.db'}") as repo:
            yield repo
    else:
        with fresh_postgres_schema(postgres_base_url()) as url, SqlBudgets.open(url) as repo:
            yield repo


def _monthly(name: str = "ai", namespace: str = "payments", service: str | None = None) -> Budget:
    return Budget(name, BudgetScope(namespace, service), Decimal("500.00"))


def test_a_budget_reads_back_equal_with_its_decimals_and_thresholds(budgets: Any) -> None:
    written = Budget(
        "q1",
        BudgetScope("payments", "checkout"),
        Decimal("1234.50"),
        BudgetPeriod("custom", date(2026, 1, 1), date(2026, 4, 1)),
        (Decimal("0.5"), Decimal("0.75"), Decimal("0.9")),
        "EUR",
    )
    budgets.put_budget(written, NOW)
    read = budgets.budget("payments", "q1")
    assert read == written
    assert str(read.amount) == "1234.50"
    assert budgets.budget("payments", "missing") is None


def test_putting_a_budget_again_replaces_it(budgets: Any) -> None:
    budgets.put_budget(_monthly(), NOW)
    budgets.put_budget(Budget("ai", BudgetScope("payments", "search"), Decimal(80)), NOW + 1)
    assert budgets.budget("payments", "ai") == Budget(
        "ai", BudgetScope("payments", "search"), Decimal(80)
    )
    assert len(budgets.budgets()) == 1


def test_budgets_list_by_namespace_and_name_and_filter_by_namespace(budgets: Any) -> None:
    for namespace, name in (("search", "b"), ("payments", "z"), ("payments", "a")):
        budgets.put_budget(_monthly(name, namespace), NOW)
    assert [(b.scope.namespace, b.name) for b in budgets.budgets()] == [
        ("payments", "a"),
        ("payments", "z"),
        ("search", "b"),
    ]
    assert [b.name for b in budgets.budgets("search")] == ["b"]
    assert budgets.budgets("nobody") == []


def test_the_same_name_in_two_namespaces_is_two_budgets(budgets: Any) -> None:
    budgets.put_budget(_monthly("ai", "payments"), NOW)
    budgets.put_budget(_monthly("ai", "search"), NOW)
    assert budgets.delete_budget("payments", "ai") is True
    assert budgets.budget("payments", "ai") is None
    assert budgets.budget("search", "ai") == _monthly("ai", "search")


def test_deleting_says_whether_the_budget_existed(budgets: Any) -> None:
    budgets.put_budget(_monthly(), NOW)
    assert budgets.delete_budget("payments", "ai") is True
    assert budgets.delete_budget("payments", "ai") is False
    assert budgets.budgets() == []
