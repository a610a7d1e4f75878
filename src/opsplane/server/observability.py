"""The server's own health: ``/healthz``, ``/readyz``, ``/metrics``, request logs and ids.

- ``/healthz``: the process answers (liveness).
- ``/readyz``: the database answers a query and the evaluator loop is alive (readiness); 503
  with the failing checks otherwise.
- ``/metrics``: Prometheus text from ``prometheus-client``: request counts and latency by route
  template, evaluation duration, lag and leadership, outbox depth by state, and the samples
  ingested into the embedded store (their rate is the ingest rate).
- Every request gets an ``X-Request-Id`` (the caller's, or a new one) that is echoed back and
  bound to the structured log line of the request, with the tenant once authenticated.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator

import structlog
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import text

from opsplane.server.runtime import Runtime

router = APIRouter(tags=["health"])
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
"""Methods kept as label values; any other is ``other`` (clients must not mint series)."""
log = structlog.get_logger("opsplane.http")


class ServerMetrics:
    """The server's metrics, in a registry of their own (one per app)."""

    def __init__(self, runtime: Runtime) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "opsplane_http_requests_total",
            "HTTP requests.",
            ["method", "route", "status"],
            registry=r,
        )
        self.latency = Histogram(
            "opsplane_http_request_duration_seconds",
            "HTTP request latency.",
            ["method", "route"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=r,
        )
        r.register(_StoreCollector(runtime))
        health = runtime.health
        Gauge(
            "opsplane_evaluation_duration_seconds",
            "Duration of the last evaluation tick.",
            registry=r,
        ).set_function(lambda: health.last_tick_duration_s or 0.0)
        Gauge(
            "opsplane_evaluation_lag_seconds",
            "Now minus the instant of the last tick.",
            registry=r,
        ).set_function(lambda: _lag(runtime))
        Gauge(
            "opsplane_evaluation_leader",
            "1 when this replica holds the evaluator lease.",
            registry=r,
        ).set_function(lambda: 1.0 if health.leader else 0.0)
        depth = Gauge(
            "opsplane_outbox_notifications", "Outbox rows by state.", ["state"], registry=r
        )
        for state in ("pending", "sending", "sent", "dead"):
            depth.labels(state).set_function(_outbox_count(runtime, state))


class _StoreCollector(Collector):
    """Counters kept by the runtime: samples ingested (their rate is the ingest rate) and
    evaluation ticks that failed."""

    def __init__(self, runtime: Runtime) -> None:
        self._runtime = runtime

    def collect(self) -> Iterator[Metric]:
        stats = self._runtime.store.stats
        family = CounterMetricFamily(
            "opsplane_ingested_samples",
            "Samples offered to the embedded metric store (pushed events, OpenMetrics, scrapes).",
            labels=["outcome"],
        )
        family.add_metric(["stored"], stats.appended)
        for outcome in ("out_of_order", "duplicate", "out_of_bounds"):
            family.add_metric([outcome], getattr(stats, outcome))
        yield family
        errors = CounterMetricFamily("opsplane_evaluation_errors", "Evaluation ticks that failed.")
        errors.add_metric([], self._runtime.health.tick_errors)
        yield errors


def _lag(runtime: Runtime) -> float:
    last = runtime.health.last_tick_at
    return 0.0 if last is None else max(runtime.clock.now_ms() - last, 0) / 1000


def _outbox_count(runtime: Runtime, state: str) -> Callable[[], float]:
    def count() -> float:
        try:
            return float(runtime.outbox.counts().get(state, 0))  # type: ignore[call-overload]
        except Exception:  # a scrape must not fail on a database hiccup
            return float("nan")

    return count


def install(app: FastAPI, runtime: Runtime) -> ServerMetrics:
    """Add the health routes and the request middleware to ``app``."""
    metrics = ServerMetrics(runtime)
    app.state.metrics = metrics
    app.include_router(router)

    @app.middleware("http")
    async def observe(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
        started = time.perf_counter()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            response = await call_next(request)
        finally:
            structlog.contextvars.clear_contextvars()
        elapsed = time.perf_counter() - started
        route = request.scope.get("route")
        template = getattr(route, "path", "unmatched")
        method = request.method if request.method in _METHODS else "other"
        metrics.requests.labels(method, template, str(response.status_code)).inc()
        metrics.latency.labels(method, template).observe(elapsed)
        response.headers["X-Request-Id"] = request_id
        log.info(
            "request",
            request_id=request_id,
            method=request.method,
            route=template,
            status=response.status_code,
            duration_ms=round(elapsed * 1000, 2),
            tenant=getattr(request.state, "tenant", None),
            trace_id=_trace_id(),
        )
        return response

    return metrics


def _trace_id() -> str | None:
    """The current OpenTelemetry trace id, when tracing is on."""
    try:
        from opentelemetry import trace  # noqa: PLC0415  # optional dependency
    except ImportError:
        return None
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None


@router.get("/healthz", summary="Liveness")
def healthz() -> dict[str, str]:
    """The process answers."""
    return {"status": "ok"}


@router.get("/readyz", summary="Readiness", response_model=None)
def readyz(request: Request) -> JSONResponse | dict[str, object]:
    """The database answers and the evaluator is alive."""
    runtime: Runtime = request.app.state.runtime
    checks = {"database": _database_ok(runtime), "evaluator": runtime.evaluator_alive()}
    body: dict[str, object] = {"status": "ok" if all(checks.values()) else "unavailable"}
    body["checks"] = checks
    if not all(checks.values()):
        return JSONResponse(body, status_code=503)
    return body


def _database_ok(runtime: Runtime) -> bool:
    try:
        with runtime.state.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:
        return False
    return True


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
def metrics(request: Request) -> Response:
    """The server's metrics in the Prometheus text format."""
    found: ServerMetrics = request.app.state.metrics
    return Response(generate_latest(found.registry), media_type=CONTENT_TYPE_LATEST)


def configure_logging(json_logs: bool = True, level: int = logging.INFO) -> None:
    """structlog for everything (stdlib logging too): one JSON object per line."""
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer() if json_logs else structlog.dev.ConsoleRenderer()
    )
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler()
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("uvicorn.access").disabled = True  # our middleware logs requests
