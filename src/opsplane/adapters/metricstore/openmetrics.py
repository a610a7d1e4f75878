"""Timestamped OpenMetrics text (what ``promtool tsdb create-blocks-from openmetrics`` reads).

Parsing and validation are ``prometheus_client.openmetrics.parser``'s. Two things are ours:

- Line numbers. The library raises plain ``ValueError`` s; it is fed one line at a time
  through a counter, so each problem is reported as ``FILE:line N: message``.
- Histograms, summaries, info and stateset metrics with several timestamps. The library
  (0.26) remembers the series of a group across timestamps and drops all but the first sample
  of every later point (``group_timestamp_samples`` is reset only when the group changes).
  So each point (a run of lines with one timestamp) of such a family is parsed on its own,
  with the family's metadata; we check that point timestamps do not go backwards.

Timestamps are seconds; milliseconds are ``int64(ts * 1000)`` as in Prometheus 2.42
(``model/textparse/openmetricsparse.go:344``), so a backfill here and one by promtool store
the same timestamps. Every sample needs a timestamp (promtool's backfill requires one).
A file with any problem yields no samples: :class:`~opsplane.errors.SpecError` lists them all.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from prometheus_client.openmetrics.parser import text_fd_to_metric_families
from prometheus_client.samples import Sample as ClientSample
from prometheus_client.samples import Timestamp

from opsplane.adapters.metricstore.blocks import MAX_TIMESTAMP
from opsplane.errors import Problem, SpecError
from opsplane.ports import Sample

# The sample line shape (name, optional label set with quoted values, value, timestamp,
# optional exemplar), enough to find each line's metric name and timestamp.
_SAMPLE_LINE = re.compile(
    r'^(?P<name>[^\s{#]+)?(?P<labels>\{(?:[^"}]|"(?:[^"\\]|\\.)*")*\})?\s+(?P<value>\S+)'
    r"(?:\s+(?P<ts>[^\s#]\S*))?(?:\s+#.*)?$"
)
_SUFFIXES = {
    "counter": ("_total", "_created"),
    "summary": ("", "_count", "_sum", "_created"),
    "histogram": ("_count", "_sum", "_bucket", "_created"),
    "gaugehistogram": ("_gcount", "_gsum", "_bucket"),
    "info": ("_info",),
}
# Types whose groups hold several series: parsed one point at a time (see the module doc).
_GROUPED = frozenset({"histogram", "gaugehistogram", "summary", "info", "stateset"})


@dataclass(slots=True)
class _Family:
    name: str | None
    type: str = "unknown"
    meta: list[tuple[int, str]] = field(default_factory=list)
    samples: list[tuple[int, str, str | None]] = field(default_factory=list)

    def allows(self, sample_name: str) -> bool:
        if self.name is None:
            return False
        return sample_name in [self.name + s for s in _SUFFIXES.get(self.type, ("",))]


def parse_openmetrics_file(path: Path) -> list[Sample]:
    """Parse an OpenMetrics file; :class:`SpecError` on any problem."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError([Problem(str(path), "", f"cannot read the file: {exc}")]) from exc
    return parse_openmetrics(text, str(path))


def parse_openmetrics(text: str, file: str = "<input>") -> list[Sample]:
    """Parse timestamped OpenMetrics text into samples, in file order.

    Raises:
        SpecError: one :class:`~opsplane.errors.Problem` per problem found, located by line.
    """
    problems: list[Problem] = []
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    families = _split(lines, file, problems)
    samples: list[Sample] = []
    for family in families:
        for chunk in _chunks(family, file, problems):
            samples.extend(_parse_chunk(family, chunk, len(lines), file, problems))
    if problems:
        raise SpecError(problems)
    return samples


def _split(lines: list[str], file: str, problems: list[Problem]) -> list[_Family]:
    """Group the lines into metric families the way the library does; check ``# EOF``."""
    families: list[_Family] = []
    current: _Family | None = None
    seen: set[str] = set()
    eof = 0
    for n, line in enumerate(lines, start=1):
        if eof:
            problems.append(Problem(file, f"line {n}", "text after # EOF"))
            break
        if line == "# EOF":
            eof = n
            continue
        name, ts, is_meta = _classify(line, n, file, problems)
        if current is None or _starts_family(current, name, is_meta):
            if name is not None and name in seen:
                message = f"metric family {name} appears again; keep a family's lines together"
                problems.append(Problem(file, f"line {n}", message))
            seen.add(name or "")
            current = _Family(name)
            families.append(current)
        if is_meta:
            if current.samples:
                problems.append(Problem(file, f"line {n}", "metadata after samples"))
            current.meta.append((n, line))
            parts = line.split(" ", 3)
            if len(parts) == 4 and parts[1] == "TYPE":
                current.type = parts[3]
        else:
            current.samples.append((n, line, ts))
    if not eof:
        problems.append(Problem(file, f"line {max(len(lines), 1)}", "missing # EOF at the end"))
    return families


