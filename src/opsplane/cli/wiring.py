"""Composition: which adapter backs which port for a command-line invocation."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import typer

from opsplane.adapters.metricstore import MetricStore
from opsplane.adapters.metricstore.openmetrics import parse_openmetrics_file
from opsplane.adapters.prometheus import PrometheusReader
from opsplane.adapters.scrape import HttpScraper
from opsplane.adapters.sql import SqlStateStore
from opsplane.app.engine import Engine, Tick
from opsplane.app.scheduler import Scheduler
from opsplane.app.scrape import targets
from opsplane.domain.slo import Service
from opsplane.ports import SLIReader
from opsplane.render.status import rfc3339
from opsplane.types import Millis

SQLITE_PREFIX = "sqlite:///"


def metrics_dir_for(db_url: str) -> Path:
    """The embedded metric store beside a SQLite state DB (``x.db`` -> ``x.metrics/``).

    For a server database (PostgreSQL) the store lives in ``./opsplane.metrics``.
    """
    if db_url.startswith(SQLITE_PREFIX):
        return Path(db_url.removeprefix(SQLITE_PREFIX)).with_suffix(".metrics")
    return Path("opsplane.metrics")


@contextmanager
def open_reader(prometheus_url: str | None, metrics_dir: Path) -> Iterator[SLIReader]:
    """Prometheus when a URL is given, else the embedded store in ``metrics_dir``."""
    if prometheus_url is not None:
        with PrometheusReader(prometheus_url) as reader:
            yield reader
    else:
        with MetricStore.open(metrics_dir) as store:
            yield store


def ingest_file(file: Path, metrics_dir: Path) -> int:
    """Parse ``file`` completely, then store its samples (nothing is stored on a problem)."""
    samples = parse_openmetrics_file(file)
    with MetricStore.open(metrics_dir) as store:
        return store.append(samples)


@contextmanager
def evaluation_loop(
    services: Sequence[Service],
    db_url: str,
    metrics_dir: Path,
    interval: Millis,
    default_period: Millis,
) -> Iterator[Scheduler]:
    """A scheduler over the embedded store and the state DB, printing alert transitions."""
    with (
        MetricStore.open(metrics_dir) as store,
        SqlStateStore.open(db_url) as state,
        HttpScraper() as scraper,
    ):
        engine = Engine(services, store, state=state, default_period=default_period)
        yield Scheduler(
            engine,
            SystemClock(),
            interval,
            targets(services),
            scraper,
            store,
            on_tick=_print_transitions,
        )


class SystemClock:
    """The real clock (the only place opsplane reads wall time)."""

    def now_ms(self) -> Millis:
        """Unix epoch milliseconds."""
        return time.time_ns() // 1_000_000


def _print_transitions(tick: Tick) -> None:
    for t in tick.transitions:
        typer.echo(f"{rfc3339(t.at)} {t.slo_id} {t.name} [{t.key}] {t.from_state} -> {t.to_state}")
