"""Budgets of a namespace, its spend forecast, savings recommendations and the pre-call check.

Budgets set here are stored; budgets written in specs (``costs.budget``) are listed with
``"source": "spec"`` and cannot be changed here (a stored budget of the same name replaces
the spec's). The statuses, forecast and recommendations read the cost ledger on each request;
the pre-call check answers from memory (:class:`~opsplane.app.budgets.BudgetMonitor`).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from opsplane.app.budget_docs import (
    budget_json,
    decision_json,
    forecast_document,
    recommendations_document,
    report_json,
    status_document,
)
from opsplane.app.budgets import gather_budgets
from opsplane.app.cost_insights import recommendations, spend_forecast
from opsplane.domain.cost.budget import DEFAULT_THRESHOLDS, Budget, BudgetScope
from opsplane.domain.cost.money import MAX_COUNT
from opsplane.errors import NotFoundError, Problem, SpecError
from opsplane.render.status import rfc3339
from opsplane.server.security import Reader, RuntimeDep, Writer
from opsplane.spec.cost_budget import BUDGET_NAME_PATTERN, parse_budget_period

router = APIRouter(prefix="/api/v1/namespaces/{namespace}", tags=["budgets"])
BudgetName = Annotated[str, Path(pattern=BUDGET_NAME_PATTERN, max_length=63)]
Money = Annotated[Decimal, Field(gt=0, max_digits=24, decimal_places=9)]


class BudgetIn(BaseModel):
    """A budget of the namespace (or of one of its services)."""

    model_config = ConfigDict(extra="forbid")

    service: Annotated[str, Field(pattern=BUDGET_NAME_PATTERN)] | None = Field(
        None, description="Only this service of the namespace (default: all of them)."
    )
    amount: Money
    currency: Annotated[str, Field(pattern="^[A-Z]{3}$")] = "USD"
    period: Annotated[str, Field(max_length=32)] = "monthly"
    alert_at: (
        Annotated[list[Annotated[Decimal, Field(gt=0, le=10, decimal_places=6)]],
                  Field(min_length=1, max_length=20)] | None
    ) = None  # fmt: skip


class CheckIn(BaseModel):
    """An AI call about to be made."""

    model_config = ConfigDict(extra="forbid")

    service: Annotated[str, Field(min_length=1, max_length=253)]
    model: Annotated[str, Field(min_length=1, max_length=256)]
    input_tokens: Annotated[int, Field(ge=0, le=MAX_COUNT)]
    output_tokens: Annotated[int, Field(ge=0, le=MAX_COUNT, description="The call's limit.")]


def _budget(namespace: str, name: str, body: BudgetIn) -> Budget:
    try:
        period = parse_budget_period(body.period)
    except ValueError as exc:
        raise SpecError([Problem("request", "period", str(exc))]) from exc
    budget = Budget(
        name,
        BudgetScope(namespace, body.service),
        body.amount,
        period,
        tuple(body.alert_at) if body.alert_at else DEFAULT_THRESHOLDS,
        body.currency,
    )
    problems = budget.problems()
    if problems:
        raise SpecError([Problem("request", f, msg) for f, msg in problems])
    return budget


@router.put("/budgets/{name}", summary="Create or replace a budget")
def put_budget(
    namespace: str, name: BudgetName, body: BudgetIn, who: Writer, rt: RuntimeDep
) -> dict[str, Any]:
    """Store a budget; it is evaluated, alerts and guards calls from the next tick."""
    budget = _budget(namespace, name, body)
    rt.budgets.put_budget(budget, rt.clock.now_ms())
    rt.budget_monitor.changed(namespace)
    return budget_json(budget, "stored")


@router.get("/budgets", summary="Budgets with their spend, forecast and crossing date")
def list_budgets(namespace: str, who: Reader, rt: RuntimeDep) -> dict[str, Any]:
    """Every budget of the namespace (stored and from specs) and where it stands now."""
    now = rt.clock.now_ms()
    return status_document(rt.budget_monitor.reports(namespace, now), rfc3339(now))


@router.get("/budgets/{name}", summary="A budget and where it stands")
def get_budget(namespace: str, name: BudgetName, who: Reader, rt: RuntimeDep) -> dict[str, Any]:
    """One budget with its status."""
    now = rt.clock.now_ms()
    found = [r for r in rt.budget_monitor.reports(namespace, now) if r.budget.name == name]
    if not found:
        raise NotFoundError(f"no budget {name!r} in namespace {namespace!r}")
    return report_json(found[0])


@router.delete("/budgets/{name}", status_code=204, summary="Delete a budget")
def delete_budget(namespace: str, name: BudgetName, who: Writer, rt: RuntimeDep) -> Response:
    """Remove a stored budget (a spec's budget goes with its spec)."""
    if not rt.budgets.delete_budget(namespace, name):
        in_spec = any(b.name == name for b, _ in gather_budgets(rt.budgets, rt.services(namespace)))
        hint = "; it is defined in a spec's costs.budget" if in_spec else ""
        raise NotFoundError(f"no stored budget {name!r} in namespace {namespace!r}{hint}")
    rt.budget_monitor.changed(namespace)
    return Response(status_code=204)


@router.get("/cost/forecast", summary="Month-end spend forecast")
def forecast(
    namespace: str,
    who: Reader,
    rt: RuntimeDep,
    service: Annotated[str | None, Query(min_length=1, max_length=253)] = None,
    currency: Annotated[str, Query(pattern="^[A-Z]{3}$")] = "USD",
) -> dict[str, Any]:
    """This month's spend forecast of the namespace or one service, with budget crossings."""
    now = rt.clock.now_ms()
    budgets = [b for b, _ in gather_budgets(rt.budgets, rt.services(namespace), namespace)]
    found = spend_forecast(
        rt.costs.ledger, namespace, now, service=service, currency=currency, budgets=budgets
    )
    return forecast_document(found, rfc3339(now))


@router.get("/cost/recommendations", summary="Savings recommendations")
def list_recommendations(
    namespace: str,
    who: Reader,
    rt: RuntimeDep,
    days: Annotated[int, Query(ge=1, le=90)] = 30,
) -> dict[str, Any]:
    """Cheaper capable models and cost jumps after deployments, from recent runs."""
    now = rt.clock.now_ms()
    table = rt.costs.table
    found = recommendations(rt.costs.ledger, rt.deployments, table, namespace, now, days=days)
    return recommendations_document(found, namespace, table.currency, rfc3339(now))


@router.post("/cost/check", summary="May this AI call go ahead?")
def check(namespace: str, body: CheckIn, who: Reader, rt: RuntimeDep) -> dict[str, Any]:
    """``allow``, ``throttle`` or ``deny`` against the budgets that cover the service.

    Estimated as ``input_tokens`` at the model's input rate plus ``output_tokens`` (the call's
    output limit) at its output rate; spend is this period's, refreshed every tick.
    """
    decision = rt.budget_monitor.check(
        namespace,
        body.service,
        body.model,
        body.input_tokens,
        body.output_tokens,
        now=rt.clock.now_ms(),
    )
    return decision_json(decision, rt.costs.table.currency)
