"""Incidents and their timelines in the state database (:class:`~opsplane.ports.IncidentStore`).

An incident row holds its current state; its timeline is ``incident_event``, append-only:
saving an incident inserts only the events after those already stored, in the same
transaction as the row, so a timeline is never half-written.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, func, insert, select

from opsplane.adapters.sql.codec import Row
from opsplane.adapters.sql.engine import read_transaction, write_transaction
from opsplane.adapters.sql.repository import SqlRepository, upsert
from opsplane.adapters.sql.schema import incident as incident_table
from opsplane.adapters.sql.schema import incident_event
from opsplane.domain.incidents import EventKind, Incident, TimelineEvent
from opsplane.errors import ConflictError

_KINDS: tuple[EventKind, ...] = (
    "fired",
    "joined",
    "notified",
    "acknowledged",
    "deployment_correlated",
    "resolved",
)


class SqlIncidents(SqlRepository):
    """Incidents in a SQL database."""

    def save_incident(self, incident: Incident) -> None:
        """Insert or update an incident and append its new timeline events.

        Raises:
            ConflictError: the stored timeline is longer than the incident's: it was changed
                by someone else since it was read (save the newer copy instead).
        """
        row = {
            "id": incident.id,
            "group_key": incident.group_key,
            "title": incident.title,
            "severity": incident.severity,
            "opened_at": incident.opened_at,
            "acknowledged_at": incident.acknowledged_at,
            "resolved_at": incident.resolved_at,
            "namespace": incident.namespace,
        }
        with write_transaction(self._engine) as connection:
            stored = _event_count(connection, incident.id)
            if stored > len(incident.timeline):
                raise ConflictError(f"incident {incident.id} changed since it was read")
            upsert(connection, incident_table, [row])
            new = [
                {"incident_id": incident.id, "position": i, **_event_row(e)}
                for i, e in enumerate(incident.timeline)
                if i >= stored
            ]
            if new:
                connection.execute(insert(incident_event), new)

    def incident(self, incident_id: str) -> Incident | None:
        """One incident with its timeline, or ``None``."""
        found = self._load(select(incident_table).where(incident_table.c.id == incident_id))
        return found[0] if found else None

    def incidents(
        self, *, unresolved_only: bool = False, limit: int = 100, namespace: str | None = None
    ) -> list[Incident]:
        """Incidents (of one namespace), newest opened first."""
        t = incident_table
        query = select(t).order_by(t.c.opened_at.desc(), t.c.id.desc()).limit(max(limit, 0))
        if unresolved_only:
            query = query.where(t.c.resolved_at.is_(None))
        if namespace is not None:
            query = query.where(t.c.namespace == namespace)
        return self._load(query)

    def _load(self, query: Any) -> list[Incident]:
        with read_transaction(self._engine) as connection:
            rows = connection.execute(query).mappings().all()
            ids = [row["id"] for row in rows]
            events = connection.execute(
                select(incident_event)
                .where(incident_event.c.incident_id.in_(ids))
                .order_by(incident_event.c.incident_id, incident_event.c.position)
            )
            timelines: dict[str, list[TimelineEvent]] = {}
            for e in events.mappings():
                timelines.setdefault(e["incident_id"], []).append(_event(e))
        return [_incident(row, timelines.get(row["id"], [])) for row in rows]


def _event_count(connection: Connection, incident_id: str) -> int:
    query = select(func.count()).where(incident_event.c.incident_id == incident_id)
    return int(connection.execute(query).scalar_one())


def _event_row(event: TimelineEvent) -> dict[str, object]:
    return {"at": event.at, "kind": event.kind, "detail": event.detail}


def _event(row: Row) -> TimelineEvent:
    kind = next(k for k in _KINDS if k == row["kind"])
    return TimelineEvent(row["at"], kind, row["detail"])


def _incident(row: Row, timeline: Sequence[TimelineEvent]) -> Incident:
    return Incident(
        id=row["id"],
        group_key=row["group_key"],
        title=row["title"],
        severity=row["severity"],
        opened_at=row["opened_at"],
        timeline=tuple(timeline),
        acknowledged_at=row["acknowledged_at"],
        resolved_at=row["resolved_at"],
        namespace=row["namespace"],
    )
