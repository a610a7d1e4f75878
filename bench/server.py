"""``opsplane serve`` over HTTP: batched event ingest, and SLO status with 1,000 SLOs.

Targets (the server issue): batched ingest >= 20,000 events/s; ``GET .../slos`` p99 < 50 ms
with 1,000 SLOs, each printed beside a baseline measured in the same run.

The server is the real one: :func:`~opsplane.server.app.create_app` around a
:class:`~opsplane.server.runtime.Runtime` on a temporary SQLite database and metric store,
served by uvicorn on 127.0.0.1 (in a thread of this process), with its JSON request log (to a
file) and the evaluator ticking every 5 s (``opsplane serve`` defaults to 1 m: a tick holds
the GIL, so this is the harsher setting). One namespace holds 100 services of 10 events SLOs
each (1,000 SLOs with page and ticket alerts), applied through ``POST .../services``.

- ingest: ``--threads`` clients (one httpx keep-alive connection each) push batches of
  ``--batch`` events (random SLOs, no timestamp: the server's clock) to ``POST .../events``
  for ``--seconds``; events/s acknowledged (202: validated, fsynced to the WAL). Baseline,
  in the same run: the same clients pushing one event per request, the HTTP stack's
  per-request cost that batching amortises; rounds of each alternate, so both see the same
  machine load. For reference, ``EventIngest.push`` called in-process on the same batches.
- status: once a tick has evaluated all 1,000 SLOs, ``--requests`` sequential keep-alive
  ``GET .../slos`` (the full status document of 1,000 SLOs, about 1 MB), each after a
  ``GET /healthz``, the floor of the HTTP stack (routing, middleware and request log, no
  auth); p50/p99 of each, their ratio, and the evaluator's tick duration meanwhile.

The clients run in this process and share its GIL (and the host's cores) with the server,
so the figures are a lower bound for a server on a host of its own; the host's load average
is printed first, as other work on the host slows both figures down.

Usage: python bench/server.py [--seconds S] [--batch N] [--threads T] [--requests R]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from opsplane.app.auth import create_token
from opsplane.app.events import Event, events_sli
from opsplane.server.app import create_app
from opsplane.server.observability import configure_logging
from opsplane.server.runtime import Runtime, ServerSettings

INGEST_TARGET = 20_000  # events/s
STATUS_TARGET_MS = 50.0  # p99
NAMESPACE = "bench"
SERVICES = 100
SLOS_PER_SERVICE = 10
INTERVAL_MS = 5_000
ROUNDS = 2


def spec(service: str) -> str:
    """An opsplane/v1 service with ``SLOS_PER_SERVICE`` events SLOs read from pushed events."""
    lines = [
        "apiVersion: opsplane/v1",
        "kind: Service",
        f"metadata: {{name: {service}, namespace: {NAMESPACE}}}",
        f"runbook: https://runbooks.example/{service}",
        "slos:",
    ]
    for k in range(SLOS_PER_SERVICE):
        sli = events_sli(NAMESPACE, service, f"slo-{k}")
        lines += [
            f"  - name: slo-{k}",
            "    objective: 99.9",
            "    sli:",
            "      events:",
            f"        error_query: '{sli.error_query}'",
            f"        total_query: '{sli.total_query}'",
            "    alerting:",
            "      page: {severity: P1}",
            "      ticket: {severity: P3}",
        ]
    return "\n".join(lines) + "\n"


def service_names() -> list[str]:
    return [f"svc-{i:03d}" for i in range(SERVICES)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def running_server(work: Path) -> Iterator[tuple[str, Runtime]]:
    """The app on uvicorn in a thread; yields its base URL and runtime."""
    configure_logging()
    log_file = (work / "server.log").open("w")
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(log_file)
    settings = ServerSettings(
        db_url=f"sqlite:///{work / 'state.db'}",
        metrics_dir=work / "metrics",
        interval_ms=INTERVAL_MS,
        external_url="http://bench",
    )
    runtime = Runtime(settings)
    runtime.open()
    port = free_port()
    config = uvicorn.Config(create_app(runtime), host="127.0.0.1", port=port, log_config=None)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise SystemExit("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}", runtime
    finally:
        server.should_exit = True
        thread.join(timeout=60)
        log_file.close()


def apply_specs(client: httpx.Client) -> None:
    for name in service_names():
        response = client.post(
            f"/api/v1/namespaces/{NAMESPACE}/services",
            content=spec(name),
            headers={"Content-Type": "application/yaml"},
        )
        if response.status_code != 201:
            raise SystemExit(f"applying {name}: {response.status_code} {response.text}")


def random_events(rng: random.Random, n: int) -> list[dict[str, Any]]:
    services = service_names()
    out = []
    for _ in range(n):
        total = rng.randint(10, 1000)
        good = total - (rng.randint(0, 2) if rng.random() < 0.1 else 0)
        slo = f"slo-{rng.randrange(SLOS_PER_SERVICE)}"
        out.append({"service": rng.choice(services), "slo": slo, "good": good, "total": total})
    return out


def pump(
    base: str, headers: dict[str, str], bodies: list[bytes], seconds: float, threads: int
) -> Pushed:
    """``threads`` clients posting ``bodies`` round-robin for ``seconds``."""
    acknowledged = [0] * threads
    errors: list[str] = []
    start = threading.Barrier(threads + 1)
    stop_at = [0.0]

    def client(t: int) -> None:
        with httpx.Client(base_url=base, headers=headers, timeout=60) as http:
            http.get("/healthz")  # open the connection before the clock starts
            start.wait()
            i = t
            while time.perf_counter() < stop_at[0]:
                body = bodies[i % len(bodies)]
                response = http.post(f"/api/v1/namespaces/{NAMESPACE}/events", content=body)
                i += threads
                if response.status_code != 202:
                    errors.append(f"{response.status_code} {response.text[:300]}")
                    return
                acknowledged[t] += response.json()["stored"]

    workers = [threading.Thread(target=client, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    began = time.perf_counter()
    stop_at[0] = began + seconds
    start.wait()
    for w in workers:
        w.join()
    return Pushed(sum(acknowledged), time.perf_counter() - began, errors)


@dataclass
class Pushed:
    """Events acknowledged over some seconds, and the answers that were not 202."""

    events: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0

    def __iadd__(self, other: Pushed) -> Pushed:
        self.events += other.events
        self.seconds += other.seconds
        self.errors += other.errors
        return self


def in_process_rate(runtime: Runtime, batches: list[list[dict[str, Any]]], seconds: float) -> float:
    """Events/s through ``EventIngest.push`` directly (validation, counters, WAL fsync)."""
    events = [[Event(e["service"], e["slo"], e["good"], e["total"]) for e in b] for b in batches]
    pushed, i = 0, 0
    began = time.perf_counter()
    while time.perf_counter() - began < seconds:
        pushed += runtime.events.push(
            NAMESPACE, runtime.services(NAMESPACE), events[i % len(events)]
        )
        i += 1
    return pushed / (time.perf_counter() - began)


def bench_ingest(
    base: str, headers: dict[str, str], runtime: Runtime, args: argparse.Namespace
) -> Pushed:
    """Batched and single-event pushes, alternating in rounds so both see the same load."""
    rng = random.Random(7)
    batches = [random_events(rng, args.batch) for _ in range(20)]
    bodies = [json.dumps({"events": b}).encode() for b in batches]
    singles = [json.dumps({"events": [e]}).encode() for b in batches[:2] for e in b]
    headers = {**headers, "Content-Type": "application/json"}
    pump(base, headers, bodies[:1], 1.0, args.threads)  # warm up (the first parses the specs)
    batched, single = Pushed(), Pushed()
    for _ in range(ROUNDS):
        batched += pump(base, headers, bodies, args.seconds / ROUNDS, args.threads)
        single += pump(base, headers, singles, args.seconds / ROUNDS, args.threads)
    direct = in_process_rate(runtime, batches, min(args.seconds / 2, 5.0))
    print(
        f"ingest:   {batched.rate:9,.0f} events/s in batches of {args.batch:,} "
        f"({args.threads} clients, {batched.events:,} events; target >= {INGEST_TARGET:,})"
    )
    print(
        f"baseline: {single.rate:9,.0f} events/s one event per request "
        f"({single.events:,} events); batched/single {batched.rate / single.rate:.0f}x"
    )
    print(
        f"          in-process EventIngest.push, same batches, no HTTP: {direct:,.0f} events/s; "
        f"over HTTP {batched.rate / direct:.0%} of it"
    )
    batched.errors += single.errors
    for error in batched.errors[:5]:
        print(f"ingest error: {error}")
    return batched


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def timed_get(client: httpx.Client, url: str, min_bytes: int = 0) -> float:
    began = time.perf_counter()
    response = client.get(url)
    elapsed = time.perf_counter() - began
    if response.status_code != 200 or len(response.content) < min_bytes:
        raise SystemExit(f"GET {url}: {response.status_code} {response.text[:300]}")
    return elapsed * 1000


def wait_for_statuses(client: httpx.Client, n: int, timeout_s: float) -> bytes:
    """The status document once it lists ``n`` SLOs."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        response = client.get(f"/api/v1/namespaces/{NAMESPACE}/slos")
        if len(response.json()["slos"]) >= n:
            return response.content
        time.sleep(0.2)
    raise SystemExit(f"no tick evaluated all {n} SLOs within {timeout_s:.0f} s")


