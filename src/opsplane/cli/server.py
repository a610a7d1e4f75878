"""``opsplane serve`` and ``opsplane token create``."""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType
from typing import Annotated

import typer

from opsplane.cli.cost import RatesOpt
from opsplane.cli.generate import parse_period
from opsplane.cli.slo import DEFAULT_DB, DbOption, MetricsOption

token_app = typer.Typer(help="API tokens.", no_args_is_help=True)


def _server() -> ModuleType:
    """The server's wiring, imported only by the commands that run it (FastAPI is heavy)."""
    return importlib.import_module("opsplane.cli.serving")


def serve(
    db: DbOption = DEFAULT_DB,
    config: Annotated[
        Path | None, typer.Option("--config", help="Directory of specs applied at start.")
    ] = None,
    alerting: Annotated[
        Path | None, typer.Option("--alerting", help="Alertmanager configuration for alerts.")
    ] = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 8080,
    interval: Annotated[str, typer.Option("--interval", help="Evaluation interval.")] = "1m",
    external_url: Annotated[
        str, typer.Option("--external-url", help="The URL users reach this server at.")
    ] = "",
    metrics_dir: MetricsOption = None,
    otlp_endpoint: Annotated[
        str,
        typer.Option(
            "--otlp-endpoint",
            help="Export traces over OTLP/HTTP (default: off, or OTEL_EXPORTER_OTLP_ENDPOINT).",
        ),
    ] = "",
    router: Annotated[
        str,
        typer.Option(
            "--router",
            help="Rollout traffic: state (record weights only), webhook:URL or nginx:DIR.",
        ),
    ] = "state",
    router_token_env: Annotated[
        str, typer.Option("--router-token-env", help="Variable with the webhook's bearer token.")
    ] = "",
    nginx_upstreams: Annotated[
        Path | None,
        typer.Option("--nginx-upstreams", help="YAML {service: {backend: host:port}}."),
    ] = None,
    nginx_reload: Annotated[
        str, typer.Option("--nginx-reload", help="nginx reload command (nginx -s reload).")
    ] = "",
    analysis_prometheus: Annotated[
        str,
        typer.Option("--analysis-prometheus", help="Prometheus for `provider: prometheus`."),
    ] = "",
    prices: Annotated[
        str | None,
        typer.Option(
            "--prices",
            help="LiteLLM price map for recorded runs: a file, or 'litellm' for the installed "
            "package's copy (default: the copy packaged with opsplane).",
            show_default=False,
        ),
    ] = None,
    rates: RatesOpt = None,
) -> None:
    """Run the API, the console, the evaluator and the rollout coordinator until SIGTERM."""
    _server().serve(
        db_url=db,
        config_dir=config,
        alerting=alerting,
        host=host,
        port=port,
        interval_ms=parse_period(interval),
        external_url=external_url or f"http://{host}:{port}",
        metrics_dir=metrics_dir,
        otlp_endpoint=otlp_endpoint,
        prices=prices,
        rates=rates,
        delivery={
            "router": router,
            "router_token_env": router_token_env,
            "nginx_upstreams": nginx_upstreams,
            "nginx_reload": nginx_reload,
            "prometheus": analysis_prometheus,
        },
    )


@token_app.command("create")
def token_create(
    namespace: Annotated[str, typer.Option("--namespace", help="The token's namespace.")],
    read_only: Annotated[bool, typer.Option("--read-only", help="May only read.")] = False,
    description: Annotated[str, typer.Option("--description", help="What it is for.")] = "",
    db: DbOption = DEFAULT_DB,
) -> None:
    """Create an API token and print it (it is shown only once)."""
    typer.echo(_server().create_token(db, namespace, read_only, description))


def demo(
    port: Annotated[int, typer.Option("--port", help="Port for the console and API.")] = 8080,
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
) -> None:
    """A server with three simulated services; one burns and pages. Ctrl-C stops it."""
    importlib.import_module("opsplane.cli.demo").demo(port=port, host=host)
