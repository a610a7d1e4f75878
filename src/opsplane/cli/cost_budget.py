"""``opsplane cost budget set|list|delete|status``, ``cost forecast`` and ``cost recommend``.

They act on the state database (``--db``), as the server does: budgets set here are the ones
the API sets, the spend is the runs the server recorded, and spec budgets are those of the
specs applied to it. ``--json`` prints the versioned documents of ``docs/cli-json.md``.
A bad value prints one line per problem and exits 1; Click's usage errors exit 2.
"""

from __future__ import annotations

import importlib
import json
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from opsplane.app import catalog
from opsplane.app.budget_docs import (
    budget_json,
    forecast_document,
    recommendations_document,
    status_document,
)
from opsplane.app.budgets import evaluate_budgets, gather_budgets, utc_day
from opsplane.app.cost_insights import recommendations, spend_forecast
from opsplane.cli.slo import DEFAULT_DB, DbOption, parse_at
from opsplane.domain.cost.budget import DEFAULT_THRESHOLDS, Budget, BudgetScope
from opsplane.domain.cost.money import money_text
from opsplane.errors import NotFoundError, Problem, SpecError
from opsplane.ports import BudgetStore, CostLedger, DeploymentLog, SpecCatalog
from opsplane.render.status import rfc3339
from opsplane.spec.cost_budget import BUDGET_NAME_PATTERN, parse_budget_period
from opsplane.spec.cost_prices import load_price_table
from opsplane.types import Millis

budget_app = typer.Typer(help="Cost budgets: set, list, delete, status.", no_args_is_help=True)