def bench_status(client: httpx.Client, runtime: Runtime, requests: int) -> float:
    """p50/p99 of ``GET .../slos`` beside ``GET /healthz``; returns the p99 in ms."""
    n_slos = SERVICES * SLOS_PER_SERVICE
    url = f"/api/v1/namespaces/{NAMESPACE}/slos"
    size = len(wait_for_statuses(client, n_slos, 3 * INTERVAL_MS / 1000 + 30))
    for _ in range(10):
        timed_get(client, url)
    status_ms: list[float] = []
    health_ms: list[float] = []
    ticks: list[float] = []
    for _ in range(requests):
        health_ms.append(timed_get(client, "/healthz"))
        status_ms.append(timed_get(client, url, size // 2))
        tick = runtime.health.last_tick_duration_s
        if tick is not None and (not ticks or tick != ticks[-1]):
            ticks.append(tick)
    p50, p99 = statistics.median(status_ms), percentile(status_ms, 0.99)
    h50, h99 = statistics.median(health_ms), percentile(health_ms, 0.99)
    print(
        f"status:   GET /slos ({n_slos:,} SLOs, {size / 1e6:.2f} MB): p50 {p50:6.2f} ms  "
        f"p99 {p99:6.2f} ms  max {max(status_ms):7.2f} ms  ({requests} requests, sequential; "
        f"target p99 < {STATUS_TARGET_MS:g})"
    )
    print(
        f"baseline: GET /healthz:                p50 {h50:6.2f} ms  p99 {h99:6.2f} ms  "
        f"max {max(health_ms):7.2f} ms; /slos over /healthz: p50 {p50 / h50:.1f}x, "
        f"p99 {p99 / h99:.1f}x"
    )
    if ticks:
        print(
            f"          meanwhile the evaluator ticked every {INTERVAL_MS / 1000:g} s, "
            f"{statistics.median(ticks) * 1000:.0f} ms per tick (median of {len(ticks)})"
        )
    return p99


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--requests", type=int, default=500)
    args = parser.parse_args()
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"host: {os.cpu_count()} CPUs, load average {load} (clients share this process)")
    with (
        tempfile.TemporaryDirectory(prefix="opsplane-bench-") as tmp,
        running_server(Path(tmp)) as (base, runtime),
    ):
        token = create_token(runtime.tokens, runtime.clock, NAMESPACE, read_only=False)
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
            apply_specs(client)
            ingest = bench_ingest(base, headers, runtime, args)
            p99 = bench_status(client, runtime, args.requests)
    failed = []
    if ingest.errors:
        failed.append("every push acknowledged")
    if ingest.rate < INGEST_TARGET:
        failed.append(f"ingest >= {INGEST_TARGET:,} events/s")
    if p99 >= STATUS_TARGET_MS:
        failed.append(f"status p99 < {STATUS_TARGET_MS:g} ms")
    print("PASS" if not failed else "FAIL: " + "; ".join(failed))
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
