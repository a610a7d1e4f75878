"""OpenTelemetry tracing: off by default, on with an OTLP endpoint.

``opsplane serve --otlp-endpoint http://collector:4318`` (or the standard
``OTEL_EXPORTER_OTLP_ENDPOINT`` variable) instruments FastAPI (a span per request) and
SQLAlchemy (a span per statement) and exports over OTLP/HTTP in batches. The packages come
with the ``otel`` extra (``pip install 'opsplane[otel]'``); asking for tracing without them is
a usage error, not a silent no-op. Request logs carry the trace id (``observability``).
"""

from __future__ import annotations

import importlib
from typing import Any

from fastapi import FastAPI
from sqlalchemy import Engine

from opsplane.errors import UsageError

SERVICE_NAME = "opsplane"


def enable_tracing(app: FastAPI, engine: Engine, exporter: Any | None = None) -> Any:
    """Instrument ``app`` and ``engine``; spans go to ``exporter`` (default: OTLP/HTTP).

    Returns the tracer provider (tests read their spans from an in-memory exporter).

    Raises:
        UsageError: the ``otel`` extra is not installed.
    """
    try:
        sdk = importlib.import_module("opentelemetry.sdk.trace")
        export = importlib.import_module("opentelemetry.sdk.trace.export")
        resources = importlib.import_module("opentelemetry.sdk.resources")
        fastapi_inst = importlib.import_module("opentelemetry.instrumentation.fastapi")
        sqla_inst = importlib.import_module("opentelemetry.instrumentation.sqlalchemy")
    except ImportError as exc:
        msg = "tracing needs the otel extra: pip install 'opsplane[otel]'"
        raise UsageError(msg) from exc
    if exporter is None:
        otlp = importlib.import_module("opentelemetry.exporter.otlp.proto.http.trace_exporter")
        exporter = otlp.OTLPSpanExporter()  # endpoint from OTEL_EXPORTER_OTLP_* variables
    resource = resources.Resource.create({"service.name": SERVICE_NAME})
    provider = sdk.TracerProvider(resource=resource)
    provider.add_span_processor(export.BatchSpanProcessor(exporter))
    fastapi_inst.FastAPIInstrumentor.instrument_app(app, tracer_provider=provider)
    # The instrumentation pins SQLAlchemy < 2.1 but works with 2.1's engine events (the test
    # checks the statement spans), so its version check is skipped.
    sqla_inst.SQLAlchemyInstrumentor().instrument(
        engine=engine, tracer_provider=provider, skip_dep_check=True
    )
    return provider
