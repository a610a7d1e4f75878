"""The Decimal pricer: one run at a time, exact, with the line items behind every amount.

The formulas are the FinOps requirement's, extended with LiteLLM's token kinds:

- actions: ``actions * action_price``
- compute: ``sum(seconds * rate_per_second)`` over the run's capabilities
- llm: ``sum(tokens * rate)`` over models and token kinds (input, output, reasoning,
  cache read, cache write); the requirement's ``(inputTokens + outputTokens) * modelRate`` with a
  rate per kind, as every provider bills them
- api_fees: the sum of the fees
- total: the sum of the four

Every product and sum is exact (:data:`~opsplane.domain.cost.money.EXACT`); nothing is rounded.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from decimal import Decimal

from opsplane.domain.cost.model import (
    Breakdown,
    Component,
    Line,
    LlmUsage,
    PricedRun,
    Run,
    TokenKind,
)
from opsplane.domain.cost.money import EXACT, ZERO
from opsplane.domain.cost.prices import PriceTable
from opsplane.domain.cost.validate import run_problems
from opsplane.errors import Problem, SpecError


def price_run(run: Run, table: PriceTable, *, file: str = "<run>", at: str = "") -> Breakdown:
    """The breakdown of one run.

    Raises:
        SpecError: the run is invalid under ``table``; one problem per finding.
    """
    problems = run_problems(run, table, file=file, at=at)
    if problems:
        raise SpecError(problems)
    return breakdown_of(run.currency, run_lines(run, table))


def price_runs(runs: Sequence[Run], table: PriceTable, *, file: str = "<runs>") -> list[PricedRun]:
    """Every run of a batch, or none: one invalid run rejects the batch with all its problems.

    Problems name each run by its index, ``[3].llm[0].model``.
    """
    problems: list[Problem] = []
    for i, run in enumerate(runs):
        problems.extend(run_problems(run, table, file=file, at=f"[{i}]"))
    if problems:
        raise SpecError(problems)
    return [PricedRun(run, breakdown_of(run.currency, run_lines(run, table))) for run in runs]


def breakdown_of(currency: str, lines: Sequence[Line]) -> Breakdown:
    """The breakdown whose components are the sums of ``lines`` by component."""
    sums: dict[Component, Decimal] = {
        "actions": ZERO,
        "compute": ZERO,
        "llm": ZERO,
        "api_fees": ZERO,
    }
    for line in lines:
        sums[line.component] = EXACT.add(sums[line.component], line.amount)
    return Breakdown(
        currency, sums["actions"], sums["compute"], sums["llm"], sums["api_fees"], tuple(lines)
    )


def run_lines(run: Run, table: PriceTable) -> list[Line]:
    """The priced line items of a valid run (zero quantities give no line)."""
    lines: list[Line] = []
    if run.actions:
        lines.append(
            _line("actions", "actions", Decimal(run.actions), "Actions", table.action_price)
        )
    for usage in run.compute:
        rate = usage.rate_per_second
        if rate is None:
            rate = table.compute_rates[usage.capability]
        if usage.seconds:
            lines.append(
                _line("compute", f"compute/{usage.capability}", usage.seconds, "Seconds", rate)
            )
    for llm in run.llm:
        lines.extend(_llm_lines(llm, table))
    lines.extend(
        _line("api_fees", f"api/{fee.name}", Decimal(1), "Requests", fee.amount)
        for fee in run.api_fees
    )
    return lines


def token_counts(usage: LlmUsage) -> Iterator[tuple[TokenKind, int]]:
    """Tokens per billing kind; reasoning tokens are taken out of the output tokens."""
    yield "input", usage.input_tokens
    yield "output", usage.output_tokens - usage.reasoning_tokens
    yield "reasoning", usage.reasoning_tokens
    yield "cache_read", usage.cache_read_tokens
    yield "cache_write", usage.cache_write_tokens


def _llm_lines(usage: LlmUsage, table: PriceTable) -> Iterator[Line]:
    price = table.model(usage.model)
    if price is None:  # run_problems rejects this first
        raise KeyError(usage.model)
    for kind, count in token_counts(usage):
        if count:
            rate = price.rate(kind)
            if rate is None:  # run_problems rejects output tokens without an output price
                raise KeyError(f"{usage.model}:{kind}")
            yield _line("llm", f"llm/{price.name}/{kind}", Decimal(count), "Tokens", rate)


def _line(component: Component, sku: str, quantity: Decimal, unit: str, price: Decimal) -> Line:
    return Line(component, sku, quantity, unit, price, EXACT.multiply(quantity, price))
