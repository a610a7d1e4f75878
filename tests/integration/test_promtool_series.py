"""Samples become promtool's expanding notation value for value (``promtool_series``)."""

from __future__ import annotations

import pytest

from opsplane.domain.duration import MINUTE
from opsplane.ports import Sample
from tests.integration.promtool_series import expand, on_minutes, series_notation


@pytest.mark.parametrize(
    ("values", "notation"),
    [
        ({0: 0, 1: 5, 2: 10, 3: 15}, "0+5x3"),
        ({0: 7, 1: 7, 2: 7}, "7+0x2"),
        ({0: 0, 1: 5, 2: 10, 3: 0, 4: 5}, "0+5x2 0+5x1"),
        ({0: 1, 4: 2, 5: 9}, "1 _x3 2+7x1"),
        ({3: 4}, "_x3 4"),
        ({0: 1, 1: 3, 2: 4}, "1+2x1 4"),
    ],
    ids=[
        "a steady counter is one rising run",
        "a flat counter rises by zero",
        "a counter reset starts a new run",
        "missing scrapes are blanks",
        "a series that appears late starts with blanks",
        "a change of step starts a new run",
    ],
)
def test_values_are_written_in_expanding_notation(values: dict[int, float], notation: str) -> None:
    assert expand(values) == notation


def test_a_fractional_value_is_refused_rather_than_rounded() -> None:
    with pytest.raises(AssertionError, match="not a whole number"):
        expand({0: 0.5})


def test_samples_move_to_the_nearest_minute_from_the_start() -> None:
    start = 1_704_067_200_000
    labels = (("__name__", "up_total"), ("job", "x"))
    samples = [Sample(labels, start + 1_400, 1.0), Sample(labels, start + MINUTE - 900, 2.0)]
    assert series_notation(on_minutes(samples, start)) == {'up_total{job="x"}': "1+1x1"}