def _classify(
    line: str, n: int, file: str, problems: list[Problem]
) -> tuple[str | None, str | None, bool]:
    """``(metric name, timestamp token, is metadata)`` of one line; checks timestamps."""
    if line.startswith("#"):
        parts = line.split(" ", 3)
        return (parts[2] if len(parts) >= 3 else None), None, True
    match = _SAMPLE_LINE.match(line)
    if match is None:
        return None, None, False  # the library reports the syntax error
    ts = match["ts"]
    if ts is None:
        message = "sample has no timestamp; backfill needs one (seconds since the epoch)"
        problems.append(Problem(file, f"line {n}", message))
    else:
        _check_timestamp(ts, n, file, problems)
    return match["name"], ts, False


def _check_timestamp(token: str, n: int, file: str, problems: list[Problem]) -> None:
    try:
        ms = int(float(token) * 1000)
    except (ValueError, OverflowError):
        return  # not a number: the library reports it
    if not 0 <= ms <= MAX_TIMESTAMP:
        message = f"timestamp {token} is outside what the store holds (1970 to 2109)"
        problems.append(Problem(file, f"line {n}", message))


def _starts_family(current: _Family, name: str | None, is_meta: bool) -> bool:
    if is_meta:
        return name != current.name
    return name is not None and not current.allows(name)


def _chunks(
    family: _Family, file: str, problems: list[Problem]
) -> Iterator[list[tuple[int, str, str | None]]]:
    """The family's sample lines whole, or one point (timestamp) at a time if grouped."""
    if family.type not in _GROUPED or len({ts for _, _, ts in family.samples}) <= 1:
        yield family.samples
        return
    point: list[tuple[int, str, str | None]] = []
    last = float("-inf")
    for item in family.samples:
        if point and item[2] != point[0][2]:
            yield point
            point = []
        if not point:
            last = _point_order(item, last, file, problems)
        point.append(item)
    if point:
        yield point


def _point_order(
    item: tuple[int, str, str | None], last: float, file: str, problems: list[Problem]
) -> float:
    try:
        ts = float(item[2] or "nan")
    except ValueError:
        return last
    if ts < last:
        problems.append(Problem(file, f"line {item[0]}", "timestamps went backwards"))
    return max(ts, last)


class _Lines:
    """Feeds lines to the library and remembers the number of the last one it took."""

    def __init__(self, lines: list[tuple[int, str]]) -> None:
        self._it = iter(lines)
        self.n = lines[0][0] if lines else 1

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        self.n, line = next(self._it)
        return line + "\n"


def _parse_chunk(
    family: _Family,
    chunk: list[tuple[int, str, str | None]],
    last_line: int,
    file: str,
    problems: list[Problem],
) -> list[Sample]:
    end = chunk[-1][0] if chunk else (family.meta[-1][0] if family.meta else last_line)
    fed = _Lines([*family.meta, *((n, line) for n, line, _ in chunk), (end, "# EOF")])
    out: list[Sample] = []
    try:
        # prometheus_client's parser is not annotated.
        for metric in text_fd_to_metric_families(fed):  # type: ignore[no-untyped-call]
            # Samples without a timestamp were reported by _classify.
            out.extend(_convert(s) for s in metric.samples if s.timestamp is not None)
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        where = f"line {fed.n}"
        if not any(p.path == where for p in problems):  # one problem per line is enough
            message = str(exc.args[0]) if exc.args else "invalid line"
            problems.append(Problem(file, where, message))
        return []
    except _NativeHistogramError:
        problems.append(Problem(file, f"line {fed.n}", "native histograms are not supported"))
        return []
    return out


class _NativeHistogramError(Exception):
    pass


def _convert(sample: ClientSample) -> Sample:
    if sample.value is None or sample.native_histogram is not None:
        raise _NativeHistogramError
    ts = sample.timestamp
    # Rebuild the decimal text so the float is the one Go's ParseFloat gives for the file.
    assert ts is not None
    seconds = float(f"{ts.sec}.{ts.nsec:09d}") if isinstance(ts, Timestamp) else float(ts)
    labels = {**sample.labels, "__name__": sample.name}
    return Sample(
        labels=tuple(sorted((k, v) for k, v in labels.items() if v)),
        timestamp=int(seconds * 1000),
        value=float(sample.value),
    )
