"""The rollout coordinator on fakes: traffic, deployment events, incidents, durability."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field, replace

import pytest

from opsplane.app.rollout import RolloutCoordinator, RolloutRequest, concerns
from opsplane.domain.analysis import AnalysisMetric
from opsplane.domain.incidents import Incident, TimelineEvent
from opsplane.domain.rollout import BlueGreenStrategy, CanaryStrategy, Rollout, canary_steps
from opsplane.errors import ConflictError, NotFoundError, UsageError
from opsplane.testing import (
    FakeClock,
    FunctionMetricProvider,
    InMemoryDeployments,
    InMemoryIncidents,
    InMemoryRollouts,
    InMemoryTrafficRouter,
)
from opsplane.types import Millis

SECOND: Millis = 1_000
ERRORS = AnalysisMetric(
    "error-ratio",
    success_condition="result[0] < 0.05",
    interval=10 * SECOND,
    count=3,
    query="errors",
)


@dataclass
class World:
    """A coordinator's surroundings, kept across restarts (a new coordinator on the same state)."""

    clock: FakeClock = field(default_factory=FakeClock)
    store: InMemoryRollouts = field(default_factory=InMemoryRollouts)
    router: InMemoryTrafficRouter = field(
        default_factory=lambda: InMemoryTrafficRouter(backends=("stable", "canary"))
    )
    deployments: InMemoryDeployments = field(default_factory=InMemoryDeployments)
    incidents: InMemoryIncidents = field(default_factory=InMemoryIncidents)
    error_ratio: float = 0.0
    scaled_down: list[tuple[str, str]] = field(default_factory=list)

    def coordinator(self) -> RolloutCoordinator:
        return RolloutCoordinator(
            self.store,
            self.router,
            self.deployments,
            FunctionMetricProvider(lambda metric, at: [self.error_ratio]),
            self.clock,
            incidents=self.incidents,
            scale_down=lambda service, backend: self.scaled_down.append((service, backend)),
        )

    def run(self, coordinator: RolloutCoordinator, until: Millis) -> None:
        """Tick at every wake-up until nothing is due or ``until``."""
        while (wake := coordinator.tick()) is not None and wake <= until:
            self.clock.now = max(self.clock.now, wake)

    def versions(self) -> list[str]:
        """The deployment events, in the order they were recorded."""
        return [d.version for d in self.deployments.recorded if d.service == "checkout"]


REQUEST = RolloutRequest("checkout", "v2", "v1", canary_steps([ERRORS]), author="ci")


def test_starting_applies_the_first_weight_and_records_it_as_a_deployment() -> None:
    world = World()
    rollout = world.coordinator().start(REQUEST, "r1")
    assert world.router.weights("checkout") == {"stable": 95, "canary": 5}
    [event] = world.deployments.deployments(0, "checkout")
    assert (event.version, event.author, event.started_at) == (
        "v2 canary 5%",
        "ci",
        world.clock.now,
    )
    assert world.store.rollout("r1") == rollout
    assert rollout.pending == ()


def test_a_healthy_canary_completes_with_one_event_per_step() -> None:
    world = World()
    coordinator = world.coordinator()
    coordinator.start(REQUEST, "r1")
    world.run(coordinator, until=world.clock.now + 3_600 * SECOND)
    assert world.store.rollout("r1").phase == "Completed"  # type: ignore[union-attr]
    assert world.router.weights("checkout") == {"stable": 0, "canary": 100}
    assert world.versions() == [
        "v2 canary 5%",
        "v2 canary 25%",
        "v2 canary 50%",
        "v2 canary 100%",
        "v2",
    ]
    assert world.store.rollouts(active_only=True) == []


def incident(incident_id: str, group_key: str) -> Incident:
    fired = (TimelineEvent(0, "fired", "CheckoutAvailability fired"),)
    return Incident(incident_id, group_key, "CheckoutAvailability", "P1", 0, fired)


def test_a_failing_canary_is_rolled_back_and_the_rollback_lands_in_the_open_incident() -> None:
    world = World()
    world.incidents.save_incident(incident("mine", '{}:{sloth_service="checkout"}'))
    world.incidents.save_incident(incident("theirs", '{}:{sloth_service="search"}'))
    coordinator = world.coordinator()
    coordinator.start(REQUEST, "r1")
    world.run(coordinator, until=world.clock.now + 15 * SECOND)  # into the 25 % step
    world.error_ratio = 0.4
    world.run(coordinator, until=world.clock.now + 3_600 * SECOND)
    rollout = world.store.rollout("r1")
    assert rollout is not None
    assert rollout.phase == "Aborted"
    assert world.router.weights("checkout") == {"stable": 100, "canary": 0}
    assert world.versions()[-1] == "v2 rolled back to v1 (analysis Failed)"
    mine, theirs = world.incidents.incident("mine"), world.incidents.incident("theirs")
    assert mine is not None
    assert theirs is not None
    [correlated] = [e for e in mine.timeline if e.kind == "deployment_correlated"]
    assert correlated.detail.startswith("rollout of checkout v2 rolled back to v1: analysis Failed")
    assert [e.kind for e in theirs.timeline] == ["fired"]


