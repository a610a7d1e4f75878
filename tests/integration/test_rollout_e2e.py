"""A canary rollout through the built-in proxy, end to end, on real local HTTP backends.

Two backends (``blue`` and ``green``) sit behind :class:`ProxyRouter`; a load generator sends
requests through the proxy without pause and counts who answered (``X-Backend``) and how.
The coordinator runs on its own thread on the SQLite state database, with a 1 s analysis
interval whose metric is the proxy's 5xx ratio of the canary backend
(:class:`CounterRatioProvider` over ``ProxyRouter.stats``):

1. ``v2`` on green over ``v1`` on blue walks 5 -> 25 -> 50 -> 100. Each step is an analysis
   (three measurements) and then a pause, promoted once 2,500 answers were seen at that step,
   so 10,000 answers are judged against the weights. Each step's observed split is within
   +-2 percentage points of its weight.
2. ``v3`` goes out on blue over ``v2`` on green. During its 25 % step, blue starts answering
   500. The next measurements fail the analysis, and the coordinator sends 100 % back to
   green within two analysis intervals; the rollback is a deployment event and an entry in
   the open incident's timeline.

Every wait is bounded; the whole test takes about 30 s on an idle two-CPU machine.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from opsplane.adapters.sql.deployments import SqlDeployments
from opsplane.adapters.sql.incidents import SqlIncidents
from opsplane.adapters.sql.rollouts import SqlRollouts
from opsplane.adapters.traffic import ProxyRouter
from opsplane.app.providers import CounterRatioProvider, Providers
from opsplane.app.rollout import RolloutCoordinator, RolloutRequest
from opsplane.cli.wiring import SystemClock
from opsplane.domain.analysis import AnalysisMetric
from opsplane.domain.incidents import open_or_join
from opsplane.domain.rollout import canary_steps
from opsplane.errors import ConflictError
from tests.adapters.traffic.backends import Backend

SERVICE = "checkout"
INTERVAL_MS = 1_000
WEIGHTS = (5, 25, 50, 100)
PER_STEP = 2_500
"""Answers judged per step: 4 x 2,500 = the 10,000 the issue asks for."""
TOLERANCE_PP = 2.0
LOAD_THREADS = 6
STEP_DEADLINE_S = 15.0
ROLLBACK_DEADLINE_S = 30.0
BUDGET_S = 55.0
"""No wait goes past this many seconds after the test started, whatever its own deadline."""


def error_ratio(backend: str) -> AnalysisMetric:
    """The canary backend's 5xx ratio since the previous measurement, every second, 3 times.

    The first measurement waits one interval (``initialDelay``), so that it covers requests
    sent at the step's weight rather than none at all.
    """
    return AnalysisMetric(
        "error-ratio",
        success_condition="result[0] < 0.05",
        interval=INTERVAL_MS,
        initial_delay=INTERVAL_MS,
        count=3,
        provider="proxy",
        query=backend,
    )


@dataclass
class Load:
    """Requests through the proxy on a few threads; answers counted by backend and status."""

    url: str
    answers: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)

    def snapshot(self) -> tuple[Counter[str], Counter[str]]:
        with self.lock:
            return Counter(self.answers), Counter(self.errors)

    def _send(self) -> None:
        with httpx.Client(timeout=10.0) as client:
            while not self.stop.is_set():
                response = client.get(self.url + "/buy")
                backend = response.headers.get("x-backend", "proxy")
                with self.lock:
                    self.answers[backend] += 1
                    if response.status_code >= 500:
                        self.errors[backend] += 1


@contextmanager
def running_load(url: str) -> Iterator[Load]:
    load = Load(url)
    threads = [threading.Thread(target=load._send, daemon=True) for _ in range(LOAD_THREADS)]
    for thread in threads:
        thread.start()
    try:
        yield load
    finally:
        load.stop.set()
        for thread in threads:
            thread.join(timeout=15)


_STARTED = [time.monotonic()]


def wait_for(condition: Callable[[], bool], deadline_s: float, what: str) -> float:
    """Poll every 10 ms until ``condition()``; the monotonic time it held, or fail.

    The wait ends at ``deadline_s`` or at the test's :data:`BUDGET_S`, whichever is first.
    """
    end = min(time.monotonic() + deadline_s, _STARTED[0] + BUDGET_S)
    while time.monotonic() < end:
        if condition():
            return time.monotonic()
        time.sleep(0.01)
    spent = time.monotonic() - _STARTED[0]
    pytest.fail(
        f"not within {deadline_s:g} s (or the {BUDGET_S:g} s budget, {spent:.0f} s spent): {what}"
    )


def promote(coordinator: RolloutCoordinator, rollout_id: str) -> None:
    """Promote, reading again if the coordinator's thread moved the rollout meanwhile."""
    for _ in range(20):
        try:
            coordinator.promote(rollout_id)
            return
        except ConflictError:
            time.sleep(0.01)
    pytest.fail(f"rollout {rollout_id} kept changing under promote")


