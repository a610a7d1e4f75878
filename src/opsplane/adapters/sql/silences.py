"""Silences in the state database (:class:`~opsplane.ports.SilenceStore`).

Matchers are stored as Alertmanager's v2 API spells them (``{"name", "value", "isRegex",
"isEqual"}``), so the rows read the same as ``amtool silence query -o json``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from opsplane.adapters.sql.codec import Row
from opsplane.adapters.sql.engine import read_transaction, write_transaction
from opsplane.adapters.sql.repository import SqlRepository, upsert
from opsplane.adapters.sql.schema import silence as silence_table
from opsplane.domain.routing.matchers import Matcher
from opsplane.domain.routing.silences import Silence

_TYPES = {(False, True): "=", (False, False): "!=", (True, True): "=~", (True, False): "!~"}


def matcher_json(matcher: Matcher) -> dict[str, object]:
    """A matcher as the Alertmanager v2 API spells it."""
    return {
        "name": matcher.name,
        "value": matcher.value,
        "isRegex": matcher.type in ("=~", "!~"),
        "isEqual": matcher.type in ("=", "=~"),
    }


def matcher_from_json(raw: Mapping[str, Any]) -> Matcher:
    """The inverse of :func:`matcher_json` (``isEqual`` defaults to true, as in the API)."""
    kind = _TYPES[(bool(raw["isRegex"]), bool(raw.get("isEqual", True)))]
    return Matcher(kind, str(raw["name"]), str(raw["value"]))  # type: ignore[arg-type]


class SqlSilences(SqlRepository):
    """Silences in a SQL database."""

    def save_silence(self, silence: Silence) -> None:
        """Insert or replace a silence (by id); committed on return."""
        row = {
            "id": silence.id,
            "matchers": [matcher_json(m) for m in silence.matchers],
            "starts_at": silence.starts_at,
            "ends_at": silence.ends_at,
            "created_by": silence.created_by,
            "comment": silence.comment,
            "updated_at": silence.updated_at,
        }
        with write_transaction(self._engine) as connection:
            upsert(connection, silence_table, [row])

    def silence(self, silence_id: str) -> Silence | None:
        """One silence, or ``None``."""
        query = select(silence_table).where(silence_table.c.id == silence_id)
        with read_transaction(self._engine) as connection:
            row = connection.execute(query).mappings().first()
        return None if row is None else _from_row(row)

    def silences(self) -> list[Silence]:
        """Every silence, expired ones included."""
        with read_transaction(self._engine) as connection:
            rows = connection.execute(select(silence_table)).mappings().all()
        return [_from_row(row) for row in rows]


def _from_row(row: Row) -> Silence:
    return Silence(
        id=row["id"],
        matchers=tuple(matcher_from_json(m) for m in row["matchers"]),
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
        created_by=row["created_by"],
        comment=row["comment"],
        updated_at=row["updated_at"],
    )
