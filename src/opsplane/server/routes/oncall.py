"""Silences, incidents and deployments of a namespace.

Silences are scoped to the namespace: every silence created here gets the matcher
``namespace="<ns>"`` (SLO alerts carry their service's namespace as a label), so a tenant can
only ever mute its own alerts, and it only sees silences scoped to it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from opsplane.app import oncall
from opsplane.domain import incidents as inc
from opsplane.domain.remediation import Deployment
from opsplane.domain.routing import Matcher
from opsplane.domain.routing.silences import Silence
from opsplane.errors import NotFoundError, Problem, SpecError
from opsplane.render.incidents import incident_json, optional_time
from opsplane.render.status import rfc3339
from opsplane.server.routes.times import request_millis
from opsplane.server.security import Reader, RuntimeDep, Writer
from opsplane.types import Millis

router = APIRouter(prefix="/api/v1/namespaces/{namespace}", tags=["on-call"])


class MatcherIn(BaseModel):
    """A matcher as Alertmanager's v2 API spells it."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=256)]
    value: Annotated[str, Field(max_length=1024)]
    isRegex: bool = False  # noqa: N815  # Alertmanager's field name
    isEqual: bool = True  # noqa: N815


class SilenceIn(BaseModel):
    """A new silence (Alertmanager's ``postableSilence`` without ``id``)."""

    model_config = ConfigDict(extra="forbid")

    matchers: Annotated[list[MatcherIn], Field(min_length=1, max_length=64)]
    startsAt: datetime | None = None  # noqa: N815
    endsAt: datetime  # noqa: N815
    createdBy: Annotated[str, Field(max_length=256)]  # noqa: N815
    comment: Annotated[str, Field(max_length=4096)]


class DeploymentIn(BaseModel):
    """A deployment of one of the namespace's services."""

    model_config = ConfigDict(extra="forbid")

    service: Annotated[str, Field(min_length=1, max_length=253)]
    version: Annotated[str, Field(min_length=1, max_length=253)]
    startedAt: datetime | None = None  # noqa: N815
    finishedAt: datetime | None = None  # noqa: N815
    author: Annotated[str, Field(max_length=256)] = ""


class ActionIn(BaseModel):
    """Who acknowledges or why an incident is resolved."""

    model_config = ConfigDict(extra="forbid")

    by: Annotated[str, Field(max_length=256)] = "api"
    reason: Annotated[str, Field(max_length=1024)] = "resolved through the API"


def _scope(namespace: str) -> Matcher:
    return Matcher("=", "namespace", namespace)


def _matcher(raw: MatcherIn, index: int) -> Matcher:
    kind = {(False, True): "=", (False, False): "!=", (True, True): "=~", (True, False): "!~"}
    try:
        return Matcher(kind[(raw.isRegex, raw.isEqual)], raw.name, raw.value)  # type: ignore[arg-type]
    except ValueError as exc:
        raise SpecError([Problem("request", f"matchers[{index}]", str(exc))]) from exc


def silence_json(silence: Silence, now: Millis, namespace: str) -> dict[str, Any]:
    """A silence as Alertmanager's v2 API ``gettableSilence`` (without the scope matcher)."""
    return {
        "id": silence.id,
        "matchers": [
            {
                "name": m.name,
                "value": m.value,
                "isRegex": m.type in ("=~", "!~"),
                "isEqual": m.type in ("=", "=~"),
            }
            for m in silence.matchers
            if m != _scope(namespace)
        ],
        "startsAt": rfc3339(silence.starts_at),
        "endsAt": rfc3339(silence.ends_at),
        "updatedAt": rfc3339(silence.updated_at),
        "createdBy": silence.created_by,
        "comment": silence.comment,
        "status": {"state": silence.state(now)},
    }


def _own(silence: Silence | None, namespace: str) -> Silence:
    if silence is None or _scope(namespace) not in silence.matchers:
        raise NotFoundError("no such silence in this namespace")
    return silence


@router.post("/silences", status_code=201, summary="Create a silence")
def create_silence(namespace: str, body: SilenceIn, who: Writer, rt: RuntimeDep) -> dict[str, Any]:
    """A silence of the namespace's alerts (Alertmanager's rules)."""
    matchers = [_scope(namespace), *(_matcher(m, i) for i, m in enumerate(body.matchers))]
    ends_at = request_millis(body.endsAt, "endsAt")
    assert ends_at is not None
    silence = oncall.add_silence(
        rt.silences,
        rt.clock,
        matchers=matchers,
        starts_at=request_millis(body.startsAt, "startsAt"),
        ends_at=ends_at,
        created_by=body.createdBy,
        comment=body.comment,
    )
    return silence_json(silence, rt.clock.now_ms(), namespace)


