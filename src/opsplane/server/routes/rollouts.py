"""Rollouts of a namespace's services: start, list, get, promote and abort.

A rollout belongs to the namespace of its service (service names are unique across
namespaces), so a rollout of another namespace's service answers 404, like a missing one.
Requests record the operator's intent (:class:`~opsplane.app.rollout_control.RolloutControl`)
and wake this server's coordinator, which takes the steps and moves the traffic at once; the
answer is the recorded state (``waiting_for_controller`` until the coordinator acted). The
shape of a rollout is ``opsplane rollout status --json``'s (docs/cli-json.md).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from opsplane.app.rollout import RolloutRequest, waits_for_controller
from opsplane.app.rollout_control import strategy_from_catalog
from opsplane.domain.rollout import Rollout
from opsplane.errors import NotFoundError
from opsplane.render.rollout import rollout_json
from opsplane.server.runtime import Runtime
from opsplane.server.security import Reader, RuntimeDep, Writer

router = APIRouter(prefix="/api/v1/namespaces/{namespace}/rollouts", tags=["rollouts"])
VERSION_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.+-]{0,127}$"
"""As :data:`opsplane.app.rollout.VERSION`: an image tag's characters, and ``+``."""


class RolloutIn(BaseModel):
    """A new rollout: ``version`` of ``service`` replacing ``stable_version``."""

    model_config = ConfigDict(extra="forbid")

    service: Annotated[str, Field(min_length=1, max_length=253)]
    version: Annotated[str, Field(pattern=VERSION_PATTERN)]
    stable_version: Annotated[str, Field(pattern=VERSION_PATTERN)]
    author: Annotated[str, Field(max_length=256)] = ""


class PromoteIn(BaseModel):
    """``full``: skip every remaining pause and analysis (``promote --full``)."""

    model_config = ConfigDict(extra="forbid")

    full: bool = False


class AbortIn(BaseModel):
    """Why the rollout is aborted (kept as its message and in the rollback event)."""

    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, Field(min_length=1, max_length=1024)] = "aborted through the API"


def _view(rollout: Rollout) -> dict[str, Any]:
    return rollout_json(rollout, waiting_for_controller=waits_for_controller(rollout))


def _services(rt: Runtime, namespace: str) -> set[str]:
    return {s.name for s in rt.services(namespace)}


def own_rollout(rt: Runtime, namespace: str, rollout_id: str) -> Rollout:
    """The rollout, if its service is the namespace's (else 404, as for a missing one).

    The API and the console's rollout page both scope a rollout to a namespace this way.
    """
    found = rt.rollouts.coordinator.store.rollout(rollout_id)
    if found is None or found.service not in _services(rt, namespace):
        raise NotFoundError(f"no rollout {rollout_id!r} in namespace {namespace!r}")
    return found


def namespace_rollouts(
    rt: Runtime, namespace: str, *, active_only: bool = False, service: str | None = None
) -> list[Rollout]:
    """The rollouts of the namespace's services (of one service), newest first."""
    names = _services(rt, namespace)
    if service is not None and service not in names:
        return []
    found = rt.rollouts.coordinator.store.rollouts(active_only=active_only, service=service)
    return [r for r in found if r.service in names]


@router.post("", status_code=201, summary="Start a rollout")
def start_rollout(namespace: str, body: RolloutIn, who: Writer, rt: RuntimeDep) -> dict[str, Any]:
    """Roll a version out by its service's ``delivery:`` policy (409 if one is in progress)."""
    if body.service not in _services(rt, namespace):
        raise NotFoundError(f"no service {body.service!r} in namespace {namespace!r}")
    strategy = strategy_from_catalog(rt.specs, body.service)
    request = RolloutRequest(
        body.service, body.version, body.stable_version, strategy, author=body.author
    )
    rollout = rt.rollouts.control.start(request)
    rt.rollouts.wake.set()
    return _view(rollout)


@router.get("", summary="List rollouts")
def list_rollouts(
    namespace: str,
    who: Reader,
    rt: RuntimeDep,
    service: Annotated[str | None, Query(max_length=253)] = None,
    active: bool = False,
) -> list[dict[str, Any]]:
    """The namespace's rollouts (of one service; in progress only), newest first."""
    found = namespace_rollouts(rt, namespace, active_only=active, service=service)
    return [_view(r) for r in found]


@router.get("/{rollout_id}", summary="Get a rollout")
def get_rollout(namespace: str, rollout_id: str, who: Reader, rt: RuntimeDep) -> dict[str, Any]:
    """Phase, step, weights, analysis and what waits for the coordinator."""
    return _view(own_rollout(rt, namespace, rollout_id))


@router.post("/{rollout_id}/promote", summary="Promote a rollout")
def promote_rollout(
    namespace: str, rollout_id: str, who: Writer, rt: RuntimeDep, body: PromoteIn | None = None
) -> dict[str, Any]:
    """Skip the current step, or every remaining one with ``full`` (409 once it has ended)."""
    own_rollout(rt, namespace, rollout_id)
    rollout = rt.rollouts.control.promote(rollout_id, full=(body or PromoteIn()).full)
    rt.rollouts.wake.set()
    return _view(rollout)


@router.post("/{rollout_id}/abort", summary="Abort a rollout")
def abort_rollout(
    namespace: str, rollout_id: str, who: Writer, rt: RuntimeDep, body: AbortIn | None = None
) -> dict[str, Any]:
    """All traffic back to the stable version (409 once it has ended)."""
    own_rollout(rt, namespace, rollout_id)
    rollout = rt.rollouts.control.abort(rollout_id, (body or AbortIn()).reason)
    rt.rollouts.wake.set()
    return _view(rollout)
