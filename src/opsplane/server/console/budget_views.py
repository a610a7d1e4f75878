"""What the Costs page shows of budgets and savings recommendations (pure).

Each budget is the API's document of it (:func:`opsplane.app.budget_docs.report_json`), and
the recommendations are those of ``GET .../cost/recommendations``
(:func:`~opsplane.app.budget_docs.recommendations_document`), so the page and the API agree.
The page adds the forecast as a fraction of the amount, for its meter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from opsplane.app.budget_docs import recommendations_document, report_json
from opsplane.app.budgets import BudgetReport
from opsplane.domain.cost.money import APPROX
from opsplane.domain.cost.recommend import Recommendation


@dataclass(frozen=True, slots=True)
class BudgetRow:
    """One budget: the API's document, its scope in words and the forecast's share."""

    doc: dict[str, Any]
    scope: str
    forecast_used: float | None
    """The forecast spend over the amount (``None``: no forecast yet)."""


def budget_rows(reports: Sequence[BudgetReport]) -> tuple[BudgetRow, ...]:
    """The namespace's budgets as the budget monitor reports them."""
    return tuple(_row(report_json(r)) for r in reports)


def _row(doc: dict[str, Any]) -> BudgetRow:
    service = doc["service"]
    scope = f"namespace {doc['namespace']}" if service is None else f"service {service}"
    forecast = doc["forecast"]
    used = None if forecast is None else _ratio(Decimal(forecast), Decimal(doc["amount"]))
    return BudgetRow(doc, scope, used)


def _ratio(part: Decimal, whole: Decimal) -> float:
    return float(APPROX.divide(part, whole)) if whole else 0.0


def recommendation_rows(
    found: Sequence[Recommendation], namespace: str, currency: str, at: str
) -> list[dict[str, Any]]:
    """The recommendations, each as ``GET .../cost/recommendations`` lists it."""
    doc = recommendations_document(found, namespace, currency, at)
    rows: list[dict[str, Any]] = doc["recommendations"]
    return rows
