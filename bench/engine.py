"""Embedded metric store benchmark: ingest rate, one evaluation tick, memory, and Prometheus.

Prints:

- ingest: samples/s through ``MetricStore.append`` (``Sample`` objects, batches of 10,000,
  each written to the WAL and fsynced before ``append`` returns). Target >= 200,000/s.
- tick: one ``error_ratios`` call for N SLOs x 7 windows over D days of 1-minute data, two
  counter series per SLO (requests by code; events SLI ``code=~"5.."`` over all codes), with
  counter resets. The data is loaded through ``append_columns`` (WAL + fsync per day of data)
  into an on-disk store. The first tick plans (parses queries, resolves series); the steady
  tick reuses the plan. Target <= 100 ms for 1,000 SLOs x 30 days.
- peak RSS of this process (``ru_maxrss``). Target <= 1 GiB.
- Prometheus 2.42 (``/usr/bin/prometheus`` on 127.0.0.1) answering the same window queries
  (one HTTP instant query per SLO and window, the expression the native rules record) over the
  same samples, backfilled with ``promtool tsdb create-blocks-from openmetrics``: wall time and
  Prometheus' own execution time (``stats=all``), the engine's time for the same SLOs in the
  same run, their ratio, and whether every ratio agrees bit for bit. Prometheus gets a reduced
  set, the first ``--prom-slos`` SLOs (default 100, i.e. 8.64M samples over 30 days): writing
  and backfilling all 86.4M samples as OpenMetrics text takes several minutes on its own.

Usage: python bench/engine.py [--slos N] [--days D] [--prom-slos M] [--no-prometheus]
"""

from __future__ import annotations

import argparse
import resource
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

from opsplane.adapters.metricstore import MetricStore
from opsplane.domain.slo import SLO, EventsSLI
from opsplane.ports import RatioRequest, Sample

MINUTE = 60_000
DAY = 1440 * MINUTE
END = 1_767_225_600_000  # 2026-01-01T00:00:00Z
WINDOWS = (5 * MINUTE, 30 * MINUTE, 60 * MINUTE, 120 * MINUTE, 360 * MINUTE, 3 * DAY, 30 * DAY)
METRIC = "http_requests_total"


def labels_of(slo: int) -> list[tuple[tuple[str, str], ...]]:
    """The two series of SLO ``slo``: successes and server errors."""
    name = ("__name__", METRIC)
    job = ("job", f"svc{slo:05d}")
    return [(name, ("code", "200"), job), (name, ("code", "500"), job)]


def slos(n: int) -> list[SLO]:
    """``n`` events SLOs, one per job."""
    out = []
    for i in range(n):
        sel = f'job="svc{i:05d}"'
        sli = EventsSLI(
            f'sum(rate({METRIC}{{{sel},code=~"5.."}}[{{{{.window}}}}]))',
            f"sum(rate({METRIC}{{{sel}}}[{{{{.window}}}}]))",
        )
        out.append(SLO(f"svc{i:05d}", "availability", 99.9, sli))
    return out


def day_values(rng: np.random.Generator, state: np.ndarray, minutes: int) -> np.ndarray:
    """One day of counter values per series (rows), continuing from ``state``; some reset."""
    n = len(state)
    rates = np.where(np.arange(n) % 2 == 0, 100.0, 0.2)[:, None]
    steps = rng.poisson(rates, size=(n, minutes)).astype(np.float64)
    values = state[:, None] + np.cumsum(steps, axis=1)
    for row in np.flatnonzero(rng.random(n) < 0.05):  # a process restart: the counter resets
        cut = int(rng.integers(1, minutes))
        values[row, cut:] -= values[row, cut - 1]
    state[:] = values[:, -1]
    return values


def load(store: MetricStore, n_slos: int, days: int, keep: int) -> dict[int, list[np.ndarray]]:
    """Append ``days`` of data for ``n_slos`` SLOs; returns the values of the first ``keep``."""
    labels = [lt for i in range(n_slos) for lt in labels_of(i)]
    n_series = len(labels)
    state = np.zeros(n_series)
    rng = np.random.default_rng(42)
    kept: dict[int, list[np.ndarray]] = {s: [] for s in range(2 * keep)}
    start = END - days * DAY
    for day in range(days):
        ts = start + day * DAY + np.arange(1, 1441, dtype=np.int64) * MINUTE
        values = day_values(rng, state, len(ts))
        series = np.repeat(np.arange(n_series, dtype=np.int64), len(ts))
        store.append_columns(labels, series, np.tile(ts, n_series), values.ravel())
        for s, parts in kept.items():
            parts.append(values[s].copy())  # not a view: it would keep the whole day alive
    return kept


