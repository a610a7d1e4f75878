"""A real Prometheus server over backfilled samples, for integration tests.

``running_prometheus(samples, directory)`` writes the samples as timestamped OpenMetrics text,
turns them into TSDB blocks with ``promtool tsdb create-blocks-from openmetrics`` (the path
https://prometheus.io/docs/prometheus/latest/storage/#backfilling-from-openmetrics-format
documents), starts ``prometheus`` on those blocks with an empty scrape configuration, waits until
``/-/ready`` answers and yields the base URL; on exit it stops the server (SIGTERM, then
SIGKILL), bounded in time.

Retention is ten years: Prometheus deletes blocks older than the retention measured back from
the newest block, so old fixed timestamps are kept; samples must not lie in the future, where
Prometheus would still serve them but a later scrape would be out of order.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from opsplane.adapters.prometheus import PrometheusReader
from opsplane.ports import Sample

READY_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
BACKFILL_TIMEOUT_S = 300.0
RETENTION = "10y"
# No scrape jobs: the server only serves what was backfilled. Prometheus reads YAML, and JSON
# is YAML.
EMPTY_CONFIG = {"global": {"evaluation_interval": "1m"}, "scrape_configs": []}


@dataclass(frozen=True, slots=True)
class Binaries:
    """Where Debian's ``prometheus`` package put its two programs."""

    prometheus: str
    promtool: str


def prometheus_binaries() -> Binaries:
    """``prometheus`` and ``promtool``; skip the test when absent, fail when ``CI`` is set."""
    found = {name: shutil.which(name) for name in ("prometheus", "promtool")}
    missing = [name for name, path in found.items() if path is None]
    if missing:
        msg = f"{' and '.join(missing)} not installed (apt-get install prometheus)"
        if os.environ.get("CI"):
            pytest.fail(f"{msg}; CI must run the Prometheus integration tests")
        pytest.skip(msg)
    prometheus, promtool = found["prometheus"], found["promtool"]
    assert prometheus is not None
    assert promtool is not None
    return Binaries(prometheus, promtool)


def openmetrics_text(samples: Iterable[Sample]) -> str:
    """Timestamped OpenMetrics text: one line per sample, oldest first, then ``# EOF``.

    The backfiller appends a block's samples in file order, and a series must be appended in
    time order, so the lines are sorted by timestamp. Timestamps are decimal seconds with the
    milliseconds written exactly.
    """
    lines = [
        f"{_series(s.labels)} {s.value!r} {Decimal(s.timestamp) / 1000}"
        for s in sorted(samples, key=lambda s: s.timestamp)
    ]
    return "\n".join([*lines, "# EOF"]) + "\n"


def _series(labels: Sequence[tuple[str, str]]) -> str:
    """``name{a="1",b="2"}`` from sorted label pairs, ``__name__`` among them."""
    name = dict(labels)["__name__"]
    pairs = ",".join(f'{k}="{_escape(v)}"' for k, v in labels if k != "__name__")
    return f"{name}{{{pairs}}}" if pairs else name


def _escape(value: str) -> str:
    """An OpenMetrics label value: backslash, double quote and newline escaped."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def backfill(promtool: str, samples: Iterable[Sample], directory: Path) -> Path:
    """Write ``samples`` to ``directory/samples.om`` and backfill them into ``directory/tsdb``."""
    source = directory / "samples.om"
    source.write_text(openmetrics_text(samples))
    tsdb = directory / "tsdb"
    tsdb.mkdir(exist_ok=True)
    proc = subprocess.run(
        [promtool, "tsdb", "create-blocks-from", "openmetrics", str(source), str(tsdb)],
        capture_output=True,
        text=True,
        timeout=BACKFILL_TIMEOUT_S,
        check=False,
    )
    assert proc.returncode == 0, f"promtool backfill failed:\n{proc.stdout}\n{proc.stderr}"
    return tsdb


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def prometheus_process(prometheus: str, tsdb: Path, directory: Path) -> Iterator[str]:
    """Run ``prometheus`` on ``tsdb`` until the block exits; yields ``http://127.0.0.1:<port>``."""
    config = directory / "prometheus.yml"
    config.write_text(json.dumps(EMPTY_CONFIG))
    port = free_port()
    log_path = directory / "prometheus.log"
    args = [
        prometheus,
        f"--config.file={config}",
        f"--storage.tsdb.path={tsdb}",
        f"--storage.tsdb.retention.time={RETENTION}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--log.level=warn",
    ]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        try:
            url = f"http://127.0.0.1:{port}"
            wait_until_ready(proc, url, log_path)
            yield url
        finally:
            stop(proc)


def wait_until_ready(proc: subprocess.Popen[bytes], url: str, log_path: Path) -> None:
    """Poll ``/-/ready`` until it answers 200; fail with the server's log otherwise."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    with httpx.Client(timeout=1.0, trust_env=False) as client:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"prometheus exited with {proc.returncode}:\n{_tail(log_path)}")
            try:
                if client.get(f"{url}/-/ready").status_code == 200:
                    return
            except httpx.TransportError:
                pass  # not listening yet
            time.sleep(0.1)
    pytest.fail(f"prometheus not ready within {READY_TIMEOUT_S:g}s:\n{_tail(log_path)}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM, and SIGKILL if the server has not exited within ``STOP_TIMEOUT_S``."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=STOP_TIMEOUT_S)


def _tail(path: Path, lines: int = 30) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


@contextmanager
def local_reader(url: str) -> Iterator[PrometheusReader]:
    """A reader for a local test server that ignores ``HTTP(S)_PROXY`` from the environment."""
    with httpx.Client(trust_env=False) as client:
        yield PrometheusReader(url, client=client)


@contextmanager
def running_prometheus(
    samples: Iterable[Sample], directory: Path, binaries: Binaries | None = None
) -> Iterator[str]:
    """Backfill ``samples`` into a new TSDB under ``directory`` and serve it; yields the URL."""
    found = binaries or prometheus_binaries()
    tsdb = backfill(found.promtool, samples, directory)
    with prometheus_process(found.prometheus, tsdb, directory) as url:
        yield url
