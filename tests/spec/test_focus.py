"""FOCUS 1.0 CSV import: the FinOps Foundation sample data and its quirks, and bad files."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from opsplane.domain.cost.focus import FocusCharge
from opsplane.errors import SpecError
from opsplane.spec.focus import load_focus, parse_focus
from tests.conftest import shared_path


@pytest.fixture(scope="module")
def sample() -> list[FocusCharge]:
    return load_focus(shared_path("datasets", "focus", "focus_sample.csv"))


def test_the_sample_reads_all_1000_rows(sample: list[FocusCharge]) -> None:
    assert len(sample) == 1000
    assert Counter(r.charge_category for r in sample) == {
        "Usage": 997,
        "Adjustment": 2,
        "Credit": 1,
    }
    assert Counter(r.provider for r in sample) == {"AWS": 942, "Microsoft": 51, "Oracle": 7}
    assert {r.currency for r in sample} == {"USD"}


def test_null_strings_are_nulls_and_tags_are_objects(sample: list[FocusCharge]) -> None:
    first = sample[0]
    assert first.tags == {}
    assert first.service_name == "Amazon Simple Queue Service"
    assert first.list_unit_price == Decimal("0.0000004")  # quoted in the file
    assert first.period_start == datetime(2024, 9, 18, 22, tzinfo=UTC)
    tagged = [r for r in sample if r.tags]
    assert len(tagged) == 711
    assert set(tagged[0].tags) == {"application", "environment", "business_unit"}


def test_aws_billed_cost_sums_as_the_readme_says(sample: list[FocusCharge]) -> None:
    aws = sum((r.billed_cost for r in sample if r.provider == "AWS"), Decimal(0))
    assert round(aws, 2) == Decimal("18.01")


def test_missing_columns_are_reported_once_each() -> None:
    with pytest.raises(SpecError) as caught:
        parse_focus("bill.csv", "BilledCost,BillingCurrency\n1,USD\n")
    assert [str(p) for p in caught.value.problems] == [
        "bill.csv: missing FOCUS column ChargePeriodStart",
        "bill.csv: missing FOCUS column ChargePeriodEnd",
        "bill.csv: missing FOCUS column ChargeCategory",
    ]


def test_bad_values_name_the_line_and_column() -> None:
    text = (
        "BilledCost,BillingCurrency,ChargePeriodStart,ChargePeriodEnd,ChargeCategory,Tags\n"
        "1.5,USD,2024-09-01 00:00:00,2024-09-01T01:00:00Z,Usage,NULL\n"
        "abc,USD,yesterday,2024-09-01T01:00:00Z,NULL,[1]\n"
        "NaN,,2024-09-01 00:00:00,2024-09-01 01:00:00,Usage,\n"
    )
    with pytest.raises(SpecError) as caught:
        parse_focus("bill.csv", text)
    assert [str(p) for p in caught.value.problems] == [
        "bill.csv:line 3.BilledCost: is not a number: 'abc'",
        "bill.csv:line 3.ChargePeriodStart: is not an ISO 8601 date-time: 'yesterday'",
        "bill.csv:line 3.Tags: is not a JSON object",
        "bill.csv:line 3.ChargeCategory: is required",
        "bill.csv:line 4.BilledCost: must be a finite number (got NaN)",
        "bill.csv:line 4.BillingCurrency: is required",
    ]


def test_a_missing_file_is_one_problem(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="no such file"):
        load_focus(tmp_path / "none.csv")
