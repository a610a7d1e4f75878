"""Properties of pricing that hold for every valid run (Hypothesis).

Totals are the sum of their parts, amounts never go negative, a run never gets cheaper when
any of its usage, rates or fees grows, and the bulk pricer agrees with the Decimal pricer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opsplane.domain.cost.bulk import BulkPricer
from opsplane.domain.cost.model import COMPONENTS, ApiFee, ComputeUsage, LlmUsage, Run
from opsplane.domain.cost.money import money_sum
from opsplane.domain.cost.pricing import price_run, price_runs
from opsplane.errors import Problem, SpecError
from tests.domain.cost.builders import TABLE
from tests.domain.cost.strategies import maybe_invalid_runs, runs

PRICER = BulkPricer(TABLE)


@given(runs())
def test_the_total_is_the_sum_of_the_components_and_of_the_lines(run: Run) -> None:
    breakdown = price_run(run, TABLE)
    assert breakdown.total == money_sum(breakdown.component(c) for c in COMPONENTS)
    assert breakdown.total == money_sum(line.amount for line in breakdown.lines)
    for c in COMPONENTS:
        lines = [line.amount for line in breakdown.lines if line.component == c]
        assert breakdown.component(c) == money_sum(lines)


@given(runs())
def test_no_amount_is_ever_negative(run: Run) -> None:
    breakdown = price_run(run, TABLE)
    assert all(breakdown.component(c) >= 0 for c in COMPONENTS)
    assert all(line.amount >= 0 and line.quantity >= 0 for line in breakdown.lines)


def _grow(run: Run, what: str, by: int) -> Run:
    """``run`` with one input increased by ``by`` (in its own unit)."""
    if what == "actions":
        return replace(run, actions=run.actions + by)
    if what == "seconds":
        return replace(run, compute=(*run.compute, ComputeUsage("cpu", Decimal(by))))
    if what == "rate":
        grown = [
            replace(c, rate_per_second=(c.rate_per_second or Decimal(0)) + by) for c in run.compute
        ]
        return replace(run, compute=tuple(grown))
    if what == "fee":
        return replace(run, api_fees=(*run.api_fees, ApiFee("more", Decimal(by))))
    grown_llm = [replace(u, **{what: getattr(u, what) + by}) for u in run.llm]
    if what == "output_tokens":  # reasoning stays a part of the output
        grown_llm = [u for u in grown_llm if u.model != "embedder"]
    return replace(run, llm=tuple(grown_llm))


GROWABLE = [
    "actions", "seconds", "rate", "fee", "input_tokens", "output_tokens",
    "cache_read_tokens", "cache_write_tokens",
]  # fmt: skip


@pytest.mark.parametrize("what", GROWABLE)
@given(run=runs(), by=st.integers(1, 10**6))
@settings(max_examples=50)
def test_more_of_any_input_never_costs_less(what: str, run: Run, by: int) -> None:
    before = price_run(run, TABLE)
    grown = _grow(run, what, by)
    if what == "output_tokens":  # the embedder's usage was dropped: compare without it
        run_without = replace(run, llm=tuple(u for u in run.llm if u.model != "embedder"))
        before = price_run(run_without, TABLE)
    after = price_run(grown, TABLE)
    assert after.total >= before.total
    assert all(after.component(c) >= before.component(c) for c in COMPONENTS)


@given(st.lists(runs(), max_size=12))
@settings(max_examples=100)
def test_the_bulk_pricer_equals_the_decimal_pricer_exactly(batch: list[Run]) -> None:
    result = PRICER.price(batch)
    priced = price_runs(batch, TABLE)
    assert result.totals() == [p.breakdown.total for p in priced]
    for i, p in enumerate(priced):
        bulk = result.breakdown(i)
        assert [bulk.component(c) for c in COMPONENTS] == [
            p.breakdown.component(c) for c in COMPONENTS
        ]
    assert result.total() == money_sum(p.breakdown.total for p in priced)


@given(st.lists(maybe_invalid_runs(), min_size=1, max_size=6))
@settings(max_examples=100)
def test_the_bulk_pricer_rejects_exactly_what_the_decimal_pricer_rejects(batch: list[Run]) -> None:
    expected = _outcome(lambda: [p.breakdown.total for p in price_runs(batch, TABLE, file="b")])
    assert _outcome(lambda: PRICER.price(batch, file="b").totals()) == expected


def _outcome(price: Callable[[], list[Decimal]]) -> list[Decimal] | list[Problem]:
    """The totals, or the problems when the batch is rejected."""
    try:
        return price()
    except SpecError as exc:
        return exc.problems


def test_llm_usage_strategy_keeps_reasoning_within_output() -> None:
    usage = LlmUsage("thinker", 1, 2, reasoning_tokens=2)
    assert price_run(Run("r", "s", "n", 0, llm=(usage,)), TABLE).llm > 0
