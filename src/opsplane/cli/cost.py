"""``opsplane cost``: the cost of runs, their FOCUS rows, and reconciliation with the bill.

``opsplane cost run RUN.json [--prices FILE|litellm] [--rates FILE] [--json]`` prices one run
or a batch and prints a table (or versioned JSON, ``docs/cost.md``). ``export-focus`` writes the
runs' cost as FOCUS 1.0 CSV; ``reconcile`` compares them with a billed FOCUS file. Invalid input
prints one line per problem and exits 1; bad arguments exit 2.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from opsplane.adapters.files import write_text
from opsplane.cli import cost_budget
from opsplane.domain.cost.focus import focus_rows
from opsplane.domain.cost.model import COMPONENTS, PricedRun
from opsplane.domain.cost.money import money_text
from opsplane.domain.cost.prices import PriceTable
from opsplane.domain.cost.reconcile import Reconciliation, reconcile
from opsplane.errors import UsageError
from opsplane.render.cost import reconciliation_document, runs_document
from opsplane.spec.cost_prices import load_price_table
from opsplane.spec.cost_run import RunFile, load_runs, price_run_file
from opsplane.spec.focus import load_focus, render_focus_csv

app = typer.Typer(
    help="Cost per run (TCO), FOCUS export, reconciliation, budgets, forecasts and advice.",
    no_args_is_help=True,
)
app.add_typer(cost_budget.budget_app, name="budget")
app.command("forecast")(cost_budget.forecast)
app.command("recommend")(cost_budget.recommend)

MAX_TABLE_ROWS = 50
"""A batch table shows this many runs; ``--json`` has them all."""

PricesOpt = Annotated[
    str | None,
    typer.Option(
        "--prices",
        help="LiteLLM price map: a file, or 'litellm' for the installed package's copy "
        "(default: the copy packaged with opsplane).",
        show_default=False,
    ),
]
RatesOpt = Annotated[
    Path | None,
    typer.Option(
        "--rates", help="Rate table (JSON/YAML): action_price, compute rates.", show_default=False
    ),
]
ActionPriceOpt = Annotated[
    str | None,
    typer.Option(
        "--action-price", help="Price per workflow action (default 0.00001).", show_default=False
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print versioned JSON.")]


@app.command("run")
def run(
    file: Annotated[Path, typer.Argument(help='RUN.json: one run, a list, or {"runs": [...]}.')],
    prices: PricesOpt = None,
    rates: RatesOpt = None,
    action_price: ActionPriceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Price workflow runs: actions, compute, LLM tokens and API fees, with the total."""
    table = _table(prices, rates, action_price)
    run_file = load_runs(file)
    priced = price_run_file(run_file, table)
    if as_json:
        doc = runs_document(priced, table.currency, single=run_file.single, source=table.source)
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
        return
    Console().print(_runs_table(priced, table, run_file))


@app.command("export-focus")
def export_focus(
    file: Annotated[Path, typer.Argument(help="RUN.json; every run needs started_at.")],
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="CSV file (default: stdout).", show_default=False),
    ] = None,
    prices: PricesOpt = None,
    rates: RatesOpt = None,
    action_price: ActionPriceOpt = None,
) -> None:
    """Write the runs' costs as FOCUS 1.0 rows (one per priced line), CSV."""
    table = _table(prices, rates, action_price)
    run_file = load_runs(file)
    priced = price_run_file(run_file, table)
    text = render_focus_csv(focus_rows(priced, source=table.source, file=run_file.file))
    if output is None:
        sys.stdout.write(text)
    else:
        write_text(output, text)
        typer.echo(f"wrote {text.count(chr(10)) - 1} FOCUS rows to {output}", err=True)


@app.command("reconcile")
def reconcile_cmd(
    billed: Annotated[
        Path, typer.Option("--billed", help="Billed costs, FOCUS 1.0 CSV.", show_default=False)
    ],
    runs: Annotated[
        Path, typer.Option("--runs", help="RUN.json of the same period.", show_default=False)
    ],
    service_tag: Annotated[
        str, typer.Option("--service-tag", help="The Tags key that names a billed row's service.")
    ] = "service",
    prices: PricesOpt = None,
    rates: RatesOpt = None,
    action_price: ActionPriceOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Compare estimated run costs with billed FOCUS costs: error per service, and why."""
    table = _table(prices, rates, action_price)
    priced = price_run_file(load_runs(runs), table)
    report = reconcile(priced, load_focus(billed), service_tag=service_tag, currency=table.currency)
    if as_json:
        sys.stdout.write(json.dumps(reconciliation_document(report), indent=2) + "\n")
        return
    Console().print(_reconcile_table(report))


def _table(prices: str | None, rates: Path | None, action_price: str | None) -> PriceTable:
    price = None
    if action_price is not None:
        try:
            price = Decimal(action_price)
        except InvalidOperation as exc:
            raise UsageError(f"--action-price: not a decimal number: {action_price!r}") from exc
    return load_price_table(prices, rates, action_price=price)


def _runs_table(priced: Sequence[PricedRun], table: PriceTable, run_file: RunFile) -> Table:
    title = f"Cost of {run_file.file} ({table.currency})"
    caption = f"LLM prices: {table.source}"
    if run_file.single and priced:
        out = Table(title=title, caption=caption)
        out.add_column("component")
        out.add_column("amount", justify="right")
        breakdown = priced[0].breakdown
        for c in COMPONENTS:
            out.add_row(c, money_text(breakdown.component(c)))
        out.add_row("total", money_text(breakdown.total), style="bold")
        return out
    out = Table(title=title, caption=caption)
    for name in ("run", "service", *COMPONENTS, "total"):
        out.add_column(name, justify="left" if name in ("run", "service") else "right")
    for p in priced[:MAX_TABLE_ROWS]:
        b = p.breakdown
        out.add_row(p.run.run_id, p.run.service, *(money_text(b.component(c)) for c in COMPONENTS),
                    money_text(b.total))  # fmt: skip
    if len(priced) > MAX_TABLE_ROWS:
        out.add_row(f"... {len(priced) - MAX_TABLE_ROWS} more (--json has all)", "", *[""] * 5)
    doc = runs_document(priced, table.currency, single=False)
    out.add_row(f"total ({len(priced)} runs)", "", *(doc["breakdown"][c] for c in COMPONENTS),
                doc["total"], style="bold")  # fmt: skip
    return out


def _reconcile_table(report: Reconciliation) -> Table:
    out = Table(title=f"Estimate vs bill ({report.currency})")
    for name in ("service", "estimated", "billed", "error", "where the difference comes from"):
        out.add_column(
            name, justify="right" if name in ("estimated", "billed", "error") else "left"
        )
    for s in report.services:
        error = "n/a" if s.error is None else f"{s.error:+.1%}"
        where = "; ".join(f"{d.sku}: {d.cause()}" for d in s.skus[:2] if d.difference) or "matches"
        out.add_row(s.service, money_text(s.estimated), money_text(s.billed), error, where)
    if report.unallocated:
        out.caption = f"billed without a service tag: {money_text(report.unallocated)}"
    return out
