"""Checking a run against a price table before anything is priced.

Each finding is a :class:`~opsplane.errors.Problem` naming the field (``llm[0].model``), so a
rejected run prints one line per problem and nothing is priced from it. The edge (pydantic)
already rejects missing fields and wrong types; these checks hold for runs built in code too.
"""

from __future__ import annotations

from collections.abc import Iterator

from opsplane.domain.cost.model import ComputeUsage, LlmUsage, Run
from opsplane.domain.cost.money import check_amount, check_count, check_seconds, is_currency
from opsplane.domain.cost.prices import PriceTable
from opsplane.errors import Problem


def run_problems(
    run: Run, table: PriceTable, *, file: str = "<run>", at: str = ""
) -> list[Problem]:
    """Every problem of ``run`` under ``table``; empty when it can be priced.

    Args:
        run: The run to check.
        table: The prices it will be priced with.
        file: The file the run came from, for the problems.
        at: The run's path inside that file (``[3]`` in a batch), prefixed to every path.
    """
    return [Problem(file, _join(at, path), message) for path, message in _findings(run, table)]


def _join(prefix: str, path: str) -> str:
    if not prefix:
        return path
    return prefix + path if path.startswith("[") else f"{prefix}.{path}"


def _findings(run: Run, table: PriceTable) -> Iterator[tuple[str, str]]:
    yield from _header(run, table)
    if (msg := check_count(run.actions)) is not None:
        yield "actions", msg
    for i, usage in enumerate(run.compute):
        yield from _compute(f"compute[{i}]", usage, table)
    for i, llm in enumerate(run.llm):
        yield from _llm(f"llm[{i}]", llm, table)
    for i, fee in enumerate(run.api_fees):
        if not fee.name:
            yield f"api_fees[{i}].name", "must not be empty"
        if (msg := check_amount(fee.amount)) is not None:
            yield f"api_fees[{i}].amount", msg


def _header(run: Run, table: PriceTable) -> Iterator[tuple[str, str]]:
    for name in ("run_id", "service", "namespace"):
        if not getattr(run, name):
            yield name, "must not be empty"
    if not is_currency(run.currency):
        yield "currency", f"is not an ISO 4217 currency code: {run.currency!r}"
    elif run.currency != table.currency:
        yield (
            "currency",
            f"is {run.currency} but the prices are in {table.currency} "
            "(opsplane does not convert currencies)",
        )
    for name in ("started_at", "ended_at"):
        value = getattr(run, name)
        if value is not None and value.tzinfo is None:
            yield name, "needs a time zone (e.g. 2026-01-01T00:00:00Z)"
    start, end = run.started_at, run.ended_at
    if start and end and start.tzinfo and end.tzinfo and end < start:
        yield "ended_at", "is before started_at"


def _compute(path: str, usage: ComputeUsage, table: PriceTable) -> Iterator[tuple[str, str]]:
    if not usage.capability:
        yield f"{path}.capability", "must not be empty"
    if (msg := check_seconds(usage.seconds)) is not None:
        yield f"{path}.seconds", msg
    yield from _utilisation(path, usage)
    if usage.rate_per_second is not None:
        if (msg := check_amount(usage.rate_per_second)) is not None:
            yield f"{path}.rate_per_second", msg
    elif usage.capability and usage.capability not in table.compute_rates:
        known = ", ".join(sorted(table.compute_rates)) or "none"
        yield (
            f"{path}.capability",
            f"no rate for capability {usage.capability!r} (known: {known}); "
            "give rate_per_second or add it to the rate table",
        )


def _utilisation(path: str, usage: ComputeUsage) -> Iterator[tuple[str, str]]:
    fractions = {"utilisation": usage.utilisation, "peak_utilisation": usage.peak_utilisation}
    valid = True
    for name, value in fractions.items():
        if value is not None and not (value.is_finite() and 0 <= value <= 1):
            yield f"{path}.{name}", f"must be a fraction from 0 to 1 (0.35 is 35 %), not {value}"
            valid = False
    mean, peak = usage.utilisation, usage.peak_utilisation
    if valid and mean is not None and peak is not None and peak < mean:
        yield f"{path}.peak_utilisation", f"is below the mean utilisation ({mean})"


def _llm(path: str, usage: LlmUsage, table: PriceTable) -> Iterator[tuple[str, str]]:
    counts = {
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "cache_read_tokens": usage.cache_read_tokens,
        "cache_write_tokens": usage.cache_write_tokens,
        "reasoning_tokens": usage.reasoning_tokens,
    }
    bad = False
    for name, value in counts.items():
        if (msg := check_count(value)) is not None:
            bad = True
            yield f"{path}.{name}", msg
    if not bad and usage.reasoning_tokens > usage.output_tokens:
        yield (
            f"{path}.reasoning_tokens",
            f"is more than output_tokens ({usage.reasoning_tokens} > {usage.output_tokens}); "
            "reasoning tokens are part of the output",
        )
    price = table.model(usage.model) if usage.model else None
    if not usage.model:
        yield f"{path}.model", "must not be empty"
    elif price is None:
        yield f"{path}.model", table.why_unpriced(usage.model)
    elif price.output is None and not bad and usage.output_tokens > 0:
        yield (
            f"{path}.output_tokens",
            f"model {usage.model!r} ({price.mode}) has no output price in the price table",
        )
