"""The FastAPI application: API routes, health and metrics, problem JSON, the runtime's life.

``create_app(runtime)`` wires a :class:`~opsplane.server.runtime.Runtime` that is already
open; the app's lifespan starts its loops and stops them on shutdown (uvicorn drains requests
first), so ``opsplane serve`` shuts down gracefully on SIGTERM.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from opsplane import __version__
from opsplane.server import observability, problems
from opsplane.server.console import routes as console
from opsplane.server.routes import budgets, costs, ingest, oncall, services
from opsplane.server.routes import rollouts as rollout_routes
from opsplane.server.runtime import Runtime

MAX_BODY_BYTES = 16_000_000
"""Requests larger than this get 413 before their body is read (ingest batches are smaller)."""


def create_app(runtime: Runtime, *, start: bool = True) -> FastAPI:
    """The application around an open runtime; ``start`` runs its loops while it serves."""

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if start:
            runtime.start()
        try:
            yield
        finally:
            if start:
                runtime.stop()

    app = FastAPI(
        title="opsplane",
        version=__version__,
        summary="Day-2 operations control plane: SLOs, alerts, incidents, deployments.",
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    problems.install(app)
    problems.limit_body_size(app, MAX_BODY_BYTES)
    observability.install(app, runtime)
    for router in (services.router, ingest.router, oncall.router, costs.router, console.router):
        app.include_router(router)
    app.include_router(budgets.router)
    app.include_router(rollout_routes.router)
    return app
