"""Properties of the analysis state machine over arbitrary metrics and measurement sequences."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from opsplane.domain.analysis import (
    ORDER,
    AnalysisMetric,
    AnalysisRun,
    Measurement,
    MeasurementPhase,
    MetricResult,
    add_measurement,
    assess_metric_status,
    is_completed,
    validate_metric,
)
from opsplane.domain.duration import MINUTE

PHASES: tuple[MeasurementPhase, ...] = ("Successful", "Failed", "Inconclusive", "Error")


@st.composite
def metrics(draw: st.DrawFn) -> AnalysisMetric:
    """Valid metrics: every limit from disabled to small, with and without a count."""
    metric = AnalysisMetric(
        "m",
        interval=MINUTE,
        count=draw(st.one_of(st.none(), st.integers(1, 12))),
        failure_limit=draw(st.integers(-1, 4)),
        inconclusive_limit=draw(st.integers(0, 3)),
        consecutive_error_limit=draw(st.integers(0, 5)),
        consecutive_success_limit=draw(st.integers(0, 4)),
    )
    if validate_metric(metric):
        return AnalysisMetric("m", interval=MINUTE)
    return metric


sequences = st.lists(st.sampled_from(PHASES), max_size=15)


def counted(phases: list[MeasurementPhase]) -> MetricResult:
    result = MetricResult("m", phase="Running")
    for i, phase in enumerate(phases):
        result = add_measurement(result, Measurement(phase, i * MINUTE, i * MINUTE))
    return result


def rank(phase: str) -> int:
    return ORDER.index(phase)  # type: ignore[arg-type]


@given(metrics(), sequences, st.booleans())
def test_a_failed_measurement_never_gives_a_better_phase_than_a_successful_one(
    metric: AnalysisMetric, before: list[MeasurementPhase], terminating: bool
) -> None:
    # Compared with a Successful measurement in its place, not with no measurement at all: a
    # Failed one within failureLimit that completes the count turns Running into Successful.
    failed = assess_metric_status(metric, counted([*before, "Failed"]), terminating=terminating)
    passed = assess_metric_status(metric, counted([*before, "Successful"]), terminating=terminating)
    assert rank(failed) >= rank(passed)


@given(sequences)
def test_counters_add_up(phases: list[MeasurementPhase]) -> None:
    result = counted(phases)
    assert result.count == result.successful + result.failed + result.inconclusive
    assert result.count + result.error == len(phases)
    assert result.consecutive_error <= result.error
    assert result.consecutive_success <= result.successful
    assert len(result.measurements) == min(len(phases), 10)


@given(metrics(), sequences)
def test_a_completed_run_never_changes_and_asks_for_nothing(
    metric: AnalysisMetric, phases: list[MeasurementPhase]
) -> None:
    run = AnalysisRun.start([metric], 0)
    for i, phase in enumerate(phases):
        if run.completed:
            assert run.due(i * MINUTE + 10 * MINUTE) == ()
            assert run.stop() is run
            return
        run = run.record("m", Measurement(phase, i * MINUTE, i * MINUTE), i * MINUTE)
    assert run.completed == is_completed(run.metric_phases["m"])


@given(metrics(), sequences)
def test_a_stopped_run_always_completes_with_its_worst_metric_phase(
    metric: AnalysisMetric, phases: list[MeasurementPhase]
) -> None:
    run = AnalysisRun.start([metric, AnalysisMetric("other", interval=MINUTE)], 0)
    for i, phase in enumerate(phases):
        if is_completed(run.metric_phases["m"]):
            break
        run = run.record("m", Measurement(phase, i * MINUTE, i * MINUTE), i * MINUTE)
    stopped = run.stop()
    assert stopped.completed
    worst = max(stopped.metric_phases.values(), key=rank)
    assert stopped.phase == worst
