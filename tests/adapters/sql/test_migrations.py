"""Opening a store migrates its database: once, atomically, and to exactly the models' schema."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, text

from opsplane.adapters.sql import SqlStateStore
from opsplane.adapters.sql.engine import create_state_engine, parse_url, write_transaction
from opsplane.adapters.sql.migrate import alembic_config, current_revision, head_revision
from opsplane.adapters.sql.schema import metadata
from tests.adapters.sql.factories import status, transition

OPENERS = 4
"""Processes that open one fresh database at the same instant."""

OPEN_AT = """
import sys, time
from opsplane.adapters.sql import SqlStateStore
url, start = sys.argv[1], float(sys.argv[2])
time.sleep(max(0.0, start - time.time()))
SqlStateStore.open(url).close()
print("opened")
"""


@contextmanager
def connected(url: str) -> Iterator[Connection]:
    """A connection (with the store's settings) to the database at ``url``."""
    engine = create_state_engine(parse_url(url))
    try:
        with engine.connect() as connection:
            yield connection
    finally:
        engine.dispose()


def schema_diff(connection: Connection, target: sa.MetaData = metadata) -> list[Any]:
    """What ``alembic revision --autogenerate`` would add to bring the database to ``target``."""
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, target))


def test_the_migrated_schema_matches_the_models_exactly(store: SqlStateStore, db_url: str) -> None:
    with connected(db_url) as connection:
        assert schema_diff(connection) == []


def test_the_schema_comparison_notices_what_the_migrations_lack(
    store: SqlStateStore, db_url: str
) -> None:
    """Guards the test above: a model the migrations do not create is reported."""
    extended = sa.MetaData()
    for table in metadata.tables.values():
        table.to_metadata(extended)
    sa.Table("not_migrated", extended, sa.Column("id", sa.Integer, primary_key=True))
    with connected(db_url) as connection:
        assert [diff[0] for diff in schema_diff(connection, extended)] == ["add_table"]


def test_opening_a_database_again_keeps_its_data_and_its_revision(db_url: str) -> None:
    with SqlStateStore.open(db_url) as store:
        store.save_evaluation([status()], [transition(1)])
    for _ in range(2):
        SqlStateStore.open(db_url).close()
    with SqlStateStore.open(db_url) as store:
        assert store.latest_statuses() == [status()]
        assert store.alert_history("shop-availability") == [transition(1)]
    with connected(db_url) as connection:
        assert current_revision(connection) == head_revision()


def test_migrations_downgrade_to_nothing_and_upgrade_again(
    store: SqlStateStore, db_url: str
) -> None:
    engine = create_state_engine(parse_url(db_url))
    try:
        with write_transaction(engine) as connection:
            command.downgrade(alembic_config(connection), "base")
            assert sa.inspect(connection).get_table_names() == ["alembic_version"]
        with write_transaction(engine) as connection:
            command.upgrade(alembic_config(connection), "head")
            assert schema_diff(connection) == []
    finally:
        engine.dispose()


def test_alembics_own_command_line_migrates_a_database_given_only_its_url(db_url: str) -> None:
    """``alembic upgrade head`` with ``script_location = opsplane.adapters.sql:migrations``."""
    config = alembic_config()
    config.set_main_option("sqlalchemy.url", db_url.replace("%", "%%"))
    command.upgrade(config, "head")
    with connected(db_url) as connection:
        assert current_revision(connection) == head_revision()
        assert schema_diff(connection) == []


def test_several_processes_opening_a_fresh_database_at_once_all_succeed(db_url: str) -> None:
    start = time.time() + 2.0  # after every interpreter has imported opsplane
    openers = [
        subprocess.Popen(
            [sys.executable, "-c", OPEN_AT, db_url, str(start)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(OPENERS)
    ]
    results = [opener.communicate(timeout=60) for opener in openers]
    outcomes = [(o.returncode, out, err) for o, (out, err) in zip(openers, results, strict=True)]
    assert outcomes == [(0, "opened\n", "")] * OPENERS
    with connected(db_url) as connection:
        versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
        assert [v for (v,) in versions] == [head_revision()]
        assert schema_diff(connection) == []


@pytest.mark.parametrize(
    "name",
    [
        "env.py",
        "script.py.mako",
        *(
            f"versions/{v}.py"
            for v in (
                "0001_engine_state",
                "0002_outbox",
                "0003_incidents",
                "0004_server",
                "0005_rollouts",
            )
        ),
    ],
    ids=lambda name: f"the package ships migrations/{name}",
)
def test_the_migration_scripts_are_package_data(name: str) -> None:
    scripts = resources.files("opsplane.adapters.sql").joinpath("migrations")
    assert scripts.joinpath(*name.split("/")).is_file()
