"""Rollouts in the state database: the whole state round-trips, writes are fenced by revision."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest

from opsplane.adapters.sql.rollouts import SqlRollouts
from opsplane.domain.analysis import AnalysisMetric, measurement_from_result
from opsplane.domain.rollout import Rollout, abort, advance, canary_steps, start
from opsplane.errors import ConflictError

T0 = 1_767_225_600_000
METRIC = AnalysisMetric("errors", success_condition="result[0] < 0.05", interval=10_000, count=3)


@pytest.fixture
def rollouts(db_url: str) -> Iterator[SqlRollouts]:
    opened = SqlRollouts.open(db_url)
    try:
        yield opened
    finally:
        opened.close()


def mid_analysis(rollout_id: str, service: str, started_at: int) -> Rollout:
    """A rollout at its 5 % step with one measurement taken and commands still pending."""
    rollout = start(
        rollout_id, service, canary_steps([METRIC]), started_at, version="v2", stable_version="v1"
    )
    return advance(
        rollout,
        started_at,
        lambda m, at: measurement_from_result(m, [0.01], started_at=at, finished_at=at),
    )


def test_a_rollout_mid_analysis_reads_back_equal(rollouts: SqlRollouts) -> None:
    rollout = replace(mid_analysis("r1", "checkout", T0), revision=1)
    rollouts.save_rollout(rollout, None)
    assert rollouts.rollout("r1") == rollout
    assert rollouts.rollout("nope") is None


def test_a_write_from_a_stale_revision_or_a_second_insert_conflicts(
    rollouts: SqlRollouts,
) -> None:
    first = replace(mid_analysis("r1", "checkout", T0), revision=1)
    rollouts.save_rollout(first, None)
    with pytest.raises(ConflictError, match="exists already"):
        rollouts.save_rollout(first, None)
    second = replace(first.settled(), revision=2)
    rollouts.save_rollout(second, 1)
    with pytest.raises(ConflictError, match="changed since"):
        rollouts.save_rollout(replace(first, revision=2), 1)
    assert rollouts.rollout("r1") == second


def test_active_rollouts_include_ended_ones_with_commands_left(rollouts: SqlRollouts) -> None:
    running = replace(mid_analysis("a", "checkout", T0), revision=1)
    aborted = abort(replace(mid_analysis("b", "search", T0 + 1), revision=1), T0 + 2, "by hand")
    done = replace(aborted.settled(), id="c", started_at=T0 + 2)
    for rollout in (running, aborted, done):
        rollouts.save_rollout(rollout, None)
    assert [r.id for r in rollouts.rollouts()] == ["c", "b", "a"]
    assert [r.id for r in rollouts.rollouts(active_only=True)] == ["b", "a"]
    assert [r.id for r in rollouts.rollouts(service="search")] == ["c", "b"]
