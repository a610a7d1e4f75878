"""Incidents as JSON: one shape for ``opsplane incident --json`` and the API."""

from __future__ import annotations

from typing import Any

from opsplane.domain.incidents import Incident
from opsplane.render.status import rfc3339
from opsplane.types import Millis


def incident_json(incident: Incident) -> dict[str, Any]:
    """An incident with its timeline; instants as RFC 3339, ``null`` when not reached."""
    return {
        "id": incident.id,
        "state": incident.state,
        "severity": incident.severity,
        "title": incident.title,
        "group_key": incident.group_key,
        "opened_at": rfc3339(incident.opened_at),
        "acknowledged_at": optional_time(incident.acknowledged_at),
        "resolved_at": optional_time(incident.resolved_at),
        "timeline": [
            {"at": rfc3339(e.at), "kind": e.kind, "detail": e.detail} for e in incident.timeline
        ],
    }


def optional_time(at: Millis | None) -> str | None:
    """RFC 3339, or ``None``."""
    return None if at is None else rfc3339(at)
