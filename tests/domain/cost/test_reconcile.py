"""Reconciliation: 100 simulated runs priced by the engine against a bill for the same usage.

The bill is built independently of the engine, from the runs' usage at the providers' list
prices (LiteLLM's for tokens, the rate table's for compute and actions), aggregated per
service, day and SKU as billing exports are, written as FOCUS CSV and read back. It differs
from the estimate the ways real bills do: compute billed per started second, 3 % of
support-bot's LLM calls retried (billed twice, recorded once by the run), and the search API
billed at 0.0025 per request instead of the 0.002 the runs recorded. The seed's success
metric is "cost estimates within 10 % accuracy of actual billing data after 100 runs".
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import ROUND_CEILING, Decimal

import pytest

from opsplane.domain.cost.focus import focus_rows
from opsplane.domain.cost.model import ApiFee, ComputeUsage, LlmUsage, PricedRun, Run
from opsplane.domain.cost.prices import PriceTable
from opsplane.domain.cost.pricing import price_runs, token_counts
from opsplane.domain.cost.reconcile import reconcile
from opsplane.spec.cost_prices import load_price_table
from opsplane.spec.focus import parse_focus, render_focus_csv

D = Decimal
START = datetime(2026, 3, 1, tzinfo=UTC)
SERVICES = ("checkout", "search", "support-bot")


@pytest.fixture(scope="module")
def table() -> PriceTable:
    base = load_price_table()  # LiteLLM 1.110.2 list prices
    rates = {"cpu": D("0.000016"), "memory-gb": D("0.0000025")}
    return PriceTable(base.models, base.unusable, base.action_price, rates, source=base.source)


def simulated_runs(n: int = 100, seed: int = 8) -> list[Run]:
    """``n`` runs over the three services in March 2026 (seeded)."""
    rng = random.Random(seed)
    runs = []
    for i in range(n):
        service = SERVICES[i % 3]
        at = START + timedelta(minutes=rng.randrange(0, 20 * 24 * 60))
        seconds = D(rng.randrange(5_000, 90_000)).scaleb(-3)
        if service == "checkout":
            llm = (
                LlmUsage("gpt-4o-mini", rng.randrange(5_000, 20_000), rng.randrange(300, 1_500)),
            )
            fees: tuple[ApiFee, ...] = ()
            compute = (ComputeUsage("cpu", seconds),)
        elif service == "search":
            llm = (LlmUsage("text-embedding-3-small", rng.randrange(1_000, 5_000)),)
            fees = (ApiFee("search", D("0.002")),) * rng.randrange(1, 4)
            compute = (ComputeUsage("cpu", seconds), ComputeUsage("memory-gb", 2 * seconds))
        else:
            llm = (
                LlmUsage(
                    "claude-sonnet-4-5",
                    rng.randrange(2_000, 8_000),
                    rng.randrange(500, 2_000),
                    cache_read_tokens=rng.randrange(10_000, 40_000),
                    cache_write_tokens=rng.randrange(0, 3_000),
                ),
            )
            fees, compute = (), (ComputeUsage("cpu", seconds),)
        runs.append(
            Run(
                f"run-{i:03d}",
                service,
                "payments",
                rng.randrange(100, 1_500),
                compute,
                llm,
                fees,
                at,
            )
        )
    return runs


def billed_csv(runs: list[Run], table: PriceTable, seed: int = 9) -> str:
    """FOCUS CSV of what the providers bill for the runs' usage (see the module docs)."""
    rng = random.Random(seed)
    usage: dict[tuple[str, str, str, str], list[Decimal]] = defaultdict(lambda: [D(0), D(0)])

    def bill(run: Run, component: str, sku: str, quantity: Decimal, price: Decimal) -> None:
        cell = usage[(run.service, run.started_at.date().isoformat(), component, sku)]  # type: ignore[union-attr]
        cell[0] += quantity
        cell[1] += quantity * price

    for run in runs:
        bill(run, "actions", "actions", D(run.actions), table.action_price)
        for c in run.compute:  # billed per started second
            whole = c.seconds.to_integral_value(ROUND_CEILING)
            bill(
                run, "compute", f"compute/{c.capability}", whole, table.compute_rates[c.capability]
            )
        for u in run.llm:
            model = table.models[u.model]
            times = (
                2 if run.service == "support-bot" and rng.random() < 0.03 else 1
            )  # a retried call
            for kind, count in token_counts(u):
                rate = model.rate(kind)
                if count and rate is not None:
                    bill(run, "llm", f"llm/{u.model}/{kind}", D(count * times), rate)
        for fee in run.api_fees:
            bill(run, "api_fees", f"api/{fee.name}", D(1), D("0.0025"))
    lines = [
        "BilledCost,BillingCurrency,ChargeCategory,ChargePeriodStart,ChargePeriodEnd,"
        "ConsumedQuantity,ConsumedUnit,ServiceCategory,SkuId,Tags,x_Component"
    ]
    for (service, day, component, sku), (quantity, cost) in sorted(usage.items()):
        tags = json.dumps({"service": service, "namespace": "payments"}).replace('"', '""')
        period = f"{day} 00:00:00,{day}T23:59:59Z"  # both date-time spellings of the sample
        lines.append(f'{cost},USD,Usage,{period},{quantity},NULL,NULL,{sku},"{tags}",{component}')
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def priced(table: PriceTable) -> list[PricedRun]:
    return price_runs(simulated_runs(), table)


