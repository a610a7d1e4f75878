"""On-call actions shared by the command line and the API: silences, incidents, deployments.

Each function validates first and writes only a valid result, so a rejected request changes
nothing; missing ids raise :class:`~opsplane.errors.NotFoundError` and invalid state changes
:class:`~opsplane.errors.ConflictError`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from opsplane.domain import incidents as inc
from opsplane.domain.remediation import Deployment
from opsplane.domain.routing.matchers import Matcher
from opsplane.domain.routing.silences import Silence, SilenceState, create, expire, listing
from opsplane.errors import NotFoundError, Problem, SpecError
from opsplane.ports import Clock, DeploymentLog, IncidentStore, SilenceStore
from opsplane.types import Millis


def add_silence(
    silences: SilenceStore,
    clock: Clock,
    *,
    matchers: Sequence[Matcher],
    starts_at: Millis | None,
    ends_at: Millis,
    created_by: str,
    comment: str,
) -> Silence:
    """Create and store a silence (starting now unless ``starts_at`` is given).

    Raises:
        SpecError: the silence breaks Alertmanager's rules (one problem per rule).
    """
    now = clock.now_ms()
    silence = create(
        id=str(uuid.uuid4()),
        matchers=matchers,
        starts_at=now if starts_at is None else starts_at,
        ends_at=ends_at,
        created_by=created_by,
        comment=comment,
        now=now,
    )
    silences.save_silence(silence)
    return silence


def expire_silences(silences: SilenceStore, clock: Clock, ids: Sequence[str]) -> list[Silence]:
    """Expire every silence in ``ids``, or none when one is missing or already expired."""
    now = clock.now_ms()
    expired = [expire(_silence(silences, i), now) for i in ids]
    for silence in expired:
        silences.save_silence(silence)
    return expired


def list_silences(
    silences: SilenceStore, clock: Clock, state: SilenceState | None = None
) -> list[Silence]:
    """Silences, optionally of one state, newest first."""
    return listing(silences.silences(), clock.now_ms(), state)


def get_incident(incidents: IncidentStore, incident_id: str) -> inc.Incident:
    """One incident, or :class:`NotFoundError`."""
    found = incidents.incident(incident_id)
    if found is None:
        raise NotFoundError(f"no incident with id {incident_id!r}")
    return found


def acknowledge_incident(
    incidents: IncidentStore, clock: Clock, incident_id: str, by: str
) -> inc.Incident:
    """Acknowledge an open incident."""
    done = inc.acknowledge(get_incident(incidents, incident_id), clock.now_ms(), by)
    incidents.save_incident(done)
    return done


def resolve_incident(
    incidents: IncidentStore, clock: Clock, incident_id: str, reason: str
) -> inc.Incident:
    """Resolve an incident by hand."""
    done = inc.resolve(get_incident(incidents, incident_id), clock.now_ms(), reason)
    incidents.save_incident(done)
    return done


def record_deployment(
    deployments: DeploymentLog,
    clock: Clock,
    *,
    service: str,
    version: str,
    started_at: Millis | None = None,
    finished_at: Millis | None = None,
    author: str = "",
) -> Deployment:
    """Record a deployment that started at ``started_at`` (now by default).

    Raises:
        SpecError: it finished before it started.
    """
    at = clock.now_ms() if started_at is None else started_at
    if finished_at is not None and finished_at < at:
        msg = "the deployment cannot finish before it started"
        raise SpecError([Problem("request", "finishedAt", msg)])
    deployment = Deployment(service, version, at, finished_at, author)
    deployments.record_deployment(deployment)
    return deployment


def _silence(silences: SilenceStore, silence_id: str) -> Silence:
    found = silences.silence(silence_id)
    if found is None:
        raise NotFoundError(f"no silence with id {silence_id!r}")
    return found
