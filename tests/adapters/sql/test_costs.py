"""The cost ledger contract, on the in-memory fake, SQLite and PostgreSQL.

Every backend must keep amounts exact (decimal text in, the same Decimal out, lines and all),
record each ``(namespace, run_id)`` once (a retry is a no-op that says so), list newest first
within the filters, and add spend up per service and UTC day to the nano.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest

from opsplane.adapters.sql.costs import SqlCostLedger
from opsplane.domain.cost.ledger import CostRecord, from_nano, nano_of
from opsplane.domain.cost.model import Breakdown, Line
from opsplane.errors import ConflictError
from opsplane.ports import CostLedger
from opsplane.testing import InMemoryCostLedger
from tests.adapters.sql.conftest import fresh_postgres_schema, postgres_base_url

DAY = 86_400_000
T0 = 1_772_409_600_000  # 2026-03-02T00:00:00Z


@pytest.fixture(params=("memory", "sqlite", "postgres"))
def ledger(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[CostLedger]:
    if request.param == "memory":
        yield InMemoryCostLedger()
        return
    if request.param == "sqlite":
        opened = SqlCostLedger.open(f"sqlite:///{tmp_path}/state.db")
        try:
            yield opened
        finally:
            opened.close()
        return
    with fresh_postgres_schema(postgres_base_url()) as url:
        opened = SqlCostLedger.open(url)
        try:
            yield opened
        finally:
            opened.close()


def record(
    run_id: str,
    *,
    namespace: str = "payments",
    service: str = "checkout",
    at: int = T0,
    llm: str = "0.00228",
    currency: str = "USD",
) -> CostRecord:
    """DESIGN.md's example run, with its lines; ``llm`` varies the amount."""
    lines = (
        Line("actions", "actions", Decimal(1200), "Actions", Decimal("0.00001"), Decimal("0.012")),
        Line(
            "compute", "compute/build", Decimal("42.5"), "Seconds", Decimal("0.000016"),
            Decimal("0.00068"),
        ),
        Line("llm", "llm/gpt-4o-mini/input", Decimal(12000), "Tokens", Decimal("1.5E-7"),
             Decimal(llm)),
        Line("api_fees", "api/search", Decimal(1), "Requests", Decimal("0.002"), Decimal("0.002")),
    )  # fmt: skip
    breakdown = Breakdown(
        currency, Decimal("0.012"), Decimal("0.00068"), Decimal(llm), Decimal("0.002"), lines
    )
    metadata = {"run_id": run_id, "actions": 1200, "note": "as received", "seconds": "42.5"}
    return CostRecord(namespace, run_id, service, at, at + 5, breakdown, metadata)


def test_a_record_reads_back_exactly_with_its_lines_and_metadata(ledger: CostLedger) -> None:
    stored = record("r-1")
    assert ledger.record_costs([stored]) == [True]
    found = ledger.cost_record("payments", "r-1")
    assert found == stored
    assert found is not None
    assert found.total == Decimal("0.01696")
    assert str(found.total) == "0.01696"
    assert found.breakdown.lines == stored.breakdown.lines
    assert found.metadata == stored.metadata
    assert ledger.cost_record("payments", "nope") is None
    assert ledger.cost_record("search", "r-1") is None


def test_recording_a_run_again_is_a_no_op_that_reports_it_was_not_new(
    ledger: CostLedger,
) -> None:
    assert ledger.record_costs([record("r-1"), record("r-2")]) == [True, True]
    changed = record("r-1", llm="9")
    assert ledger.record_costs([changed, record("r-3"), record("r-3", llm="1")]) == [
        False,
        True,
        False,
    ]
    kept = ledger.cost_record("payments", "r-1")
    assert kept is not None
    assert kept.total == Decimal("0.01696")
    third = ledger.cost_record("payments", "r-3")
    assert third is not None
    assert third.breakdown.llm == Decimal("0.00228")


def same_total(stored: CostRecord, again: CostRecord) -> bool:
    """Runs are the same when their totals are (what the test varies)."""
    return stored.total == again.total


def test_with_same_a_changed_run_stores_nothing_of_its_batch(ledger: CostLedger) -> None:
    assert ledger.record_costs([record("r-1")]) == [True]
    with pytest.raises(ConflictError, match="r-1"):
        ledger.record_costs([record("r-2"), record("r-1", llm="9")], same=same_total)
    assert ledger.cost_record("payments", "r-2") is None
    kept = ledger.cost_record("payments", "r-1")
    assert kept is not None
    assert kept.total == Decimal("0.01696")
    # the same run again is not a conflict: the batch is stored, the repeat reported as old
    assert ledger.record_costs([record("r-2"), record("r-1")], same=same_total) == [True, False]


def test_the_same_run_id_in_two_namespaces_is_two_runs(ledger: CostLedger) -> None:
    assert ledger.record_costs([record("r-1"), record("r-1", namespace="search")]) == [True, True]
    assert ledger.cost_record("search", "r-1") is not None


