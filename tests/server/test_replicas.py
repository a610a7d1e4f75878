"""Several replicas on one database: one evaluates and routes at a time, and hands over."""

from __future__ import annotations

import time
from pathlib import Path

from opsplane.adapters.sql.server import SqlLease
from opsplane.server.runtime import LEASE, Runtime, ServerSettings
from tests.adapters.sql.conftest import fresh_postgres_schema, postgres_base_url

NOW = 1_767_225_600_000


def _lease_contract(url: str) -> None:
    with SqlLease.open(url) as a, SqlLease.open(url) as b:
        assert a.acquire("x", "a", NOW, 10_000)
        assert not b.acquire("x", "b", NOW + 5_000, 10_000)  # a holds it
        assert a.acquire("x", "a", NOW + 9_000, 10_000)  # a renews until NOW + 19s
        assert not b.acquire("x", "b", NOW + 18_000, 10_000)
        assert b.acquire("x", "b", NOW + 19_001, 10_000)  # expired: b takes over
        assert not a.acquire("x", "a", NOW + 20_000, 10_000)
        b.release("x", "b")
        assert a.acquire("x", "a", NOW + 20_001, 10_000)  # released: a at once


def test_the_lease_elects_one_holder_on_sqlite(tmp_path: Path) -> None:
    _lease_contract(f"sqlite:///{tmp_path / 's.db'}")


def test_the_lease_elects_one_holder_on_postgres() -> None:
    with fresh_postgres_schema(postgres_base_url()) as url:
        _lease_contract(url)


def _runtime(tmp_path: Path, name: str) -> Runtime:
    settings = ServerSettings(
        db_url=f"sqlite:///{tmp_path / 'state.db'}",
        metrics_dir=tmp_path / f"{name}.metrics",
        interval_ms=500,
        lease_ttl_ms=2_000,
    )
    runtime = Runtime(settings, holder=name)
    runtime.open()
    return runtime


def test_two_replicas_never_both_evaluate_and_the_second_takes_over(tmp_path: Path) -> None:
    first, second = _runtime(tmp_path, "first"), _runtime(tmp_path, "second")
    first.start()
    second.start()
    deadline = time.monotonic() + 5
    while first.health.ticks + second.health.ticks < 4 and time.monotonic() < deadline:
        time.sleep(0.1)
    ticks = (first.health.ticks, second.health.ticks)
    leader, other = (first, second) if first.health.ticks else (second, first)
    if min(ticks) != 0 or max(ticks) < 4:
        first.stop()
        second.stop()
    assert min(ticks) == 0, f"both replicas evaluated: {ticks}"
    assert max(ticks) >= 4
    leader.stop()  # releases the lease: the other replica takes over at its next tick
    try:
        deadline = time.monotonic() + 5
        while other.health.ticks == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert other.health.ticks > 0
        assert other.health.leader
    finally:
        other.stop()
    with SqlLease.open(f"sqlite:///{tmp_path / 'state.db'}") as lease:
        assert lease.acquire(LEASE, "third", int(time.time() * 1000), 1_000)  # released again
