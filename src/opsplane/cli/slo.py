"""``opsplane slo status`` and ``opsplane ingest openmetrics``."""

from __future__ import annotations

import contextlib
import importlib
import json
import signal
import sys
import threading
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from opsplane.app.alerting import Links
from opsplane.app.engine import Engine
from opsplane.app.generate import load_services
from opsplane.cli.generate import SeverityOption, parse_period, parse_severities
from opsplane.domain.duration import format_duration
from opsplane.domain.evaluation import SLOStatus
from opsplane.errors import UsageError
from opsplane.render.status import number, status_document
from opsplane.types import Millis

slo_app = typer.Typer(help="Evaluate SLOs.", no_args_is_help=True)
ingest_app = typer.Typer(help="Backfill metrics into the embedded store.", no_args_is_help=True)

Paths = Annotated[list[Path], typer.Argument(help="Spec files or directories.", show_default=False)]
DEFAULT_DB = "sqlite:///./opsplane.db"
DbOption = Annotated[str, typer.Option("--db", help="State database URL.")]
MetricsOption = Annotated[
    Path | None,
    typer.Option("--metrics-dir", help="Embedded metric store (default: beside a SQLite --db)."),
]


def _wiring() -> ModuleType:
    """The adapters, imported when a command needs them.

    numpy, SQLAlchemy and httpx take ~0.4 s to import; ``validate`` and ``generate`` need none
    of them, so the CLI starts fast for those.
    """
    return importlib.import_module("opsplane.cli.wiring")


def parse_at(text: str | None) -> Millis | None:
    """An RFC 3339 instant with a time zone, as epoch milliseconds."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise UsageError(
            f"--at: {text!r} is not an RFC 3339 time such as 2026-01-01T00:00:00Z"
        ) from exc
    if moment.tzinfo is None:
        raise UsageError(f"--at: {text!r} has no time zone; add Z or +00:00")
    return round(moment.timestamp() * 1000)


@slo_app.command("status")
def status(
    paths: Paths,
    db: DbOption = DEFAULT_DB,
    prometheus: Annotated[
        str | None, typer.Option("--prometheus", help="Read SLIs from this Prometheus instead.")
    ] = None,
    at: Annotated[str | None, typer.Option("--at", help="RFC 3339 instant (default: now).")] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Versioned JSON (docs/cli-json.md).")
    ] = False,
    period: Annotated[str, typer.Option("--period", help="Period of SLOs that set none.")] = "30d",
    metrics_dir: MetricsOption = None,
    severity: SeverityOption = None,
) -> None:
    """Error ratios, burn rates, budget and alert states of every SLO."""
    instant = parse_at(at)
    services = load_services(paths, severities=parse_severities(severity))
    with _wiring().open_reader(prometheus, metrics_dir or _wiring().metrics_dir_for(db)) as reader:
        engine = Engine(services, reader, default_period=parse_period(period))
        when = instant if instant is not None else _wiring().SystemClock().now_ms()
        tick = engine.replay(when)
    if as_json:
        sys.stdout.write(json.dumps(status_document(tick.statuses, tick.at), indent=2) + "\n")
    else:
        console = Console()
        if not console.is_terminal:
            console.width = 120  # pipes and logs: wide enough for one row per SLO
        console.print(status_table(tick.statuses))


def status_table(statuses: Sequence[SLOStatus]) -> Table:
    """A Rich table: one row per SLO, burn rates per window, alerts that are not inactive."""
    table = Table(title="SLO status")
    table.add_column("SLO", no_wrap=True)
    table.add_column("objective", no_wrap=True)
    table.add_column("budget left", justify="right", no_wrap=True)
    table.add_column("burn rate", no_wrap=True)
    table.add_column("alerts", no_wrap=True)
    for s in statuses:
        burns = "\n".join(
            f"{format_duration(w.window):>4} {_fmt(w.burn_rate, 'x')}" for w in s.windows
        )
        alerts = "\n".join(f"{a.key}: {a.state}" for a in s.alerts if a.state != "inactive")
        table.add_row(
            s.slo_id,
            f"{s.objective:g}% / {s.period}",
            _fmt(s.budget_remaining, "%"),
            burns,
            alerts or "-",
        )
    return table


def _fmt(value: float | None, unit: str) -> str:
    shown = number(value)
    if shown is None:
        return "-"
    return f"{shown:.1%}" if unit == "%" else f"{shown:.2f}x"


@ingest_app.command("openmetrics")
def ingest_openmetrics(
    file: Annotated[Path, typer.Argument(help="Timestamped OpenMetrics text.")],
    db: DbOption = DEFAULT_DB,
    metrics_dir: MetricsOption = None,
) -> None:
    """Backfill samples into the embedded store; all or nothing per file."""
    stored = _wiring().ingest_file(file, metrics_dir or _wiring().metrics_dir_for(db))
    typer.echo(f"stored {stored} samples from {file}")


@slo_app.command("run")
def run(
    paths: Paths,
    db: DbOption = DEFAULT_DB,
    interval: Annotated[str, typer.Option("--interval", help="Evaluation interval.")] = "1m",
    period: Annotated[str, typer.Option("--period", help="Period of SLOs that set none.")] = "30d",
    metrics_dir: MetricsOption = None,
    severity: SeverityOption = None,
    alerting: Annotated[
        Path | None,
        typer.Option(
            "--alerting",
            help="Alertmanager configuration: route, notify and open incidents.",
            show_default=False,
        ),
    ] = None,
    external_url: Annotated[
        str, typer.Option("--external-url", help="This opsplane's URL, put in notifications.")
    ] = "",
    dashboard_url: Annotated[
        str,
        typer.Option(
            "--dashboard-url",
            help="Dashboard link template with {service}, {slo} and {slo_id}.",
        ),
    ] = "",
) -> None:
    """Scrape, evaluate every SLO each interval and (with --alerting) notify, until Ctrl-C."""
    every = parse_period(interval)
    services = load_services(paths, severities=parse_severities(severity))
    wiring = _wiring()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with contextlib.ExitStack() as stack:
        on_tick = None
        if alerting is not None:
            links = Links(external_url, dashboard_url)
            notifier = stack.enter_context(wiring.notifier(services, db, alerting, links))
            worker = threading.Thread(target=notifier.run, args=(stop,), name="notifier")
            worker.start()
            stack.callback(worker.join)
            stack.callback(stop.set)
            on_tick = notifier.on_tick
        scheduler = stack.enter_context(
            wiring.evaluation_loop(
                services,
                db,
                metrics_dir or wiring.metrics_dir_for(db),
                every,
                parse_period(period),
                **({"on_tick": on_tick} if on_tick else {}),
            )
        )
        slos = sum(len(s.slos) for s in services)
        routed = f", routing alerts with {alerting}" if alerting else ""
        typer.echo(f"evaluating {slos} SLOs every {interval}{routed}; Ctrl-C stops", err=True)
        try:
            scheduler.run(stop)
        except KeyboardInterrupt:
            stop.set()