@pytest.mark.parametrize(
    ("group_key", "timeline_detail", "expected"),
    [
        ('{}:{sloth_service="checkout"}', "", True),
        ('{}:{service="checkout", severity="P1"}', "", True),
        ("{}:{}", "checkout v2 canary 25% deployed 3m before it fired", True),
        ('{}:{sloth_service="checkout-admin"}', "", False),
        ("{}:{}", "checkout-admin v7 deployed 1m before it fired", False),
    ],
    ids=[
        "an incident grouped by sloth_service concerns that service",
        "one grouped by a service label does too",
        "one that alerting correlated with the service's deployment does too",
        "a service whose name starts alike does not",
        "nor one correlated with that other service's deployment",
    ],
)
def test_which_incidents_concern_a_service(
    group_key: str, timeline_detail: str, expected: bool
) -> None:
    found = incident("i", group_key)
    if timeline_detail:
        event = TimelineEvent(1, "deployment_correlated", timeline_detail)
        found = replace(found, timeline=(*found.timeline, event))
    assert concerns(found, "checkout") is expected


def test_a_restarted_coordinator_continues_the_analysis_where_it_was() -> None:
    world = World()
    world.coordinator().start(REQUEST, "r1")
    world.clock.advance(10 * SECOND)
    before = world.coordinator().reconcile("r1")
    assert before.analysis is not None
    assert before.analysis.result("error-ratio").count == 2
    restarted = world.coordinator()  # nothing kept in memory
    world.clock.advance(10 * SECOND)
    after = restarted.reconcile("r1")
    assert after.weight == 25  # the third measurement ended the 5 % analysis
    world.run(restarted, until=world.clock.now + 3_600 * SECOND)
    assert world.versions().count("v2 canary 5%") == 1


def test_a_rollback_the_router_could_not_apply_is_applied_after_a_restart() -> None:
    world = World()
    coordinator = world.coordinator()
    coordinator.start(REQUEST, "r1")
    world.error_ratio = 1.0
    world.router.unavailable = True
    world.clock.advance(10 * SECOND)
    assert coordinator.tick() is not None  # logged and retried, not raised
    stored = world.store.rollout("r1")
    assert stored is not None
    assert stored.phase == "Aborted"
    assert stored.pending  # the rollback is kept until it is carried out
    assert world.router.weights("checkout") == {"stable": 95, "canary": 5}
    world.router.unavailable = False
    world.coordinator().tick()  # a new coordinator on the same store
    assert world.router.weights("checkout") == {"stable": 100, "canary": 0}
    assert world.store.rollouts(active_only=True) == []
    assert world.versions()[-1] == "v2 rolled back to v1 (analysis Failed)"


def test_manual_promote_and_abort() -> None:
    world = World()
    coordinator = world.coordinator()
    paused = CanaryStrategy(canary_steps([], weights=(10, 50, 100), pause=None).steps)
    coordinator.start(replace(REQUEST, strategy=paused), "r1")
    assert world.router.weights("checkout") == {"stable": 90, "canary": 10}
    promoted = coordinator.promote("r1")
    assert (promoted.phase, promoted.weight) == ("Paused", 50)
    aborted = coordinator.abort("r1", "aborted by ana")
    assert aborted.phase == "Aborted"
    assert world.router.weights("checkout") == {"stable": 100, "canary": 0}
    assert world.versions()[-1] == "v2 rolled back to v1 (aborted by ana)"
    with pytest.raises(ConflictError):
        coordinator.promote("r1")
    with pytest.raises(NotFoundError):
        coordinator.abort("nope", "why")


class RacedRollouts(InMemoryRollouts):
    """A store where another coordinator takes the step just after a promote reads it back."""

    def __init__(self) -> None:
        super().__init__()
        self.other: RolloutCoordinator | None = None

    def rollout(self, rollout_id: str) -> Rollout | None:
        found = super().rollout(rollout_id)
        if self.other is not None and found is not None and found.phase == "Progressing":
            other, self.other = self.other, None
            other.reconcile(rollout_id)  # it saves first; the reader holds a stale copy
        return found


