"""The durable notification outbox on SQLite or PostgreSQL.

A notification is a committed row before anything is sent (:meth:`SqlOutbox.enqueue`), so a
crash can delay a page but never lose it. Workers take due rows with :meth:`~SqlOutbox.claim_due`:
in one write transaction the rows are selected and marked ``sending`` with a lease (their
``next_attempt_at`` becomes the lease's end) and their attempt counter is bumped. Two workers
never claim the same row at once:

- PostgreSQL: ``SELECT ... FOR UPDATE SKIP LOCKED`` (the queue idiom of
  https://www.postgresql.org/docs/current/sql-select.html#SQL-FOR-UPDATE-SHARE): a second
  worker skips the rows the first holds instead of waiting for them;
- SQLite: the transaction starts with ``BEGIN IMMEDIATE`` (:mod:`.engine`), which serialises
  writers, and SQLite ignores ``FOR UPDATE``.

A worker that dies mid-send leaves its rows ``sending``; once the lease ends they are due again.
Delivery is therefore at-least-once, and the receivers' dedup keys (PagerDuty ``dedup_key``,
the webhook's ``groupKey`` and ``X-Opsplane-Delivery-Id``) make a repeat harmless. A row marked
``sent`` is never claimed again. A lease must outlast a batch's sends (``limit`` times the
receivers' timeouts), or a slow worker's rows are claimed by another and sent twice.

Only the claimant of the current attempt may reschedule or bury a row (``mark_retry`` and
``mark_dead`` check the attempt number); ``mark_sent`` is always accepted, since a delivery
that happened is a fact even when the lease had run out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Connection, func, select, update
from sqlalchemy.dialects import postgresql, sqlite

from opsplane.adapters.sql.engine import (
    read_transaction,
    write_transaction,
)
from opsplane.adapters.sql.repository import SqlRepository
from opsplane.adapters.sql.schema import NOTIFICATION_KINDS, OUTBOX_STATES, outbox
from opsplane.domain.notify import (
    Notification,
    NotificationKind,
    OutboxEntry,
    OutboxState,
    payload_from_json,
    payload_to_json,
)
from opsplane.types import Millis

_UNIQUE_KEY = ("dedup_key", "receiver", "kind", "payload_hash")
_DUE_STATES = ("pending", "sending")
_T = TypeVar("_T")


class SqlOutbox(SqlRepository):
    """The outbox in a SQL database; open with :meth:`open`, finish with :meth:`close`."""

    def enqueue(self, notifications: Sequence[Notification], now: Millis) -> int:
        """Store notifications, due at once; returns how many were new.

        Committed when this returns. A notification already stored (same dedup key, receiver,
        kind and payload) is left as it is, whatever its state: enqueueing is idempotent.
        """
        rows = [_new_row(n, now) for n in notifications]
        if not rows:
            return 0
        with write_transaction(self._engine) as connection:
            # RETURNING rather than rowcount: a skipped row returns nothing on both backends,
            # whereas psycopg reports rowcount -1 for an insert SQLAlchemy made RETURNING.
            statement = _insert_ignoring_duplicates(connection).returning(outbox.c.id)
            return sum(len(connection.execute(statement, row).all()) for row in rows)

    def claim_due(self, now: Millis, limit: int, lease_ms: Millis) -> list[OutboxEntry]:
        """Claim up to ``limit`` due rows, oldest due first, leased until ``now + lease_ms``.

        Due rows are ``pending`` ones whose time has come and ``sending`` ones whose lease
        has ended (their worker died). Each claimed row's ``attempts`` grows by one.
        """
        if limit <= 0:
            return []
        due = (
            select(outbox.c.id)
            .where(outbox.c.state.in_(_DUE_STATES), outbox.c.next_attempt_at <= now)
            .order_by(outbox.c.next_attempt_at, outbox.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        with write_transaction(self._engine) as connection:
            ids = list(connection.execute(due).scalars())
            if not ids:
                return []
            claim = (
                update(outbox)
                .where(outbox.c.id.in_(ids))
                .values(
                    state="sending",
                    attempts=outbox.c.attempts + 1,
                    next_attempt_at=now + lease_ms,
                )
            )
            connection.execute(claim)
            query = select(outbox).where(outbox.c.id.in_(ids))
            rows = connection.execute(query.order_by(outbox.c.id)).mappings().all()
        order = {row_id: position for position, row_id in enumerate(ids)}
        return sorted((_entry(row) for row in rows), key=lambda entry: order[entry.id])

    def mark_sent(self, entry_id: int, now: Millis) -> bool:
        """Record a delivery; ``False`` if the row was already ``sent``."""
        condition = (outbox.c.id == entry_id) & (outbox.c.state != "sent")
        return self._update(condition, {"state": "sent", "sent_at": now})

    def mark_retry(self, entry_id: int, attempt: int, next_attempt_at: Millis, error: str) -> bool:
        """Make attempt ``attempt``'s row pending again; ``False`` if the lease was lost."""
        values = {"state": "pending", "next_attempt_at": next_attempt_at, "last_error": error}
        return self._update(_claimed(entry_id, attempt), values)

    def mark_dead(self, entry_id: int, attempt: int, error: str) -> bool:
        """Give up on attempt ``attempt``'s row; ``False`` if the lease was lost."""
        return self._update(_claimed(entry_id, attempt), {"state": "dead", "last_error": error})

    def entries(self, state: OutboxState | None = None) -> list[OutboxEntry]:
        """Every row (or those in ``state``), oldest first: for the console and tests."""
        query = select(outbox).order_by(outbox.c.id)
        if state is not None:
            query = query.where(outbox.c.state == state)
        with read_transaction(self._engine) as connection:
            rows = connection.execute(query).mappings().all()
        return [_entry(row) for row in rows]

    def counts(self) -> dict[OutboxState, int]:
        """How many rows are in each state (every state present, zeros included)."""
        query = select(outbox.c.state, func.count()).group_by(outbox.c.state)
        with read_transaction(self._engine) as connection:
            found = {str(state): int(count) for state, count in connection.execute(query)}
        return {state: found.get(state, 0) for state in OUTBOX_STATES}

    def _update(self, condition: ColumnElement[bool], values: Mapping[str, object]) -> bool:
        with write_transaction(self._engine) as connection:
            return connection.execute(update(outbox).where(condition).values(values)).rowcount > 0


