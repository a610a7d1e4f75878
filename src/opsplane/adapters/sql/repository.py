"""The base of every SQL-backed adapter: an engine on a migrated database, closed with it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Self

from sqlalchemy import Connection, Engine, Table
from sqlalchemy.dialects import postgresql, sqlite

from opsplane.adapters.closing import Closing
from opsplane.adapters.sql.migrate import open_migrated


class SqlRepository(Closing):
    """Holds one engine; open with :meth:`open`, finish with :meth:`close`.

    Several repositories may share one engine (``Repo(store.engine)``); only the one that
    opened it should close it.
    """

    def __init__(self, engine: Engine) -> None:
        """Wrap an engine whose database is already migrated (use :meth:`open`)."""
        self._engine = engine

    @classmethod
    def open(cls, url: str) -> Self:
        """Connect to ``url`` and migrate its schema to the newest revision.

        Args:
            url: ``sqlite:///PATH`` or ``postgresql+psycopg://USER:PASSWORD@HOST/DB``.

        Raises:
            UsageError: the URL is malformed or names an unsupported database.
            StorageError: the database cannot be reached or opened (the message names the
                URL without its password).
        """
        return cls(open_migrated(url))

    @property
    def engine(self) -> Engine:
        """The engine, to share with other repositories on the same database."""
        return self._engine

    def close(self) -> None:
        """Close every pooled connection. The repository must not be used afterwards."""
        self._engine.dispose()


def upsert(connection: Connection, table: Table, rows: Sequence[Mapping[str, object]]) -> None:
    """``INSERT ... ON CONFLICT (primary key) DO UPDATE`` every other column, for ``rows``."""
    if not rows:
        return
    keys = [column.name for column in table.primary_key.columns]
    dialect = connection.dialect.name
    if dialect == "postgresql":
        pg_stmt = postgresql.insert(table)
        updates = {c.name: pg_stmt.excluded[c.name] for c in table.c if c.name not in keys}
        connection.execute(pg_stmt.on_conflict_do_update(index_elements=keys, set_=updates), rows)
    elif dialect == "sqlite":
        lite_stmt = sqlite.insert(table)
        updates = {c.name: lite_stmt.excluded[c.name] for c in table.c if c.name not in keys}
        connection.execute(lite_stmt.on_conflict_do_update(index_elements=keys, set_=updates), rows)
    else:  # parse_url admits only the two dialects above
        raise AssertionError(f"no upsert for dialect {dialect}")
