"""Reconciliation: our estimates against the bill, per service, and where they differ.

Estimated lines and billed FOCUS rows are matched by service and SKU. A billed row's service
is its tag ``service_tag`` (``service`` in the rows opsplane exports; ``application`` in the
FOCUS sample); rows without it are *unallocated*. Its component is its ``x_Component``
column, else its ``ServiceCategory`` (Compute, AI and Machine Learning, Integration), and a
row that is not usage (a credit, an adjustment, a tax) is its own component, so the report
shows it as such.

For each SKU the difference ``estimated - billed`` splits into a quantity effect and a price
effect (the usual price/volume variance decomposition)::

    quantity effect = (estimated qty - billed qty) * billed unit price
    price effect    = estimated qty * (estimated unit price - billed unit price)

so the report can say "billed 10,230 seconds where the runs recorded 10,012" or "billed at a
higher unit price".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from opsplane.domain.cost.focus import FocusCharge
from opsplane.domain.cost.model import PricedRun
from opsplane.domain.cost.money import (
    APPROX,
    DEFAULT_CURRENCY,
    EXACT,
    ZERO,
    money_sum,
    money_text,
)

CATEGORY_COMPONENT: Final[Mapping[str, str]] = {
    "Compute": "compute",
    "AI and Machine Learning": "llm",
    "Integration": "actions",
}
"""A billed row's component from its FOCUS ServiceCategory, when it has no x_Component."""

NO_SKU: Final = "(no SkuId)"


@dataclass(frozen=True, slots=True)
class SkuDifference:
    """Estimated and billed cost of one SKU of one service."""

    component: str
    sku: str
    estimated: Decimal
    billed: Decimal
    estimated_quantity: Decimal
    billed_quantity: Decimal | None
    unit: str | None

    @property
    def difference(self) -> Decimal:
        """``estimated - billed``: positive when we overestimate."""
        return EXACT.subtract(self.estimated, self.billed)

    def effects(self) -> tuple[Decimal, Decimal] | None:
        """``(quantity effect, price effect)``, or None without both quantities."""
        q_e, q_b = self.estimated_quantity, self.billed_quantity
        if not q_e or not q_b or not self.billed:
            return None
        billed_price = APPROX.divide(self.billed, q_b)
        quantity = APPROX.multiply(APPROX.subtract(q_e, q_b), billed_price)
        return quantity, APPROX.subtract(self.difference, quantity)

    def cause(self) -> str:
        """Where the difference comes from, in words."""
        if not self.difference:
            return "matches"
        if not self.billed:
            return "estimated but not on the bill"
        if not self.estimated:
            return "on the bill but not estimated"
        effects = self.effects()
        unit = f" {self.unit}" if self.unit else ""
        if effects is None:
            return "different amount (the bill gives no quantity)"
        quantity, price = effects
        if abs(quantity) >= abs(price):
            return (
                f"quantity: billed {money_text(_q(self.billed_quantity))}{unit}, "
                f"estimated {money_text(_q(self.estimated_quantity))}"
            )
        billed_price = APPROX.divide(self.billed, self.billed_quantity or Decimal(1))
        estimated_price = APPROX.divide(self.estimated, self.estimated_quantity)
        return (
            f"price: billed {money_text(_q(billed_price, 12))} per unit, "
            f"estimated {money_text(_q(estimated_price, 12))}"
        )


@dataclass(frozen=True, slots=True)
class ServiceReconciliation:
    """One service: totals, per component, and per SKU (largest difference first)."""

    service: str
    currency: str
    estimated: Decimal
    billed: Decimal
    components: Mapping[str, tuple[Decimal, Decimal]]
    skus: tuple[SkuDifference, ...]

    @property
    def difference(self) -> Decimal:
        """``estimated - billed``."""
        return EXACT.subtract(self.estimated, self.billed)

    @property
    def error(self) -> float | None:
        """The relative error ``(estimated - billed) / billed``; None when nothing was billed."""
        if not self.billed:
            return None
        return float(APPROX.divide(self.difference, self.billed))

    def explanation(self, top: int = 3) -> str:
        """One line: the totals, the error, and the SKUs behind most of the difference."""
        head = (
            f"{self.service}: estimated {money_text(self.estimated)}, billed "
            f"{money_text(self.billed)} {self.currency}"
        )
        if self.error is not None:
            head += f" ({self.error:+.1%})"
        gap = money_sum(abs(s.difference) for s in self.skus)
        if not gap:
            return f"{head}; every SKU matches"
        parts = [
            f"{s.sku} {_signed(s.difference)} ({float(APPROX.divide(abs(s.difference), gap)):.0%} "
            f"of the difference; {s.cause()})"
            for s in self.skus[:top]
            if s.difference
        ]
        return f"{head}; " + "; ".join(parts)


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """Every service, plus billed cost that no service could be found for."""

    currency: str
    services: tuple[ServiceReconciliation, ...]
    unallocated: Decimal
    other_currency_rows: int = 0

    def service(self, name: str) -> ServiceReconciliation:
        """One service's reconciliation (KeyError when absent)."""
        for s in self.services:
            if s.service == name:
                return s
        raise KeyError(name)


