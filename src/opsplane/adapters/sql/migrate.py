"""Alembic migrations shipped in the package, applied programmatically when a store opens.

The scripts live in ``opsplane/adapters/sql/migrations`` (``env.py``, ``script.py.mako`` and
``versions/``) and are found through the package, so an installed wheel migrates without an
``alembic.ini``. :func:`upgrade` is idempotent and safe when several processes open the same
database at once: it runs the whole upgrade in one transaction that first takes a lock, so
the second process waits, then finds the schema at head and does nothing.

- SQLite: ``BEGIN IMMEDIATE`` takes the database write lock (others wait up to the busy
  timeout), and DDL is transactional, so a crash mid-migration leaves the old schema.
- PostgreSQL: ``pg_advisory_xact_lock`` serialises migrators (two ``CREATE TABLE`` races would
  otherwise fail on the catalog's unique index); DDL is transactional here too.
"""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from opsplane.adapters.sql.engine import create_state_engine, parse_url, write_transaction
from opsplane.errors import StorageError

SCRIPT_LOCATION = "opsplane.adapters.sql:migrations"
MIGRATION_LOCK_KEY = 0x6F70_7370_6C61_6E65
"""The PostgreSQL advisory lock id: ``"opsplane"`` in ASCII (fits a signed bigint)."""


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic configuration for the packaged scripts, bound to ``connection`` if given.

    ``env.py`` migrates the connection passed in ``config.attributes["connection"]``; without
    one (the ``alembic`` command line, offline ``--sql``) it uses ``sqlalchemy.url``.
    """
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    if connection is not None:
        url = connection.engine.url.render_as_string(hide_password=False)
        # ConfigParser interpolation: a literal % (in a password) must be doubled.
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision among the packaged migrations."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError("the packaged migrations have no head revision")
    return head


def current_revision(connection: Connection) -> str | None:
    """The revision the database is at, or ``None`` before the first migration."""
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine) -> None:
    """Bring the database to the newest schema, at most one process at a time."""
    with write_transaction(engine) as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
            )
        if current_revision(connection) != head_revision():
            command.upgrade(alembic_config(connection), "head")


def open_migrated(url: str) -> Engine:
    """An engine for ``url`` whose database has been brought to the newest schema.

    Args:
        url: ``sqlite:///PATH`` or ``postgresql+psycopg://USER:PASSWORD@HOST/DB``.

    Raises:
        UsageError: the URL is malformed or names an unsupported database.
        StorageError: the database cannot be reached or opened (the message names the URL
            without its password).
    """
    engine = create_state_engine(parse_url(url))
    try:
        upgrade(engine)
    except OperationalError as exc:
        engine.dispose()
        safe = make_url(url).render_as_string(hide_password=True)  # as the user wrote it
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise StorageError(f"cannot open the state database {safe}: {reason}") from exc
    except BaseException:
        engine.dispose()
        raise
    return engine
