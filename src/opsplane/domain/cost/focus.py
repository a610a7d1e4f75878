"""FOCUS 1.0: our per-run costs as FOCUS rows, and billed FOCUS charges as data.

FOCUS (FinOps Open Cost and Usage Specification, https://focus.finops.org) 1.0 fixes the
columns of a cost and usage dataset. :func:`focus_rows` turns each priced line of a run into
one row with the columns below filled (the rest are null) and opsplane's own columns, which
FOCUS requires to carry the ``x_`` prefix. Estimates are at list price without discounts, so
``BilledCost = EffectiveCost = ListCost = ContractedCost``. :class:`FocusCharge` holds the
columns of a billed row that reconciliation needs; reading and writing CSV is the edge's job
(:mod:`opsplane.spec.focus`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Final

from opsplane.domain.cost.model import Component, Line, PricedRun
from opsplane.domain.cost.money import money_text
from opsplane.errors import Problem, SpecError

FOCUS_COLUMNS: Final = (
    "AvailabilityZone", "BilledCost", "BillingAccountId", "BillingAccountName",
    "BillingCurrency", "BillingPeriodEnd", "BillingPeriodStart", "ChargeCategory",
    "ChargeClass", "ChargeDescription", "ChargeFrequency", "ChargePeriodEnd",
    "ChargePeriodStart", "CommitmentDiscountCategory", "CommitmentDiscountId",
    "CommitmentDiscountName", "CommitmentDiscountStatus", "CommitmentDiscountType",
    "ConsumedQuantity", "ConsumedUnit", "ContractedCost", "ContractedUnitPrice",
    "EffectiveCost", "InvoiceIssuerName", "ListCost", "ListUnitPrice", "PricingCategory",
    "PricingQuantity", "PricingUnit", "ProviderName", "PublisherName", "RegionId",
    "RegionName", "ResourceId", "ResourceName", "ResourceType", "ServiceCategory",
    "ServiceName", "SkuId", "SkuPriceId", "SubAccountId", "SubAccountName", "Tags",
)  # fmt: skip
"""The FOCUS 1.0 columns, in the order of the FOCUS sample data (its ``Id`` column aside)."""

X_COLUMNS: Final = ("x_RunId", "x_Namespace", "x_Component", "x_PriceSource")
"""opsplane's custom columns: the run, its namespace, the cost component, the price source."""

SERVICE_CATEGORY: Final[Mapping[Component, str]] = {
    "actions": "Integration",
    "compute": "Compute",
    "llm": "AI and Machine Learning",
    "api_fees": "Other",
}
"""FOCUS 1.0 ServiceCategory values (its allowed list) for each component."""

Row = dict[str, str | None]


@dataclass(frozen=True, slots=True)
class FocusCharge:
    """The columns of one billed FOCUS row that opsplane uses (null columns are None)."""

    billed_cost: Decimal
    currency: str
    period_start: datetime
    period_end: datetime
    charge_category: str
    service_name: str | None = None
    service_category: str | None = None
    provider: str | None = None
    resource_id: str | None = None
    sku_id: str | None = None
    consumed_quantity: Decimal | None = None
    consumed_unit: str | None = None
    effective_cost: Decimal | None = None
    list_cost: Decimal | None = None
    list_unit_price: Decimal | None = None
    sub_account: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    extra: Mapping[str, str] = field(default_factory=dict)


def focus_rows(
    priced: Sequence[PricedRun],
    *,
    provider: str = "opsplane",
    source: str = "",
    file: str = "<runs>",
) -> list[Row]:
    """One FOCUS row per priced line of every run, all columns as text (None is null).

    The charge period is the UTC hour containing the run's start, as hourly billing data has.

    Raises:
        SpecError: a run has no ``started_at``, so its charge period is unknown.
    """
    missing = [
        Problem(file, f"[{i}].started_at", "is required to export FOCUS rows (the charge period)")
        for i, p in enumerate(priced)
        if p.run.started_at is None
    ]
    if missing:
        raise SpecError(missing)
    rows: list[Row] = []
    for p in priced:
        if p.run.started_at is not None:  # checked above; this tells the type checker
            hour = p.run.started_at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
            rows.extend(_row(p, line, hour, provider, source) for line in p.breakdown.lines)
    return rows


def _row(priced: PricedRun, line: Line, start: datetime, provider: str, source: str) -> Row:
    run = priced.run
    month = start.replace(day=1, hour=0)
    currency = priced.breakdown.currency
    amount, price, qty = (
        money_text(line.amount),
        money_text(line.unit_price),
        money_text(line.quantity),
    )
    values: Row = {
        "BilledCost": amount,
        "BillingCurrency": currency,
        "BillingPeriodStart": _ts(month),
        "BillingPeriodEnd": _ts((month + timedelta(days=32)).replace(day=1)),
        "ChargeCategory": "Usage",
        "ChargeDescription": f"{qty} {line.unit} of {line.sku} at {price} {currency}",
        "ChargeFrequency": "Usage-Based",
        "ChargePeriodStart": _ts(start),
        "ChargePeriodEnd": _ts(start + timedelta(hours=1)),
        "ConsumedQuantity": qty,
        "ConsumedUnit": line.unit,
        "ContractedCost": amount,
        "ContractedUnitPrice": price,
        "EffectiveCost": amount,
        "InvoiceIssuerName": provider,
        "ListCost": amount,
        "ListUnitPrice": price,
        "PricingCategory": "Standard",
        "PricingQuantity": qty,
        "PricingUnit": line.unit,
        "ProviderName": provider,
        "PublisherName": provider,
        "ResourceId": run.run_id,
        "ResourceName": f"{run.namespace}/{run.service}",
        "ResourceType": "Workflow Run",
        "ServiceCategory": SERVICE_CATEGORY[line.component],
        "ServiceName": run.service,
        "SkuId": line.sku,
        "SubAccountId": run.namespace,
        "SubAccountName": run.namespace,
        "Tags": _tags(run.service, run.namespace),
        "x_RunId": run.run_id,
        "x_Namespace": run.namespace,
        "x_Component": line.component,
        "x_PriceSource": source or None,
    }
    return {column: values.get(column) for column in (*FOCUS_COLUMNS, *X_COLUMNS)}


def _ts(at: datetime) -> str:
    """FOCUS date-times are ISO 8601 in UTC."""
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def _tags(service: str, namespace: str) -> str:
    return json.dumps({"service": service, "namespace": namespace}, sort_keys=True)
