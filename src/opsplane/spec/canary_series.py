"""Metric samples for ``opsplane canary judge --control FILE --experiment FILE``.

A file holds one side of the comparison (control or experiment): samples by metric name. A
file whose name ends in ``.csv`` is CSV; anything else is JSON.

JSON, either form:

- ``{"latency p99": [0.21, 0.25, null], "errors": [0, 1, 0]}``
- ``[{"name": "latency p99", "values": [0.21, 0.25, null]}, ...]``

CSV, either form (the first row is a header):

- long: a header with the columns ``metric`` and ``value`` (others, such as a timestamp, are
  ignored), one sample per row;
- wide: any other header names one metric per column, one sample per cell. Columns may have
  different lengths: empty cells at the end of a column are padding, not samples.

A missing sample is ``null`` or ``"NaN"`` in JSON, and an empty cell or ``NaN`` in CSV (inside
a column, for the wide form); the metric's ``nanStrategy`` decides what happens to it. Values
must otherwise be finite numbers. A metric may have no samples at all (``[]``): the judge
classifies it as Nodata.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any

from opsplane.errors import Problem, SpecError
from opsplane.spec.canary_config import read_json
from opsplane.spec.documents import format_path

Series = dict[str, list[float]]
"""Samples by metric name, NaN for a missing sample."""


def load_series(path: str | Path) -> Series:
    """Read a samples file, JSON or CSV by its name (else :class:`SpecError`)."""
    name = str(path)
    if name.lower().endswith(".csv"):
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise SpecError([Problem(name, "", f"cannot read file: {exc}")]) from exc
        return parse_csv_series(text, name)
    return parse_json_series(read_json(path), name)


def parse_json_series(data: Any, file: str = "<series>") -> Series:
    """Samples from loaded JSON, in either of the two forms (else :class:`SpecError`)."""
    problems: list[Problem] = []
    series: Series = {}
    if isinstance(data, dict):
        for metric, values in data.items():
            series[metric] = _json_values(values, file, (metric,), problems)
    elif isinstance(data, list):
        for i, item in enumerate(data):
            _json_item(item, i, file, series, problems)
    else:
        problems.append(Problem(file, "", _FORMS))
    if problems:
        raise SpecError(problems)
    return series


_FORMS = 'expected {"metric": [numbers...]} or [{"name": "metric", "values": [numbers...]}]'


def _json_item(item: Any, index: int, file: str, series: Series, problems: list[Problem]) -> None:
    """One ``{"name": ..., "values": [...]}`` entry of the list form."""
    if not isinstance(item, dict):
        problems.append(Problem(file, f"[{index}]", 'expected {"name": ..., "values": [...]}'))
        return
    name = item.get("name")
    if not isinstance(name, str) or not name:
        problems.append(Problem(file, f"[{index}].name", "a metric name (text) is required"))
        return
    if name in series:
        problems.append(Problem(file, f"[{index}].name", f"duplicate metric name {name!r}"))
        return
    series[name] = _json_values(item.get("values"), file, (index, "values"), problems)


def _json_values(
    values: Any, file: str, where: tuple[str | int, ...], problems: list[Problem]
) -> list[float]:
    """A list of samples; ``null`` and ``"NaN"`` are NaN."""
    if not isinstance(values, list):
        problems.append(Problem(file, format_path(where), "expected a list of numbers"))
        return []
    out: list[float] = []
    for i, value in enumerate(values):
        if value is None or value == "NaN":
            out.append(math.nan)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            out.append(_finite(float(value), file, (*where, i), problems))
        else:
            message = f'{json_text(value)} is not a number (null or "NaN" for a missing sample)'
            problems.append(Problem(file, format_path((*where, i)), message))
    return out


def _finite(
    value: float, file: str, where: tuple[str | int, ...], problems: list[Problem]
) -> float:
    if math.isinf(value):
        problems.append(Problem(file, format_path(where), "values must be finite"))
    return value


def json_text(value: Any) -> str:
    """A short rendering of a bad value for a message."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def parse_csv_series(text: str, file: str = "<series>") -> Series:
    """Samples from CSV text, long (``metric,value``) or wide (else :class:`SpecError`)."""
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise SpecError(
            [Problem(file, "line 1", "expected a header row: metric,value or metric names")]
        )
    header = [cell.strip() for cell in rows[0]]
    lowered = [h.lower() for h in header]
    problems: list[Problem] = []
    if "metric" in lowered and "value" in lowered:
        series = _long(rows[1:], lowered.index("metric"), lowered.index("value"), file, problems)
    else:
        series = _wide(header, rows[1:], file, problems)
    if problems:
        raise SpecError(problems)
    return series


def _cell_value(cell: str, file: str, line: int, problems: list[Problem]) -> float:
    """One CSV cell as a sample: empty or NaN is NaN."""
    text = cell.strip()
    if not text or text.lower() == "nan":
        return math.nan
    try:
        value = float(text)
    except ValueError:
        problems.append(Problem(file, f"line {line}", f"{text!r} is not a number"))
        return math.nan
    if math.isinf(value):
        problems.append(Problem(file, f"line {line}", "values must be finite"))
    return value


def _long(
    rows: list[list[str]], i_metric: int, i_value: int, file: str, problems: list[Problem]
) -> Series:
    """``metric,value`` rows, one sample each."""
    series: Series = {}
    for line, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue  # a blank line
        if len(row) <= max(i_metric, i_value) or not row[i_metric].strip():
            problems.append(Problem(file, f"line {line}", "expected a metric name and a value"))
            continue
        value = _cell_value(row[i_value], file, line, problems)
        series.setdefault(row[i_metric].strip(), []).append(value)
    return series


def _wide(header: list[str], rows: list[list[str]], file: str, problems: list[Problem]) -> Series:
    """One column per metric; trailing empty cells of a column are padding."""
    for i, name in enumerate(header):
        if not name:
            problems.append(Problem(file, "line 1", f"column {i + 1} has no metric name"))
        elif header.index(name) != i:
            problems.append(Problem(file, "line 1", f"duplicate metric name {name!r}"))
    columns: list[list[tuple[int, str]]] = [[] for _ in header]
    for line, row in enumerate(rows, start=2):
        if len(row) > len(header) and any(cell.strip() for cell in row[len(header) :]):
            problems.append(
                Problem(file, f"line {line}", f"more cells than the {len(header)} columns")
            )
        for column, cell in zip(columns, row, strict=False):
            column.append((line, cell))
    series: Series = {}
    for name, column in zip(header, columns, strict=True):
        while column and not column[-1][1].strip():
            column.pop()
        series[name] = [_cell_value(cell, file, line, problems) for line, cell in column]
    return series