def test_an_empty_batch_records_nothing(ledger: CostLedger) -> None:
    assert ledger.record_costs([]) == []
    assert ledger.cost_records("payments") == []


def test_records_list_newest_first_within_service_time_range_and_limit(
    ledger: CostLedger,
) -> None:
    ledger.record_costs(
        [
            record("a", at=T0),
            record("b", at=T0 + 1000),
            record("c", at=T0 + 1000, service="search-api"),
            record("d", at=T0 + 2000),
            record("e", at=T0 + 3000, namespace="search"),
        ]
    )

    def ids(**kwargs: object) -> list[str]:
        return [r.run_id for r in ledger.cost_records("payments", **kwargs)]  # type: ignore[arg-type]

    assert ids() == ["d", "c", "b", "a"]
    assert ids(service="checkout") == ["d", "b", "a"]
    assert ids(since=T0 + 1000, until=T0 + 2000) == ["c", "b"]
    assert ids(limit=2) == ["d", "c"]
    assert ids(limit=0) == []


def test_spend_adds_runs_up_per_service_and_utc_day_exactly(ledger: CostLedger) -> None:
    ledger.record_costs(
        [
            record("a", at=T0 + 1),
            record("b", at=T0 + DAY - 1, llm="0.1"),
            record("c", at=T0 + DAY),
            record("d", at=T0 + 5, service="search-api"),
            record("e", at=T0 + 5, namespace="search"),
            record("f", at=T0 + 7, currency="EUR"),
            record("late", at=T0 + 2 * DAY),
        ]
    )
    rows = ledger.spend("payments", T0, T0 + 2 * DAY)
    got = [(r.service, r.day, r.currency, r.amount, r.runs) for r in rows]
    assert got == [
        ("checkout", date(2026, 3, 2), "EUR", Decimal("0.01696"), 1),
        ("checkout", date(2026, 3, 2), "USD", Decimal("0.01696") + Decimal("0.11468"), 2),
        ("checkout", date(2026, 3, 3), "USD", Decimal("0.01696"), 1),
        ("search-api", date(2026, 3, 2), "USD", Decimal("0.01696"), 1),
    ]
    every = ledger.spend(None, T0, T0 + DAY)
    assert {r.namespace for r in every} == {"payments", "search"}
    assert ledger.spend("payments", T0 + 3 * DAY, T0 + 4 * DAY) == []


def test_spend_rounds_each_run_half_even_to_the_nano(ledger: CostLedger) -> None:
    # 0.0000000005 rounds to 0 nanos and 0.0000000015 to 2 (half-even), per run.
    ledger.record_costs([record("a", llm="0.0000000005"), record("b", llm="0.0000000015")])
    (row,) = ledger.spend("payments", T0, T0 + DAY)
    base = Decimal("0.01468") * 2
    assert row.amount == base + Decimal("0.000000002")
    assert row.runs == 2


@pytest.mark.parametrize(
    ("amount", "nanos"),
    [
        ("0.01696", 16_960_000),
        ("0.0000000005", 0),
        ("0.0000000015", 2),
        ("0.0000000025", 2),
        ("9223372036.854775807", 2**63 - 1),
    ],
    ids=["an exact amount", "half to even down", "half to even up", "half to even stays", "max"],
)
def test_nanos_round_half_even_and_convert_back_exactly(amount: str, nanos: int) -> None:
    assert nano_of(Decimal(amount)) == nanos
    assert from_nano(nanos) == Decimal(nanos).scaleb(-9)


def test_records_by_id_finds_the_stored_ones_of_the_namespace(ledger: CostLedger) -> None:
    sql = ledger  # the extra methods the cost use case reads with
    assert isinstance(sql, SqlCostLedger | InMemoryCostLedger)
    sql.record_costs([record("a"), record("b"), record("c", namespace="search")])
    found = sql.records_by_id("payments", ["a", "c", "nope", *(f"x{i}" for i in range(1200))])
    assert sorted(found) == ["a"]
    assert found["a"] == record("a")


def test_service_costs_sum_components_exactly_per_service_and_currency(
    ledger: CostLedger,
) -> None:
    sql = ledger
    assert isinstance(sql, SqlCostLedger | InMemoryCostLedger)
    sql.record_costs(
        [
            record("a", llm="0.0000000005"),
            record("b", llm="0.1"),
            record("c", service="search-api"),
            record("d", currency="EUR"),
            record("e", at=T0 + DAY),
            record("f", namespace="search"),
        ]
    )
    got = [
        (service, cost.currency, cost.llm, cost.actions, cost.total, runs)
        for service, cost, runs in sql.service_costs("payments", T0, T0 + DAY)
    ]
    assert got == [
        ("checkout", "EUR", Decimal("0.00228"), Decimal("0.012"), Decimal("0.01696"), 1),
        (
            "checkout",
            "USD",
            Decimal("0.1000000005"),
            Decimal("0.024"),
            Decimal("0.1293600005"),
            2,
        ),
        ("search-api", "USD", Decimal("0.00228"), Decimal("0.012"), Decimal("0.01696"), 1),
    ]
