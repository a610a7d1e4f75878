"""Composition: which adapter backs which port for a command-line invocation."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import typer

from opsplane.adapters.metricstore import MetricStore
from opsplane.adapters.metricstore.openmetrics import parse_openmetrics_file
from opsplane.adapters.notify import http_client
from opsplane.adapters.notify.factory import build_receivers
from opsplane.adapters.prometheus import PrometheusReader
from opsplane.adapters.scrape import HttpScraper
from opsplane.adapters.sql import SqlStateStore
from opsplane.adapters.sql.deployments import SqlDeployments
from opsplane.adapters.sql.incidents import SqlIncidents
from opsplane.adapters.sql.outbox import SqlOutbox
from opsplane.adapters.sql.silences import SqlSilences
from opsplane.app.alerting import AlertPipeline, Links
from opsplane.app.engine import Engine, Tick
from opsplane.app.notifier import Notifier
from opsplane.app.scheduler import Scheduler
from opsplane.app.scrape import targets
from opsplane.domain.slo import Service
from opsplane.ports import SLIReader
from opsplane.render.status import rfc3339
from opsplane.server.composition import alerting_stores, close_receivers
from opsplane.spec.alertmanager_config import load_alertmanager_config
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
    on_tick: Callable[[Tick], None] = lambda tick: None,
) -> Iterator[Scheduler]:
    """A scheduler over the embedded store and the state DB, printing alert transitions."""
    with (
        MetricStore.open(metrics_dir) as store,
        SqlStateStore.open(db_url) as state,
        HttpScraper() as scraper,
    ):
        engine = Engine(services, store, state=state, default_period=default_period)

        def ticked(tick: Tick) -> None:
            _print_transitions(tick)
            on_tick(tick)

        yield Scheduler(
            engine, SystemClock(), interval, targets(services), scraper, store, on_tick=ticked
        )


@contextmanager
def notifier(
    services: Sequence[Service], db_url: str, routing: Path, links: Links
) -> Iterator[Notifier]:
    """The alerting pipeline and its delivery loop on the state DB, routed by ``routing``.

    Raises:
        SpecError: the routing file or a receiver's settings are invalid (nothing starts).
    """
    config = load_alertmanager_config(routing)
    clock = SystemClock()
    with SqlOutbox.open(db_url) as outbox, http_client() as client:
        receivers = build_receivers(config, client, clock, file=str(routing))
        pipeline = AlertPipeline(services, config, alerting_stores(outbox), links)
        try:
            yield Notifier(pipeline, outbox, receivers, clock)
        finally:
            close_receivers(receivers.values())


class SystemClock:
    """The real clock (the only place opsplane reads wall time)."""

    def now_ms(self) -> Millis:
        """Unix epoch milliseconds."""
        return time.time_ns() // 1_000_000


def _print_transitions(tick: Tick) -> None:
    for t in tick.transitions:
        typer.echo(f"{rfc3339(t.at)} {t.slo_id} {t.name} [{t.key}] {t.from_state} -> {t.to_state}")


_REPOSITORIES: dict[str, type[SqlSilences] | type[SqlIncidents] | type[SqlDeployments]] = {
    "silences": SqlSilences,
    "incidents": SqlIncidents,
    "deployments": SqlDeployments,
}


def open_repository(kind: str, db_url: str) -> SqlSilences | SqlIncidents | SqlDeployments:
    """The ``silences``, ``incidents`` or ``deployments`` repository of the state DB."""
    return _REPOSITORIES[kind].open(db_url)
