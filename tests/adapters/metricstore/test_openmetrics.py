"""Timestamped OpenMetrics text: the samples promtool's backfill stores, and clear errors."""

from __future__ import annotations

import random
import re
import subprocess
from pathlib import Path

import pytest

from opsplane.adapters.metricstore import MetricStore, parse_openmetrics, parse_openmetrics_file
from opsplane.errors import Problem, SpecError
from opsplane.ports import Sample

DOC = """\
# HELP http_requests Requests.
# TYPE http_requests counter
http_requests_total{code="200",job="a b"} 1 1700000000.123
http_requests_total{code="200",job="a b"} 3 1700000060
http_requests_total{code="500",job="a b",empty=""} 1 1.7e9
# TYPE lat_seconds histogram
lat_seconds_bucket{le="0.3"} 1 100
lat_seconds_bucket{le="+Inf"} 2 100
lat_seconds_count 2 100
lat_seconds_sum 0.4 100
lat_seconds_bucket{le="0.3"} 2 160
lat_seconds_bucket{le="+Inf"} 3 160
lat_seconds_count 3 160
lat_seconds_sum 0.6 160
# EOF
"""


def test_a_document_becomes_samples_in_file_order() -> None:
    ok = (("__name__", "http_requests_total"), ("code", "200"), ("job", "a b"))
    err = (("__name__", "http_requests_total"), ("code", "500"), ("job", "a b"))
    bucket = (("__name__", "lat_seconds_bucket"), ("le", "0.3"))
    inf = (("__name__", "lat_seconds_bucket"), ("le", "+Inf"))
    count, total = (("__name__", "lat_seconds_count"),), (("__name__", "lat_seconds_sum"),)
    assert parse_openmetrics(DOC) == [
        Sample(ok, 1_700_000_000_123, 1.0),
        Sample(ok, 1_700_000_060_000, 3.0),
        Sample(err, 1_700_000_000_000, 1.0),  # the empty label is no label
        Sample(bucket, 100_000, 1.0),
        Sample(inf, 100_000, 2.0),
        Sample(count, 100_000, 2.0),
        Sample(total, 100_000, 0.4),
        # every point of a histogram, not only its first sample (see the module docstring)
        Sample(bucket, 160_000, 2.0),
        Sample(inf, 160_000, 3.0),
        Sample(count, 160_000, 3.0),
        Sample(total, 160_000, 0.6),
    ]


def test_milliseconds_are_truncated_from_the_float_as_prometheus_does() -> None:
    # model/textparse/openmetricsparse.go: int64(ts * 1000); 1.005 * 1000 = 1004.999...
    (sample,) = parse_openmetrics("x_total 1 1.005\n# EOF\n")
    assert sample.timestamp == 1004


BAD = [
    ("no # EOF", "x 1 100\n", [("line 1", "missing # EOF")]),
    ("text after # EOF", "x 1 100\n# EOF\nx 2 200\n", [("line 3", "after # EOF")]),
    ("a sample without timestamp", "x 1 100\nx 2\n# EOF\n", [("line 2", "no timestamp")]),
    (
        "a negative counter",
        "# TYPE x counter\nx_total 1 1\nx_total -1 2\n# EOF\n",
        [("line 3", "cannot be negative")],
    ),
    ("broken labels", 'x{a="1" 1 100\n# EOF\n', [("line 1", "")]),
    ("a blank line", "x 1 100\n\nx 2 200\n# EOF\n", [("line 2", "blank line")]),
    ("a timestamp beyond 2109", "x 1 5000000000\n# EOF\n", [("line 1", "outside")]),
    (
        "a histogram point without +Inf",
        '# TYPE h histogram\nh_bucket{le="1"} 1 10\nh_count 1 10\nh_sum 1 10\n# EOF\n',
        [("line 4", "+Inf bucket missing")],
    ),
    ("a family split in two", "a 1 1\nb 1 1\na 2 2\n# EOF\n", [("line 3", "appears again")]),
    (
        "several problems",
        "x 1\ny 2\n",
        [("line 1", "no timestamp"), ("line 2", "no timestamp"), ("line 2", "missing # EOF")],
    ),
]


@pytest.mark.parametrize(("text", "problems"), [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_problems_are_reported_by_line_and_nothing_is_returned(
    text: str, problems: list[tuple[str, str]]
) -> None:
    with pytest.raises(SpecError) as info:
        parse_openmetrics(text, "data.om")
    got = info.value.problems
    assert [(p.file, p.path) for p in got] == [("data.om", line) for line, _ in problems]
    for problem, (_, fragment) in zip(got, problems, strict=True):
        assert fragment in problem.message


def test_an_unreadable_file_is_one_problem(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as info:
        parse_openmetrics_file(tmp_path / "missing.om")
    assert info.value.problems[0] == Problem(
        str(tmp_path / "missing.om"), "", info.value.problems[0].message
    )


def _random_document(rng: random.Random) -> str:
    lines = ["# TYPE req counter"]
    for code in ("200", "500"):
        value, ts = 0.0, 1_600_000_000.0
        for _ in range(50):
            value += rng.choice([0.0, 1.0, rng.uniform(0, 9)])
            ts += rng.choice([1, 15, 60]) + rng.randint(0, 999) / 1000
            lines.append(f'req_total{{code="{code}"}} {value!r} {ts:.3f}')
    lines.append("# TYPE lat histogram")
    count = 0
    for point in range(20):
        count += rng.randint(0, 5)
        at = 1_600_000_000 + 60 * point + rng.random()
        lines += [
            f'lat_bucket{{le="0.5"}} {count // 2} {at!r}',
            f'lat_bucket{{le="+Inf"}} {count} {at!r}',
            f"lat_count {count} {at!r}",
            f"lat_sum {count * 0.3!r} {at!r}",
        ]
    return "\n".join([*lines, "# EOF", ""])


@pytest.mark.promtool
def test_the_samples_are_those_promtool_backfills(promtool: str, tmp_path: Path) -> None:
    doc = _random_document(random.Random(8))
    (tmp_path / "in.om").write_text(doc)
    run = [promtool, "tsdb", "create-blocks-from", "openmetrics", "-q", "in.om", "data"]
    subprocess.run(run, cwd=tmp_path, check=True, capture_output=True, timeout=60)
    (tmp_path / "data" / "wal").mkdir(exist_ok=True)  # promtool tsdb dump wants one
    dump = subprocess.run(
        [promtool, "tsdb", "dump", "--min-time=0", "--max-time=9999999999999", "data"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    theirs = set()
    for line in dump.splitlines():
        labels, value, ts = line.rsplit(" ", 2)
        pairs = tuple(sorted(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', labels)))
        theirs.add((pairs, int(ts), float(value)))
    ours = {(s.labels, s.timestamp, s.value) for s in parse_openmetrics(doc)}
    assert len(theirs) == 180
    assert ours == theirs


def test_a_parsed_file_can_be_stored_and_evaluated(tmp_path: Path) -> None:
    store = MetricStore.open(tmp_path)
    assert store.append(parse_openmetrics(DOC)) == 11
    rate = store.instant('sum(increase(lat_seconds_bucket{le="+Inf"}[1m]))', 160_000)
    assert rate == {(): 1.0}
    store.close()
