"""A rollout on the SQLite state database resumes where it was after the process restarts."""

from __future__ import annotations

from pathlib import Path

from opsplane.adapters.sql.deployments import SqlDeployments
from opsplane.adapters.sql.rollouts import SqlRollouts
from opsplane.app.rollout import RolloutCoordinator, RolloutRequest
from opsplane.domain.analysis import AnalysisMetric
from opsplane.domain.rollout import canary_steps
from opsplane.testing import FakeClock, FunctionMetricProvider, InMemoryTrafficRouter

METRIC = AnalysisMetric("errors", success_condition="result[0] < 0.05", interval=10_000, count=3)


def coordinator(
    rollouts: SqlRollouts, clock: FakeClock, router: InMemoryTrafficRouter
) -> RolloutCoordinator:
    return RolloutCoordinator(
        rollouts,
        router,
        SqlDeployments(rollouts.engine),
        FunctionMetricProvider(lambda metric, at: [0.0]),
        clock,
    )


def run(coordinator: RolloutCoordinator, clock: FakeClock, until: int) -> None:
    while (wake := coordinator.tick()) is not None and wake <= until:
        clock.now = max(clock.now, wake)


def test_a_restart_mid_rollout_resumes_the_same_step_and_analysis(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    clock, router = FakeClock(), InMemoryTrafficRouter()
    store = SqlRollouts.open(url)
    first = coordinator(store, clock, router)
    first.start(RolloutRequest("checkout", "v2", "v1", canary_steps([METRIC])), "r1")
    run(first, clock, until=clock.now + 25_000)  # the 5 % analysis ended at 20 s
    store.close()

    store = SqlRollouts.open(url)
    second = coordinator(store, clock, router)
    resumed = store.rollout("r1")
    assert resumed is not None
    assert (resumed.phase, resumed.weight) == ("Progressing", 25)
    assert resumed.analysis is not None
    assert resumed.analysis.result("errors").count == 1
    run(second, clock, until=clock.now + 3_600_000)
    assert router.weights("checkout") == {"stable": 0, "canary": 100}
    versions = sorted(d.version for d in second.deployments.deployments(0, "checkout"))
    # one event per step and one for the whole rollout: none lost or repeated by the restart
    assert versions == ["v2", "v2 canary 100%", "v2 canary 25%", "v2 canary 5%", "v2 canary 50%"]
    store.close()
