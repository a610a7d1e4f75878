"""Incidents: a firing page opens one, or joins the open one for the same alert group.

Each incident keeps a timeline (fired, notified, acknowledged, deployment correlated,
resolved) and yields MTTA (time to acknowledge) and MTTR (time to resolve), measured from the
moment the incident opened. Functions return new values; nothing here mutates or does I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from statistics import fmean
from typing import Literal, TypeAlias

from opsplane.errors import ConflictError
from opsplane.types import Millis

EventKind: TypeAlias = Literal[
    "fired", "joined", "notified", "acknowledged", "deployment_correlated", "resolved"
]
PAGING = ("P0", "P1")


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    """One entry of an incident's timeline."""

    at: Millis
    kind: EventKind
    detail: str


@dataclass(frozen=True, slots=True)
class Incident:
    """An incident for one alert group (Alertmanager's group key), in its alerts' namespace."""

    id: str
    group_key: str
    title: str
    severity: str
    opened_at: Millis
    timeline: tuple[TimelineEvent, ...]
    acknowledged_at: Millis | None = None
    resolved_at: Millis | None = None
    namespace: str = ""

    @property
    def state(self) -> Literal["open", "acknowledged", "resolved"]:
        """Where the incident is in its life."""
        if self.resolved_at is not None:
            return "resolved"
        return "acknowledged" if self.acknowledged_at is not None else "open"


def opens_incident(severity: str) -> bool:
    """Pages open incidents; tickets do not (P0 and P1 page by default)."""
    return severity in PAGING


def open_or_join(
    incidents: Sequence[Incident],
    *,
    group_key: str,
    alert: str,
    severity: str,
    at: Millis,
    new_id: str,
    namespace: str = "",
) -> tuple[Incident, bool]:
    """The incident a firing page belongs to, and whether it was just opened."""
    for incident in incidents:
        if incident.group_key == group_key and incident.state != "resolved":
            joined = _event(incident, at, "joined", f"{alert} fired")
            return replace(joined, severity=min(joined.severity, severity)), False
    fired = (TimelineEvent(at, "fired", f"{alert} fired"),)
    opened = Incident(new_id, group_key, alert, severity, at, fired, namespace=namespace)
    return opened, True


def record(incident: Incident, at: Millis, kind: EventKind, detail: str) -> Incident:
    """Add a timeline event (notified, deployment correlated, ...)."""
    return _event(incident, at, kind, detail)


def acknowledge(incident: Incident, at: Millis, by: str) -> Incident:
    """Acknowledge an open incident; acknowledging twice or after resolution is a conflict."""
    if incident.state != "open":
        raise ConflictError(f"incident {incident.id} is {incident.state}, not open")
    return replace(
        _event(incident, at, "acknowledged", f"acknowledged by {by}"), acknowledged_at=at
    )


def resolve(incident: Incident, at: Millis, reason: str) -> Incident:
    """Resolve an incident (all its alerts resolved, or by hand)."""
    if incident.state == "resolved":
        raise ConflictError(f"incident {incident.id} is already resolved")
    return replace(_event(incident, at, "resolved", reason), resolved_at=at)


def mtta(incidents: Sequence[Incident]) -> float | None:
    """Mean time to acknowledge in milliseconds, over acknowledged incidents."""
    spans = [i.acknowledged_at - i.opened_at for i in incidents if i.acknowledged_at is not None]
    return fmean(spans) if spans else None


def mttr(incidents: Sequence[Incident]) -> float | None:
    """Mean time to resolve in milliseconds, over resolved incidents."""
    spans = [i.resolved_at - i.opened_at for i in incidents if i.resolved_at is not None]
    return fmean(spans) if spans else None


def _event(incident: Incident, at: Millis, kind: EventKind, detail: str) -> Incident:
    return replace(incident, timeline=(*incident.timeline, TimelineEvent(at, kind, detail)))
