"""Priced runs of a namespace: record them (one or a batch), list them, and sum them per service.

A run's cost has the shape of ``opsplane cost run --json`` (``run_id``, ``currency``,
``breakdown``, ``total``; money as decimal strings). A 201 or 200 answer means every run of
the request is committed (see :mod:`opsplane.app.costs` for duplicates and conflicts).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Final

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from opsplane.app.costs import Recording, ServiceCost
from opsplane.domain.cost.ledger import CostRecord
from opsplane.domain.cost.model import Breakdown, Line
from opsplane.domain.cost.money import money_text
from opsplane.errors import Problem, SpecError
from opsplane.render.cost import VERSION, breakdown_document, runs_document
from opsplane.render.status import rfc3339
from opsplane.server.routes.times import request_millis
from opsplane.server.security import Reader, RuntimeDep, Writer
from opsplane.spec.cost_run import RunIn
from opsplane.types import Millis

router = APIRouter(prefix="/api/v1/namespaces/{namespace}", tags=["costs"])
MAX_RUNS_BYTES: Final = 16_000_000


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    """``node`` with its ``$ref``s replaced by their definitions, without regex patterns.

    The patterns are pydantic's for decimal strings, with lookaheads that generators of test
    input (schemathesis) cannot all handle; the server checks decimals itself anyway.
    """
    if isinstance(node, dict):
        if "$ref" in node:
            return _inline(defs[node["$ref"].rsplit("/", 1)[1]], defs)
        skip = {"$defs", "pattern", "title", "description"}
        return {k: _inline(v, defs) for k, v in node.items() if k not in skip}
    if isinstance(node, list):
        return [_inline(item, defs) for item in node]
    return node


def run_schema() -> dict[str, Any]:
    """The JSON Schema of one run record as the API takes it (``namespace`` may be left out)."""
    raw = RunIn.model_json_schema()
    schema: dict[str, Any] = _inline(raw, raw.get("$defs", {}))
    schema["required"] = [name for name in schema["required"] if name != "namespace"]
    return schema


_RUN = run_schema()
RUNS_BODY: Final = {
    "requestBody": {
        "required": True,
        "description": 'One run record (docs/cost.md), a list of them, or {"runs": [...]}.',
        "content": {
            "application/json": {
                "schema": {
                    "anyOf": [
                        _RUN,
                        {"type": "array", "items": _RUN},
                        {
                            "type": "object",
                            "properties": {"runs": {"type": "array", "items": _RUN}},
                            "required": ["runs"],
                            "additionalProperties": False,
                        },
                    ]
                }
            }
        },
    }
}


@router.post(
    "/runs",
    status_code=201,
    summary="Record priced runs",
    openapi_extra=RUNS_BODY,
    responses={200: {"description": "Every run was recorded already (a retry)."}},
)
async def record_runs(
    namespace: str, request: Request, response: Response, who: Writer, rt: RuntimeDep
) -> dict[str, Any]:
    """Price and store one run or a batch, all or nothing; 201 once committed.

    A run whose ``run_id`` is recorded already with the same usage is a ``duplicate`` (200 when
    every run is); with other usage, the request is a 409 conflict and nothing is stored.
    """
    raw = await request.body()
    if len(raw) > MAX_RUNS_BYTES:
        raise SpecError([Problem("request", "", "at most 16 MB per request")])
    now = rt.clock.now_ms()
    outcome = await run_in_threadpool(rt.costs.record, namespace, raw, now)
    for result in outcome.runs:  # the pre-call guards count new spend before the next tick
        if result.status == "created":
            cost = result.priced.breakdown
            rt.budget_monitor.record(
                namespace, result.priced.run.service, cost.total, cost.currency
            )
    response.status_code = 201 if outcome.created else 200
    return recording_json(outcome)


@router.get("/runs", summary="List runs with their cost")
def list_runs(
    namespace: str,
    who: Reader,
    rt: RuntimeDep,
    *,
    service: Annotated[str | None, Query(max_length=253)] = None,
    since: Annotated[datetime | None, Query(description="RFC 3339, inclusive.")] = None,
    until: Annotated[datetime | None, Query(description="RFC 3339, exclusive.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """The namespace's runs (of one service), ``since <= time < until``, newest first."""
    found = rt.costs.runs(
        namespace,
        service=service,
        since=request_millis(since, "since"),
        until=request_millis(until, "until"),
        limit=limit,
    )
    return {"version": VERSION, "runs": [run_summary(r) for r in found]}


