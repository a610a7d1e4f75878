"""RolloutControl records an operator's action for the coordinator, and survives racing it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from opsplane.app.rollout import RolloutCoordinator, RolloutRequest, waits_for_controller
from opsplane.app.rollout_control import RolloutControl, StateOnlyRouter
from opsplane.domain.analysis import AnalysisMetric
from opsplane.domain.rollout import CanaryStrategy, Pause, Rollout, SetWeight
from opsplane.errors import ConflictError, SpecError, UsageError
from opsplane.testing import (
    FakeClock,
    FunctionMetricProvider,
    InMemoryDeployments,
    InMemoryRollouts,
)
from opsplane.types import Millis

MANUAL = CanaryStrategy((SetWeight(10), Pause(None), SetWeight(50), Pause(None)))


@dataclass
class RacingRollouts(InMemoryRollouts):
    """Runs ``before_save`` once, just before the next save: another writer gets there first."""

    before_save: list[Callable[[], object]] = field(default_factory=list)

    def save_rollout(self, rollout: Rollout, previous: int | None) -> None:
        while self.before_save:
            self.before_save.pop()()
        super().save_rollout(rollout, previous)


def never(metric: AnalysisMetric, at: Millis) -> list[float]:
    raise AssertionError("no analysis in this strategy")


def parts() -> tuple[RacingRollouts, RolloutControl, RolloutCoordinator, StateOnlyRouter]:
    store, clock, router = RacingRollouts(), FakeClock(), StateOnlyRouter()
    coordinator = RolloutCoordinator(
        store, router, InMemoryDeployments(), FunctionMetricProvider(never), clock
    )
    return store, RolloutControl(store, clock), coordinator, router


def test_a_recorded_start_and_promote_are_taken_by_the_next_tick() -> None:
    store, control, coordinator, router = parts()
    started = control.start(RolloutRequest("shop", "v2", "v1", MANUAL), "r1")
    assert waits_for_controller(started)
    assert router.weights("shop") == {}
    coordinator.tick()
    assert router.weights("shop") == {"stable": 90, "canary": 10}
    paused = store.by_id["r1"]
    assert (paused.phase, waits_for_controller(paused)) == ("Paused", False)
    promoted = control.promote("r1")
    assert waits_for_controller(promoted)
    coordinator.tick()
    assert router.weights("shop") == {"stable": 50, "canary": 50}


def test_a_promote_that_races_the_coordinators_step_is_computed_again_on_the_new_state() -> None:
    store, control, coordinator, router = parts()
    control.start(RolloutRequest("shop", "v2", "v1", MANUAL), "r1")
    store.before_save.append(lambda: coordinator.reconcile("r1"))  # 10 %, then the pause
    promoted = control.promote("r1")  # read at step 0, refused, read again at the pause
    assert promoted.step_index == 2
    coordinator.tick()
    assert router.weights("shop") == {"stable": 50, "canary": 50}


def test_an_abort_records_the_rollback_and_a_second_one_is_a_conflict() -> None:
    _, control, coordinator, router = parts()
    control.start(RolloutRequest("shop", "v2", "v1", MANUAL), "r1")
    coordinator.tick()
    aborted = control.abort("r1", "aborted by ana")
    assert aborted.phase == "Aborted"
    assert router.weights("shop") == {"stable": 90, "canary": 10}
    coordinator.tick()
    assert router.weights("shop") == {"stable": 100, "canary": 0}
    with pytest.raises(ConflictError, match="is Aborted; it cannot be aborted"):
        control.abort("r1", "again")


@pytest.mark.parametrize(
    ("version", "stable", "problem"),
    [
        pytest.param("v 2", "v1", "'v 2' is not a version", id="a space"),
        pytest.param("v2", "", "'' is not a version", id="an empty stable version"),
        pytest.param("v1", "v1", "is the stable version 'v1' itself", id="the same version"),
    ],
)
def test_invalid_versions_are_refused_before_anything_is_stored(
    version: str, stable: str, problem: str
) -> None:
    store, control, _, _ = parts()
    with pytest.raises(SpecError, match=problem):
        control.start(RolloutRequest("shop", version, stable, MANUAL))
    assert store.by_id == {}


def test_the_state_only_router_keeps_the_split_and_refuses_one_not_adding_up_to_100() -> None:
    router = StateOnlyRouter()
    router.set_weights("shop", {"stable": 75, "canary": 25})
    assert router.weights("shop") == {"stable": 75, "canary": 25}
    with pytest.raises(UsageError, match="must add up to 100"):
        router.set_weights("shop", {"stable": 75, "canary": 20})
    assert router.weights("shop") == {"stable": 75, "canary": 25}
