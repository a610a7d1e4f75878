"""Composition for the server commands: settings, runtime, uvicorn."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import uvicorn

from opsplane.adapters.sql.server import SqlTokens
from opsplane.app.auth import create_token as new_token
from opsplane.cli.wiring import SystemClock, metrics_dir_for
from opsplane.server.app import create_app
from opsplane.server.delivery import DeliverySettings
from opsplane.server.observability import configure_logging
from opsplane.server.runtime import Runtime, ServerSettings
from opsplane.server.tracing import enable_tracing
from opsplane.types import Millis


def serve(
    *,
    db_url: str,
    config_dir: Path | None,
    alerting: Path | None,
    host: str,
    port: int,
    interval_ms: Millis,
    external_url: str,
    metrics_dir: Path | None,
    otlp_endpoint: str = "",
    prices: str | None = None,
    rates: Path | None = None,
    delivery: Mapping[str, Any] | None = None,
) -> None:
    """Open the runtime (migrations apply here), then serve until a signal.

    ``delivery`` holds the rollout options (:class:`DeliverySettings` fields).
    """
    settings = ServerSettings(
        db_url=db_url,
        metrics_dir=metrics_dir or metrics_dir_for(db_url),
        config_dir=config_dir,
        alerting=alerting,
        interval_ms=interval_ms,
        external_url=external_url,
        prices=prices,
        rates=rates,
        delivery=DeliverySettings(**(delivery or {})),
    )
    configure_logging()
    runtime = Runtime(settings)
    runtime.open()
    app = create_app(runtime)
    if otlp_endpoint:
        os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"] = otlp_endpoint
    if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        enable_tracing(app, runtime.state.engine)
    uvicorn.run(app, host=host, port=port, log_config=None, timeout_graceful_shutdown=20)


def create_token(db_url: str, namespace: str, read_only: bool, description: str) -> str:
    """A new token, stored hashed in the state database."""
    with SqlTokens.open(db_url) as tokens:
        return new_token(
            tokens, SystemClock(), namespace, read_only=read_only, description=description
        )