def bench_ingest(directory: Path, n_samples: int, batch: int = 10_000) -> float:
    """Samples per second through ``append`` with a WAL fsync per batch."""
    n_series = 1000
    labels = [lt for i in range(n_series // 2) for lt in labels_of(i)]
    per_series = n_samples // n_series
    store = MetricStore.open(directory)
    elapsed, appended = 0.0, 0
    for step in range(0, per_series, batch // n_series):
        t = END - DAY + np.arange(step, step + batch // n_series) * 15_000
        samples = [Sample(lt, int(x), float(x)) for x in t.tolist() for lt in labels]
        start = time.perf_counter()
        appended += store.append(samples)
        elapsed += time.perf_counter() - start
    store.close()
    return appended / elapsed


def time_ticks(
    store: MetricStore, requests: list[RatioRequest], runs: int = 5
) -> tuple[float, float]:
    """(first tick incl. planning, median steady tick) in seconds."""
    start = time.perf_counter()
    store.error_ratios(requests, END)
    first = time.perf_counter() - start
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        store.error_ratios(requests, END)
        times.append(time.perf_counter() - start)
    return first, statistics.median(times)


def write_openmetrics(path: Path, kept: dict[int, list[np.ndarray]], days: int) -> None:
    """The kept series as timestamped OpenMetrics text, one series after the other."""
    start = END - days * DAY
    ts_text = [str(start // 1000 + 60 * m) for m in range(1, days * 1440 + 1)]
    with path.open("w") as f:
        f.write(f"# TYPE {METRIC.removesuffix('_total')} counter\n")
        for s, parts in kept.items():
            _, code, job = labels_of(s // 2)[s % 2]
            head = f'{METRIC}{{code="{code[1]}",job="{job[1]}"}} '
            values = np.concatenate(parts).tolist()
            f.writelines(f"{head}{v!r} {t}\n" for v, t in zip(values, ts_text, strict=True))
        f.write("# EOF\n")


def tool(name: str) -> str:
    """The absolute path of a Debian ``prometheus`` package binary."""
    path = shutil.which(name)
    if path is None:
        raise SystemExit(f"{name} not found: apt-get install prometheus, or pass --no-prometheus")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def start_prometheus(work: Path, data: Path) -> tuple[subprocess.Popen[bytes], str]:
    """A Prometheus 2.42 on 127.0.0.1 serving the backfilled blocks in ``data``."""
    config = work / "prometheus.yml"
    config.write_text("global: {}\n")
    port = free_port()
    proc = subprocess.Popen(  # noqa: S603 - fixed argv, the binary found on PATH
        [
            tool("prometheus"),
            f"--config.file={config}",
            f"--storage.tsdb.path={data}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--storage.tsdb.retention.time=100y",
        ],
        stdout=subprocess.DEVNULL,
        stderr=(work / "prometheus.log").open("wb"),
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/-/ready", timeout=1).status_code == 200:
                return proc, url
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise SystemExit("Prometheus did not become ready; see prometheus.log")


def prometheus_ratios(
    url: str, requests: list[RatioRequest]
) -> tuple[float, float, list[float | None]]:
    """Wall seconds and Prometheus' own execution seconds (``stats=all``, summed
    ``execTotalTime``) to answer every (SLO, window) ratio query, and the answers."""
    out: list[float | None] = []
    executed = 0.0
    with httpx.Client(base_url=url, timeout=60) as client:
        start = time.perf_counter()
        for request in requests:
            sli = request.slo.sli
            assert isinstance(sli, EventsSLI)
            for window in request.windows:
                w = f"{window // 1000}s"
                e, t = (q.replace("{{.window}}", w) for q in (sli.error_query, sli.total_query))
                query = f"(({e}) or (0 * ({t})))\n/\n({t})"
                params = {"query": query, "time": END / 1000, "stats": "all"}
                data = client.get("/api/v1/query", params=params).json()["data"]
                result = data["result"]
                out.append(float(result[0]["value"][1]) if result else None)
                executed += data.get("stats", {}).get("timings", {}).get("execTotalTime", 0.0)
        return time.perf_counter() - start, executed, out


def compare(engine: list[float | None], prom: list[float | None]) -> str:
    """How many ratios agree bit for bit, and the largest relative difference."""
    same = sum(1 for a, b in zip(engine, prom, strict=True) if a == b or (a is None and b is None))
    diffs = [
        abs(a - b) / max(abs(b), 1e-300)
        for a, b in zip(engine, prom, strict=True)
        if a is not None and b is not None and a != b
    ]
    return f"{same}/{len(engine)} identical, max relative difference {max(diffs, default=0.0):.3g}"


def backfill(work: Path, kept: dict[int, list[np.ndarray]], days: int) -> Path:
    """The kept series as Prometheus blocks, through OpenMetrics text and promtool."""
    om = work / "data.om"
    start = time.perf_counter()
    write_openmetrics(om, kept, days)
    data = work / "prom-data"
    subprocess.run(  # noqa: S603 - fixed argv, the binary found on PATH
        [
            tool("promtool"),
            "tsdb",
            "create-blocks-from",
            "openmetrics",
            "--max-block-duration=744h",
            "-q",
            str(om),
            str(data),
        ],
        check=True,
    )
    print(
        f"prometheus: reduced set, the first {len(kept) // 2} SLOs ({len(kept)} series, "
        f"{days} days; --prom-slos) backfilled in {time.perf_counter() - start:.1f} s"
    )
    return data


def run_prometheus(
    work: Path,
    store: MetricStore,
    requests: list[RatioRequest],
    kept: dict[int, list[np.ndarray]],
    days: int,
) -> None:
    """Time Prometheus and the engine on the same SLOs and compare their ratios."""
    proc, url = start_prometheus(work, backfill(work, kept, days))
    try:
        prometheus_ratios(url, requests[:1])  # warm up the connection and the block index
        prom_s, prom_exec_s, prom_values = prometheus_ratios(url, requests)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    _, engine_s = time_ticks(store, requests)
    engine_values = [v for r in store.error_ratios(requests, END) for v in r.values()]
    n = len(requests) * len(WINDOWS)
    print(
        f"prometheus: {n} window queries (one HTTP query each) in {prom_s * 1000:.0f} ms, "
        f"{prom_exec_s * 1000:.0f} ms of it executing; engine: {engine_s * 1000:.2f} ms for the "
        f"same {len(requests)} SLOs"
    )
    print(
        f"engine/Prometheus time: {engine_s / prom_s:.5f} (wall), "
        f"{engine_s / max(prom_exec_s, 1e-9):.5f} (Prometheus execution time only)"
    )
    print(f"agreement: {compare(engine_values, prom_values)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slos", type=int, default=1000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--prom-slos", type=int, default=100)
    parser.add_argument("--ingest-samples", type=int, default=2_000_000)
    parser.add_argument("--no-prometheus", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="opsplane-bench-"))
    try:
        rate = bench_ingest(work / "ingest", args.ingest_samples)
        print(f"ingest: {rate:,.0f} samples/s (target >= 200,000)")
        store = MetricStore.open(work / "store")
        start = time.perf_counter()
        keep = 0 if args.no_prometheus else min(args.prom_slos, args.slos)
        kept = load(store, args.slos, args.days, keep)
        print(
            f"load: {store.sample_count:,} samples of {store.series_count} series in "
            f"{time.perf_counter() - start:.1f} s (blocks on disk, in memory: {store.block_count})"
        )
        requests = [RatioRequest(s, WINDOWS) for s in slos(args.slos)]
        first, steady = time_ticks(store, requests)
        print(
            f"tick: {args.slos} SLOs x {len(WINDOWS)} windows over {args.days} days: "
            f"{steady * 1000:.1f} ms (first, with planning: {first * 1000:.1f} ms; target <= 100)"
        )
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak RSS: {rss:.0f} MiB (target <= 1024)")
        if keep:
            run_prometheus(work, store, requests[:keep], kept, args.days)
        store.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
