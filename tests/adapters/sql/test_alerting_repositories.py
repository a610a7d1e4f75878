"""Silences, incidents and deployments: the SQL repositories on both backends and the fakes.

Each contract runs against SQLite, PostgreSQL and the in-memory fake, so a test written with
the fake means the same thing as one against a real database.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from opsplane.adapters.sql.deployments import SqlDeployments
from opsplane.adapters.sql.incidents import SqlIncidents
from opsplane.adapters.sql.nflog import SqlNotificationLog
from opsplane.adapters.sql.silences import SqlSilences
from opsplane.domain import incidents as inc
from opsplane.domain.remediation import Deployment
from opsplane.domain.routing import Matcher
from opsplane.domain.routing.dispatch import LogEntry
from opsplane.domain.routing.silences import create, expire
from opsplane.errors import ConflictError
from opsplane.testing import (
    InMemoryDeployments,
    InMemoryIncidents,
    InMemoryNotificationLog,
    InMemorySilences,
)
from tests.adapters.sql.conftest import fresh_postgres_schema, postgres_base_url

NOW = 1_767_225_600_000
HOUR = 3_600_000


IMPLEMENTATIONS = ["memory", "sqlite", "postgres"]


def _repo(request: pytest.FixtureRequest, fake: Any, sql: Any) -> Iterator[Any]:
    if request.param == "memory":
        yield fake()
    elif request.param == "sqlite":
        tmp = request.getfixturevalue("tmp_path")
        with sql.open(f"sqlite:///{tmp / 'state.db'}") as repo:
            yield repo
    else:
        with fresh_postgres_schema(postgres_base_url()) as url, sql.open(url) as repo:
            yield repo


@pytest.fixture(params=IMPLEMENTATIONS)
def silences(request: pytest.FixtureRequest) -> Iterator[Any]:
    yield from _repo(request, InMemorySilences, SqlSilences)


@pytest.fixture(params=IMPLEMENTATIONS)
def incidents(request: pytest.FixtureRequest) -> Iterator[Any]:
    yield from _repo(request, InMemoryIncidents, SqlIncidents)


@pytest.fixture(params=IMPLEMENTATIONS)
def deployments(request: pytest.FixtureRequest) -> Iterator[Any]:
    yield from _repo(request, InMemoryDeployments, SqlDeployments)


def _silence(silence_id: str = "s1") -> Any:
    return create(
        id=silence_id,
        matchers=[
            Matcher("=", "service", "shop"),
            Matcher("=~", "alertname", "Shop.*"),
            Matcher("!=", "env", "dev"),
            Matcher("!~", "team", "db|infra"),
        ],
        starts_at=NOW,
        ends_at=NOW + HOUR,
        created_by="alice",
        comment="deploying a fix",
        now=NOW,
    )


def test_a_saved_silence_reads_back_equal_with_all_four_matcher_types(silences: Any) -> None:
    silence = _silence()
    silences.save_silence(silence)
    assert silences.silence("s1") == silence
    assert silences.silences() == [silence]
    assert silences.silence("missing") is None


def test_saving_an_expired_silence_replaces_the_stored_one(silences: Any) -> None:
    silences.save_silence(_silence())
    expired = expire(_silence(), NOW + 60_000)
    silences.save_silence(expired)
    stored = silences.silence("s1")
    assert stored == expired
    assert stored.state(NOW + 60_000) == "expired"
    assert len(silences.silences()) == 1


def test_incident_timelines_are_appended_and_read_back_in_order(incidents: Any) -> None:
    opened, _ = inc.open_or_join(
        [], group_key="{}:{}", alert="ShopDown", severity="P1", at=NOW, new_id="i1"
    )
    incidents.save_incident(opened)
    notified = inc.record(opened, NOW + 1_000, "notified", "pager")
    acked = inc.acknowledge(notified, NOW + 60_000, "alice")
    incidents.save_incident(acked)
    resolved = inc.resolve(acked, NOW + HOUR, "all alerts resolved")
    incidents.save_incident(resolved)
    assert incidents.incident("i1") == resolved
    assert [e.kind for e in resolved.timeline] == ["fired", "notified", "acknowledged", "resolved"]
    assert incidents.incidents(unresolved_only=True) == []
    assert incidents.incidents() == [resolved]


def test_saving_a_stale_copy_of_an_incident_is_a_conflict_and_changes_nothing(
    incidents: Any,
) -> None:
    opened, _ = inc.open_or_join([], group_key="g", alert="A", severity="P1", at=NOW, new_id="i1")
    newer = inc.record(inc.record(opened, NOW + 1, "notified", "pager"), NOW + 2, "notified", "sms")
    incidents.save_incident(newer)
    with pytest.raises(ConflictError):
        incidents.save_incident(inc.acknowledge(opened, NOW + 2, "bob"))
    assert incidents.incident("i1") == newer


def test_incidents_are_listed_newest_first_and_limited(incidents: Any) -> None:
    for n in range(5):
        opened, _ = inc.open_or_join(
            [], group_key=f"g{n}", alert="A", severity="P1", at=NOW + n, new_id=f"i{n}"
        )
        incidents.save_incident(opened)
    assert [i.id for i in incidents.incidents(limit=3)] == ["i4", "i3", "i2"]


def test_deployments_are_found_by_time_and_service_newest_first(deployments: Any) -> None:
    shop_old = Deployment("shop", "v1", NOW - 2 * HOUR, NOW - 2 * HOUR + 60_000, "ci")
    shop_new = Deployment("shop", "v2", NOW - HOUR, None, "alice")
    cart = Deployment("cart", "v7", NOW - 30 * 60_000)
    for d in (shop_old, shop_new, cart):
        deployments.record_deployment(d)
    assert deployments.deployments(NOW - 3 * HOUR, "shop") == [shop_new, shop_old]
    assert deployments.deployments(NOW - 90 * 60_000) == [cart, shop_new]


@pytest.fixture(params=IMPLEMENTATIONS)
def nflog(request: pytest.FixtureRequest) -> Iterator[Any]:
    yield from _repo(request, InMemoryNotificationLog, SqlNotificationLog)


def test_the_notification_log_reads_back_and_forgets_old_entries(nflog: Any) -> None:
    shop = (("alertname", "ShopDown"), ("service", "shop"))
    cart = (("alertname", "CartDown"), ("service", "cart"))
    old = LogEntry(frozenset({cart}), frozenset(), NOW - 200 * HOUR)
    nflog.save_log({"{}:{a}": old}, NOW - 300 * HOUR)
    new = LogEntry(frozenset({shop}), frozenset({cart}), NOW)
    nflog.save_log({"{}:{b}": new}, NOW - 120 * HOUR)
    assert nflog.load_log() == {"{}:{b}": new}
