"""The Alembic environment of opsplane's state database.

:func:`opsplane.adapters.sql.migrate.upgrade` passes an open connection, already inside the
transaction that holds the migration lock, in ``config.attributes["connection"]``; the
migrations run in that transaction. Without one (the ``alembic`` command line pointed at this
directory) an engine is made from ``sqlalchemy.url`` with the same SQLite settings.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from opsplane.adapters.sql.engine import create_state_engine, parse_url, write_transaction
from opsplane.adapters.sql.schema import metadata


def _run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        compare_type=True,
        # SQLite alters tables by copying them ("batch" mode); later migrations need it.
        render_as_batch=connection.dialect.name == "sqlite",
        transactional_ddl=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_offline(url: str) -> None:
    context.configure(url=url, target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def _main() -> None:
    url = context.config.get_main_option("sqlalchemy.url") or ""
    connection = context.config.attributes.get("connection")
    if context.is_offline_mode():
        _run_offline(url)
    elif isinstance(connection, Connection):
        _run_on(connection)
    else:
        engine = create_state_engine(parse_url(url))
        try:
            with write_transaction(engine) as own:
                _run_on(own)
        finally:
            engine.dispose()


_main()
