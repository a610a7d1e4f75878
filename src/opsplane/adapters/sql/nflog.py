"""The notification log in the state database (:class:`~opsplane.ports.NotificationLog`)."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import delete, select

from opsplane.adapters.sql.codec import Row
from opsplane.adapters.sql.engine import read_transaction, write_transaction
from opsplane.adapters.sql.repository import SqlRepository, upsert
from opsplane.adapters.sql.schema import notification_log
from opsplane.domain.routing.dispatch import LabelPairs, LogEntry
from opsplane.types import Millis


class SqlNotificationLog(SqlRepository):
    """The ``nflog`` in a SQL database."""

    def load_log(self) -> dict[str, LogEntry]:
        """Every entry, by group key."""
        with read_transaction(self._engine) as connection:
            rows = connection.execute(select(notification_log)).mappings().all()
        return {row["group_key"]: _entry(row) for row in rows}

    def save_log(self, entries: Mapping[str, LogEntry], retain_after: Millis) -> None:
        """Upsert ``entries`` and drop those last written before ``retain_after``."""
        rows = [
            {
                "group_key": key,
                "firing": _pairs_json(entry.firing),
                "resolved": _pairs_json(entry.resolved),
                "at": entry.at,
            }
            for key, entry in entries.items()
        ]
        with write_transaction(self._engine) as connection:
            upsert(connection, notification_log, rows)
            connection.execute(delete(notification_log).where(notification_log.c.at < retain_after))


def _pairs_json(label_sets: frozenset[LabelPairs]) -> list[list[list[str]]]:
    return sorted([list(pair) for pair in labels] for labels in label_sets)


def _label_sets(raw: list[list[list[str]]]) -> frozenset[LabelPairs]:
    return frozenset(tuple((name, value) for name, value in labels) for labels in raw)


def _entry(row: Row) -> LogEntry:
    return LogEntry(_label_sets(row["firing"]), _label_sets(row["resolved"]), row["at"])
