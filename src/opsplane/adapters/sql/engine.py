"""Engines for the state database, configured for durability, and their transactions.

SQLite (``sqlite:///path``, the standalone default) gets these settings on every connection:

- ``journal_mode=WAL``: readers never block the writer and vice versa, so the console can read
  while the evaluator writes (https://sqlite.org/wal.html).
- ``synchronous=FULL``: a commit returns only after the WAL is fsynced. For ``kill -9`` alone
  ``NORMAL`` would do, since a committed transaction is already in the OS page cache; ``FULL``
  also keeps acknowledged writes through an OS crash or power loss, which is the design's
  "no lost data" promise. The price is one fsync per commit, and we commit once per tick.
- ``foreign_keys=ON`` (off by default in SQLite) and ``busy_timeout``, so a writer waits for
  another process' lock instead of failing at once.

pysqlite's own transaction handling is switched off (``isolation_level = None``) and we emit
``BEGIN`` ourselves, as SQLAlchemy's pysqlite documentation recommends: otherwise the driver
runs DDL outside any transaction (migrations would not be atomic) and starts write
transactions as ``DEFERRED``, which can fail with ``SQLITE_BUSY`` without waiting. Writes use
``BEGIN IMMEDIATE``: the write lock is taken up front, through the busy timeout.

PostgreSQL (``postgresql+psycopg://``; plain ``postgresql://`` means the same) needs nothing
special: its commits are durable by default (``synchronous_commit=on``).
"""

from __future__ import annotations

import functools
import json
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from opsplane.errors import UsageError

SQLITE_BUSY_TIMEOUT_MS = 30_000
"""How long a SQLite writer waits for another's lock: well above any tick or migration."""

_SQLITE_PRAGMAS = (
    "PRAGMA synchronous = FULL",
    "PRAGMA foreign_keys = ON",
)
_LOCKED_RETRY_S = 0.02
_WRITE_OPTION = "opsplane_write"
_DRIVERS = {
    "sqlite": "sqlite+pysqlite",
    "sqlite+pysqlite": "sqlite+pysqlite",
    "postgresql": "postgresql+psycopg",
    "postgresql+psycopg": "postgresql+psycopg",
}


def parse_url(url: str) -> URL:
    """The database URL with its driver made explicit.

    Raises:
        UsageError: the URL is malformed or names a database we do not support.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise UsageError(
            f"invalid database URL {url!r}: expected sqlite:///PATH or "
            "postgresql+psycopg://USER@HOST/DB"
        ) from exc
    driver = _DRIVERS.get(parsed.drivername)
    if driver is None:
        safe = parsed.render_as_string(hide_password=True)
        raise UsageError(
            f"unsupported database URL {safe}: use sqlite:///PATH or postgresql+psycopg://..."
        )
    return parsed.set(drivername=driver)


def create_state_engine(url: URL) -> Engine:
    """An engine for ``url`` (from :func:`parse_url`) with the settings described above."""
    # allow_nan=False: a NaN that slipped past the codec must fail, not become invalid JSON.
    serializer = functools.partial(json.dumps, allow_nan=False)
    if url.get_backend_name() == "sqlite":
        engine = create_engine(url, json_serializer=serializer)
        event.listen(engine, "connect", _on_sqlite_connect)
        event.listen(engine, "begin", _on_sqlite_begin)
        return engine
    return create_engine(url, json_serializer=serializer, pool_pre_ping=True)


def _on_sqlite_connect(dbapi_connection: Any, _record: object) -> None:
    """Apply the PRAGMAs and take over transaction control from pysqlite."""
    connection: sqlite3.Connection = dbapi_connection
    connection.isolation_level = None
    cursor = connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        _retry_while_locked(lambda: _apply_pragmas(cursor))
    finally:
        cursor.close()


def _apply_pragmas(cursor: sqlite3.Cursor) -> None:
    if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        cursor.execute("PRAGMA journal_mode = WAL")
    for pragma in _SQLITE_PRAGMAS:
        cursor.execute(pragma)


def _retry_while_locked(action: Callable[[], None]) -> None:
    """Run ``action``, retrying while another process holds the database file.

    Most lock waits go through the busy timeout, but not all: switching the journal mode needs
    an exclusive lock, and a connection that meets another one mid-switch or mid-WAL-recovery
    gets ``SQLITE_BUSY`` at once (SQLite's deadlock avoidance skips the busy handler there).
    Several processes opening a fresh database together hit exactly that, so the PRAGMAs
    (all idempotent) are retried for as long as the busy timeout would have waited.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            action()
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(_LOCKED_RETRY_S)
        else:
            return


def _on_sqlite_begin(connection: Connection) -> None:
    """``BEGIN IMMEDIATE`` for writes, a plain (deferred) ``BEGIN`` for reads."""
    write = connection.get_execution_options().get(_WRITE_OPTION, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction that may write; commits on success, else rolls back."""
    with engine.connect() as connection:
        connection.execution_options(**{_WRITE_OPTION: True})
        with connection.begin():
            yield connection


@contextmanager
def read_transaction(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction for a consistent read of several tables."""
    with engine.connect() as connection, connection.begin():
        yield connection
