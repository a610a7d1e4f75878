"""Runs as integer columns for the bulk pricer, validated without a per-run Python check.

One pass over the runs gathers the raw values into lists (one row per usage line, with the
run's index), resolving model names and capability rates by dictionary lookup. The values
are then checked as arrays (negative, too large, too many decimal places, reasoning tokens over
output tokens, output tokens for a model without an output price). Runs flagged anywhere are
checked again with :func:`~opsplane.domain.cost.validate.run_problems`, which says what is wrong.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

from opsplane.domain.cost.model import Run
from opsplane.domain.cost.money import (
    EXACT,
    MAX_COUNT,
    MAX_MONEY,
    MAX_MONEY_PLACES,
    MAX_SECONDS,
    MAX_SECONDS_PLACES,
)
from opsplane.domain.cost.prices import PriceTable
from opsplane.domain.cost.validate import run_problems
from opsplane.errors import SpecError

IntArray: TypeAlias = npt.NDArray[Any]
"""An int64 array, or an object array of Python ints where int64 would overflow."""

SECONDS_GUESS = 3
"""Durations are usually read to the millisecond; finer ones take the exact path."""

FEE_GUESS = 6
"""Fees are usually given to a few decimal places; finer ones take the exact path."""

Index: TypeAlias = npt.NDArray[np.intp]
Mask: TypeAlias = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class Columns:
    """A validated batch of runs as integer columns.

    Decimal columns are integers at ``10**-places``: ``compute_seconds`` at
    ``seconds_places``, ``compute_rates`` at ``rate_places``, ``fee_amounts`` at
    ``fee_places``. ``llm_tokens`` has one column per token kind, in
    :data:`~opsplane.domain.cost.bulk.TOKEN_KINDS` order; ``llm_model`` indexes the pricer's
    rate matrix.
    """

    n_runs: int
    actions: IntArray
    compute_run: Index
    compute_seconds: IntArray
    compute_rates: IntArray
    seconds_places: int
    rate_places: int
    llm_run: Index
    llm_model: Index
    llm_tokens: IntArray
    fee_run: Index
    fee_amounts: IntArray
    fee_places: int


@dataclass(slots=True)
class _Gathered:
    """The raw values of a batch, one list per column, before any conversion."""

    actions: list[int]
    compute_run: list[int]
    seconds: list[Decimal]
    rates: list[Decimal]
    llm_run: list[int]
    llm_model: list[int]
    tokens: tuple[list[int], list[int], list[int], list[int], list[int]]
    fee_run: list[int]
    fees: list[Decimal]
    flagged: set[int]


def build_columns(
    runs: Sequence[Run],
    table: PriceTable,
    model_index: Mapping[str, int],
    has_output: Mask,
    *,
    file: str = "<runs>",
) -> Columns:
    """The columns of ``runs``; ``model_index`` maps model names to rate-matrix rows.

    Raises:
        SpecError: some run is invalid; every problem of every invalid run, as
            :func:`~opsplane.domain.cost.pricing.price_runs` reports them.
    """
    raw = _gather(runs, table, model_index)
    flagged = raw.flagged
    actions, bad = _counts(raw.actions)
    flagged.update(np.flatnonzero(bad).tolist())
    compute_run = np.asarray(raw.compute_run, dtype=np.intp)
    seconds, seconds_places, bad = _decimals(
        raw.seconds, MAX_SECONDS, MAX_SECONDS_PLACES, SECONDS_GUESS
    )
    rates, rate_places, bad_rates = _shared_decimals(raw.rates, MAX_MONEY, MAX_MONEY_PLACES)
    flagged.update(compute_run[bad | bad_rates].tolist())
    llm_run = np.asarray(raw.llm_run, dtype=np.intp)
    llm_model = np.asarray(raw.llm_model, dtype=np.intp)
    tokens, bad = _token_matrix(raw.tokens, has_output[llm_model] if len(llm_model) else None)
    flagged.update(llm_run[bad].tolist())
    fee_run = np.asarray(raw.fee_run, dtype=np.intp)
    fees, fee_places, bad = _decimals(raw.fees, MAX_MONEY, MAX_MONEY_PLACES, FEE_GUESS)
    flagged.update(fee_run[bad].tolist())
    if flagged:
        _reject(runs, table, sorted(flagged), file)
    return Columns(
        len(runs), actions, compute_run, seconds, rates, seconds_places, rate_places,
        llm_run, llm_model, tokens, fee_run, fees, fee_places,
    )  # fmt: skip


def _gather(runs: Sequence[Run], table: PriceTable, model_index: Mapping[str, int]) -> _Gathered:
    """One pass over the runs (the only per-run Python loop of the bulk path)."""
    g = _Gathered([], [], [], [], [], [], ([], [], [], [], []), [], [], set())
    currency, rates = table.currency, table.compute_rates
    t_in, t_out, t_reason, t_read, t_write = g.tokens
    for i, run in enumerate(runs):
        header_ok = run.run_id and run.service and run.namespace and run.currency == currency
        if not header_ok or _bad_times(run):
            g.flagged.add(i)
        g.actions.append(run.actions)
        for usage in run.compute:
            rate = usage.rate_per_second
            if rate is None:
                rate = rates.get(usage.capability)
                if rate is None:
                    g.flagged.add(i)
                    continue
            if not usage.capability:
                g.flagged.add(i)
            g.compute_run.append(i)
            g.seconds.append(usage.seconds)
            g.rates.append(rate)
        for llm in run.llm:
            row = model_index.get(llm.model)
            if row is None:
                price = table.model(llm.model)
                if price is None:
                    g.flagged.add(i)
                    continue
                row = model_index[price.name]
            g.llm_run.append(i)
            g.llm_model.append(row)
            t_in.append(llm.input_tokens)
            t_out.append(llm.output_tokens)
            t_reason.append(llm.reasoning_tokens)
            t_read.append(llm.cache_read_tokens)
            t_write.append(llm.cache_write_tokens)
        for fee in run.api_fees:
            if not fee.name:
                g.flagged.add(i)
            g.fee_run.append(i)
            g.fees.append(fee.amount)
    return g


def _bad_times(run: Run) -> bool:
    """The time checks of ``run_problems``: zoned timestamps, and the end not before the start."""
    start, end = run.started_at, run.ended_at
    if start is None and end is None:
        return False
    if (start is not None and start.tzinfo is None) or (end is not None and end.tzinfo is None):
        return True
    return start is not None and end is not None and end < start


def _counts(values: list[int]) -> tuple[IntArray, Mask]:
    """Whole-number counts as an array, and which are not counts or out of range."""
    if set(map(type, values)) <= {int}:  # the usual case, checked at C speed
        not_int = np.zeros(len(values), dtype=bool)
    else:  # bool is an int subclass that numpy would take as 0 or 1
        not_int = np.fromiter((type(v) is not int for v in values), dtype=bool, count=len(values))
        values = [0 if bad else v for v, bad in zip(values, not_int.tolist(), strict=True)]
    array = _int_array(values)
    return array, not_int | (array < 0) | (array > MAX_COUNT)


def _token_matrix(
    columns: tuple[list[int], list[int], list[int], list[int], list[int]],
    has_output: Mask | None,
) -> tuple[IntArray, Mask]:
    """Tokens per kind (input, output less reasoning, reasoning, cache read, cache write)."""
    arrays, masks = zip(*(_counts(c) for c in columns), strict=True)
    t_in, t_out, t_reason, t_read, t_write = arrays
    bad = np.logical_or.reduce(masks) | (t_reason > t_out)
    if has_output is not None:
        bad |= ~has_output & (t_out > 0)
    matrix = np.stack([t_in, t_out - t_reason, t_reason, t_read, t_write], axis=1)
    return matrix, np.asarray(bad, dtype=bool)


def _decimals(
    values: list[Decimal], limit: Decimal, max_places: int, guess: int
) -> tuple[IntArray, int, Mask]:
    """Decimals as integers at the batch's scale: (array, places, unusable values).

    The fast path scales every value by ``10**guess`` and insists the result is a whole
    number (``to_integral_exact`` traps ``Inexact``): two C calls per value, no digit tuples.
    When some value does not fit that (more places, NaN, not a Decimal), the exact path finds
    each value's places and flags the bad ones.
    """
    if guess <= max_places:
        scale, integral = EXACT.scaleb, EXACT.to_integral_exact
        try:
            ints = [int(integral(scale(v, guess))) for v in values]
        except (ArithmeticError, TypeError, ValueError):
            pass
        else:
            return _bounded(ints, guess, limit, np.zeros(len(values), dtype=bool))
    return _decimals_exact(values, limit, max_places)


def _shared_decimals(
    values: list[Decimal], limit: Decimal, max_places: int
) -> tuple[IntArray, int, Mask]:
    """:func:`_decimals` for values that are mostly the same few objects (the table's rates).

    Each distinct object is examined and converted once; the batch's scale is exactly the
    most places any of them has.
    """
    distinct = {id(v): v for v in values}  # the list keeps every object alive meanwhile
    ints, places, bad = _decimals_exact(list(distinct.values()), limit, max_places)
    if bad.any():
        return _decimals_exact(values, limit, max_places)
    converted = dict(zip(distinct, ints.tolist(), strict=True))
    return _bounded(
        [converted[id(v)] for v in values], places, limit, np.zeros(len(values), dtype=bool)
    )


def _decimals_exact(
    values: list[Decimal], limit: Decimal, max_places: int
) -> tuple[IntArray, int, Mask]:
    bad = np.zeros(len(values), dtype=bool)
    places = 0
    for j, value in enumerate(values):
        exponent = value.as_tuple().exponent if type(value) is Decimal else "x"
        if type(exponent) is not int or -exponent > max_places:
            bad[j] = True
        elif -exponent > places:
            places = -exponent
    ints = [
        0 if flag else int(EXACT.scaleb(v, places))
        for v, flag in zip(values, bad.tolist(), strict=True)
    ]
    return _bounded(ints, places, limit, bad)


def _bounded(ints: list[int], places: int, limit: Decimal, bad: Mask) -> tuple[IntArray, int, Mask]:
    array = _int_array(ints)
    scaled_limit = int(EXACT.scaleb(limit, places))
    return array, places, bad | (array < 0) | (array > scaled_limit)


def _int_array(values: list[int]) -> IntArray:
    """int64 when every value fits, else an object array of Python ints."""
    try:
        return np.array(values, dtype=np.int64)
    except OverflowError:
        return np.array(values, dtype=object)


def _reject(runs: Sequence[Run], table: PriceTable, indices: list[int], file: str) -> None:
    problems = [p for i in indices for p in run_problems(runs[i], table, file=file, at=f"[{i}]")]
    if not problems:  # the array checks and run_problems must agree; a mismatch is a bug
        msg = f"bulk validation flagged runs {indices[:5]} that run_problems accepts"
        raise RuntimeError(msg)
    raise SpecError(problems)