def _claimed(entry_id: int, attempt: int) -> ColumnElement[bool]:
    """The row is still in the hands of whoever claimed attempt ``attempt``."""
    return (
        (outbox.c.id == entry_id) & (outbox.c.state == "sending") & (outbox.c.attempts == attempt)
    )


def _new_row(notification: Notification, now: Millis) -> dict[str, object]:
    return {
        "dedup_key": notification.dedup_key,
        "receiver": notification.receiver,
        "kind": notification.kind,
        "payload": payload_to_json(notification.payload),
        "payload_hash": notification.payload_hash,
        "state": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "last_error": None,
        "created_at": now,
        "sent_at": None,
    }


def _insert_ignoring_duplicates(connection: Connection) -> Any:
    """``INSERT ... ON CONFLICT (the unique key) DO NOTHING`` for this dialect."""
    dialect = connection.dialect.name
    if dialect == "postgresql":
        return postgresql.insert(outbox).on_conflict_do_nothing(index_elements=_UNIQUE_KEY)
    if dialect == "sqlite":
        return sqlite.insert(outbox).on_conflict_do_nothing(index_elements=_UNIQUE_KEY)
    raise AssertionError(f"no insert-or-ignore for dialect {dialect}")  # parse_url admits two


def _entry(row: Mapping[Any, Any]) -> OutboxEntry:
    """A stored row as the domain's :class:`OutboxEntry`."""
    kind: NotificationKind = _checked(row["kind"], NOTIFICATION_KINDS)
    notification = Notification(
        dedup_key=row["dedup_key"],
        receiver=row["receiver"],
        kind=kind,
        payload=payload_from_json(row["payload"]),
    )
    return OutboxEntry(
        id=int(row["id"]),
        notification=notification,
        state=_checked(row["state"], OUTBOX_STATES),
        attempts=int(row["attempts"]),
        next_attempt_at=int(row["next_attempt_at"]),
        created_at=int(row["created_at"]),
        last_error=row["last_error"],
        sent_at=row["sent_at"],
    )


def _checked(raw: object, allowed: tuple[_T, ...]) -> _T:
    for value in allowed:
        if raw == value:
            return value
    raise ValueError(f"unexpected stored value {raw!r}: expected one of {allowed}")