@router.get("/silences", summary="List silences")
def list_silences(
    namespace: str,
    who: Reader,
    rt: RuntimeDep,
    state: Annotated[str | None, Query(pattern="^(active|pending|expired)$")] = None,
) -> list[dict[str, Any]]:
    """The namespace's silences, newest first."""
    now = rt.clock.now_ms()
    found = oncall.list_silences(rt.silences, rt.clock, state)  # type: ignore[arg-type]
    return [silence_json(s, now, namespace) for s in found if _scope(namespace) in s.matchers]


@router.delete("/silences/{silence_id}", status_code=204, summary="Expire a silence")
def expire_silence(namespace: str, silence_id: str, who: Writer, rt: RuntimeDep) -> Response:
    """End a silence now."""
    _own(rt.silences.silence(silence_id), namespace)
    oncall.expire_silences(rt.silences, rt.clock, [silence_id])
    return Response(status_code=204)


def _incident(rt: Any, namespace: str, incident_id: str) -> inc.Incident:
    found = rt.incidents.incident(incident_id)
    if found is None or found.namespace != namespace:
        raise NotFoundError(f"no incident {incident_id!r} in namespace {namespace!r}")
    return found  # type: ignore[no-any-return]


@router.get("/incidents", summary="List incidents with MTTA and MTTR")
def list_incidents(
    namespace: str,
    who: Reader,
    rt: RuntimeDep,
    open_only: Annotated[bool, Query(alias="open")] = False,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> dict[str, Any]:
    """Newest first; MTTA and MTTR in seconds over those listed."""
    found = rt.incidents.incidents(unresolved_only=open_only, limit=limit, namespace=namespace)
    mtta, mttr = inc.mtta(found), inc.mttr(found)
    return {
        "incidents": [incident_json(i) for i in found],
        "mtta_seconds": None if mtta is None else mtta / 1000,
        "mttr_seconds": None if mttr is None else mttr / 1000,
    }


@router.get("/incidents/{incident_id}", summary="Get an incident")
def get_incident(namespace: str, incident_id: str, who: Reader, rt: RuntimeDep) -> dict[str, Any]:
    """One incident and its timeline."""
    return incident_json(_incident(rt, namespace, incident_id))


@router.post("/incidents/{incident_id}/acknowledge", summary="Acknowledge an incident")
def acknowledge(
    namespace: str, incident_id: str, who: Writer, rt: RuntimeDep, body: ActionIn | None = None
) -> dict[str, Any]:
    """Acknowledge an open incident (409 when it is not open)."""
    _incident(rt, namespace, incident_id)
    by = (body or ActionIn()).by
    return incident_json(oncall.acknowledge_incident(rt.incidents, rt.clock, incident_id, by))


@router.post("/incidents/{incident_id}/resolve", summary="Resolve an incident")
def resolve(
    namespace: str, incident_id: str, who: Writer, rt: RuntimeDep, body: ActionIn | None = None
) -> dict[str, Any]:
    """Resolve an incident by hand (409 when it is resolved)."""
    _incident(rt, namespace, incident_id)
    reason = (body or ActionIn()).reason
    return incident_json(oncall.resolve_incident(rt.incidents, rt.clock, incident_id, reason))


@router.post("/deployments", status_code=201, summary="Record a deployment")
def record_deployment(
    namespace: str, body: DeploymentIn, who: Writer, rt: RuntimeDep
) -> dict[str, Any]:
    """A deployment of one of the namespace's services (annotations and RCA input)."""
    if body.service not in {s.name for s in rt.services(namespace)}:
        raise NotFoundError(f"no service {body.service!r} in namespace {namespace!r}")
    deployment = oncall.record_deployment(
        rt.deployments,
        rt.clock,
        service=body.service,
        version=body.version,
        started_at=request_millis(body.startedAt, "startedAt"),
        finished_at=request_millis(body.finishedAt, "finishedAt"),
        author=body.author,
    )
    return deployment_json(deployment)


def deployment_json(deployment: Deployment) -> dict[str, Any]:
    """A deployment as the API shows it."""
    return {
        "service": deployment.service,
        "version": deployment.version,
        "startedAt": rfc3339(deployment.started_at),
        "finishedAt": optional_time(deployment.finished_at),
        "author": deployment.author,
    }


@router.get("/deployments", summary="List deployments")
def list_deployments(
    namespace: str,
    who: Reader,
    rt: RuntimeDep,
    hours: Annotated[int, Query(ge=1, le=24 * 400)] = 24,
) -> list[dict[str, Any]]:
    """Deployments of the namespace's services in the last ``hours``, newest first."""
    names = {s.name for s in rt.services(namespace)}
    since = rt.clock.now_ms() - hours * 3_600_000
    return [deployment_json(d) for d in rt.deployments.deployments(since) if d.service in names]
