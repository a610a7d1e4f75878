"""The SQL state store keeps exactly what an evaluation tick saved, on SQLite and PostgreSQL.

Every test runs once per backend (``db_url``). Reads go through a store opened afresh on the
same database, so they prove what is on disk rather than what a process remembers.
"""

from __future__ import annotations

import math
from typing import Any, cast

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.exc import IntegrityError

from opsplane.adapters.sql import EvaluationTick, SqlStateStore
from opsplane.domain.evaluation import AlertStatus, SLOStatus, WindowStatus
from opsplane.errors import ConflictError
from tests.adapters.sql.factories import (
    HOUR,
    MINUTE,
    T0,
    comparable,
    page,
    status,
    ticket,
    transition,
)


def saved_and_reloaded(url: str, statuses: list[SLOStatus]) -> list[SLOStatus]:
    with SqlStateStore.open(url) as writer:
        writer.save_evaluation(statuses, [])
    with SqlStateStore.open(url) as reader:
        return reader.latest_statuses()


ROUND_TRIPS = {
    "a healthy SLO with every field set comes back field for field": status(),
    "NaN ratios (0/0 on a window without traffic) stay NaN, distinct from None": status(
        windows=(WindowStatus(5 * MINUTE, math.nan, math.nan), WindowStatus(HOUR, None, None)),
        period_error_ratio=math.nan,
        budget_remaining=math.nan,
        budget_consumed=math.nan,
    ),
    "an SLO with no data at all has None for every ratio": status(
        windows=(WindowStatus(5 * MINUTE, None, None),),
        period_error_ratio=None,
        budget_remaining=None,
        budget_consumed=None,
    ),
    "an overspent budget is negative and its consumption above 1": status(
        period_error_ratio=0.0035, budget_remaining=-2.5, budget_consumed=3.5
    ),
    "infinite burn rates and extreme finite floats survive": status(
        windows=(
            WindowStatus(5 * MINUTE, 5e-324, math.inf),
            WindowStatus(HOUR, 1.7976931348623157e308, -math.inf),
            WindowStatus(6 * HOUR, 1 / 3, 0.1 + 0.2),
        ),
        budget_remaining=-math.inf,
        budget_consumed=math.inf,
    ),
    "an SLO without alerts and without windows": status(windows=(), alerts=()),
    "alerts keep their order and every timestamp": status(
        alerts=(
            ticket("resolved", active_at=T0 - HOUR, fired_at=T0 - 50 * MINUTE, resolved_at=T0),
            page("firing", active_at=T0 - 2 * MINUTE, fired_at=T0),
            AlertStatus("condition:latency", "ShopSlow", "sev-2 (custom)", "pending", T0),
            AlertStatus("no_data", "ShopNoData", "P2", "inactive"),
        )
    ),
}


@pytest.mark.parametrize("saved", ROUND_TRIPS.values(), ids=ROUND_TRIPS.keys())
def test_a_saved_status_reads_back_identically_after_a_restart(
    db_url: str, saved: SLOStatus
) -> None:
    assert comparable(saved_and_reloaded(db_url, [saved])) == comparable([saved])


ratio = st.none() | st.floats(allow_nan=True, allow_infinity=True)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(values=st.lists(ratio, min_size=5, max_size=5))
def test_every_float_a_ratio_can_hold_round_trips_nan_and_infinities_included(
    store: SqlStateStore, values: list[float | None]
) -> None:
    """Equality here is ``==`` with NaN equal to NaN, so -0.0 may come back as 0.0."""
    saved = status(
        windows=(WindowStatus(HOUR, values[0], values[1]),),
        period_error_ratio=values[2],
        budget_remaining=values[3],
        budget_consumed=values[4],
    )
    store.save_evaluation([saved], [])
    assert comparable(store.latest_statuses()) == comparable([saved])


def test_alert_states_are_keyed_by_slo_id_and_alert_key(store: SqlStateStore) -> None:
    shop = status("shop-availability", alerts=(page("firing", active_at=T0, fired_at=T0),))
    cart = status("cart-latency", alerts=(page(), ticket("pending", active_at=T0)))
    store.save_evaluation([shop, cart], [])
    assert store.load_alert_states() == {
        ("shop-availability", "page"): shop.alerts[0],
        ("cart-latency", "page"): cart.alerts[0],
        ("cart-latency", "ticket"): cart.alerts[1],
    }


def test_an_empty_store_has_no_statuses_alerts_history_or_ticks(store: SqlStateStore) -> None:
    assert store.latest_statuses() == []
    assert store.load_alert_states() == {}
    assert store.alert_history("shop-availability") == []
    assert store.last_tick() is None


