"""Recording priced runs: all or nothing, retry-safe, scoped to the namespace's services."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest

from opsplane.app.costs import CostService, run_document
from opsplane.domain.cost.model import COMPONENTS
from opsplane.domain.cost.money import money_sum
from opsplane.domain.cost.prices import PriceTable
from opsplane.errors import ConflictError, NotFoundError, SpecError
from opsplane.spec.cost_prices import load_price_table
from opsplane.spec.cost_run import parse_runs
from opsplane.testing import InMemoryCostLedger

T0 = 1_772_409_600_000  # 2026-03-02T00:00:00Z
CATALOG = {"payments": {"checkout", "search-api"}, "search": {"query"}}


def design_run(run_id: str = "r-1", **changes: Any) -> dict[str, Any]:
    """DESIGN.md's example run record (0.01696 USD)."""
    run: dict[str, Any] = {
        "run_id": run_id,
        "service": "checkout",
        "namespace": "payments",
        "actions": 1200,
        "compute": [{"capability": "build", "seconds": 42.5, "rate_per_second": "0.000016"}],
        "llm": [{"model": "gpt-4o-mini", "input_tokens": 12000, "output_tokens": 800}],
        "api_fees": [{"name": "search", "usd": "0.002"}],
    }
    return run | changes


@pytest.fixture(scope="module")
def table() -> PriceTable:
    return load_price_table()


@pytest.fixture
def ledger() -> InMemoryCostLedger:
    return InMemoryCostLedger()


@pytest.fixture
def costs(table: PriceTable, ledger: InMemoryCostLedger) -> CostService:
    return CostService(ledger, table, lambda ns: CATALOG.get(ns, set()))


def problems_of(costs: CostService, body: Any, namespace: str = "payments") -> list[str]:
    with pytest.raises(SpecError) as caught:
        costs.record(namespace, json.dumps(body), T0)
    return [str(p) for p in caught.value.problems]


def test_a_single_run_is_priced_exactly_and_stored_with_its_lines(
    costs: CostService, ledger: InMemoryCostLedger
) -> None:
    outcome = costs.record("payments", json.dumps(design_run()), T0)
    assert outcome.single
    (only,) = outcome.runs
    assert only.status == "created"
    assert only.priced.breakdown.total == Decimal("0.01696")
    stored = costs.run("payments", "r-1")
    assert stored.total == Decimal("0.01696")
    assert stored.at == T0  # no started_at: when it was received
    assert [line.sku for line in stored.breakdown.lines] == [
        "actions",
        "compute/build",
        "llm/gpt-4o-mini/input",
        "llm/gpt-4o-mini/output",
        "api/search",
    ]
    assert stored.metadata["run"]["compute"] == [
        {"capability": "build", "seconds": "42.5", "rate_per_second": "0.000016"}
    ]
    assert len(ledger.by_key) == 1


def test_the_stored_total_equals_the_sum_of_its_components_and_of_its_lines(
    costs: CostService,
) -> None:
    runs = [
        design_run(f"r-{i}", actions=i * 7, compute=[{"capability": "cpu", "seconds": f"{i}.125"}])
        for i in range(50)
    ]
    costs.record("payments", json.dumps({"runs": runs}), T0)
    for record in costs.runs("payments", limit=100):
        parts = [record.breakdown.component(c) for c in COMPONENTS]
        assert record.total == money_sum(parts)
        assert record.total == money_sum(line.amount for line in record.breakdown.lines)
    (summary,) = costs.summary("payments", T0, T0 + 1)
    assert summary.runs == 50
    every = costs.runs("payments", limit=100)
    assert summary.breakdown.total == money_sum(r.total for r in every)
    assert summary.breakdown.compute == money_sum(r.breakdown.compute for r in every)


def test_one_invalid_run_rejects_the_batch_with_every_problem_and_stores_nothing(
    costs: CostService, ledger: InMemoryCostLedger
) -> None:
    runs = [
        design_run("ok-0"),
        design_run("ok-1"),
        design_run("ok-2"),
        design_run("bad", llm=[{"model": "gpt-4o-mimi", "input_tokens": 1}], actions=-1),
        design_run("bad-2", service="nope", namespace="search"),
        {"run_id": "bad-3", "service": "checkout"},
    ]
    found = problems_of(costs, {"runs": runs})
    assert found[0] == "request:runs[3].actions: must not be negative (got -1)"
    assert found[1].startswith("request:runs[3].llm[0].model: unknown model 'gpt-4o-mimi'")
    assert (
        "request:runs[4].namespace: is 'search' but the request is for namespace 'payments'"
        in found
    )
    assert (
        "request:runs[4].service: no service 'nope' in namespace 'payments' "
        "(known: checkout, search-api)"
    ) in found
    assert "request:runs[5].actions: is required" in found
    assert ledger.by_key == {}


