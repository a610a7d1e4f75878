"""The analysis run as a step machine: what is due when, how measurements are counted, and
which phase the run ends in (``analysis/analysis.go`` of Argo Rollouts).
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

import pytest

from opsplane.domain.analysis import (
    AnalysisMetric,
    AnalysisPhase,
    AnalysisRun,
    Measurement,
    MeasurementPhase,
    MetricResult,
    ResultValue,
    validate_metric,
)
from opsplane.domain.duration import MINUTE
from opsplane.errors import DatasourceError
from opsplane.testing import FakeClock, FunctionMetricProvider
from opsplane.types import Millis

T0: Millis = 1_767_225_600_000
SECOND: Millis = 1_000


def measured(phase: MeasurementPhase, at: Millis, message: str = "") -> Measurement:
    return Measurement(phase, started_at=at, finished_at=at, message=message)


def feed(
    run: AnalysisRun, metric: str, phases: list[MeasurementPhase], start: Millis = T0
) -> AnalysisRun:
    """Record one measurement per phase, a minute apart."""
    for i, phase in enumerate(phases):
        run = run.record(metric, measured(phase, start + i * MINUTE), start + i * MINUTE)
    return run


def names(metrics: tuple[AnalysisMetric, ...]) -> list[str]:
    return [m.name for m in metrics]


# Scheduling: interval, count, initial delay, error retries.


def test_a_metric_with_interval_and_count_is_measured_every_interval_until_count() -> None:
    run = AnalysisRun.start([AnalysisMetric("rate", interval=MINUTE, count=3)], T0)
    assert names(run.due(T0)) == ["rate"]
    run = run.record("rate", measured("Successful", T0), T0)
    assert run.due(T0 + MINUTE - 1) == ()
    assert run.next_due_at() == T0 + MINUTE
    assert names(run.due(T0 + MINUTE)) == ["rate"]
    run = feed(run, "rate", ["Successful", "Successful"], start=T0 + MINUTE)
    assert (run.phase, run.result("rate").count) == ("Successful", 3)
    assert run.due(T0 + 10 * MINUTE) == ()
    assert run.next_due_at() is None


def test_a_metric_without_interval_or_count_is_measured_once() -> None:
    run = AnalysisRun.start([AnalysisMetric("once", success_condition="result > 0")], T0)
    assert run.phase == "Running"
    run = run.record("once", measured("Successful", T0), T0)
    assert (run.phase, run.metric_phases) == ("Successful", {"once": "Successful"})


def test_a_metric_with_an_interval_and_no_count_runs_until_stopped() -> None:
    run = feed(
        AnalysisRun.start([AnalysisMetric("bg", interval=MINUTE)], T0), "bg", ["Successful"] * 50
    )
    assert (run.phase, names(run.due(T0 + 50 * MINUTE))) == ("Running", ["bg"])
    stopped = run.stop()
    assert (stopped.phase, stopped.message, stopped.due(T0 + 99 * MINUTE)) == (
        "Successful",
        "Run Terminated",
        (),
    )


def test_the_first_measurement_waits_for_the_initial_delay() -> None:
    run = AnalysisRun.start([AnalysisMetric("late", initial_delay=5 * MINUTE)], T0)
    assert run.due(T0 + 5 * MINUTE - 1) == ()
    assert run.next_due_at() == T0 + 5 * MINUTE
    assert names(run.due(T0 + 5 * MINUTE)) == ["late"]


def test_an_error_is_retried_after_ten_seconds_whatever_the_interval() -> None:
    run = AnalysisRun.start([AnalysisMetric("slow", interval=5 * MINUTE, count=2)], T0)
    run = run.record("slow", measured("Error", T0), T0)
    assert run.next_due_at() == T0 + 10 * SECOND
    run = run.record("slow", measured("Successful", T0 + 10 * SECOND), T0 + 10 * SECOND)
    assert run.next_due_at() == T0 + 10 * SECOND + 5 * MINUTE


def test_errors_do_not_count_toward_count() -> None:
    run = AnalysisRun.start([AnalysisMetric("m", interval=MINUTE, count=2)], T0)
    run = feed(run, "m", ["Successful", "Error", "Error"])
    result = run.result("m")
    assert (result.count, result.error, result.consecutive_error, run.phase) == (1, 2, 2, "Running")
    run = feed(run, "m", ["Successful"], start=T0 + 3 * MINUTE)
    assert (run.result("m").consecutive_error, run.phase) == (0, "Successful")


def test_a_measurement_is_stamped_with_now_when_it_has_no_finish_time() -> None:
    run = AnalysisRun.start([AnalysisMetric("m", interval=MINUTE, count=2)], T0)
    run = run.record("m", Measurement("Successful", started_at=T0), T0 + 7 * SECOND)
    assert run.result("m").measurements[-1].finished_at == T0 + 7 * SECOND
    assert run.next_due_at() == T0 + 7 * SECOND + MINUTE


# Limits.


def test_five_errors_in_a_row_end_the_metric_in_error_by_default() -> None:
    run = AnalysisRun.start([AnalysisMetric("flaky", interval=MINUTE)], T0)
    run = feed(run, "flaky", ["Error"] * 4)
    assert (run.metric_phases["flaky"], run.phase) == ("Running", "Running")
    run = feed(run, "flaky", ["Error"], start=T0 + 4 * MINUTE)
    assert (run.metric_phases["flaky"], run.phase) == ("Error", "Error")
    assert run.message == (
        'Metric "flaky" assessed Error due to consecutiveErrors (5) > consecutiveErrorLimit (4)'
    )


def test_the_error_message_of_the_last_measurement_is_kept() -> None:
    run = AnalysisRun.start(
        [AnalysisMetric("down", interval=MINUTE, consecutive_error_limit=0)], T0
    )
    run = run.record("down", measured("Error", T0, "connection refused"), T0)
    assert run.result("down").message == "connection refused"
    assert run.message.endswith(': "Error Message: connection refused"')


def test_a_failure_limit_of_minus_one_never_fails_and_the_success_limit_decides() -> None:
    metric = AnalysisMetric("gate", interval=MINUTE, failure_limit=-1, consecutive_success_limit=3)
    run = feed(AnalysisRun.start([metric], T0), "gate", ["Failed"] * 20 + ["Successful"] * 2)
    assert (run.result("gate").failed, run.phase) == (20, "Running")
    run = feed(run, "gate", ["Successful"], start=T0 + 22 * MINUTE)
    assert run.phase == "Successful"


def test_the_failure_limit_tolerates_that_many_failures() -> None:
    run = AnalysisRun.start([AnalysisMetric("m", interval=MINUTE, failure_limit=3)], T0)
    run = feed(run, "m", ["Failed", "Successful", "Failed", "Failed"])
    assert run.phase == "Running"
    run = feed(run, "m", ["Failed"], start=T0 + 4 * MINUTE)
    assert (run.phase, run.message) == (
        "Failed",
        'Metric "m" assessed Failed due to failed (4) > failureLimit (3)',
    )


def test_an_inconclusive_measurement_ends_the_metric_by_default() -> None:
    run = AnalysisRun.start([AnalysisMetric("m", interval=MINUTE)], T0)
    run = feed(run, "m", ["Inconclusive"])
    assert run.phase == "Inconclusive"


# The run phase: the worst completed metric phase, Failed > Error > Inconclusive.


@pytest.mark.parametrize(
    ("endings", "expected"),
    [
        (("Failed", "Error", "Inconclusive"), "Failed"),
        (("Inconclusive", "Error", "Successful"), "Error"),
        (("Successful", "Inconclusive"), "Inconclusive"),
        (("Successful", "Successful"), "Successful"),
        (("Error", "Failed"), "Failed"),
    ],
    ids=lambda v: " and ".join(v) if isinstance(v, tuple) else f"give {v}",
)
def test_the_worst_metric_phase_decides_the_run(
    endings: tuple[MeasurementPhase, ...], expected: AnalysisPhase
) -> None:
    # Every limit at 0 and count 1: each metric ends with its first measurement, all in one step.
    metrics = [AnalysisMetric(f"m{i}", consecutive_error_limit=0) for i in range(len(endings))]
    run = AnalysisRun.start(metrics, T0)
    run = run.record_all([(f"m{i}", measured(p, T0)) for i, p in enumerate(endings)], T0)
    assert list(run.metric_phases.values()) == list(endings)
    assert run.phase == expected


def test_when_one_metric_fails_the_others_end_successful_and_nothing_more_is_due() -> None:
    metrics = [
        AnalysisMetric("errors", interval=MINUTE),
        AnalysisMetric("latency", interval=MINUTE),
    ]
    run = AnalysisRun.start(metrics, T0)
    run = run.record_all(
        [("errors", measured("Failed", T0)), ("latency", measured("Successful", T0))], T0
    )
    assert run.metric_phases == {"errors": "Failed", "latency": "Successful"}
    assert (run.phase, run.due(T0 + MINUTE), run.next_due_at()) == ("Failed", (), None)


def test_a_dry_run_metric_is_reported_but_never_fails_the_run() -> None:
    metrics = [
        AnalysisMetric("trial", interval=MINUTE, count=2, dry_run=True),
        AnalysisMetric("real", interval=MINUTE, count=2),
    ]
    run = AnalysisRun.start(metrics, T0)
    run = run.record_all(
        [("trial", measured("Failed", T0)), ("real", measured("Successful", T0))], T0
    )
    assert (run.metric_phases["trial"], run.phase, names(run.due(T0 + MINUTE))) == (
        "Failed",
        "Running",
        ["real"],
    )
    run = run.record("real", measured("Successful", T0 + MINUTE), T0 + MINUTE)
    assert run.phase == "Successful"


def test_a_completed_run_refuses_more_measurements() -> None:
    run = feed(AnalysisRun.start([AnalysisMetric("m")], T0), "m", ["Failed"])
    with pytest.raises(ValueError, match=r"already completed \(Failed\)"):
        run.record("m", measured("Successful", T0 + MINUTE), T0 + MINUTE)
    assert run.stop() is run


def test_an_unknown_metric_is_a_key_error() -> None:
    run = AnalysisRun.start([AnalysisMetric("m")], T0)
    with pytest.raises(KeyError, match="no metric 'other'"):
        run.record("other", measured("Successful", T0), T0)


def test_only_the_last_ten_measurements_are_kept() -> None:
    run = feed(
        AnalysisRun.start([AnalysisMetric("m", interval=MINUTE)], T0), "m", ["Successful"] * 25
    )
    result = run.result("m")
    assert (result.count, len(result.measurements)) == (25, 10)
    assert result.measurements[0].started_at == T0 + 15 * MINUTE


# Validation.


def test_invalid_metrics_put_the_run_in_error_at_once() -> None:
    run = AnalysisRun.start([AnalysisMetric("m", count=3), AnalysisMetric("m")], T0)
    assert run.phase == "Error"
    assert run.message == (
        "analysis spec invalid: metrics[0]: interval must be specified when count > 1; "
        "metrics[1]: duplicate name 'm'"
    )
    assert run.due(T0) == ()
    assert AnalysisRun.start([], T0).message == "analysis spec invalid: no metrics specified"


INVALID = [
    (AnalysisMetric("m", failure_limit=-2), "failureLimit must be >= 0, or -1 to be disabled"),
    (
        AnalysisMetric("m", failure_limit=-1),
        "failureLimit and consecutiveSuccessLimit cannot both be disabled",
    ),
    (AnalysisMetric("m", consecutive_success_limit=-1), "consecutiveSuccessLimit must be >= 0"),
    (AnalysisMetric("m", inconclusive_limit=-1), "inconclusiveLimit must be >= 0"),
    (AnalysisMetric("m", consecutive_error_limit=-1), "consecutiveErrorLimit must be >= 0"),
    (
        AnalysisMetric("m", interval=MINUTE, count=3, failure_limit=2, consecutive_success_limit=2),
        "count (3) must be >= failureLimit + consecutiveSuccessLimit (2 + 2) if both >= 0",
    ),
    (
        AnalysisMetric(
            "m", interval=MINUTE, count=2, failure_limit=-1, consecutive_success_limit=3
        ),
        "count must be >= consecutiveSuccessLimit",
    ),
    (
        AnalysisMetric("m", interval=MINUTE, count=2, inconclusive_limit=3),
        "count must be >= inconclusiveLimit",
    ),
    (AnalysisMetric("m", interval=0), "interval must be greater than zero"),
    (AnalysisMetric(""), "name must not be empty"),
    (
        AnalysisMetric("m", success_condition="result >"),
        "successCondition: unexpected end of condition at column 9",
    ),
    (
        AnalysisMetric("m", failure_condition="oops(result)"),
        "failureCondition: unknown function 'oops'",
    ),
]


@pytest.mark.parametrize(
    ("metric", "problem"), [pytest.param(m, p, id=f"reports {p}") for m, p in INVALID]
)
def test_argo_validation_rules_are_reported(metric: AnalysisMetric, problem: str) -> None:
    assert any(p.startswith(problem) for p in validate_metric(metric)), validate_metric(metric)


# Driving the run with a provider and a clock.


def test_tick_measures_what_is_due_and_a_failing_provider_gives_error_measurements() -> None:
    clock = FakeClock(T0)
    answers: dict[str, ResultValue] = {"rate": [0.99]}

    def backend(metric: AnalysisMetric, at: Millis) -> ResultValue:
        if metric.name == "latency":
            raise DatasourceError("prometheus: connection refused")
        return answers[metric.name]

    provider = FunctionMetricProvider(backend)
    metrics = [
        AnalysisMetric("rate", success_condition="result[0] >= 0.95", interval=MINUTE, count=2),
        AnalysisMetric("latency", success_condition="result < 0.3", interval=MINUTE, count=2),
    ]
    run = AnalysisRun.start(metrics, clock.now_ms()).tick(clock.now_ms(), provider.measure)
    assert run.result("rate").measurements[-1].value == "[0.99]"
    latency = run.result("latency").measurements[-1]
    assert (latency.phase, latency.message) == ("Error", "prometheus: connection refused")
    clock.advance(10 * SECOND)
    assert names(run.due(clock.now_ms())) == ["latency"]
    run = run.tick(clock.now_ms(), provider.measure)
    assert run.result("latency").consecutive_error == 2
    answers["rate"] = [0.5]
    clock.advance(MINUTE)
    run = run.tick(clock.now_ms(), provider.measure)
    assert (run.metric_phases["rate"], run.phase) == ("Failed", "Failed")


def test_a_run_saved_as_plain_data_resumes_where_it_stopped() -> None:
    run = AnalysisRun.start([AnalysisMetric("m", interval=MINUTE, count=4, failure_limit=1)], T0)
    run = feed(run, "m", ["Successful", "Failed"])
    saved = json.dumps(asdict(run))
    resumed = rebuild(json.loads(saved))
    assert resumed == run
    after = feed(resumed, "m", ["Failed"], start=T0 + 2 * MINUTE)
    assert after == feed(run, "m", ["Failed"], start=T0 + 2 * MINUTE)
    assert after.phase == "Failed"


def rebuild(raw: dict[str, Any]) -> AnalysisRun:
    """What a store would do: the dataclasses back from their ``asdict`` form."""
    results = tuple(
        MetricResult(**{**r, "measurements": tuple(Measurement(**m) for m in r["measurements"])})
        for r in raw["results"]
    )
    metrics = tuple(AnalysisMetric(**m) for m in raw["metrics"])
    return AnalysisRun(**{**raw, "metrics": metrics, "results": results})


def test_a_valid_metric_has_no_problems() -> None:
    metric = AnalysisMetric(
        "m",
        success_condition="result[0] >= 0.95",
        failure_condition="result[0] < 0.5",
        interval=MINUTE,
        count=5,
        failure_limit=2,
        consecutive_success_limit=3,
    )
    assert validate_metric(metric) == []