def test_a_promote_another_coordinator_advances_at_once_still_succeeds() -> None:
    world = World(store=RacedRollouts())
    coordinator = world.coordinator()
    paused = CanaryStrategy(canary_steps([], weights=(10, 50, 100), pause=None).steps)
    coordinator.start(replace(REQUEST, strategy=paused), "r1")
    assert isinstance(world.store, RacedRollouts)
    world.store.other = world.coordinator()  # e.g. the serve loop's thread, or a replica
    promoted = coordinator.promote("r1")  # its own step after the promote meets a conflict
    assert (promoted.phase, promoted.weight) == ("Paused", 50)
    assert world.router.weights("checkout") == {"stable": 50, "canary": 50}


def test_one_rollout_per_service_at_a_time_and_stale_writes_are_refused() -> None:
    world = World()
    coordinator = world.coordinator()
    first = coordinator.start(REQUEST, "r1")
    with pytest.raises(ConflictError, match="in progress"):
        coordinator.start(replace(REQUEST, version="v3"), "r2")
    with pytest.raises(ConflictError, match="changed since"):
        world.store.save_rollout(replace(first, revision=first.revision + 1), first.revision - 1)


def test_an_invalid_strategy_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match=r"within 0\.\.100"):
        World().coordinator().start(replace(REQUEST, strategy=canary_steps([], weights=(150,))))


def test_blue_green_scales_the_old_version_down_after_the_delay() -> None:
    world = World()
    coordinator = world.coordinator()
    strategy = BlueGreenStrategy(pre_promotion=(ERRORS,), scale_down_delay=30 * SECOND)
    coordinator.start(replace(REQUEST, strategy=strategy), "r1")
    assert world.router.weights("checkout") == {"stable": 100, "canary": 0}
    world.run(coordinator, until=world.clock.now + 3_600 * SECOND)
    assert world.router.weights("checkout") == {"stable": 0, "canary": 100}
    assert world.scaled_down == [("checkout", "stable")]
    assert world.versions() == [
        "v2 blue-green preview",
        "v2 blue-green promoted",
        "v1 scaled down",
        "v2",
    ]


@dataclass
class HiccupStore(InMemoryRollouts):
    """Rollouts whose listing fails ``hiccups`` times, as a database that went away briefly."""

    hiccups: int = 0

    def rollouts(self, *, active_only: bool = False, service: str | None = None) -> list[Rollout]:
        if self.hiccups:
            self.hiccups -= 1
            raise RuntimeError("database went away")
        return super().rollouts(active_only=active_only, service=service)


def test_the_loop_outlives_a_failing_tick_and_carries_the_rollout_on() -> None:
    world = World(store=HiccupStore())
    coordinator = world.coordinator()
    coordinator.start(REQUEST, "r1")
    world.error_ratio = 1.0
    world.clock.advance(10 * SECOND)
    world.store.hiccups = 2  # type: ignore[attr-defined]
    stop = threading.Event()
    loop = threading.Thread(target=coordinator.run, args=(stop,), kwargs={"idle_wait_ms": 1})
    loop.start()
    try:
        deadline = time.monotonic() + 10
        while world.router.weights("checkout") != {"stable": 100, "canary": 0}:
            assert time.monotonic() < deadline, "the loop did not roll back after its hiccups"
            time.sleep(0.005)
    finally:
        stop.set()
        loop.join(timeout=10)
    assert not loop.is_alive()
    assert world.store.hiccups == 0  # type: ignore[attr-defined]


@dataclass
class RacingIncidents(InMemoryIncidents):
    """Incidents whose next ``conflicts`` saves lose a race with the alerting pipeline."""

    conflicts: int = 0

    def save_incident(self, incident: Incident) -> None:
        if self.conflicts:
            self.conflicts -= 1
            raise ConflictError(f"incident {incident.id} changed since it was read")
        super().save_incident(incident)


def test_a_command_that_fails_is_retried_without_repeating_the_ones_before_it() -> None:
    world = World(incidents=RacingIncidents())
    world.incidents.save_incident(incident("mine", '{}:{sloth_service="checkout"}'))
    coordinator = world.coordinator()
    coordinator.start(REQUEST, "r1")
    world.error_ratio = 1.0
    world.clock.advance(10 * SECOND)
    world.incidents.conflicts = 1  # type: ignore[attr-defined]
    coordinator.tick()
    stored = world.store.rollout("r1")
    assert stored is not None
    assert [type(c).__name__ for c in stored.pending] == ["CorrelateIncidents"]
    assert world.router.weights("checkout") == {"stable": 100, "canary": 0}
    coordinator.tick()
    assert world.store.rollouts(active_only=True) == []
    assert world.versions().count("v2 rolled back to v1 (analysis Failed)") == 1
    mine = world.incidents.incident("mine")
    assert mine is not None
    assert [e.kind for e in mine.timeline] == ["fired", "deployment_correlated"]