def test_saving_an_slo_again_replaces_its_status_and_alerts(db_url: str) -> None:
    first = status(at=T0, budget_remaining=0.6, alerts=(page(), ticket()))
    later = status(
        at=T0 + MINUTE,
        budget_remaining=0.5,
        alerts=(page("pending", active_at=T0 + MINUTE), ticket()),
    )
    with SqlStateStore.open(db_url) as store:
        store.save_evaluation([first], [])
        store.save_evaluation([later], [])
    with SqlStateStore.open(db_url) as store:
        assert store.latest_statuses() == [later]
        assert store.load_alert_states()["shop-availability", "page"].state == "pending"


def test_an_alert_a_status_no_longer_lists_is_forgotten(store: SqlStateStore) -> None:
    store.save_evaluation([status(alerts=(page(), ticket()))], [])
    store.save_evaluation([status(alerts=(page(),))], [])
    assert list(store.load_alert_states()) == [("shop-availability", "page")]
    assert store.latest_statuses()[0].alerts == (page(),)


def test_a_tick_that_omits_an_slo_leaves_its_status_alone(store: SqlStateStore) -> None:
    cart = status("cart-latency", at=T0)
    store.save_evaluation([status("shop-availability", at=T0), cart], [])
    store.save_evaluation([status("shop-availability", at=T0 + MINUTE)], [])
    assert [(s.slo_id, s.at) for s in store.latest_statuses()] == [
        ("cart-latency", T0),
        ("shop-availability", T0 + MINUTE),
    ]
    assert ("cart-latency", "ticket") in store.load_alert_states()


def test_a_tick_is_all_or_nothing(store: SqlStateStore) -> None:
    """A transition the schema rejects rolls back the statuses saved in the same tick."""
    store.save_evaluation([status(at=T0)], [transition(T0)])
    invalid = transition(T0 + MINUTE, to_state=cast(Any, "exploded"))
    with pytest.raises(IntegrityError):
        store.save_evaluation([status(at=T0 + MINUTE, budget_remaining=0.1)], [invalid])
    assert store.latest_statuses() == [status(at=T0)]
    assert store.alert_history("shop-availability") == [transition(T0)]
    assert store.last_tick() == EvaluationTick(T0, 1, None)


DUPLICATES = {
    "the same SLO twice in one tick": [status(), status(budget_remaining=0.1)],
    "the same alert key twice in one status": [status(alerts=(page(), page("firing")))],
}


@pytest.mark.parametrize("statuses", DUPLICATES.values(), ids=DUPLICATES.keys())
def test_an_ambiguous_tick_is_a_conflict_and_saves_nothing(
    store: SqlStateStore, statuses: list[SLOStatus]
) -> None:
    with pytest.raises(ConflictError, match="twice"):
        store.save_evaluation(statuses, [transition(T0)])
    assert store.latest_statuses() == []
    assert store.alert_history("shop-availability") == []


def test_history_is_newest_first_and_limited(store: SqlStateStore) -> None:
    ticks = [T0 + i * MINUTE for i in range(6)]
    for at in ticks:
        store.save_evaluation([status(at=at)], [transition(at)])
    history = store.alert_history("shop-availability", limit=4)
    assert [t.at for t in history] == ticks[::-1][:4]
    assert len(store.alert_history("shop-availability")) == 6
    assert store.alert_history("shop-availability", limit=0) == []


def test_history_orders_transitions_at_the_same_instant_newest_saved_first(
    store: SqlStateStore,
) -> None:
    pending = transition(T0, "inactive", "pending")
    firing = transition(T0, "pending", "firing")
    ticket_opened = transition(T0, "inactive", "pending", key="ticket")
    store.save_evaluation([status()], [pending, firing])
    store.save_evaluation([status()], [ticket_opened])
    assert store.alert_history("shop-availability") == [ticket_opened, firing, pending]


def test_history_belongs_to_one_slo_and_outlives_its_alert_states(store: SqlStateStore) -> None:
    shop, cart = transition(T0), transition(T0 + MINUTE, slo_id="cart-latency")
    store.save_evaluation([status("shop-availability")], [shop])
    store.save_evaluation([status("cart-latency")], [cart])
    store.save_evaluation([status("shop-availability", alerts=())], [])
    assert store.alert_history("shop-availability") == [shop]
    assert store.alert_history("cart-latency") == [cart]
    assert store.alert_history("nobody") == []


def test_every_tick_is_logged_with_its_instant_size_and_duration(store: SqlStateStore) -> None:
    store.save_evaluation([status("a-x", at=T0), status("b-y", at=T0)], [], duration_ms=12.5)
    assert store.last_tick() == EvaluationTick(T0, 2, 12.5)
    store.save_evaluation([status("a-x", at=T0 + MINUTE)], [])
    assert store.last_tick() == EvaluationTick(T0 + MINUTE, 1, None)


def test_a_tick_without_statuses_logs_nothing_but_keeps_its_transitions(
    store: SqlStateStore,
) -> None:
    store.save_evaluation([], [transition(T0)])
    assert store.last_tick() is None
    assert store.alert_history("shop-availability") == [transition(T0)]
