"""Services (applied specs) and their SLOs' status, history and burn-down."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from opsplane.app import catalog
from opsplane.app.burndown import burn_down
from opsplane.domain.duration import DAY
from opsplane.domain.slo import Service
from opsplane.errors import NotFoundError, Problem, SpecError
from opsplane.render.status import alert_entry, rfc3339, slo_entry
from opsplane.server.security import Reader, RuntimeDep, Writer

router = APIRouter(prefix="/api/v1/namespaces/{namespace}", tags=["services"])
MAX_SPEC_BYTES = 1_000_000
SPEC_BODY = {
    "requestBody": {
        "required": True,
        "description": "One spec (opsplane/v1, Sloth or OpenSLO) as YAML or JSON text.",
        "content": {
            "application/yaml": {"schema": {"type": "string"}},
            "application/json": {"schema": {"type": "object"}},
        },
    }
}


def service_json(service: Service) -> dict[str, Any]:
    """A service as the API shows it."""
    return {
        "name": service.name,
        "namespace": service.namespace,
        "owner": service.owner,
        "runbook": service.runbook,
        "labels": dict(service.labels),
        "slos": [
            {"id": slo.id, "name": slo.name, "objective": slo.objective, "runbook": slo.runbook}
            for slo in service.slos
        ],
    }


async def _spec_text(request: Request) -> str:
    raw = await request.body()
    if len(raw) > MAX_SPEC_BYTES:
        raise SpecError([Problem("request", "", "a spec may be at most 1 MB")])
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpecError([Problem("request", "", "the body is not UTF-8")]) from exc


@router.post("/services", status_code=201, summary="Apply a spec", openapi_extra=SPEC_BODY)
async def apply_service(
    namespace: str, who: Writer, rt: RuntimeDep, request: Request
) -> dict[str, Any]:
    """Validate a spec as ``opsplane validate`` does and store it; it is evaluated next tick."""
    service = catalog.apply_spec(rt.specs, rt.clock, namespace, await _spec_text(request))
    rt.catalog_changed()
    return service_json(service)


@router.get("/services", summary="List services")
def list_services(namespace: str, who: Reader, rt: RuntimeDep) -> list[dict[str, Any]]:
    """The namespace's services with their SLOs."""
    return [service_json(s) for s in rt.services(namespace)]


@router.get("/services/{name}", summary="Get a service")
def get_service(namespace: str, name: str, who: Reader, rt: RuntimeDep) -> dict[str, Any]:
    """One service."""
    return service_json(catalog.service(rt.specs, namespace, name))


@router.delete("/services/{name}", status_code=204, summary="Delete a service")
def delete_service(namespace: str, name: str, who: Writer, rt: RuntimeDep) -> Response:
    """Stop evaluating a service and forget its spec (its history stays)."""
    catalog.delete_service(rt.specs, namespace, name)
    rt.catalog_changed()
    return Response(status_code=204)


@router.get(
    "/slos",
    summary="SLO status",
    response_class=Response,
    responses={200: {"content": {"application/json": {"schema": {"type": "object"}}}}},
)
def slo_status(namespace: str, who: Reader, rt: RuntimeDep) -> Response:
    """The latest evaluation of every SLO of the namespace (``slo status --json`` v1)."""
    return Response(rt.status_json(namespace), media_type="application/json")


@router.get("/slos/{slo_id}", summary="One SLO: status, alert history and burn-down")
def slo_detail(
    namespace: str,
    slo_id: str,
    who: Reader,
    rt: RuntimeDep,
    points: Annotated[int, Query(ge=2, le=500)] = 60,
) -> dict[str, Any]:
    """Status, the latest alert transitions and the budget burn-down over the period."""
    found = rt.find_slo(namespace, slo_id)
    status = rt.status_of(namespace, slo_id)
    if found is None or status is None:
        raise NotFoundError(f"no evaluated SLO {slo_id!r} in namespace {namespace!r}")
    service, slo = found
    period = rt.period_of(slo)
    curve = burn_down(rt.store, slo, status, period, points)
    history = rt.state.alert_history(slo_id, limit=100)
    return {
        **slo_entry(status),
        "at": rfc3339(status.at),
        "runbook": slo.runbook or service.runbook,
        "alert_history": [
            {
                "alert": t.name,
                "key": t.key,
                "from": t.from_state,
                "to": t.to_state,
                "at": rfc3339(t.at),
            }
            for t in history
        ],
        "burn_down": [
            {"at": rfc3339(p.at), "budget_remaining": p.budget_remaining, "ideal": p.ideal}
            for p in curve
        ],
        "period_days": period / DAY,
    }


@router.get("/alerts", summary="Alerts that are not inactive")
def alerts(namespace: str, who: Reader, rt: RuntimeDep) -> list[dict[str, Any]]:
    """Pending, firing and recently resolved alerts of the namespace's SLOs."""
    return [
        {"slo": s.slo_id, "service": s.service, **alert_entry(a)}
        for s in rt.latest_statuses(namespace)
        for a in s.alerts
        if a.state != "inactive"
    ]
