"""Database URLs and the durability settings every connection gets."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from opsplane.adapters.sql import SqlStateStore
from opsplane.adapters.sql.engine import SQLITE_BUSY_TIMEOUT_MS, create_state_engine, parse_url
from opsplane.errors import OpsplaneError, UsageError
from tests.adapters.sql.factories import status

DRIVERS = {
    "sqlite:///PATH uses the standard library driver": (
        "sqlite:///./opsplane.db",
        "sqlite+pysqlite",
    ),
    "plain postgresql:// means psycopg 3": (
        "postgresql://ops@db.example/ops",
        "postgresql+psycopg",
    ),
    "postgresql+psycopg:// is taken as written": (
        "postgresql+psycopg://ops@db.example/ops",
        "postgresql+psycopg",
    ),
}


@pytest.mark.parametrize(("url", "driver"), DRIVERS.values(), ids=DRIVERS.keys())
def test_a_supported_url_names_its_driver_explicitly(url: str, driver: str) -> None:
    assert parse_url(url).drivername == driver


BAD_URLS = {
    "a database opsplane does not support": "mysql://ops:hunter2@db.example/ops",
    "psycopg 2, which is not installed": "postgresql+psycopg2://ops:hunter2@db.example/ops",
    "not a URL at all": "opsplane.db",
}


@pytest.mark.parametrize("url", BAD_URLS.values(), ids=BAD_URLS.keys())
def test_a_bad_url_is_a_usage_error_that_never_shows_the_password(url: str) -> None:
    with pytest.raises(UsageError) as raised:
        SqlStateStore.open(url)
    assert "hunter2" not in str(raised.value)
    assert "sqlite:///PATH" in str(raised.value)


UNREACHABLE = {
    "a SQLite file in a folder that does not exist": "sqlite:///{tmp}/missing/folder/state.db",
    "a PostgreSQL server that is not listening": (
        "postgresql+psycopg://ops:hunter2@127.0.0.1:1/ops?connect_timeout=5"
    ),
}


@pytest.mark.parametrize("url", UNREACHABLE.values(), ids=UNREACHABLE.keys())
def test_a_database_that_cannot_be_opened_is_one_clear_error_without_the_password(
    url: str, tmp_path: Path
) -> None:
    with pytest.raises(OpsplaneError, match=r"^cannot open the state database ") as raised:
        SqlStateStore.open(url.format(tmp=tmp_path))
    assert "hunter2" not in str(raised.value)
    assert "\n" not in str(raised.value)


def test_a_sqlite_connection_is_durable_wal_with_foreign_keys(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    engine = create_state_engine(parse_url(url))
    try:
        with engine.connect() as connection:
            pragma = {
                name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
            }
    finally:
        engine.dispose()
    full = 2  # https://sqlite.org/pragma.html#pragma_synchronous
    assert pragma == {
        "journal_mode": "wal",
        "synchronous": full,
        "foreign_keys": 1,
        "busy_timeout": SQLITE_BUSY_TIMEOUT_MS,
    }


def test_wal_mode_is_a_property_of_the_sqlite_file_once_opened(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    SqlStateStore.open(f"sqlite:///{path}").close()
    with sqlite3.connect(path) as plain:
        assert plain.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_deleting_a_status_deletes_its_alert_states_through_the_foreign_key(db_url: str) -> None:
    with SqlStateStore.open(db_url) as store:
        store.save_evaluation([status("shop-availability"), status("cart-latency")], [])
    engine = create_state_engine(parse_url(db_url))
    try:
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM slo_status WHERE slo_id = 'cart-latency'"))
    finally:
        engine.dispose()
    with SqlStateStore.open(db_url) as store:
        assert {slo for slo, _ in store.load_alert_states()} == {"shop-availability"}
