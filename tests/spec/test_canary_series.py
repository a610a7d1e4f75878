"""Samples files for ``canary judge``: the JSON and CSV forms, and every problem."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from opsplane.errors import SpecError
from opsplane.spec.canary_series import Series, load_series, parse_csv_series, parse_json_series


def same(actual: Series, expected: dict[str, list[float]]) -> bool:
    """Equal, NaN equal to NaN."""
    if actual.keys() != expected.keys():
        return False
    return all(
        len(actual[k]) == len(v)
        and all(
            (math.isnan(a) and math.isnan(b)) or a == b for a, b in zip(actual[k], v, strict=True)
        )
        for k, v in expected.items()
    )


NAN = math.nan
MISSING = ' (null or "NaN" for a missing sample)'
BOTH_FORMS = 'expected {"metric": [numbers...]} or [{"name": "metric", "values": [numbers...]}]'


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(
            {"p99": [1, 2.5], "errors": []},
            {"p99": [1.0, 2.5], "errors": []},
            id="an object of lists",
        ),
        pytest.param(
            [{"name": "p99", "values": [1, None, "NaN"]}],
            {"p99": [1.0, NAN, NAN]},
            id="a list of name/values with null and NaN for missing samples",
        ),
        pytest.param({"p99": [NAN]}, {"p99": [NAN]}, id="a bare NaN, which Python's JSON reads"),
    ],
)
def test_json_forms(data: Any, expected: dict[str, list[float]]) -> None:
    assert same(parse_json_series(data), expected)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        pytest.param(
            {"p99": [1, "fast"]}, "s.json:p99[1]: 'fast' is not a number" + MISSING, id="text"
        ),
        pytest.param(
            {"p99": [True]}, "s.json:p99[0]: True is not a number" + MISSING, id="a boolean"
        ),
        pytest.param({"p99": [math.inf]}, "s.json:p99[0]: values must be finite", id="infinity"),
        pytest.param({"p 99": 3}, 's.json:["p 99"]: expected a list of numbers', id="not a list"),
        pytest.param(
            [{"values": []}], "s.json:[0].name: a metric name (text) is required", id="no name"
        ),
        pytest.param(
            [{"name": "a", "values": []}, {"name": "a", "values": []}],
            "s.json:[1].name: duplicate metric name 'a'",
            id="a name twice",
        ),
        pytest.param(
            [3], 's.json:[0]: expected {"name": ..., "values": [...]}', id="not an object"
        ),
        pytest.param(
            "text",
            f"s.json: {BOTH_FORMS}",
            id="neither form",
        ),
    ],
)
def test_json_problems(data: Any, expected: str) -> None:
    with pytest.raises(SpecError) as info:
        parse_json_series(data, "s.json")
    assert expected in [str(p) for p in info.value.problems]


def test_long_csv() -> None:
    text = "timestamp,metric,value\n1,p99,0.2\n2,p99,\n1,errors,3\n\n2,errors,NaN\n"
    assert same(parse_csv_series(text), {"p99": [0.2, NAN], "errors": [3.0, NAN]})


def test_wide_csv_pads_short_columns() -> None:
    text = "p99,errors\n0.2,1\n,2\n0.3,\n,\n"
    assert same(parse_csv_series(text), {"p99": [0.2, NAN, 0.3], "errors": [1.0, 2.0]})


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("metric,value\np99,fast\n", "s.csv:line 2: 'fast' is not a number", id="text"),
        pytest.param(
            "metric,value\np99,inf\n", "s.csv:line 2: values must be finite", id="infinity"
        ),
        pytest.param(
            "metric,value\n,1\n", "s.csv:line 2: expected a metric name and a value", id="no name"
        ),
        pytest.param(
            "a,,b\n1,2,3\n", "s.csv:line 1: column 2 has no metric name", id="unnamed column"
        ),
        pytest.param("a,a\n1,2\n", "s.csv:line 1: duplicate metric name 'a'", id="a column twice"),
        pytest.param("a\n1,2\n", "s.csv:line 2: more cells than the 1 columns", id="a long row"),
        pytest.param(
            "", "s.csv:line 1: expected a header row: metric,value or metric names", id="empty"
        ),
    ],
)
def test_csv_problems(text: str, expected: str) -> None:
    with pytest.raises(SpecError) as info:
        parse_csv_series(text, "s.csv")
    assert expected in [str(p) for p in info.value.problems]


def test_files_are_read_by_their_suffix(tmp_path: Path) -> None:
    (tmp_path / "a.CSV").write_text("metric,value\np99,1\n", encoding="utf-8")
    (tmp_path / "a.json").write_text('{"p99": [1]}', encoding="utf-8")
    (tmp_path / "a.txt").write_text('{"p99": [1]}', encoding="utf-8")
    for name in ("a.CSV", "a.json", "a.txt"):
        assert load_series(tmp_path / name) == {"p99": [1.0]}


def test_an_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as info:
        load_series(tmp_path / "none.csv")
    assert str(info.value.problems[0]).startswith(f"{tmp_path / 'none.csv'}: cannot read file:")