def reconcile(
    priced: Sequence[PricedRun],
    billed: Sequence[FocusCharge],
    *,
    service_tag: str = "service",
    currency: str = DEFAULT_CURRENCY,
) -> Reconciliation:
    """Match estimated lines and billed rows by service and SKU (see the module docs)."""
    est: dict[str, dict[tuple[str, str], list[Decimal]]] = {}
    units: dict[tuple[str, str, str], str] = {}
    for p in priced:
        for line in p.breakdown.lines:
            cell = est.setdefault(p.run.service, {}).setdefault(
                (line.component, line.sku), [ZERO, ZERO]
            )
            cell[0] = EXACT.add(cell[0], line.amount)
            cell[1] = EXACT.add(cell[1], line.quantity)
            units[(p.run.service, line.component, line.sku)] = line.unit
    bill: dict[str, dict[tuple[str, str], list[Decimal | None]]] = {}
    unallocated, other = ZERO, 0
    for row in billed:
        if row.currency != currency:
            other += 1
            continue
        service = row.tags.get(service_tag)
        if not service:
            unallocated = EXACT.add(unallocated, row.billed_cost)
            continue
        key = (_component(row), row.sku_id or NO_SKU)
        cell_b = bill.setdefault(service, {}).setdefault(key, [ZERO, ZERO])
        cell_b[0] = EXACT.add(cell_b[0] or ZERO, row.billed_cost)
        cell_b[1] = (
            None
            if cell_b[1] is None or row.consumed_quantity is None
            else EXACT.add(cell_b[1], row.consumed_quantity)
        )
        units.setdefault((service, *key), row.consumed_unit or "")
    services = tuple(
        _service(name, currency, est.get(name, {}), bill.get(name, {}), units)
        for name in sorted(set(est) | set(bill))
    )
    return Reconciliation(currency, services, unallocated, other)


def _service(
    name: str,
    currency: str,
    est: Mapping[tuple[str, str], list[Decimal]],
    bill: Mapping[tuple[str, str], list[Decimal | None]],
    units: Mapping[tuple[str, str, str], str],
) -> ServiceReconciliation:
    skus = []
    for key in sorted(set(est) | set(bill)):
        e_amount, e_qty = est.get(key, [ZERO, ZERO])
        b_amount, b_qty = bill.get(key, [ZERO, None])
        unit = units.get((name, *key)) or None
        skus.append(SkuDifference(key[0], key[1], e_amount, b_amount or ZERO, e_qty, b_qty, unit))
    skus.sort(key=lambda s: (-abs(s.difference), s.component, s.sku))
    components: dict[str, tuple[Decimal, Decimal]] = {}
    for s in skus:
        e, b = components.get(s.component, (ZERO, ZERO))
        components[s.component] = (EXACT.add(e, s.estimated), EXACT.add(b, s.billed))
    total_e = money_sum(s.estimated for s in skus)
    total_b = money_sum(s.billed for s in skus)
    return ServiceReconciliation(name, currency, total_e, total_b, components, tuple(skus))


def _component(row: FocusCharge) -> str:
    if row.charge_category != "Usage":
        return row.charge_category.lower() or "other"
    tagged = row.extra.get("x_Component")
    if tagged:
        return tagged
    return CATEGORY_COMPONENT.get(row.service_category or "", "other")


def _q(value: Decimal | None, places: int = 6) -> Decimal:
    if value is None:
        return ZERO
    return value.quantize(Decimal(1).scaleb(-places), context=APPROX)


def _signed(value: Decimal) -> str:
    text = money_text(_q(value))
    return text if text.startswith("-") else f"+{text}"
