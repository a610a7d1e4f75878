"""MetricStore: ratios as PromQL computes them, selectors, the appender rules and errors."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from opsplane.adapters.metricstore import MetricStore
from opsplane.domain import promrate
from opsplane.domain.slo import SLO, EventsSLI, GoodTotalSLI, LatencySLI, RawSLI, ThresholdSLI
from opsplane.errors import DatasourceError, UsageError
from opsplane.ports import RatioRequest, Sample

MIN = 60_000
NAME = "http_requests_total"


def lbl(name: str = NAME, **labels: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted({"__name__": name, **labels}.items()))


def counter(
    labels: tuple[tuple[str, str], ...], values: list[float], step: int = MIN
) -> list[Sample]:
    return [Sample(labels, i * step, v) for i, v in enumerate(values)]


def events(selector: str = 'job="a"') -> SLO:
    sli = EventsSLI(
        f'sum(rate({NAME}{{{selector},code=~"5.."}}[{{{{.window}}}}]))',
        f"sum(rate({NAME}{{{selector}}}[{{{{.window}}}}]))",
    )
    return SLO("svc", "avail", 99.9, sli)


def ratio(store: MetricStore, slo: SLO, window: int, at: int) -> float | None:
    return store.error_ratios([RatioRequest(slo, (window,))], at)[0][window]


@pytest.fixture(params=["memory", "disk"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> MetricStore:
    """Both flavours; the disk one flushes every 50 samples, so reads span disk blocks."""
    if request.param == "memory":
        return MetricStore.in_memory()
    return MetricStore.open(tmp_path / "store", flush_samples=50)


def test_ratios_match_promrate_over_many_series_blocks_and_a_reopen(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    codes = ["200", "201", "404", "500", "503"]
    data = {}
    store = MetricStore.open(tmp_path / "s", flush_samples=200, fanout=2)
    for code in codes:
        steps = rng.integers(0, 50 if code < "5" else 3, 300).astype(float)
        values = np.cumsum(steps)
        values[150:] -= values[149] - 1  # a restart
        data[code] = values
    for start in range(0, 300, 25):  # interleaved appends across series
        store.append(
            [
                s
                for c in codes
                for s in counter(lbl(job="a", code=c), list(data[c]))[start : start + 25]
            ]
        )
    store.close()
    store = MetricStore.open(tmp_path / "s")
    ts = np.arange(300, dtype=np.int64) * MIN
    for at, window in [(299 * MIN, 5 * MIN), (200 * MIN + 7, 60 * MIN), (299 * MIN, 400 * MIN)]:
        rates = {c: promrate.rate(ts, data[c], at, window) for c in codes}
        errors = np.float64(-0.0) + rates["500"] + rates["503"]
        total = np.float64(-0.0)
        for c in codes:  # label order, one at a time, as Prometheus' sum
            total = total + rates[c]
        assert ratio(store, events(), window, at) == errors / total
    store.close()


MATCHER_CASES = [
    ("= on a label value", 'job="a"', {"a-200", "a-500"}),
    ("!= keeps series without the label", 'job!="a"', {"b-200", "nojob"}),
    ("=~ is anchored at both ends", 'job=~"a|b"', {"a-200", "a-500", "b-200"}),
    ("=~ does not match a substring", 'code=~"5"', set()),
    ("!~ with a character class", 'code!~"[45].."', {"a-200", "b-200", "nojob"}),
    (
        "=~ that matches empty also selects series without the label",
        'job=~"b|"',
        {"b-200", "nojob"},
    ),
    ('="" selects series without the label', 'job=""', {"nojob"}),
    ("POSIX classes work as in RE2", 'code=~"[[:digit:]]+"', {"a-200", "a-500", "b-200", "nojob"}),
]


@pytest.mark.parametrize(
    ("selector", "expected"), [c[1:] for c in MATCHER_CASES], ids=[c[0] for c in MATCHER_CASES]
)
def test_label_matchers(store: MetricStore, selector: str, expected: set[str]) -> None:
    series = {
        "a-200": lbl(job="a", code="200", id="a-200"),
        "a-500": lbl(job="a", code="500", id="a-500"),
        "b-200": lbl(job="b", code="200", id="b-200"),
        "nojob": lbl(code="200", id="nojob"),
    }
    for labels in series.values():
        store.append(counter(labels, [0.0, 60.0, 120.0]))
    got = store.instant(f"rate({NAME}{{{selector}}}[2m])", 2 * MIN)
    assert {dict(k)["id"] for k in got} == expected
    assert all(v == 1.0 for v in got.values())


def test_out_of_order_and_duplicate_samples_are_rejected_and_counted(store: MetricStore) -> None:
    a, b = lbl(job="a", code="200"), lbl(job="a", code="500")
    assert store.append([Sample(a, 1000, 1.0), Sample(a, 2000, 2.0), Sample(b, 1000, 5.0)]) == 3
    batch = [
        Sample(a, 1500, 9.0),  # older than the stored latest: out of order
        Sample(a, 2000, 3.0),  # same time, other value: duplicate
        Sample(a, 2000, 2.0),  # identical to the stored sample: dropped
        Sample(a, 3000, 4.0),
        Sample(a, 2500, 4.0),  # older than an earlier sample of this batch
        Sample(b, 2000, 6.0),
        Sample(a, -5, 1.0),  # before 1970: out of bounds
    ]
    assert store.append(batch) == 2
    stats = store.stats
    assert (stats.out_of_order, stats.duplicate, stats.out_of_bounds) == (2, 2, 1)
    ts, values = store.read(a)
    assert ts.tolist() == [1000, 2000, 3000]
    assert values.tolist() == [1.0, 2.0, 4.0]


def test_no_series_is_no_data_but_zero_traffic_is_nan(store: MetricStore) -> None:
    assert ratio(store, events(), 5 * MIN, 10 * MIN) is None
    store.append(counter(lbl(job="a", code="200"), [5.0] * 10))
    value = ratio(store, events(), 5 * MIN, 9 * MIN)
    assert value is not None
    assert np.isnan(value)  # 0 / 0: present, not missing


def test_missing_error_series_counts_as_zero_errors(store: MetricStore) -> None:
    store.append(counter(lbl(job="a", code="200"), [float(i) for i in range(10)]))
    assert ratio(store, events(), 5 * MIN, 9 * MIN) == 0.0


def test_single_sample_windows_have_no_data(store: MetricStore) -> None:
    store.append(counter(lbl(job="a", code="200"), [1.0, 2.0], step=10 * MIN))
    assert ratio(store, events(), 5 * MIN, 12 * MIN) is None


def test_new_series_reach_cached_plans(store: MetricStore) -> None:
    store.append(counter(lbl(job="a", code="200"), [float(10 * i) for i in range(10)]))
    request = [RatioRequest(events(), (5 * MIN,))]
    assert store.error_ratios(request, 9 * MIN)[0][5 * MIN] == 0.0
    store.append(counter(lbl(job="a", code="500"), [float(10 * i) for i in range(10)]))
    assert store.error_ratios(request, 9 * MIN)[0][5 * MIN] == 0.5


def test_good_total_and_latency_slis(store: MetricStore) -> None:
    job = {"job": "a"}
    store.append(counter(lbl("good_total", **job), [0.0, 90.0, 180.0]))
    store.append(counter(lbl("all_total", **job), [0.0, 100.0, 200.0]))
    store.append(counter(lbl("lat_bucket", le="0.3", **job), [0.0, 80.0, 160.0]))
    store.append(counter(lbl("lat_bucket", le="1", **job), [0.0, 95.0, 190.0]))
    store.append(counter(lbl("lat_count", **job), [0.0, 100.0, 200.0]))
    good = SLO(
        "s",
        "g",
        99,
        GoodTotalSLI(
            'sum(rate(good_total{job="a"}[{{.window}}]))',
            'sum(rate(all_total{job="a"}[{{.window}}]))',
        ),
    )
    fast = SLO("s", "fast", 99, LatencySLI("lat", 0.3, 'job="a"'))
    whole = SLO("s", "whole", 99, LatencySLI("lat", 1.0, 'job="a"'))  # le="1" or le="1.0"
    got = [ratio(store, slo, 2 * MIN, 2 * MIN) for slo in (good, fast, whole)]
    assert got == pytest.approx([0.1, 0.2, 0.05])


UNSUPPORTED = [
    ("sum by grouping", "sum by (code) (rate(x[{{.window}}]))"),
    ("another aggregation", "max(rate(x[{{.window}}]))"),
    ("a binary expression", "sum(rate(x[{{.window}}])) + sum(rate(y[{{.window}}]))"),
    ("an offset", "sum(rate(x[{{.window}}] offset 1h))"),
    ("a plain selector", "x"),
    ("another function", "sum(irate(x[{{.window}}]))"),
]


@pytest.mark.parametrize("query", [c[1] for c in UNSUPPORTED], ids=[c[0] for c in UNSUPPORTED])
def test_queries_beyond_sum_rate_are_refused_by_name(query: str) -> None:
    slo = SLO("svc", "odd", 99, EventsSLI(query, "sum(rate(x[{{.window}}]))"))
    with pytest.raises(DatasourceError, match="use --prometheus") as info:
        MetricStore.in_memory().error_ratios([RatioRequest(slo, (5 * MIN,))], MIN)
    assert "svc-odd" in str(info.value)
    assert query.replace("{{.window}}", "5m") in str(info.value)


@pytest.mark.parametrize(
    "sli", [RawSLI("x"), ThresholdSLI("x", "lt", 1.0)], ids=["raw SLIs", "threshold SLIs"]
)
def test_ratio_only_slis_are_refused(sli: RawSLI | ThresholdSLI) -> None:
    with pytest.raises(DatasourceError, match="--prometheus"):
        MetricStore.in_memory().error_ratios([RatioRequest(SLO("s", "r", 99, sli), (MIN,))], MIN)


def test_unaggregated_queries_follow_vector_matching(store: MetricStore) -> None:
    store.append(counter(lbl(job="a", code="200"), [0.0, 60.0]))
    store.append(counter(lbl(job="a", code="500"), [0.0, 6.0]))
    one = SLO(
        "s",
        "one",
        99,
        EventsSLI(
            f'rate({NAME}{{code="500"}}[{{{{.window}}}}])',
            f'rate({NAME}{{code="500"}}[{{{{.window}}}}])',
        ),
    )
    assert ratio(store, one, MIN, MIN) == 1.0
    many = SLO(
        "s",
        "many",
        99,
        EventsSLI(f"rate({NAME}[{{{{.window}}}}])", f"rate({NAME}[{{{{.window}}}}])"),
    )
    with pytest.raises(DatasourceError, match="returns 2 series"):
        ratio(store, many, MIN, MIN)


@pytest.mark.parametrize(
    "bad",
    [
        Sample((("job", "a"), ("job", "b")), 0, 1.0),
        Sample((("0bad", "x"),), 0, 1.0),
        Sample((), 0, 1.0),
        Sample((("__name__", "x"),), "soon", 1.0),  # type: ignore[arg-type]
    ],
    ids=["a repeated label", "an invalid label name", "no labels", "a timestamp that is no number"],
)
def test_malformed_samples_fail_the_whole_append(store: MetricStore, bad: Sample) -> None:
    good = Sample((("__name__", "x"),), 0, 1.0)
    with pytest.raises(UsageError):
        store.append([good, bad])
    assert store.series_count == 0
    assert store.sample_count == 0


def test_a_directory_is_opened_by_one_store_at_a_time(tmp_path: Path) -> None:
    first = MetricStore.open(tmp_path)
    with pytest.raises(DatasourceError, match="in use"):
        MetricStore.open(tmp_path)
    first.close()
    MetricStore.open(tmp_path).close()
    with pytest.raises(DatasourceError, match="closed"):
        first.append([Sample((("__name__", "x"),), 0, 1.0)])


def test_columnar_appends_equal_sample_appends() -> None:
    rng = random.Random(3)
    labels = [lbl(job="a", code=str(c)) for c in (200, 500)]
    rows = [(rng.randrange(2), t * 1000, float(t)) for t in range(400)]
    a, b = MetricStore.in_memory(), MetricStore.in_memory()
    a.append([Sample(labels[s], t, v) for s, t, v in rows])
    b.append_columns(
        labels,
        np.asarray([r[0] for r in rows]),
        np.asarray([r[1] for r in rows]),
        np.asarray([r[2] for r in rows]),
    )
    for lt in labels:
        assert [x.tolist() for x in a.read(lt)] == [x.tolist() for x in b.read(lt)]
