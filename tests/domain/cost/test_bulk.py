"""The bulk pricer's integer scheme at its edges: scales, int64 limits, empty batches."""

from __future__ import annotations

import numpy as np

from opsplane.domain.cost.bulk import BulkPricer
from opsplane.domain.cost.model import ApiFee, ComputeUsage, LlmUsage, Run
from opsplane.domain.cost.money import money_text
from opsplane.domain.cost.pricing import price_run
from tests.domain.cost.builders import TABLE, D, design_run

PRICER = BulkPricer(TABLE)


def test_the_design_example_prices_the_same_in_bulk() -> None:
    result = PRICER.price([design_run()] * 3)
    assert money_text(result.breakdown(0).total) == "0.01696"
    assert money_text(result.total()) == "0.05088"
    assert money_text(result.component_total("llm")) == "0.00684"


def test_the_common_scale_is_the_finest_input() -> None:
    # The table's finest token rate is 7.5e-8 (9 places); 1.125 s (3 places) at 0.000016 per
    # second (6 places) also needs 9; actions (5) and fees (3) need fewer.
    cols = PRICER.columns([design_run(compute=(ComputeUsage("cpu", D("1.125")),))])
    assert (cols.seconds_places, cols.rate_places) == (3, 6)
    assert PRICER.price_columns(cols).scale == 9


def test_an_empty_batch_costs_nothing() -> None:
    result = PRICER.price([])
    assert result.n_runs == 0
    assert result.total() == 0


def test_runs_without_usage_lines_still_get_a_row() -> None:
    result = PRICER.price([Run("a", "s", "n", 0), design_run(), Run("b", "s", "n", 5)])
    assert [money_text(t) for t in result.totals()] == ["0", "0.01696", "0.00005"]


def test_amounts_beyond_int64_fall_back_to_python_integers() -> None:
    huge = Run(
        "r", "s", "n", 10**15,
        compute=(ComputeUsage("cpu", D("999999999.123456789"), D("999999999.123456789012345678")),),
        llm=(LlmUsage("thinker", 10**15, 10**15, 10**15, 10**15, 10**15),),
        api_fees=(ApiFee("x", D("999999999.999999999999999999")),),
    )  # fmt: skip
    result = PRICER.price([huge, design_run()])
    assert result.parts["compute"].dtype == object
    assert result.breakdown(0).total == price_run(huge, TABLE).total
    assert money_text(result.breakdown(1).total) == "0.01696"


def test_ordinary_batches_stay_in_int64() -> None:
    result = PRICER.price([design_run()] * 100)
    assert all(part.dtype == np.int64 for part in result.parts.values())
