"""Cost budgets in the state database (:class:`~opsplane.ports.BudgetStore`).

One row per ``(namespace, name)``; amounts and thresholds are exact decimal strings, so a
budget reads back equal to the one written (``Decimal("0.50")`` stays ``0.50``).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import delete, select

from opsplane.adapters.sql.codec import Row
from opsplane.adapters.sql.engine import read_transaction, write_transaction
from opsplane.adapters.sql.repository import SqlRepository, upsert
from opsplane.adapters.sql.schema import budget as budget_table
from opsplane.domain.cost.budget import Budget, BudgetPeriod, BudgetScope
from opsplane.types import Millis


class SqlBudgets(SqlRepository):
    """Budgets in a SQL database."""

    def put_budget(self, budget: Budget, at: Millis) -> None:
        """Create or replace the budget named ``budget.name`` in its namespace; committed."""
        period = budget.period
        row = {
            "namespace": budget.scope.namespace,
            "name": budget.name,
            "service": budget.scope.service,
            "amount": str(budget.amount),
            "currency": budget.currency,
            "period_kind": period.kind,
            "period_start": period.start.isoformat() if period.start else None,
            "period_end": period.end.isoformat() if period.end else None,
            "thresholds": [str(t) for t in budget.thresholds],
            "updated_at": at,
        }
        with write_transaction(self._engine) as connection:
            upsert(connection, budget_table, [row])

    def budget(self, namespace: str, name: str) -> Budget | None:
        """One budget, or ``None``."""
        t = budget_table
        query = select(t).where(t.c.namespace == namespace, t.c.name == name)
        with read_transaction(self._engine) as connection:
            row = connection.execute(query).mappings().first()
        return None if row is None else _from_row(row)

    def budgets(self, namespace: str | None = None) -> list[Budget]:
        """Budgets (of one namespace), by namespace and name."""
        t = budget_table
        query = select(t).order_by(t.c.namespace, t.c.name)
        if namespace is not None:
            query = query.where(t.c.namespace == namespace)
        with read_transaction(self._engine) as connection:
            rows = connection.execute(query).mappings().all()
        return [_from_row(row) for row in rows]

    def delete_budget(self, namespace: str, name: str) -> bool:
        """Remove a budget; whether it existed."""
        t = budget_table
        query = delete(t).where(t.c.namespace == namespace, t.c.name == name)
        with write_transaction(self._engine) as connection:
            return bool(connection.execute(query).rowcount)


def _from_row(row: Row) -> Budget:
    start, end = row["period_start"], row["period_end"]
    period = BudgetPeriod(
        row["period_kind"],
        date.fromisoformat(start) if start else None,
        date.fromisoformat(end) if end else None,
    )
    return Budget(
        name=row["name"],
        scope=BudgetScope(row["namespace"], row["service"]),
        amount=Decimal(row["amount"]),
        period=period,
        thresholds=tuple(Decimal(t) for t in row["thresholds"]),
        currency=row["currency"],
    )