@dataclass
class Stack:
    proxy: ProxyRouter
    blue: Backend
    green: Backend
    coordinator: RolloutCoordinator
    deployments: SqlDeployments
    incidents: SqlIncidents


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    _STARTED[0] = time.monotonic()
    blue, green = Backend("blue"), Backend("green")
    blue.start()
    green.start()
    proxy = ProxyRouter(
        SERVICE, {"blue": blue.url, "green": green.url}, weights={"blue": 100, "green": 0}
    )
    proxy.start()
    rollouts = SqlRollouts.open(f"sqlite:///{tmp_path / 'state.db'}")

    def counters(backend: str) -> tuple[int, int] | None:
        stats = proxy.stats().get(backend)
        return None if stats is None else (stats.requests, stats.server_errors)

    coordinator = RolloutCoordinator(
        rollouts,
        proxy,
        SqlDeployments(rollouts.engine),
        Providers({"proxy": CounterRatioProvider(counters)}),
        SystemClock(),
        incidents=SqlIncidents(rollouts.engine),
    )
    stop = threading.Event()
    runner = threading.Thread(target=coordinator.run, args=(stop,), kwargs={"idle_wait_ms": 20})
    runner.start()
    try:
        yield Stack(
            proxy,
            blue,
            green,
            coordinator,
            SqlDeployments(rollouts.engine),
            SqlIncidents(rollouts.engine),
        )
    finally:
        stop.set()
        runner.join(timeout=15)
        proxy.stop()
        blue.stop()
        green.stop()
        rollouts.close()


def phase(stack: Stack, rollout_id: str) -> str:
    rollout = stack.coordinator.store.rollout(rollout_id)
    return "" if rollout is None else rollout.phase


def walk_healthy_rollout(stack: Stack, load: Load) -> list[tuple[int, float, int]]:
    """v2 on green, step by step; per step: (weight, observed green %, answers judged)."""
    steps = canary_steps([error_ratio("green")], WEIGHTS, pause=None)  # a pause after each
    request = RolloutRequest(SERVICE, "v2", "v1", steps, backends=("blue", "green"))
    rollout = stack.coordinator.start(request, "v2")
    observed = []
    for weight in WEIGHTS:
        wait_for(
            lambda w=weight: stack.proxy.weights(SERVICE).get("green") == w,
            STEP_DEADLINE_S,
            f"the proxy sends {weight} % to green",
        )
        before, _ = load.snapshot()
        wait_for(
            lambda b=before: (load.snapshot()[0] - b).total() >= PER_STEP,
            STEP_DEADLINE_S,
            f"{PER_STEP} answers at {weight} %",
        )
        after, _ = load.snapshot()
        step = after - before
        observed.append((weight, 100 * step["green"] / step.total(), step.total()))
        wait_for(
            lambda: phase(stack, rollout.id) == "Paused",
            STEP_DEADLINE_S,
            f"the analysis at {weight} % passed",
        )
        promote(stack.coordinator, rollout.id)
    wait_for(
        lambda: phase(stack, rollout.id) == "Completed",
        STEP_DEADLINE_S,
        "v2 completed",
    )
    return observed


def test_a_canary_walks_its_steps_then_a_bad_one_is_rolled_back(stack: Stack) -> None:
    incident, _ = open_or_join(
        [],
        group_key=f'{{}}:{{sloth_service="{SERVICE}"}}',
        alert="CheckoutAvailability",
        severity="P1",
        at=SystemClock().now_ms(),
        new_id="inc-1",
    )
    stack.incidents.save_incident(incident)
    with running_load(stack.proxy.url) as load:
        observed = walk_healthy_rollout(stack, load)
        for weight, green_percent, judged in observed:
            print(f"step {weight:3d} %: green {green_percent:6.2f} % of {judged} answers")
            assert abs(green_percent - weight) <= TOLERANCE_PP
        assert sum(judged for _, _, judged in observed) >= len(WEIGHTS) * PER_STEP
        assert stack.proxy.weights(SERVICE) == {"blue": 0, "green": 100}

        # v3 goes out on blue, over v2 on green, and turns bad at its 25 % step
        request = RolloutRequest(
            SERVICE,
            "v3",
            "v2",
            canary_steps([error_ratio("blue")], WEIGHTS),
            backends=("green", "blue"),
        )
        stack.coordinator.start(request, "v3")
        wait_for(
            lambda: stack.proxy.weights(SERVICE).get("blue") == 25,
            STEP_DEADLINE_S,
            "the proxy sends 25 % to blue",
        )
        time.sleep(0.3)
        stack.blue.status = 500
        turned_bad = time.monotonic()
        rolled_back = wait_for(
            lambda: stack.proxy.weights(SERVICE) == {"green": 100, "blue": 0},
            ROLLBACK_DEADLINE_S,
            "100 % back on green",
        )
        after_rollback, _ = load.snapshot()
        wait_for(
            lambda: (load.snapshot()[0] - after_rollback).total() >= 500,
            STEP_DEADLINE_S,
            "500 answers after the rollback",
        )
        since = load.snapshot()[0] - after_rollback
    seconds = rolled_back - turned_bad
    print(f"rolled back {seconds:.2f} s after the canary turned bad")
    assert seconds <= 2 * INTERVAL_MS / 1000
    assert since["blue"] <= LOAD_THREADS  # at most the requests in flight at the switch
    assert since["green"] >= 500 - LOAD_THREADS

    rollout = stack.coordinator.store.rollout("v3")
    assert rollout is not None
    assert rollout.phase == "Aborted"
    assert 'Metric "error-ratio" assessed Failed' in rollout.message
    versions = [d.version for d in stack.deployments.deployments(0, SERVICE)]
    assert "v3 rolled back to v2 (analysis Failed)" in versions
    assert {"v2 canary 5%", "v2 canary 100%", "v3 canary 25%"} <= set(versions)
    timeline = stack.incidents.incident("inc-1").timeline  # type: ignore[union-attr]
    correlated = [e.detail for e in timeline if e.kind == "deployment_correlated"]
    assert correlated == [
        f"rollout of checkout v3 rolled back to v2: {rollout.message}",
    ]
