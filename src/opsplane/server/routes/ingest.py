"""Metric ingest: batched good/total events as JSON, and OpenMetrics text."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from opsplane.adapters.metricstore.openmetrics import parse_openmetrics
from opsplane.app.events import Event
from opsplane.app.ingest import push
from opsplane.errors import Problem, SpecError
from opsplane.ports import Sample
from opsplane.server.security import RuntimeDep, Writer

router = APIRouter(prefix="/api/v1/namespaces/{namespace}", tags=["ingest"])
MAX_EVENTS = 10_000
MAX_OPENMETRICS_BYTES = 10_000_000


class EventIn(BaseModel):
    """``good`` of ``total`` events of one SLO."""

    model_config = ConfigDict(extra="forbid")

    service: Annotated[str, Field(min_length=1, max_length=253)]
    slo: Annotated[str, Field(min_length=1, max_length=253)]
    good: Annotated[float, Field(ge=0, allow_inf_nan=False)]
    total: Annotated[float, Field(ge=0, allow_inf_nan=False)]
    timestamp: datetime | None = Field(
        default=None, description="RFC 3339 with a zone; default: when received."
    )


class EventBatch(BaseModel):
    """A batch of events; all are stored or none."""

    model_config = ConfigDict(extra="forbid")

    events: Annotated[list[EventIn], Field(min_length=1, max_length=MAX_EVENTS)]


class Stored(BaseModel):
    """How many events or samples were stored (durably, once this is returned)."""

    stored: int


@router.post("/events", status_code=202, summary="Push good/total events", response_model=Stored)
def push_events(namespace: str, batch: EventBatch, who: Writer, rt: RuntimeDep) -> Stored:
    """Store a batch of events; the SLO's events SLI reads them (see docs/server.md)."""
    events = [_event(e, i) for i, e in enumerate(batch.events)]
    stored = rt.events.push(namespace, rt.services(namespace), events)
    return Stored(stored=stored)


def _event(raw: EventIn, index: int) -> Event:
    at = None
    if raw.timestamp is not None:
        if raw.timestamp.tzinfo is None:
            msg = "needs a time zone (add Z or +00:00)"
            raise SpecError([Problem(f"events[{index}]", "timestamp", msg)])
        at = round(raw.timestamp.timestamp() * 1000)
    return Event(raw.service, raw.slo, raw.good, raw.total, at)


@router.post(
    "/metrics",
    status_code=202,
    summary="Push OpenMetrics samples",
    response_model=Stored,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/openmetrics-text": {"schema": {"type": "string"}}},
        }
    },
)
async def push_openmetrics(namespace: str, request: Request, who: Writer, rt: RuntimeDep) -> Stored:
    """Timestamped OpenMetrics text; every sample gets the label ``namespace``."""
    raw = await request.body()
    if len(raw) > MAX_OPENMETRICS_BYTES:
        raise SpecError([Problem("request", "", "at most 10 MB per request")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError([Problem("request", "", "the body is not UTF-8")]) from exc
    samples = [_scoped(s, namespace) for s in parse_openmetrics(text, "request")]
    return Stored(stored=push(rt.store, samples, "request"))


def _scoped(sample: Sample, namespace: str) -> Sample:
    labels = {**dict(sample.labels), "namespace": namespace}
    return Sample(tuple(sorted(labels.items())), sample.timestamp, sample.value)
