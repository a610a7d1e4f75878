"""Our per-run costs as FOCUS 1.0 rows."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from opsplane.domain.cost.focus import FOCUS_COLUMNS, X_COLUMNS, focus_rows
from opsplane.domain.cost.pricing import price_runs
from opsplane.errors import SpecError
from opsplane.spec.focus import parse_focus, render_focus_csv
from tests.domain.cost.builders import T0, TABLE, design_run


def test_each_priced_line_is_one_row_with_the_columns_we_can_fill() -> None:
    priced = price_runs([design_run(started_at=T0, ended_at=T0 + timedelta(minutes=3))], TABLE)
    rows = focus_rows(priced, source="test table")
    assert len(rows) == 5
    assert list(rows[0]) == [*FOCUS_COLUMNS, *X_COLUMNS]
    compute = rows[1]
    assert {k: v for k, v in compute.items() if v is not None} == {
        "BilledCost": "0.00068",
        "BillingCurrency": "USD",
        "BillingPeriodEnd": "2026-04-01T00:00:00Z",
        "BillingPeriodStart": "2026-03-01T00:00:00Z",
        "ChargeCategory": "Usage",
        "ChargeDescription": "42.5 Seconds of compute/build at 0.000016 USD",
        "ChargeFrequency": "Usage-Based",
        "ChargePeriodEnd": "2026-03-02T10:00:00Z",
        "ChargePeriodStart": "2026-03-02T09:00:00Z",
        "ConsumedQuantity": "42.5",
        "ConsumedUnit": "Seconds",
        "ContractedCost": "0.00068",
        "ContractedUnitPrice": "0.000016",
        "EffectiveCost": "0.00068",
        "InvoiceIssuerName": "opsplane",
        "ListCost": "0.00068",
        "ListUnitPrice": "0.000016",
        "PricingCategory": "Standard",
        "PricingQuantity": "42.5",
        "PricingUnit": "Seconds",
        "ProviderName": "opsplane",
        "PublisherName": "opsplane",
        "ResourceId": "r-1",
        "ResourceName": "payments/checkout",
        "ResourceType": "Workflow Run",
        "ServiceCategory": "Compute",
        "ServiceName": "checkout",
        "SkuId": "compute/build",
        "SubAccountId": "payments",
        "SubAccountName": "payments",
        "Tags": '{"namespace": "payments", "service": "checkout"}',
        "x_RunId": "r-1",
        "x_Namespace": "payments",
        "x_Component": "compute",
        "x_PriceSource": "test table",
    }
    assert [r["ServiceCategory"] for r in rows] == [
        "Integration", "Compute", "AI and Machine Learning", "AI and Machine Learning", "Other",
    ]  # fmt: skip
    assert json.loads(rows[0]["Tags"] or "") == {"service": "checkout", "namespace": "payments"}


def test_a_run_without_a_start_has_no_charge_period() -> None:
    with pytest.raises(SpecError) as caught:
        focus_rows(price_runs([design_run(started_at=T0), design_run()], TABLE), file="runs.json")
    assert [str(p) for p in caught.value.problems] == [
        "runs.json:[1].started_at: is required to export FOCUS rows (the charge period)"
    ]


def test_exported_rows_read_back_as_the_same_charges() -> None:
    priced = price_runs([design_run(started_at=T0)], TABLE)
    charges = parse_focus("out.csv", render_focus_csv(focus_rows(priced)))
    assert [c.billed_cost for c in charges] == [line.amount for line in priced[0].breakdown.lines]
    assert charges[2].sku_id == "llm/gpt-4o-mini/input"
    assert charges[2].tags == {"namespace": "payments", "service": "checkout"}
    assert charges[2].extra == {"x_RunId": "r-1", "x_Namespace": "payments", "x_Component": "llm"}
    assert charges[2].period_start == T0.replace(minute=0)