@router.get("/runs/{run_id:path}", summary="A run with its cost and priced lines")
def get_run(namespace: str, run_id: str, who: Reader, rt: RuntimeDep) -> dict[str, Any]:
    """One run: its cost breakdown, the priced lines behind it, and the run as recorded."""
    return run_detail(rt.costs.run(namespace, run_id))


@router.get("/costs", summary="Cost per service")
def service_costs(
    namespace: str,
    who: Reader,
    rt: RuntimeDep,
    since: Annotated[datetime | None, Query(description="Default: this UTC month's start.")] = None,
    until: Annotated[datetime | None, Query(description="Default: next month's start.")] = None,
) -> dict[str, Any]:
    """Per service: total, breakdown per component and run count, ``since <= time < until``."""
    start, end = month_of(rt.clock.now_ms())
    lo = request_millis(since, "since")
    hi = request_millis(until, "until")
    lo, hi = start if lo is None else lo, end if hi is None else hi
    found = rt.costs.summary(namespace, lo, hi)
    return {
        "version": VERSION,
        "since": rfc3339(lo),
        "until": rfc3339(hi),
        "services": [service_cost_json(s) for s in found],
    }


def month_of(at: Millis) -> tuple[Millis, Millis]:
    """The UTC calendar month that contains ``at``: ``[start, next start)`` in epoch ms."""
    moment = datetime.fromtimestamp(at / 1000, tz=UTC)
    start = moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    if start.month == 12:
        following = start.replace(year=start.year + 1, month=1)
    else:
        following = start.replace(month=start.month + 1)
    return round(start.timestamp() * 1000), round(following.timestamp() * 1000)


def cost_json(run_id: str, breakdown: Breakdown) -> dict[str, Any]:
    """A run's cost as ``opsplane cost run --json`` prints one run."""
    return {
        "run_id": run_id,
        "currency": breakdown.currency,
        "breakdown": breakdown_document(breakdown),
        "total": money_text(breakdown.total),
    }


def line_json(line: Line) -> dict[str, str]:
    """A priced line: every number as decimal text."""
    return {
        "component": line.component,
        "sku": line.sku,
        "quantity": money_text(line.quantity),
        "unit": line.unit,
        "unit_price": money_text(line.unit_price),
        "amount": money_text(line.amount),
    }


def run_summary(record: CostRecord) -> dict[str, Any]:
    """A run in a listing: who, when, and its cost."""
    return {
        **cost_json(record.run_id, record.breakdown),
        "service": record.service,
        "namespace": record.namespace,
        "at": rfc3339(record.at),
        "received_at": rfc3339(record.received_at),
    }


def run_detail(record: CostRecord) -> dict[str, Any]:
    """A run's metadata: its summary, priced lines, the run as recorded and the price source."""
    return {
        "version": VERSION,
        **run_summary(record),
        "lines": [line_json(line) for line in record.breakdown.lines],
        "run": record.metadata.get("run", {}),
        "price_source": record.metadata.get("price_source", ""),
    }


def recording_json(outcome: Recording) -> dict[str, Any]:
    """The ``cost run --json`` document of a request's runs, with each run's ``status``."""
    priced = [r.priced for r in outcome.runs]
    doc = runs_document(priced, outcome.currency, single=outcome.single, source=outcome.source)
    for entry, result in zip(doc["runs"], outcome.runs, strict=True):
        entry["status"] = result.status
    doc["created"] = outcome.created
    doc["duplicates"] = len(outcome.runs) - outcome.created
    return doc


def service_cost_json(cost: ServiceCost) -> dict[str, Any]:
    """One service's cost over the range."""
    return {
        "service": cost.service,
        "currency": cost.breakdown.currency,
        "breakdown": breakdown_document(cost.breakdown),
        "total": money_text(cost.breakdown.total),
        "runs": cost.runs,
    }
