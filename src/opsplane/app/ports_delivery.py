"""The ports notification delivery needs: the outbox and the receivers.

They live here rather than in :mod:`opsplane.ports` while delivery is being built; the SQL
outbox (:class:`opsplane.adapters.sql.outbox.SqlOutbox`) and the receivers of
:mod:`opsplane.adapters.notify` answer them structurally, and :mod:`opsplane.testing` has
in-memory fakes of both.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from opsplane.domain.notify import Notification, OutboxEntry
from opsplane.types import Millis


class Outbox(Protocol):
    """Durable storage of notifications until they are delivered (at least once)."""

    def enqueue(self, notifications: Sequence[Notification], now: Millis) -> int:
        """Store notifications, due at once; idempotent; committed on return. How many new."""
        ...

    def claim_due(self, now: Millis, limit: int, lease_ms: Millis) -> list[OutboxEntry]:
        """Lease up to ``limit`` due rows to the caller (state ``sending``, attempts + 1)."""
        ...

    def mark_sent(self, entry_id: int, now: Millis) -> bool:
        """Record a delivery; ``False`` if it was already recorded."""
        ...

    def mark_retry(self, entry_id: int, attempt: int, next_attempt_at: Millis, error: str) -> bool:
        """Reschedule the claimed attempt; ``False`` if its lease was lost to another worker."""
        ...

    def mark_dead(self, entry_id: int, attempt: int, error: str) -> bool:
        """Give up on the claimed attempt; ``False`` if its lease was lost to another worker."""
        ...


class Receiver(Protocol):
    """Delivers a notification to one destination, or raises ``DeliveryError``.

    A :class:`~opsplane.domain.notify.ReceiverError` says whether a retry may help; any other
    ``DeliveryError`` is taken as transient.
    """

    def send(self, notification: Notification) -> None:
        """Deliver once; return only when the destination accepted it."""
        ...
