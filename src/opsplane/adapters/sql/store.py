"""The durable :class:`opsplane.ports.StateStore` on SQLite or PostgreSQL.

One evaluation tick is one transaction: the statuses and their alert states are upserted,
alert states that a status no longer lists are removed, transitions are appended and the tick
itself is logged. When :meth:`SqlStateStore.save_evaluation` returns, the tick is committed
and survives ``kill -9`` (see :mod:`.engine` for the durability settings).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, delete, insert, select

from opsplane.adapters.sql import codec
from opsplane.adapters.sql.engine import (
    read_transaction,
    write_transaction,
)
from opsplane.adapters.sql.repository import SqlRepository, upsert
from opsplane.adapters.sql.schema import alert_state, alert_transition, evaluation_tick, slo_status
from opsplane.domain.evaluation import AlertStatus, AlertTransition, SLOStatus
from opsplane.errors import ConflictError
from opsplane.types import Millis


@dataclass(frozen=True, slots=True)
class EvaluationTick:
    """One saved tick, for evaluation lag (``now - at``) and self-observability.

    Attributes:
        at: The evaluation instant (the latest ``at`` among the tick's statuses).
        slo_count: How many SLO statuses the tick saved.
        duration_ms: How long the evaluation took, when the caller said.
    """

    at: Millis
    slo_count: int
    duration_ms: float | None


class SqlStateStore(SqlRepository):
    """Evaluation state in a SQL database; open with :meth:`open`, finish with :meth:`close`."""

    def load_alert_states(self) -> Mapping[tuple[str, str], AlertStatus]:
        """The last known state of every alert, keyed by ``(slo id, alert key)``."""
        query = select(alert_state).order_by(alert_state.c.slo_id, alert_state.c.position)
        with read_transaction(self._engine) as connection:
            rows = connection.execute(query).mappings().all()
        return {(row["slo_id"], row["key"]): codec.alert_from_row(row) for row in rows}

    def latest_statuses(self) -> list[SLOStatus]:
        """The latest saved status of every SLO, with its alerts, ordered by SLO id."""
        alerts_query = select(alert_state).order_by(alert_state.c.slo_id, alert_state.c.position)
        with read_transaction(self._engine) as connection:
            status_rows = connection.execute(select(slo_status).order_by(slo_status.c.slo_id))
            statuses = status_rows.mappings().all()
            alert_rows = connection.execute(alerts_query).mappings().all()
        alerts: dict[str, list[AlertStatus]] = {}
        for row in alert_rows:
            alerts.setdefault(row["slo_id"], []).append(codec.alert_from_row(row))
        return [codec.status_from_row(row, alerts.get(row["slo_id"], [])) for row in statuses]

    def alert_history(self, slo_id: str, limit: int = 100) -> list[AlertTransition]:
        """The latest ``limit`` alert transitions of an SLO, newest first.

        Transitions at the same instant come newest-saved first.
        """
        if limit <= 0:
            return []
        query = (
            select(alert_transition)
            .where(alert_transition.c.slo_id == slo_id)
            .order_by(alert_transition.c.at.desc(), alert_transition.c.id.desc())
            .limit(limit)
        )
        with read_transaction(self._engine) as connection:
            rows = connection.execute(query).mappings().all()
        return [codec.transition_from_row(row) for row in rows]

    def last_tick(self) -> EvaluationTick | None:
        """The most recently saved tick, or ``None`` before the first."""
        query = select(evaluation_tick).order_by(evaluation_tick.c.id.desc()).limit(1)
        with read_transaction(self._engine) as connection:
            row = connection.execute(query).mappings().first()
        if row is None:
            return None
        return EvaluationTick(row["at"], row["slo_count"], row["duration_ms"])

    def save_evaluation(
        self,
        statuses: Sequence[SLOStatus],
        transitions: Sequence[AlertTransition],
        *,
        duration_ms: float | None = None,
    ) -> None:
        """Record one evaluation tick atomically; once this returns the tick is durable.

        Each status replaces its SLO's previous status and alert set (alerts it no longer
        lists are removed); transitions are appended to the history.

        Args:
            statuses: The tick's SLO statuses, at most one per SLO id.
            transitions: The alert transitions the tick produced.
            duration_ms: How long the evaluation took, for :meth:`last_tick`.

        Raises:
            ConflictError: two statuses share an SLO id, or one status lists an alert key twice.
        """
        _check_unique(statuses)
        with write_transaction(self._engine) as connection:
            upsert(connection, slo_status, [codec.status_row(s) for s in statuses])
            upsert(connection, alert_state, [r for s in statuses for r in codec.alert_rows(s)])
            _delete_stale_alerts(connection, statuses)
            if transitions:
                rows = [codec.transition_row(t) for t in transitions]
                connection.execute(insert(alert_transition), rows)
            tick_at = max((s.at for s in statuses), default=None)
            if tick_at is not None:
                tick = {"at": tick_at, "slo_count": len(statuses), "duration_ms": duration_ms}
                connection.execute(insert(evaluation_tick), [tick])


def _check_unique(statuses: Sequence[SLOStatus]) -> None:
    """Reject a tick that would upsert the same row twice (its outcome would be ambiguous)."""
    seen: set[str] = set()
    for status in statuses:
        if status.slo_id in seen:
            raise ConflictError(f"SLO {status.slo_id!r} appears twice in one evaluation tick")
        seen.add(status.slo_id)
        keys = [alert.key for alert in status.alerts]
        duplicates = sorted({key for key in keys if keys.count(key) > 1})
        if duplicates:
            raise ConflictError(f"SLO {status.slo_id!r} lists alert {duplicates[0]!r} twice")


def _delete_stale_alerts(connection: Connection, statuses: Sequence[SLOStatus]) -> None:
    """Remove the alert states of the saved SLOs that their new status no longer lists."""
    if not statuses:
        return
    current = {(s.slo_id, alert.key) for s in statuses for alert in s.alerts}
    saved = {s.slo_id for s in statuses}
    # The table holds a few rows per SLO: reading its keys is cheaper than one DELETE per SLO.
    existing = connection.execute(select(alert_state.c.slo_id, alert_state.c.key)).all()
    stale = [
        {"s": slo_id, "k": key}
        for slo_id, key in existing
        if slo_id in saved and (slo_id, key) not in current
    ]
    if stale:
        condition = (alert_state.c.slo_id == bindparam("s")) & (alert_state.c.key == bindparam("k"))
        connection.execute(delete(alert_state).where(condition), stale)
