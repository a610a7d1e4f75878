"""Budgets, statuses, forecasts and recommendations as JSON documents (version 1).

The API and ``opsplane cost budget status|forecast|recommend --json`` print the same shapes
(``docs/cli-json.md``). Money is decimal text, fractions are numbers, days are ISO dates.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any, Final

from opsplane.app.budgets import BudgetReport, Source
from opsplane.app.cost_insights import SpendForecast
from opsplane.domain.cost.budget import Budget
from opsplane.domain.cost.guard import Decision
from opsplane.domain.cost.money import money_text
from opsplane.domain.cost.recommend import Recommendation
from opsplane.spec.cost_budget import period_text

VERSION: Final = 1


def budget_json(budget: Budget, source: Source) -> dict[str, Any]:
    """A budget as set."""
    return {
        "name": budget.name,
        "namespace": budget.scope.namespace,
        "service": budget.scope.service,
        "amount": money_text(budget.amount),
        "currency": budget.currency,
        "period": period_text(budget.period),
        "alert_at": [money_text(t) for t in budget.thresholds],
        "source": source,
    }


def report_json(report: BudgetReport) -> dict[str, Any]:
    """A budget and where it stands in its current period."""
    status, forecast = report.status, report.forecast
    return {
        **budget_json(report.budget, report.source),
        "from": report.start.isoformat(),
        "to": (report.end - timedelta(days=1)).isoformat(),
        "spent": money_text(status.spent),
        "remaining": money_text(status.remaining),
        "used": round(status.used, 6),
        "forecast": None if status.forecast is None else money_text(status.forecast),
        "forecast_method": None if forecast is None else forecast.method,
        "crossing_date": None if report.crossing is None else report.crossing.isoformat(),
        "crossed": [money_text(t) for t in status.crossed],
        "forecast_crossed": [money_text(t) for t in status.forecast_crossed],
    }


def status_document(reports: Sequence[BudgetReport], at: str) -> dict[str, Any]:
    """``opsplane cost budget status --json`` and ``GET .../budgets``."""
    return {"version": VERSION, "at": at, "budgets": [report_json(r) for r in reports]}


def forecast_document(found: SpendForecast, at: str) -> dict[str, Any]:
    """``opsplane cost forecast --json`` and ``GET .../cost/forecast``."""
    f = found.forecast
    return {
        "version": VERSION,
        "at": at,
        "namespace": found.namespace,
        "service": found.service,
        "currency": found.currency,
        "through": None if f is None else f.through.isoformat(),
        "actual": None if f is None else money_text(f.actual),
        "month_end": None if f is None else money_text(f.month_end),
        "method": None if f is None else f.method,
        "daily": [] if f is None else [
            {"day": d.isoformat(), "amount": money_text(v)} for d, v in f.daily
        ],
        "budgets": [
            {
                "name": b.name,
                "amount": money_text(b.amount),
                "crossing_date": None if day is None else day.isoformat(),
            }
            for b, day in found.crossings
        ],
    }  # fmt: skip


def recommendations_document(
    found: Sequence[Recommendation], namespace: str, currency: str, at: str
) -> dict[str, Any]:
    """``opsplane cost recommend --json`` and ``GET .../cost/recommendations``."""
    return {
        "version": VERSION,
        "at": at,
        "namespace": namespace,
        "currency": currency,
        "recommendations": [
            {
                "kind": r.kind,
                "service": r.service,
                "summary": r.summary,
                "monthly_savings": money_text(r.monthly_savings),
                "detail": dict(r.detail),
            }
            for r in found
        ],
    }


def decision_json(decision: Decision, currency: str) -> dict[str, Any]:
    """The pre-call check's answer."""
    return {
        "decision": decision.action,
        "reason": decision.reason,
        "estimated_cost": money_text(decision.estimated_cost),
        "currency": currency,
        "budget": decision.budget,
    }
