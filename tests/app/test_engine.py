"""The engine evaluates every SLO per tick, keeps alert states across ticks and restarts."""

from __future__ import annotations

from opsplane.app.engine import Engine
from opsplane.domain.duration import HOUR, MINUTE
from opsplane.domain.slo import SLO, Alerting, EventsSLI, Origin, Service
from opsplane.testing import FakeClock, FunctionReader, InMemoryStateStore
from opsplane.types import Millis

EVENTS = EventsSLI(
    'sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))',
    "sum(rate(http_requests_total[{{.window}}]))",
)
SHOP = Service(
    "shop",
    (SLO("shop", "availability", 99.9, EVENTS, alerting=Alerting(name="ShopAvailability")),),
    Origin("shop.yaml", 0, "opsplane/v1", "Service"),
)
BURN_START = FakeClock().now


def burning(slo_id: str, window: Millis, at: Millis) -> float | None:
    """2 % errors from BURN_START on, over any window (a 20x burn on a 99.9 % SLO)."""
    return 0.02 if at >= BURN_START else 0.0


def test_a_twenty_x_burn_pages_and_tickets_at_once() -> None:
    engine = Engine([SHOP], FunctionReader(burning))
    tick = engine.tick(BURN_START)
    (status,) = tick.statuses
    states = {a.key: a.state for a in status.alerts}
    assert states == {"page": "firing", "ticket": "firing"}
    assert {(t.key, t.from_state, t.to_state) for t in tick.transitions} == {
        ("page", "inactive", "firing"),
        ("ticket", "inactive", "firing"),
    }
    assert status.budget_remaining is not None
    assert abs(status.budget_remaining - (1 - 0.02 / 0.001)) < 1e-9


def test_alert_states_survive_a_restart_through_the_state_store() -> None:
    store = InMemoryStateStore()
    Engine([SHOP], FunctionReader(burning), state=store).tick(BURN_START)
    restarted = Engine([SHOP], FunctionReader(burning), state=store)
    tick = restarted.tick(BURN_START + MINUTE)
    assert tick.transitions == []  # still firing: nothing new to notify
    assert store.alert_history("shop-availability")[0].to_state == "firing"


def test_replay_rebuilds_resolved_state_without_a_scheduler() -> None:
    def burst(slo_id: str, window: Millis, at: Millis) -> float | None:
        return 0.02 if BURN_START <= at < BURN_START + 10 * MINUTE else 0.0

    tick = Engine([SHOP], FunctionReader(burst)).replay(BURN_START + 12 * MINUTE)
    (status,) = tick.statuses
    assert {a.key: a.state for a in status.alerts} == {"page": "resolved", "ticket": "resolved"}
    later = Engine([SHOP], FunctionReader(burst)).replay(BURN_START + HOUR)
    assert {a.state for a in later.statuses[0].alerts} == {"inactive"}
