"""``opsplane serve`` gates rollout steps with a ``delivery:`` section's canary judge.

The judge's queries run on the server's embedded store, once with the stable version and once
with the canary's; the samples are pushed straight into the store, timed by the server's clock.
"""

from __future__ import annotations

import random
import re
import time
from dataclasses import replace

import pytest

from opsplane.app.providers import JudgeGate
from opsplane.app.rollout_control import StateOnlyRouter
from opsplane.domain.analysis import AnalysisMetric
from opsplane.domain.delivery import JUDGE_METRIC, JUDGE_PROVIDER
from opsplane.errors import DatasourceError
from opsplane.ports import Sample
from opsplane.server.delivery import DeliveryPorts, DeliverySettings, LiveJudges, RolloutLoop
from tests.server.conftest import Server
from tests.server.test_rollouts_api import apply, routed, settled, start, wait_for

JUDGED = """delivery:
  steps: [10, 50, 100]
  analysis:
    interval: 1s
    count: 2
    judge:
      lookback: 40s
      step: 2s
      thresholds: {pass: 95, marginal: 75}
      metrics:
        - name: error-rate
          query: sum(rate(http_errors_total{service="cart",version="{{version}}"}[10s]))
          direction: increase
          critical: true
"""
UNREACHABLE = "http://127.0.0.1:9"
START = {"service": "cart", "version": "v2", "stable_version": "v1", "author": "ana"}


def push(server: Server, errors_per_second: dict[str, float]) -> None:
    """The last 90 s of cart's 5xx counters, one sample a second, per version."""
    now = server.runtime.clock.now_ms()
    noise = random.Random(3)
    samples = []
    for version, rate in errors_per_second.items():
        labels = (
            ("__name__", "http_errors_total"),
            ("service", "cart"),
            ("version", version),
        )
        total = 0.0
        for i in range(91):
            samples.append(Sample(labels, now - 90_000 + i * 1_000, total))
            total += rate * noise.uniform(0.8, 1.2)
    server.runtime.store.append(samples)


def test_a_canary_that_the_judge_finds_worse_is_rolled_back(server: Server) -> None:
    apply(server, "cart", JUDGED)
    push(server, {"v1": 1.0, "v2": 10.0})
    began = time.monotonic()
    rollout_id = start(server, START)["id"]
    done = wait_for(server, rollout_id, settled("Aborted"), within_s=10)
    assert time.monotonic() - began < 10
    assert done["weights"] == {"stable": 100, "canary": 0}
    assert routed(server, "cart") == {"stable": 100, "canary": 0}
    assert f'Metric "{JUDGE_METRIC}" assessed Failed' in done["message"]
    [metric] = done["analysis"]["metrics"]
    assert (metric["name"], metric["phase"], metric["last"]["phase"]) == (
        JUDGE_METRIC,
        "Failed",
        "Failed",
    )
    assert "error-rate was classified as High (Critical)" in metric["last"]["message"]
    assert (metric["count"], metric["failed"]) == (1, 1)  # the first step's first measurement
    assert done["step"]["index"] == 1  # the analysis after setWeight 10


def test_a_canary_as_good_as_the_stable_version_goes_to_100_percent(server: Server) -> None:
    apply(server, "cart", JUDGED)
    push(server, {"v1": 1.0, "v2": 1.0})
    rollout_id = start(server, START)["id"]
    done = wait_for(server, rollout_id, settled("Completed"), within_s=15)
    assert done["weights"] == {"stable": 0, "canary": 100}


def test_the_live_judge_is_the_stored_specs(server: Server) -> None:
    judges = LiveJudges(server.runtime.specs)
    with pytest.raises(DatasourceError, match=r"no valid delivery\.analysis\.judge"):
        judges("checkout")
    with pytest.raises(DatasourceError, match="no service 'nope'"):
        judges("nope")
    apply(server, "cart", JUDGED)
    assert [q.metric for q in judges("cart").queries] == ["error-rate"]
    apply(server, "cart", JUDGED.replace("error-rate", "fault-rate"))
    assert [q.metric for q in judges("cart").queries] == ["fault-rate"]


def test_with_analysis_prometheus_the_judge_asks_that_prometheus(server: Server) -> None:
    rt = server.runtime
    ports = DeliveryPorts(
        rt.state.engine,
        rt.store,
        rt.services,
        list,
        rt.deployments,
        rt.incidents,
        rt.clock,
        "test",
    )
    loop = RolloutLoop.open(DeliverySettings(prometheus=UNREACHABLE), StateOnlyRouter(), ports)
    try:
        gate = loop.coordinator.provider.by_name[JUDGE_PROVIDER]  # type: ignore[attr-defined]
        assert isinstance(gate, JudgeGate)
        apply(server, "cart", JUDGED)
        policy = LiveJudges(rt.specs)("cart")
        asked = replace(gate, judges=lambda _: policy, versions=lambda _: ("v1", "v2"))
        metric = AnalysisMetric(JUDGE_METRIC, provider=JUDGE_PROVIDER, query="cart")
        with pytest.raises(DatasourceError, match=re.escape(UNREACHABLE)):
            asked.measure(metric, rt.clock.now_ms())
    finally:
        loop.close()
