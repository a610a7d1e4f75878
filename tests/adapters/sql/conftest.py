"""The state-store suite runs on every backend: SQLite always, PostgreSQL when configured.

PostgreSQL comes from ``OPSPLANE_TEST_POSTGRES_URL`` (``.ci/run`` starts a cluster and exports
it). Each test gets a schema of its own, selected with ``search_path``, and dropped afterwards.
Without the variable the PostgreSQL cases skip locally, and fail in CI (``CI`` set), where a
silently skipped backend would hide a broken adapter.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from opsplane.adapters.sql import SqlStateStore
from opsplane.adapters.sql.engine import parse_url

POSTGRES_URL_VARIABLE = "OPSPLANE_TEST_POSTGRES_URL"
BACKENDS = ("sqlite", "postgres")


def postgres_base_url() -> str:
    """The configured PostgreSQL URL, or skip (fail in CI) with a clear message."""
    url = os.environ.get(POSTGRES_URL_VARIABLE)
    if url:
        return url
    if os.environ.get("CI"):
        pytest.fail(
            f"{POSTGRES_URL_VARIABLE} is required in CI: .ci/run starts PostgreSQL and exports it"
        )
    pytest.skip(
        f"PostgreSQL backend not configured: set {POSTGRES_URL_VARIABLE}="
        "postgresql+psycopg://USER:PASSWORD@127.0.0.1:5432/DB to run these cases"
    )


@contextmanager
def fresh_postgres_schema(base_url: str) -> Iterator[str]:
    """A URL whose connections use a new, empty schema; the schema is dropped afterwards."""
    schema = f"opsplane_test_{uuid.uuid4().hex[:12]}"
    url = parse_url(base_url)
    admin = create_engine(url)
    try:
        with admin.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        scoped = url.update_query_dict({"options": f"-csearch_path={schema}"})
        yield scoped.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a fresh, empty database on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'state.db'}"
        return
    with fresh_postgres_schema(postgres_base_url()) as url:
        yield url


@pytest.fixture
def store(db_url: str) -> Iterator[SqlStateStore]:
    """An open store on a fresh database, closed afterwards."""
    opened = SqlStateStore.open(db_url)
    try:
        yield opened
    finally:
        opened.close()