NamespaceOpt = Annotated[str, typer.Option("--namespace", "-n", help="The namespace.")]
AnyNamespaceOpt = Annotated[
    str | None,
    typer.Option(
        "--namespace", "-n", help="Only this namespace (default: all).", show_default=False
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Versioned JSON (docs/cli-json.md).")]
AtOpt = Annotated[str | None, typer.Option("--at", help="RFC 3339 instant (default: now).")]
_OPTION_OF = {"amount": "--amount", "currency": "--currency", "period": "--period"}


@dataclass
class _Stores:
    budgets: BudgetStore
    ledger: CostLedger
    specs: SpecCatalog
    deployments: DeploymentLog


@contextmanager
def _open(db: str) -> Iterator[_Stores]:
    """The state database's budgets, ledger, specs and deployments (imported when needed)."""
    sql_budgets = importlib.import_module("opsplane.adapters.sql.budgets")
    sql_costs = importlib.import_module("opsplane.adapters.sql.costs")
    sql_server = importlib.import_module("opsplane.adapters.sql.server")
    sql_deployments = importlib.import_module("opsplane.adapters.sql.deployments")
    with sql_budgets.SqlBudgets.open(db) as budgets:
        engine = budgets.engine
        yield _Stores(
            budgets,
            sql_costs.SqlCostLedger(engine),
            sql_server.SqlSpecs(engine),
            sql_deployments.SqlDeployments(engine),
        )


def _now(at: str | None) -> Millis:
    found = parse_at(at)
    if found is not None:
        return found
    clock = importlib.import_module("opsplane.cli.wiring").SystemClock()
    now: Millis = clock.now_ms()
    return now


def _decimal(option: str, text: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite():
        raise SpecError([Problem(option, "", f"not a decimal number: {text!r}")])
    return value


def parse_budget(
    name: str,
    namespace: str,
    service: str | None,
    amount: str,
    currency: str,
    period: str,
    alert_at: str | None,
) -> Budget:
    """A budget from the command's options, or a :class:`SpecError` naming each bad option."""
    problems: list[Problem] = []
    try:
        parsed_period = parse_budget_period(period)
    except ValueError as exc:
        raise SpecError([Problem("--period", "", str(exc))]) from exc
    thresholds = DEFAULT_THRESHOLDS
    if alert_at is not None:
        thresholds = tuple(_decimal("--alert-at", t) for t in alert_at.split(","))
    budget = Budget(
        name,
        BudgetScope(namespace, service),
        _decimal("--amount", amount),
        parsed_period,
        thresholds,
        currency,
    )
    for field, message in budget.problems():
        option = "--alert-at" if field.startswith("thresholds") else _OPTION_OF.get(field, field)
        problems.append(Problem(option, "", message))
    if problems:
        raise SpecError(problems)
    return budget


@budget_app.command("set")
def budget_set(
    name: Annotated[str, typer.Argument(help="The budget's name in its namespace.")],
    amount: Annotated[str, typer.Option("--amount", help="The budget per period.")],
    namespace: NamespaceOpt = catalog.DEFAULT_NAMESPACE,
    service: Annotated[
        str | None,
        typer.Option("--service", help="Only this service (default: the whole namespace)."),
    ] = None,
    currency: Annotated[str, typer.Option("--currency", help="ISO 4217 code.")] = "USD",
    period: Annotated[
        str, typer.Option("--period", help="monthly, or START..END (ISO days, END exclusive).")
    ] = "monthly",
    alert_at: Annotated[
        str | None,
        typer.Option(
            "--alert-at", help="Fractions, e.g. 0.5,0.75,0.9 (default 50/75/80/90/100 %)."
        ),
    ] = None,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Create or replace a budget."""
    if not re.fullmatch(BUDGET_NAME_PATTERN, name):
        msg = "use 2 to 63 lowercase letters, digits or '-', starting and ending with one"
        raise SpecError([Problem("NAME", "", f"invalid budget name {name!r}: {msg}")])
    catalog.check_namespace(namespace)
    if service is not None and not re.fullmatch(BUDGET_NAME_PATTERN, service):
        raise SpecError([Problem("--service", "", f"not a service name: {service!r}")])
    budget = parse_budget(name, namespace, service, amount, currency, period, alert_at)
    with _open(db) as stores:
        stores.budgets.put_budget(budget, _now(None))
    typer.echo(f"budget {name} set in {namespace}")


@budget_app.command("list")
def budget_list(
    namespace: AnyNamespaceOpt = None, as_json: JsonOpt = False, db: DbOption = DEFAULT_DB
) -> None:
    """Budgets stored and from applied specs."""
    with _open(db) as stores:
        found = gather_budgets(stores.budgets, catalog.services(stores.specs), namespace)
    if as_json:
        listed = {"version": 1, "budgets": [budget_json(b, source) for b, source in found]}
        sys.stdout.write(json.dumps(listed, indent=2) + "\n")
        return
    table = Table(title="Budgets")
    for column in ("namespace", "name", "service", "amount", "period", "alert at", "source"):
        table.add_column(column, justify="right" if column == "amount" else "left")
    for budget, source in found:
        doc = budget_json(budget, source)
        table.add_row(doc["namespace"], doc["name"], doc["service"] or "(all)",
                      f"{doc['amount']} {doc['currency']}", doc["period"],
                      ", ".join(doc["alert_at"]), source)  # fmt: skip
    Console().print(table)


@budget_app.command("delete")
def budget_delete(
    name: Annotated[str, typer.Argument(help="The budget's name.")],
    namespace: NamespaceOpt = catalog.DEFAULT_NAMESPACE,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Delete a stored budget."""
    with _open(db) as stores:
        if not stores.budgets.delete_budget(namespace, name):
            raise NotFoundError(f"no stored budget {name!r} in namespace {namespace!r}")
    typer.echo(f"budget {name} deleted from {namespace}")


@budget_app.command("status")
def budget_status(
    namespace: AnyNamespaceOpt = None,
    at: AtOpt = None,
    as_json: JsonOpt = False,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Spend, forecast, crossing date and crossed thresholds of every budget."""
    now = _now(at)
    with _open(db) as stores:
        budgets = gather_budgets(stores.budgets, catalog.services(stores.specs), namespace)
        reports = evaluate_budgets(budgets, stores.ledger, now)
    doc = status_document(reports, rfc3339(now))
    if as_json:
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
        return
    table = Table(title=f"Budgets on {utc_day(now).isoformat()}")
    for column in ("budget", "spent", "used", "forecast", "100 % on", "crossed"):
        table.add_column(column, justify="right" if column in ("spent", "used") else "left")
    for b in doc["budgets"]:
        scope = b["namespace"] + (f"/{b['service']}" if b["service"] else "")
        forecast = "-" if b["forecast"] is None else f"{_cents(b['forecast'])}"
        spent = f"{_cents(b['spent'])}/{b['amount']} {b['currency']}"
        table.add_row(f"{b['name']} ({scope})", spent, f"{b['used']:.0%}", forecast,
                      b["crossing_date"] or "-",
                      ",".join(b["crossed"]) or "-")  # fmt: skip
    Console().print(table)


def forecast(
    namespace: NamespaceOpt = catalog.DEFAULT_NAMESPACE,
    service: Annotated[
        str | None, typer.Option("--service", help="Only this service.", show_default=False)
    ] = None,
    currency: Annotated[str, typer.Option("--currency", help="ISO 4217 code.")] = "USD",
    at: AtOpt = None,
    as_json: JsonOpt = False,
    db: DbOption = DEFAULT_DB,
) -> None:
    """This month's spend forecast, and the day each monthly budget is reached."""
    now = _now(at)
    with _open(db) as stores:
        services = catalog.services(stores.specs, namespace)
        budgets = [b for b, _ in gather_budgets(stores.budgets, services, namespace)]
        found = spend_forecast(
            stores.ledger, namespace, now, service=service, currency=currency, budgets=budgets
        )
    doc = forecast_document(found, rfc3339(now))
    if as_json:
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
        return
    who = namespace + (f"/{service}" if service else "")
    if doc["month_end"] is None:
        typer.echo(f"{who}: no recorded spend in {currency} to forecast from")
        return
    typer.echo(
        f"{who}: {_cents(doc['actual'])} {currency} spent this month through {doc['through']}, "
        f"{_cents(doc['month_end'])} forecast by month end ({doc['method']})"
    )
    for b in doc["budgets"]:
        when = f"reached on {b['crossing_date']}" if b["crossing_date"] else "not reached"
        typer.echo(f"budget {b['name']} ({b['amount']} {currency}): {when}")


def recommend(
    namespace: NamespaceOpt = catalog.DEFAULT_NAMESPACE,
    days: Annotated[
        int, typer.Option("--days", min=1, max=90, help="Runs of the last N days.")
    ] = 30,
    prices: Annotated[
        str | None,
        typer.Option("--prices", help="LiteLLM price map file, or 'litellm'.", show_default=False),
    ] = None,
    at: AtOpt = None,
    as_json: JsonOpt = False,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Cheaper capable models and cost jumps after deployments, from recorded runs."""
    now = _now(at)
    table = load_price_table(prices)
    with _open(db) as stores:
        found = recommendations(stores.ledger, stores.deployments, table, namespace, now, days=days)
    doc = recommendations_document(found, namespace, table.currency, rfc3339(now))
    if as_json:
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
        return
    if not found:
        typer.echo(f"{namespace}: no recommendation from the last {days} days of runs")
        return
    out = Table(title=f"Recommendations for {namespace} ({table.currency} a month)")
    for column in ("saving", "kind", "service", "what"):
        out.add_column(column, justify="right" if column == "saving" else "left", overflow="fold")
    for r in doc["recommendations"]:
        out.add_row(_cents(r["monthly_savings"]), r["kind"], r["service"], r["summary"])
    Console().print(out)


def _cents(text: Any) -> str:
    return money_text(Decimal(str(text)).quantize(Decimal("0.01")))
