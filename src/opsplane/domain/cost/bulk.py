"""The vectorised pricer: many runs at once, in integers, equal to the Decimal pricer exactly.

Exact scheme: every decimal becomes an integer at a power-of-ten scale that loses nothing
(:mod:`.bulk_columns`): seconds at the most decimal places any duration of the batch has (at
most 9), rates and fees likewise (at most 18), token rates at the most places of any rate in
the table; counts are integers already. A line's product is then exact at the sum of its
factors' scales, each component is summed per run with ``np.add.at``, and the components are
brought to one common scale ``K`` by multiplying with ``10**(K - own)``. An amount is
``int / 10**K`` in the table's currency.

The arithmetic runs in int64. A float64 shadow of the same computation bounds every value,
and when any could pass 2**62 (a run of about $460,000 at the usual ``K = 13``) the batch is
recomputed on object arrays of Python integers, which cannot overflow. Either way the result
equals :func:`~opsplane.domain.cost.pricing.price_run`'s exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from opsplane.domain.cost.bulk_columns import Columns, IntArray, build_columns
from opsplane.domain.cost.model import COMPONENTS, Breakdown, Component, Run, TokenKind
from opsplane.domain.cost.money import EXACT, decimal_places, scaled_int
from opsplane.domain.cost.prices import PriceTable

TOKEN_KINDS: Final[tuple[TokenKind, ...]] = (
    "input",
    "output",
    "reasoning",
    "cache_read",
    "cache_write",
)
"""The column order of :attr:`Columns.llm_tokens` and of the rate matrix."""

_SAFE: Final = float(2**62)
"""Values below this bound fit int64 with room for the float shadow's rounding."""


@dataclass(frozen=True, slots=True)
class BulkResult:
    """Per-run component amounts as integers at ``10**-scale`` of ``currency``."""

    currency: str
    scale: int
    parts: dict[Component, IntArray]

    @property
    def n_runs(self) -> int:
        """How many runs were priced."""
        return len(self.parts["actions"])

    def run_totals(self) -> IntArray:
        """Each run's total, as integers at the result's scale."""
        return _sum_parts(self.parts)

    def breakdown(self, i: int) -> Breakdown:
        """Run ``i``'s breakdown (without line items)."""
        amounts = [self._money(int(self.parts[c][i])) for c in COMPONENTS]
        return Breakdown.of(self.currency, amounts)

    def component_total(self, component: Component) -> Decimal:
        """One component summed over every run."""
        return self._money(_exact_sum(self.parts[component]))

    def total(self) -> Decimal:
        """Everything, summed over every run."""
        return self._money(_exact_sum(self.run_totals()))

    def totals(self) -> list[Decimal]:
        """Each run's total as a Decimal."""
        return [self._money(int(v)) for v in self.run_totals().tolist()]

    def _money(self, value: int) -> Decimal:
        return EXACT.scaleb(Decimal(value), -self.scale)


class BulkPricer:
    """Prices batches of runs under one table; the table's rates are compiled once."""

    def __init__(self, table: PriceTable) -> None:
        """Compile ``table``: one rate-matrix row per model, token rates as integers."""
        self.table = table
        names = sorted(table.models)
        self._index = {name: row for row, name in enumerate(names)}
        rates = [[table.models[n].rate(k) for k in TOKEN_KINDS] for n in names]
        self._has_output = np.array([r[1] is not None for r in rates], dtype=bool)
        flat = [r for row in rates for r in row if r is not None]
        self._token_places = max((decimal_places(r) for r in flat), default=0)
        ints = [
            [0 if r is None else scaled_int(r, self._token_places) for r in row] for row in rates
        ]
        self._rates = _matrix(ints, len(names))
        self._action_places = decimal_places(table.action_price)
        self._action_price = scaled_int(table.action_price, self._action_places)

    def columns(self, runs: Sequence[Run], *, file: str = "<runs>") -> Columns:
        """The validated integer columns of ``runs`` (see :func:`.build_columns`)."""
        return build_columns(runs, self.table, self._index, self._has_output, file=file)

    def price(self, runs: Sequence[Run], *, file: str = "<runs>") -> BulkResult:
        """Price every run of a batch, or raise for the batch like ``price_runs`` does.

        Raises:
            SpecError: some run is invalid; nothing is priced.
        """
        return self.price_columns(self.columns(runs, file=file))

    def price_columns(self, cols: Columns) -> BulkResult:
        """Price a batch given as columns: in int64 when that is safe, else in Python ints."""
        scale = max(
            self._action_places,
            cols.seconds_places + cols.rate_places,
            self._token_places,
            cols.fee_places,
        )
        estimate = self._compute(cols, scale, np.float64)
        if _fits(estimate):
            try:
                return BulkResult(self.table.currency, scale, self._compute(cols, scale, np.int64))
            except OverflowError:  # an input column or a factor of ten beyond int64
                pass
        return BulkResult(self.table.currency, scale, self._compute(cols, scale, object))

    def _compute(self, cols: Columns, scale: int, dtype: Any) -> dict[Component, IntArray]:
        n = cols.n_runs
        actions = cols.actions.astype(dtype) * _cast(self._action_price, dtype)
        compute = _per_run(
            n,
            cols.compute_run,
            cols.compute_seconds.astype(dtype) * cols.compute_rates.astype(dtype),
        )
        rates = self._rates.astype(dtype)[cols.llm_model]
        llm = _per_run(n, cols.llm_run, (cols.llm_tokens.astype(dtype) * rates).sum(axis=1))
        fees = _per_run(n, cols.fee_run, cols.fee_amounts.astype(dtype))
        own = {
            "actions": self._action_places,
            "compute": cols.seconds_places + cols.rate_places,
            "llm": self._token_places,
            "api_fees": cols.fee_places,
        }
        raw: dict[Component, IntArray] = {
            "actions": actions, "compute": compute, "llm": llm, "api_fees": fees,
        }  # fmt: skip
        return {c: raw[c] * _cast(10 ** (scale - own[c]), dtype) for c in COMPONENTS}


def _per_run(n: int, run: npt.NDArray[np.intp], values: IntArray) -> IntArray:
    out = np.zeros(n, dtype=values.dtype)  # object zeros are the Python int 0
    np.add.at(out, run, values)
    return out


def _cast(value: int, dtype: Any) -> Any:
    """A factor in the arithmetic's type (a Python int overflows int64 arrays loudly)."""
    if dtype is np.float64:
        return float(value)
    if dtype is np.int64:
        return np.int64(value)  # raises OverflowError when it does not fit
    return value


def _fits(estimate: dict[Component, IntArray]) -> bool:
    """Whether every value, every run total and the grand total stay below 2**62."""
    totals = _sum_parts(estimate)
    return bool(totals.max(initial=0.0) < _SAFE) and float(totals.sum()) < _SAFE


def _sum_parts(parts: dict[Component, IntArray]) -> IntArray:
    total = parts["actions"]
    for c in COMPONENTS[1:]:
        total = total + parts[c]
    return total


def _exact_sum(values: IntArray) -> int:
    if values.dtype == object:
        return int(sum(values.tolist(), 0))
    return int(values.sum())


def _matrix(rows: list[list[int]], n: int) -> IntArray:
    try:
        return np.array(rows, dtype=np.int64).reshape(n, len(TOKEN_KINDS))
    except OverflowError:
        return np.array(rows, dtype=object).reshape(n, len(TOKEN_KINDS))