def test_a_run_without_namespace_gets_the_requests(costs: CostService) -> None:
    run = design_run()
    del run["namespace"]
    costs.record("payments", json.dumps([run]), T0)
    assert costs.run("payments", "r-1").metadata["run"]["namespace"] == "payments"
    with pytest.raises(NotFoundError):
        costs.run("search", "r-1")


def test_amounts_survive_filling_in_the_namespace_digit_for_digit(costs: CostService) -> None:
    text = (
        '{"run_id": "r", "service": "checkout", "actions": 3, "compute": [{"capability": "cpu",'
        ' "seconds": 0.000000001, "rate_per_second": 123456789.123456789123456789}]}'
    )
    outcome = costs.record("payments", text, T0)
    assert outcome.runs[0].priced.breakdown.compute == Decimal("0.123456789123456789123456789")


def test_a_parsed_body_is_accepted_like_text(costs: CostService) -> None:
    body = {"runs": [design_run("a"), design_run("b", namespace="payments")]}
    outcome = costs.record("payments", body, T0)
    assert [r.status for r in outcome.runs] == ["created", "created"]


def test_a_service_of_another_namespace_is_refused(costs: CostService) -> None:
    found = problems_of(costs, design_run(service="query"))
    assert found == [
        "request:service: no service 'query' in namespace 'payments' (known: checkout, search-api)"
    ]


def test_a_retried_batch_is_all_duplicates_with_the_cost_stored_first(
    table: PriceTable, ledger: InMemoryCostLedger
) -> None:
    costs = CostService(ledger, table, lambda ns: CATALOG[ns])
    batch = json.dumps({"runs": [design_run("a"), design_run("b")]})
    assert costs.record("payments", batch, T0).created == 2
    again = costs.record("payments", batch, T0 + 60_000)
    assert [r.status for r in again.runs] == ["duplicate", "duplicate"]
    assert again.created == 0
    assert again.runs[0].priced.breakdown.total == Decimal("0.01696")
    assert costs.run("payments", "a").received_at == T0


def test_the_same_usage_written_differently_is_a_duplicate(costs: CostService) -> None:
    costs.record("payments", json.dumps(design_run()), T0)
    respelled = design_run(
        compute=[{"capability": "build", "seconds": "42.50", "rate_per_second": 0.0000160}]
    )
    (again,) = costs.record("payments", json.dumps(respelled), T0).runs
    assert again.status == "duplicate"


def test_a_stored_run_id_with_other_usage_is_a_conflict_and_nothing_is_stored(
    costs: CostService, ledger: InMemoryCostLedger
) -> None:
    costs.record("payments", json.dumps(design_run("a")), T0)
    batch = {"runs": [design_run("new"), design_run("a", actions=1)]}
    with pytest.raises(ConflictError, match=r"request:runs\[1\]\.run_id: run 'a' is recorded"):
        costs.record("payments", json.dumps(batch), T0)
    assert sorted(ledger.by_key) == [("payments", "a")]
    assert costs.run("payments", "a").total == Decimal("0.01696")


def test_a_run_id_repeated_in_one_request(costs: CostService) -> None:
    same = costs.record("payments", json.dumps([design_run("a"), design_run("a")]), T0)
    assert [r.status for r in same.runs] == ["created", "duplicate"]
    assert same.runs[1].priced.breakdown.total == Decimal("0.01696")
    found = problems_of(costs, [design_run("b"), design_run("b", actions=5)])
    assert found == ["request:[1].run_id: repeats the run id of [0] with other usage"]


def test_started_at_is_the_runs_time_and_must_be_storable(costs: CostService) -> None:
    costs.record("payments", json.dumps(design_run(started_at="2026-03-02T10:30:00+01:00")), T0)
    assert costs.run("payments", "r-1").at == T0 + 9 * 3_600_000 + 30 * 60_000
    found = problems_of(costs, design_run("old", started_at="1969-12-31T23:59:59Z"))
    assert found == [
        "request:started_at: must be between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59Z"
    ]


