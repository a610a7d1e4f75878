"""What the console's cost pages show, from the cost use case's answers (pure).

Money is shown exactly as recorded (decimal text, never through a float), with its currency;
a component's share of a service's total is a ratio for a ``<meter>`` and a percentage.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from opsplane.app.costs import ServiceCost
from opsplane.domain.cost.ledger import CostRecord
from opsplane.domain.cost.model import COMPONENTS, Breakdown, Component, Line
from opsplane.domain.cost.money import APPROX, money_text

LABELS: dict[Component, str] = {
    "actions": "Actions",
    "compute": "Compute",
    "llm": "LLM tokens",
    "api_fees": "API fees",
}


@dataclass(frozen=True, slots=True)
class Part:
    """One component of a cost: its amount as text and its share of the total (0..1)."""

    component: Component
    label: str
    amount: str
    share: float


@dataclass(frozen=True, slots=True)
class CostRow:
    """One service's spend, or one run's cost."""

    name: str
    currency: str
    total: str
    parts: tuple[Part, ...]
    runs: int = 1
    at: int | None = None
    service: str = ""


@dataclass(frozen=True, slots=True)
class CostsPage:
    """The costs page: this month's spend per service, and recent runs."""

    totals: tuple[tuple[str, str, int], ...]
    """Per currency: the month's total as text, and its runs."""
    services: tuple[CostRow, ...]
    runs: tuple[CostRow, ...]


@dataclass(frozen=True, slots=True)
class LineRow:
    """One priced line, every number as text."""

    label: str
    sku: str
    quantity: str
    unit: str
    unit_price: str
    amount: str


def parts(breakdown: Breakdown) -> tuple[Part, ...]:
    """The four components with their shares (0 each when the total is 0)."""
    total = breakdown.total
    return tuple(
        Part(
            c, LABELS[c], money_text(breakdown.component(c)), _share(breakdown.component(c), total)
        )
        for c in COMPONENTS
    )


def _share(amount: Decimal, total: Decimal) -> float:
    return float(APPROX.divide(amount, total)) if total else 0.0


def costs_page(summary: Sequence[ServiceCost], recent: Sequence[CostRecord]) -> CostsPage:
    """The costs page of a month's per-service ``summary`` and the ``recent`` runs."""
    sums: dict[str, tuple[Breakdown, int]] = {}
    for cost in summary:
        currency = cost.breakdown.currency
        total, runs = sums.get(currency, (Breakdown(currency), 0))
        sums[currency] = (total + cost.breakdown, runs + cost.runs)
    return CostsPage(
        totals=tuple(
            (currency, money_text(total.total), runs)
            for currency, (total, runs) in sorted(sums.items())
        ),
        services=tuple(
            CostRow(
                s.service,
                s.breakdown.currency,
                money_text(s.breakdown.total),
                parts(s.breakdown),
                runs=s.runs,
            )
            for s in sorted(summary, key=lambda s: (-s.breakdown.total, s.service))
        ),
        runs=tuple(run_row(r) for r in recent),
    )


def run_row(record: CostRecord) -> CostRow:
    """One run in the recent runs table."""
    return CostRow(
        record.run_id,
        record.currency,
        money_text(record.total),
        parts(record.breakdown),
        at=record.at,
        service=record.service,
    )


def line_rows(lines: Sequence[Line]) -> tuple[LineRow, ...]:
    """A run's priced lines, in the order they were priced."""
    return tuple(
        LineRow(
            LABELS[line.component],
            line.sku,
            money_text(line.quantity),
            line.unit,
            money_text(line.unit_price),
            money_text(line.amount),
        )
        for line in lines
    )