def test_a_hundred_runs_are_within_10_percent_of_the_bill_for_every_service(
    table: PriceTable, priced: list[PricedRun]
) -> None:
    report = reconcile(priced, parse_focus("billed.csv", billed_csv(simulated_runs(), table)))
    assert [s.service for s in report.services] == list(SERVICES)
    for service in report.services:
        assert service.error is not None
        assert -0.10 <= service.error < 0, service.explanation()
    assert report.unallocated == 0


def test_the_report_says_where_each_difference_comes_from(
    table: PriceTable, priced: list[PricedRun]
) -> None:
    report = reconcile(priced, parse_focus("billed.csv", billed_csv(simulated_runs(), table)))
    checkout, search, bot = (report.service(s) for s in SERVICES)
    # checkout: only compute differs, by the rounding up to whole seconds
    assert {d.sku for d in checkout.skus if d.difference} == {"compute/cpu"}
    assert checkout.skus[0].cause().startswith("quantity: billed ")
    # search: the API fee was billed at a higher price than the runs recorded
    assert search.skus[0].sku == "api/search"
    assert search.skus[0].cause() == "price: billed 0.0025 per unit, estimated 0.002"
    # support-bot: retried calls were billed but not recorded
    assert bot.skus[0].component == "llm"
    assert bot.skus[0].cause().startswith("quantity: billed ")
    assert bot.explanation().startswith("support-bot: estimated ")
    assert "of the difference; quantity: billed" in bot.explanation()


def test_every_component_and_sku_sums_to_the_service_totals(
    table: PriceTable, priced: list[PricedRun]
) -> None:
    report = reconcile(priced, parse_focus("billed.csv", billed_csv(simulated_runs(), table)))
    for s in report.services:
        assert sum(e for e, _ in s.components.values()) == s.estimated
        assert sum(b for _, b in s.components.values()) == s.billed
        assert sum(d.difference for d in s.skus) == s.difference


def test_our_own_export_reconciles_exactly(priced: list[PricedRun]) -> None:
    report = reconcile(priced, parse_focus("ours.csv", render_focus_csv(focus_rows(priced))))
    assert all(s.error == 0 for s in report.services)
    assert report.service("checkout").explanation().endswith("every SKU matches")


def test_rows_without_the_service_tag_or_in_another_currency_are_set_aside(
    priced: list[PricedRun],
) -> None:
    text = render_focus_csv(focus_rows(priced[:1]))
    header, row = text.splitlines()[:2]
    untagged = row.replace('"{""namespace"": ""payments"", ""service"": ""checkout""}"', "")
    euros = row.replace(",USD,", ",EUR,")
    report = reconcile(
        priced[:1], parse_focus("b.csv", "\n".join([header, untagged, euros]) + "\n")
    )
    assert report.unallocated == priced[0].breakdown.lines[0].amount
    assert report.other_currency_rows == 1
    assert report.service("checkout").billed == 0
    assert report.service("checkout").error is None  # nothing billed: no relative error
