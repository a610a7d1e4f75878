"""An analysis run as a step machine over injected time (Argo Rollouts' ``AnalysisRun``).

The state is one frozen value: the metrics, a :class:`MetricResult` per metric, when the run
started, whether it was asked to stop, and the phases. Each step returns a new value, so a
caller can persist it after every step and resume from it after a restart. A caller drives it::

    run = AnalysisRun.start(metrics, now=clock.now_ms())
    while not run.completed:
        run = run.tick(clock.now_ms(), provider.measure)   # measures what is due, records it
        store.save(run)
        sleep_until(run.next_due_at())

Sources, all in argoproj/argo-rollouts ``analysis/analysis.go``: ``generateMetricTasks``
(:meth:`AnalysisRun.due`), ``calculateNextReconcileTime`` (:meth:`AnalysisRun.next_due_at`),
``runMeasurements`` and ``assessRunStatus`` (:meth:`AnalysisRun.record`); ``IsTerminating``
from ``utils/analysis/helpers.go``.

Two differences from the controller, both about time and neither about outcomes:

- a measurement is due when ``now >= finished_at + interval`` (Argo requeues for that instant
  and then finds ``Now().After(...)``), so a caller that wakes at :meth:`next_due_at` measures;
- when one metric ends the run early, Argo marks the other metrics Successful on its next
  reconcile; here it happens in the same step, which is where Argo ends up.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

from opsplane.domain.analysis.assess import (
    MetricResult,
    add_measurement,
    assess_metric_status,
    failure_inconclusive_or_error,
)
from opsplane.domain.analysis.measurement import Measurement, error_measurement
from opsplane.domain.analysis.metric import (
    DEFAULT_ERROR_RETRY_INTERVAL,
    AnalysisMetric,
    validate_metrics,
)
from opsplane.domain.analysis.phases import (
    TERMINAL_FAILURES,
    AnalysisPhase,
    is_completed,
    is_worse,
)
from opsplane.errors import DatasourceError
from opsplane.types import Millis

Measure = Callable[[AnalysisMetric, Millis], Measurement]
"""Takes one measurement (``MetricProvider.measure``); raises ``DatasourceError`` on failure."""


@dataclass(frozen=True, slots=True)
class AnalysisRun:
    """The durable state of one analysis run.

    Attributes:
        metrics: The metrics, in template order.
        results: One result per metric, in the same order.
        started_at: When the run started (``initial_delay`` counts from here).
        phase: The run's phase: Running until it completes, then the worst metric phase.
        message: Why the run ended as it did (``Metric "x" assessed Failed due to ...``).
        terminate: Whether the run was asked to stop (promotion, abort: ``spec.terminate``).
    """

    metrics: tuple[AnalysisMetric, ...]
    results: tuple[MetricResult, ...]
    started_at: Millis
    phase: AnalysisPhase = "Running"
    message: str = ""
    terminate: bool = False

    @classmethod
    def start(cls, metrics: Sequence[AnalysisMetric], now: Millis) -> AnalysisRun:
        """A new run; in phase Error at once when the metrics are invalid (as in Argo)."""
        run = cls(tuple(metrics), tuple(MetricResult(m.name) for m in metrics), now)
        if problems := validate_metrics(metrics):
            return replace(
                run, phase="Error", message="analysis spec invalid: " + "; ".join(problems)
            )
        return run._assessed()

    @property
    def completed(self) -> bool:
        """Whether the run has ended (its phase never changes again)."""
        return is_completed(self.phase)

    @property
    def terminating(self) -> bool:
        """``IsTerminating``: asked to stop, or a (non dry-run) metric already ended badly."""
        return self.terminate or any(
            result.phase in TERMINAL_FAILURES and not metric.dry_run
            for metric, result in zip(self.metrics, self.results, strict=True)
        )

    @property
    def metric_phases(self) -> Mapping[str, AnalysisPhase]:
        """The phase of each metric, by name."""
        return {result.name: result.phase for result in self.results}

    def result(self, metric: str) -> MetricResult:
        """The result of one metric.

        Raises:
            KeyError: the run has no metric of that name.
        """
        return self.results[self._index(metric)]

    def due(self, now: Millis) -> tuple[AnalysisMetric, ...]:
        """The metrics to measure at ``now`` (``generateMetricTasks``).

        None once the run completed or is terminating. A metric is due when it has no
        measurement yet and its ``initial_delay`` has passed, or when it has not reached its
        count and ``interval`` has passed since its last measurement finished (10 s after an
        Error, whatever the interval).
        """
        if self.completed or self.terminating:
            return ()
        return tuple(
            metric
            for metric, result in zip(self.metrics, self.results, strict=True)
            if (at := self._next_at(metric, result)) is not None and now >= at
        )

    def next_due_at(self) -> Millis | None:
        """When the next measurement is due (``calculateNextReconcileTime``); ``None`` if never."""
        if self.completed or self.terminating:
            return None
        times = [self._next_at(m, r) for m, r in zip(self.metrics, self.results, strict=True)]
        pending = [at for at in times if at is not None]
        return min(pending) if pending else None

    def record(self, metric: str, measurement: Measurement, now: Millis) -> AnalysisRun:
        """Count one finished measurement of ``metric`` and reassess the phases.

        ``measurement.finished_at`` defaults to ``now``.

        Raises:
            KeyError: the run has no metric of that name.
            ValueError: the run or the metric has already completed.
        """
        return self.record_all([(metric, measurement)], now)

    def record_all(
        self, measurements: Sequence[tuple[str, Measurement]], now: Millis
    ) -> AnalysisRun:
        """Count the measurements of one step, then reassess once (as one reconcile does).

        Raises:
            KeyError: the run has no metric of one of the names.
            ValueError: the run or one of the metrics has already completed.
        """
        if self.completed:
            raise ValueError(f"the analysis run has already completed ({self.phase})")
        results = list(self.results)
        for name, measurement in measurements:
            index = self._index(name)
            if is_completed(results[index].phase):
                raise ValueError(f"metric '{name}' has already completed ({results[index].phase})")
            finished = now if measurement.finished_at is None else measurement.finished_at
            stamped = replace(measurement, finished_at=finished)
            results[index] = add_measurement(results[index], stamped)
        return replace(self, results=tuple(results))._assessed()

    def tick(self, now: Millis, measure: Measure) -> AnalysisRun:
        """Measure every metric that is due at ``now`` and record the measurements.

        A provider that raises :class:`~opsplane.errors.DatasourceError` gives an Error
        measurement carrying the error's message, as a failing provider does in Argo.
        """
        taken: list[tuple[str, Measurement]] = []
        for metric in self.due(now):
            try:
                measurement = measure(metric, now)
            except DatasourceError as exc:
                measurement = error_measurement(str(exc), started_at=now, finished_at=now)
            taken.append((metric.name, measurement))
        return self.record_all(taken, now) if taken else self

    def stop(self) -> AnalysisRun:
        """Ask the run to stop (``spec.terminate``): metrics still running end Successful."""
        if self.completed:
            return self
        return replace(self, terminate=True)._assessed()

    def _index(self, metric: str) -> int:
        for index, result in enumerate(self.results):
            if result.name == metric:
                return index
        raise KeyError(f"the analysis run has no metric '{metric}'")

    def _next_at(self, metric: AnalysisMetric, result: MetricResult) -> Millis | None:
        """When ``metric`` is next due, or ``None`` when it needs no more measurements."""
        if is_completed(result.phase):
            return None
        last = result.last_measurement
        if last is None:
            return self.started_at + metric.initial_delay
        count = metric.effective_count
        if count is not None and result.count >= count:
            return None
        interval = metric.interval
        if last.phase == "Error" or interval is None:
            interval = DEFAULT_ERROR_RETRY_INTERVAL
        finished = last.started_at if last.finished_at is None else last.finished_at
        return finished + interval

    def _assessed(self) -> AnalysisRun:
        """Reassess every metric and the run, to the fixed point Argo reaches."""
        run = self._assess_once(terminating=self.terminating)
        if run.terminating and not self.terminating:
            run = run._assess_once(terminating=True)
        return run

    def _assess_once(self, *, terminating: bool) -> AnalysisRun:
        """``assessRunStatus``: metric phases, then the worst completed one for the run."""
        results: list[MetricResult] = []
        worst: AnalysisPhase | None = None
        message = "Run Terminated" if self.terminate else ""
        everything_completed = True
        for metric, before in zip(self.metrics, self.results, strict=True):
            phase = assess_metric_status(metric, before, terminating=terminating)
            result = before
            if phase != before.phase:
                last = before.last_measurement
                result = replace(before, phase=phase, message=last.message if last else "")
            results.append(result)
            if not is_completed(phase):
                everything_completed = False
            elif metric.dry_run:  # reported, never decisive
                worst = worst or "Successful"
            elif worst is None or is_worse(worst, phase):
                worst = phase
                message = _reason(metric, result) or message
        if terminating:
            phase_of_run: AnalysisPhase = worst or "Successful"
        elif not everything_completed or worst is None:
            phase_of_run, message = "Running", ""
        else:
            phase_of_run = worst
        return replace(self, results=tuple(results), phase=phase_of_run, message=message)


def _reason(metric: AnalysisMetric, result: MetricResult) -> str:
    """Argo's run message for a metric that exceeded a limit; empty when none was exceeded."""
    exceeded, why = failure_inconclusive_or_error(metric, result)
    if exceeded is None:
        return ""
    text = f'Metric "{metric.name}" assessed {result.phase} due to {why}'
    return f'{text}: "Error Message: {result.message}"' if result.message else text
