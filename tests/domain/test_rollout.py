"""The rollout step machine: canary steps and blue-green, gated by analyses, with rollback."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from opsplane.domain.analysis import AnalysisMetric, Measurement, measurement_from_result
from opsplane.domain.rollout import (
    Analyze,
    BlueGreenStrategy,
    CanaryStrategy,
    Command,
    CorrelateIncidents,
    Pause,
    RecordEvent,
    Rollout,
    ScaleDown,
    SetWeight,
    SetWeights,
    Strategy,
    abort,
    advance,
    canary_steps,
    promote,
    start,
)
from opsplane.domain.rollout_codec import rollout_from_json, rollout_to_json
from opsplane.errors import ConflictError, DatasourceError
from opsplane.types import Millis

T0: Millis = 1_767_225_600_000
SECOND: Millis = 1_000
ERRORS = AnalysisMetric(
    "error-ratio",
    success_condition="result[0] < 0.05",
    interval=10 * SECOND,
    count=3,
    provider="fixed",
    query="errors",
)
"""Three measurements 10 s apart; the first Failed one fails the run (failureLimit 0)."""


def provider(
    values: dict[int, float] | None = None, default: float = 0.0
) -> Callable[[AnalysisMetric, Millis], Measurement]:
    """Measures ``values[weight-independent second]`` (else ``default``) as ``[value]``."""

    def measure(metric: AnalysisMetric, at: Millis) -> Measurement:
        value = (values or {}).get((at - T0) // SECOND, default)
        return measurement_from_result(metric, [value], started_at=at, finished_at=at)

    return measure


def new(strategy: Strategy) -> Rollout:
    return start("r1", "checkout", strategy, T0, version="v2", stable_version="v1", author="ci")


def run_to_end(
    rollout: Rollout,
    measure: Callable[[AnalysisMetric, Millis], Measurement],
    *,
    until: Millis = T0 + 3_600 * SECOND,
) -> tuple[Rollout, list[tuple[Millis, Command]]]:
    """Advance at every wake-up, settling commands as a runner would; the commands in order."""
    now, done = T0, []
    rollout = advance(rollout, now, measure)
    while True:
        done += [(now, c) for c in rollout.pending]
        rollout = rollout.settled()
        wake = rollout.next_wake_at()
        if wake is None or wake > until:
            return rollout, done
        now = wake
        rollout = advance(rollout, now, measure)


def events(done: list[tuple[Millis, Command]]) -> list[str]:
    return [c.version for _, c in done if isinstance(c, RecordEvent)]


def weights(done: list[tuple[Millis, Command]]) -> list[dict[str, int]]:
    return [dict(c.weights) for _, c in done if isinstance(c, SetWeights)]


def test_the_default_canary_steps_5_25_50_100_with_an_analysis_after_each() -> None:
    assert canary_steps([ERRORS]).steps == tuple(
        step for w in (5, 25, 50, 100) for step in (SetWeight(w), Analyze((ERRORS,)))
    )


def test_a_healthy_canary_walks_every_step_and_completes_on_100_percent() -> None:
    rollout, done = run_to_end(new(canary_steps([ERRORS])), provider())
    assert rollout.phase == "Completed"
    assert rollout.weight == 100
    assert events(done) == [
        "v2 canary 5%",
        "v2 canary 25%",
        "v2 canary 50%",
        "v2 canary 100%",
        "v2",
    ]
    assert weights(done) == [{"stable": 100 - w, "canary": w} for w in (5, 25, 50, 100)]
    # each analysis takes its three measurements 10 s apart before the next weight
    step_times = [at - T0 for at, c in done if isinstance(c, SetWeights)]
    assert step_times == [0, 20 * SECOND, 40 * SECOND, 60 * SECOND]


def test_a_failed_analysis_rolls_back_to_100_percent_stable_and_says_why() -> None:
    # the canary turns bad 25 s in: during the 25 % step's analysis
    bad = dict.fromkeys(range(25, 3600), 0.5)
    rollout, done = run_to_end(new(canary_steps([ERRORS])), provider(bad))
    assert rollout.phase == "Aborted"
    assert rollout.weight == 0
    assert weights(done)[-1] == {"stable": 100, "canary": 0}
    assert events(done)[-1] == "v2 rolled back to v1 (analysis Failed)"
    assert 'Metric "error-ratio" assessed Failed' in rollout.message
    rollback_at = next(at for at, c in done if isinstance(c, CorrelateIncidents))
    assert rollback_at - T0 == 30 * SECOND  # the first measurement after it turned bad
    assert rollout.next_wake_at() is None


def test_an_analysis_in_error_rolls_back_too() -> None:
    def failing(metric: AnalysisMetric, at: Millis) -> Measurement:
        raise DatasourceError("prometheus unreachable")

    rollout, done = run_to_end(new(canary_steps([ERRORS])), failing)
    assert rollout.phase == "Aborted"
    assert rollout.message.startswith("analysis Error")
    # five errors in a row, 10 s apart (Argo's error retry interval), end the metric
    assert done[-1][0] - T0 == 40 * SECOND


def test_an_inconclusive_analysis_pauses_for_a_person_who_promotes_or_aborts() -> None:
    unsure = AnalysisMetric(
        "score", success_condition="result[0] >= 95", failure_condition="result[0] < 75"
    )
    rollout = advance(new(canary_steps([unsure])), T0, provider(default=80.0))
    assert (rollout.phase, rollout.weight) == ("Paused", 5)
    assert rollout.message.startswith("analysis Inconclusive")
    assert rollout.next_wake_at() is None
    assert advance(rollout, T0 + SECOND, provider()) == rollout
    resumed = advance(promote(rollout, T0 + SECOND), T0 + SECOND, provider(default=99.0))
    assert resumed.phase == "Completed"
    aborted = abort(rollout.settled(), T0 + SECOND, "aborted by ana")
    assert (aborted.phase, aborted.weight) == ("Aborted", 0)
    assert [c for c in aborted.pending if isinstance(c, RecordEvent)] == [
        RecordEvent("v2 rolled back to v1 (aborted by ana)", T0 + SECOND, T0 + SECOND)
    ]


def test_a_timed_pause_waits_its_duration_then_goes_on() -> None:
    strategy = CanaryStrategy((SetWeight(10), Pause(60 * SECOND), SetWeight(100)))
    rollout = advance(new(strategy), T0, provider()).settled()
    assert (rollout.phase, rollout.pause_until) == ("Paused", T0 + 60 * SECOND)
    assert advance(rollout, T0 + 59 * SECOND, provider()) == rollout
    done = advance(rollout, T0 + 60 * SECOND, provider())
    assert (done.phase, done.weight) == ("Completed", 100)


def test_an_indefinite_pause_waits_for_promote() -> None:
    strategy = CanaryStrategy((SetWeight(20), Pause(), SetWeight(60), Pause(), SetWeight(100)))
    rollout = advance(new(strategy), T0, provider())
    assert (rollout.phase, rollout.weight, rollout.next_wake_at()) == ("Paused", 20, None)
    rollout = advance(promote(rollout, T0 + 5), T0 + 5, provider())
    assert (rollout.phase, rollout.weight) == ("Paused", 60)


def test_promote_full_skips_every_remaining_pause_and_analysis() -> None:
    strategy = canary_steps([ERRORS], pause=None)
    rollout = advance(new(strategy), T0, provider()).settled()
    rollout = advance(promote(rollout, T0 + 1, full=True), T0 + 1, provider())
    assert (rollout.phase, rollout.weight) == ("Completed", 100)


def test_promote_and_abort_refuse_an_ended_rollout() -> None:
    done, _ = run_to_end(new(canary_steps([ERRORS])), provider())
    with pytest.raises(ConflictError, match="Completed"):
        promote(done, T0, full=True)
    with pytest.raises(ConflictError, match="cannot be aborted"):
        abort(done, T0, "too late")


@pytest.mark.parametrize(
    ("strategy", "problem"),
    [
        (CanaryStrategy(()), "at least one step"),
        (CanaryStrategy((SetWeight(120),)), "within 0..100"),
        (CanaryStrategy((Analyze(()),)), "no metrics specified"),
        (CanaryStrategy((Analyze((AnalysisMetric("m", count=3),)),)), "interval must be specified"),
    ],
    ids=["no step", "a weight above 100", "an analysis without metrics", "an invalid metric"],
)
def test_an_invalid_strategy_is_refused_at_start(strategy: Strategy, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        new(strategy)


def test_blue_green_previews_analyses_promotes_then_scales_the_old_version_down() -> None:
    strategy = BlueGreenStrategy(
        pre_promotion=(ERRORS,), post_promotion=(ERRORS,), scale_down_delay=30 * SECOND
    )
    rollout, done = run_to_end(new(strategy), provider())
    assert rollout.phase == "Completed"
    assert weights(done) == [{"stable": 100, "canary": 0}, {"stable": 0, "canary": 100}]
    assert events(done) == [
        "v2 blue-green preview",
        "v2 blue-green promoted",
        "v1 scaled down",
        "v2",
    ]
    scaled = next(at for at, c in done if isinstance(c, ScaleDown))
    promoted = [at for at, c in done if isinstance(c, SetWeights)][1]
    # promoted after the 20 s pre-promotion analysis; scaled down 20 s + 30 s later
    assert (promoted - T0, scaled - promoted) == (20 * SECOND, 50 * SECOND)
    assert ScaleDown("stable") in [c for _, c in done]


def test_blue_green_without_auto_promotion_waits_for_promote() -> None:
    rollout = advance(new(BlueGreenStrategy(auto_promote=False)), T0, provider())
    assert (rollout.phase, rollout.weight) == ("Paused", 0)
    rollout = advance(promote(rollout.settled(), T0 + 1), T0 + 1, provider())
    assert (rollout.phase, rollout.weight) == ("Progressing", 100)
    with pytest.raises(ConflictError, match="already promoted"):
        promote(rollout, T0 + 2)


def test_blue_green_rolls_back_to_blue_when_the_post_promotion_analysis_fails() -> None:
    bad_after_promotion = dict.fromkeys(range(1, 3600), 0.5)
    strategy = BlueGreenStrategy(post_promotion=(ERRORS,))
    rollout, done = run_to_end(new(strategy), provider(bad_after_promotion))
    assert rollout.phase == "Aborted"
    assert weights(done) == [
        {"stable": 100, "canary": 0},
        {"stable": 0, "canary": 100},
        {"stable": 100, "canary": 0},
    ]
    assert not any(isinstance(c, ScaleDown) for _, c in done)


def test_a_rollout_survives_a_json_round_trip_mid_analysis_with_pending_commands() -> None:
    rollout = advance(new(canary_steps([ERRORS], pause=5 * SECOND)), T0, provider())
    assert rollout.analysis is not None
    assert rollout.pending
    text = json.dumps(rollout_to_json(rollout))
    assert rollout_from_json(json.loads(text)) == rollout
    blue_green = advance(new(BlueGreenStrategy(pre_promotion=(ERRORS,))), T0, provider())
    assert rollout_from_json(json.loads(json.dumps(rollout_to_json(blue_green)))) == blue_green


def test_an_unknown_document_version_is_refused() -> None:
    data = rollout_to_json(new(canary_steps([ERRORS])))
    with pytest.raises(ValueError, match="version"):
        rollout_from_json({**data, "version": 2})
