"""Rollouts in the state database (:class:`~opsplane.ports.RolloutStore`).

Each row holds the whole step-machine state as JSON (:mod:`opsplane.domain.rollout_codec`)
beside the columns that select it (``service``, ``active``) and fence it (``revision``): an
update only lands on the revision it was computed from, so two writers never silently
overwrite each other's step.
"""

from __future__ import annotations

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from opsplane.adapters.sql.engine import read_transaction, write_transaction
from opsplane.adapters.sql.repository import SqlRepository
from opsplane.adapters.sql.schema import rollout as rollout_table
from opsplane.domain.rollout import Rollout
from opsplane.domain.rollout_codec import rollout_from_json, rollout_to_json
from opsplane.errors import ConflictError


class SqlRollouts(SqlRepository):
    """Rollouts in a SQL database."""

    def save_rollout(self, rollout: Rollout, previous: int | None) -> None:
        """Insert (``previous`` is ``None``) or replace the rollout stored at ``previous``.

        Raises:
            ConflictError: the id exists already, or its stored revision is not ``previous``.
        """
        row = {
            "service": rollout.service,
            "phase": rollout.phase,
            "active": not rollout.terminal or bool(rollout.pending),
            "revision": rollout.revision,
            "started_at": rollout.started_at,
            "updated_at": rollout.updated_at,
            "state": rollout_to_json(rollout),
        }
        t = rollout_table
        try:
            with write_transaction(self._engine) as connection:
                if previous is None:
                    connection.execute(insert(t), [{"id": rollout.id, **row}])
                    return
                found = connection.execute(
                    update(t).where(t.c.id == rollout.id, t.c.revision == previous).values(row)
                )
                if found.rowcount != 1:
                    raise ConflictError(f"rollout {rollout.id} changed since it was read")
        except IntegrityError as exc:
            raise ConflictError(f"rollout {rollout.id} exists already") from exc

    def rollout(self, rollout_id: str) -> Rollout | None:
        """One rollout, or ``None``."""
        query = select(rollout_table.c.state).where(rollout_table.c.id == rollout_id)
        with read_transaction(self._engine) as connection:
            state = connection.execute(query).scalar_one_or_none()
        return None if state is None else rollout_from_json(state)

    def rollouts(self, *, active_only: bool = False, service: str | None = None) -> list[Rollout]:
        """Rollouts (of one service; active ones only), newest started first."""
        t = rollout_table
        query = select(t.c.state)
        if active_only:
            query = query.where(t.c.active.is_(True))
        if service is not None:
            query = query.where(t.c.service == service)
        query = query.order_by(t.c.started_at.desc(), t.c.id.desc())
        with read_transaction(self._engine) as connection:
            states = connection.execute(query).scalars().all()
        return [rollout_from_json(state) for state in states]