def test_a_run_above_the_ledgers_limit_is_refused(costs: CostService) -> None:
    huge = design_run(api_fees=[{"name": f"f{i}", "usd": "1000000000"} for i in range(10)])
    found = problems_of(costs, huge)
    assert found == ["request:run: costs 10000000000.01496 USD, more than one run may "
                     "(9223372036.854775807)"]  # fmt: skip


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("{", "request:line 1: invalid JSON: Expecting property name enclosed in double quotes"),
        ('"x"', 'request: expected a run object, a list of runs or {"runs": [...]}'),
        ('{"runs": 3}', "request:runs: must be a list of runs"),
        ("[" * 100_000 + "]" * 100_000, "request: the JSON is nested too deeply"),
    ],
    ids=["broken JSON", "a string", "runs not a list", "nested too deeply"],
)
def test_a_malformed_body_is_one_problem(costs: CostService, body: str, expected: str) -> None:
    with pytest.raises(SpecError) as caught:
        costs.record("payments", body, T0)
    assert [str(p) for p in caught.value.problems] == [expected]


def test_the_canonical_form_normalises_amounts_and_times() -> None:
    text = json.dumps(design_run(started_at="2026-03-02T10:30:00+01:00"))
    (run,) = parse_runs("x", text.replace('"0.002"', '"0.0020"')).runs
    doc = run_document(run)
    assert doc["api_fees"] == [{"name": "search", "amount": "0.002"}]
    assert doc["started_at"] == "2026-03-02T09:30:00Z"


@pytest.mark.parametrize(
    ("run", "expected"),
    [
        (
            design_run(started_at="9999-12-31T23:59:59-14:00"),
            "request:started_at: must be between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59Z",
        ),
        (
            design_run(ended_at="0001-01-01T00:00:00+14:00"),
            "request:ended_at: must be between 1970-01-01T00:00:00Z and 9999-12-31T23:59:59Z",
        ),
        (
            design_run("a\ud800"),  # pydantic refuses it as it reads the run
            "request:run_id: Input should be a valid string, unable to parse raw data as a "
            "unicode string",
        ),
        (
            design_run("a\x00b"),
            "request:run: has text that cannot be stored: a NUL character or a lone surrogate",
        ),
    ],
    ids=[
        "a start in the year 10000 UTC",
        "an end in the year 0 UTC",
        "an escaped lone surrogate",
        "a NUL character",
    ],
)
def test_a_run_the_ledger_could_not_store_is_a_problem(
    costs: CostService, run: dict[str, Any], expected: str
) -> None:
    body = json.dumps(run)  # escapes the surrogate and NUL as \ud800 and \u0000
    with pytest.raises(SpecError) as caught:
        costs.record("payments", body, T0)
    assert [str(p) for p in caught.value.problems] == [expected]


class RacedLedger(InMemoryCostLedger):
    """A ledger where another request records its runs between our check and our insert."""

    def __init__(self, racer: list[Any]) -> None:
        super().__init__()
        self.racer = racer

    def records_by_id(self, namespace: str, run_ids: Any) -> Any:
        found = super().records_by_id(namespace, run_ids)
        if self.racer:  # the check saw nothing; now the other request commits
            racer, self.racer = self.racer, []
            super().record_costs(racer)
        return found


def test_a_run_changed_by_a_concurrent_request_is_a_conflict_that_stores_nothing(
    table: PriceTable,
) -> None:
    first = CostService(InMemoryCostLedger(), table, lambda ns: CATALOG.get(ns, set()))
    first.record("payments", json.dumps(design_run("r-1", actions=5)), T0)
    ledger = RacedLedger([first.run("payments", "r-1")])
    costs = CostService(ledger, table, lambda ns: CATALOG.get(ns, set()))

    body = {"runs": [design_run("r-2"), design_run("r-1")]}
    with pytest.raises(ConflictError, match=r"runs\[1\]\.run_id: run 'r-1'"):
        costs.record("payments", json.dumps(body), T0)

    assert ledger.cost_record("payments", "r-2") is None
    kept = ledger.cost_record("payments", "r-1")
    assert kept is not None
    assert kept.metadata["run"]["actions"] == 5
