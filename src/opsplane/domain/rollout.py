"""A rollout as a step machine over injected time: canary steps or blue-green, gated by analysis.

The state is one frozen :class:`Rollout`. :func:`advance` moves it as far as it can at ``now``
(it may take measurements through the ``measure`` callable it is given, as
:meth:`AnalysisRun.tick` does); :func:`promote` and :func:`abort` are the operator's actions.
Each returns a new value whose :attr:`Rollout.pending` lists the commands (:class:`SetWeights`,
:class:`RecordEvent`, :class:`CorrelateIncidents`, :class:`ScaleDown`) a runner must carry out.
The runner persists the value *before* carrying them out, then clears them with
:meth:`Rollout.settled`, so a crash in between repeats a command rather than losing it (a
rollback's weights are never forgotten). Nothing here reads a clock or does I/O.

Both strategies are one list of steps (:meth:`Rollout.steps`):

- **canary** (Argo Rollouts ``spec.strategy.canary.steps``): the steps as written, by default
  ``setWeight 5, analysis, setWeight 25, analysis, setWeight 50, analysis, setWeight 100,
  analysis``;
- **blue-green** (``spec.strategy.blueGreen``): ``preview`` (the new version up, no production
  traffic), the pre-promotion analysis, the promotion gate (a pause unless
  ``autoPromotionEnabled``; ``autoPromotionSeconds`` as a timed pause), ``promote`` (100 % to
  the new version), the post-promotion analysis, then the old version scaled down after
  ``scaleDownDelaySeconds`` (default 30 s).

Rules from argoproj/argo-rollouts (``rollout/canary.go``, ``rollout/bluegreen.go``,
``rollout/analysis.go``): an analysis that ends Failed or Error aborts the rollout (all
traffic back to the stable version); Inconclusive pauses it for a person to promote or abort;
``promote`` skips the current step (``promote --full`` skips every remaining pause and
analysis); a rollout that reaches the end of its steps sends 100 % to the new version.

Added in 0.1.0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Final, Literal, TypeAlias

from opsplane.domain.analysis import AnalysisMetric, AnalysisRun, Measure, validate_metrics
from opsplane.domain.rollout_steps import (
    DEFAULT_CANARY_WEIGHTS,
    DEFAULT_SCALE_DOWN_DELAY,
    Analyze,
    BlueGreenStrategy,
    CanaryStrategy,
    Command,
    CorrelateIncidents,
    Pause,
    RecordEvent,
    ScaleDown,
    ScaleDownOld,
    SetWeight,
    SetWeights,
    Step,
    Strategy,
    blue_green_steps,
    canary_steps,
)
from opsplane.errors import ConflictError
from opsplane.types import Millis

__all__ = [
    "DEFAULT_CANARY_WEIGHTS",
    "DEFAULT_SCALE_DOWN_DELAY",
    "TERMINAL",
    "Analyze",
    "BlueGreenStrategy",
    "CanaryStrategy",
    "Command",
    "CorrelateIncidents",
    "Pause",
    "RecordEvent",
    "Rollout",
    "RolloutPhase",
    "ScaleDown",
    "ScaleDownOld",
    "SetWeight",
    "SetWeights",
    "Step",
    "Strategy",
    "abort",
    "advance",
    "blue_green_steps",
    "canary_steps",
    "promote",
    "start",
    "strategy_problems",
]

RolloutPhase: TypeAlias = Literal["Progressing", "Paused", "Completed", "Aborted"]
"""Argo's ``Progressing`` and ``Paused``; ``Completed`` is Argo's ``Healthy`` after an update,
``Aborted`` its ``Degraded`` with ``status.abort`` (traffic back on the stable version)."""

TERMINAL: Final[frozenset[RolloutPhase]] = frozenset({"Completed", "Aborted"})


@dataclass(frozen=True, slots=True)
class Rollout:
    """The durable state of one rollout of ``version`` over ``stable_version``.

    Attributes:
        id: Unique among rollouts.
        service: The service whose traffic moves.
        version: The new version; ``stable_version`` the one it replaces.
        strategy: Canary steps or blue-green settings.
        started_at: When it started.
        stable_backend: The router's backend name of the stable (blue) version.
        canary_backend: The router's backend name of the new (green) version.
        phase: Where it is (see :data:`RolloutPhase`).
        step_index: The current step of :meth:`steps`; ``len(steps)`` once past the last.
        weight: The percentage the new version receives now.
        analysis: The analysis of the current step, while one runs.
        pause_until: When a timed pause (or the scale-down delay) ends.
        promote_full: ``promote --full``: skip every remaining pause and analysis.
        message: Why it paused or aborted.
        updated_at: When it last changed.
        revision: Bumped on every change; stores use it to refuse a stale write.
        pending: Commands the runner has not carried out yet.
        author: Who started it (recorded with every deployment event).
    """

    id: str
    service: str
    version: str
    stable_version: str
    strategy: Strategy
    started_at: Millis
    stable_backend: str = "stable"
    canary_backend: str = "canary"
    phase: RolloutPhase = "Progressing"
    step_index: int = 0
    weight: int = 0
    analysis: AnalysisRun | None = None
    pause_until: Millis | None = None
    promote_full: bool = False
    message: str = ""
    updated_at: Millis = 0
    revision: int = 0
    pending: tuple[Command, ...] = ()
    author: str = ""

    @property
    def terminal(self) -> bool:
        """Whether it has ended (Completed or Aborted)."""
        return self.phase in TERMINAL

    @property
    def steps(self) -> tuple[Step, ...]:
        """The steps it walks (blue-green's are derived from its settings)."""
        if isinstance(self.strategy, CanaryStrategy):
            return self.strategy.steps
        return blue_green_steps(self.strategy)

    @property
    def weights(self) -> dict[str, int]:
        """The split it wants now: percent per backend."""
        return {self.stable_backend: 100 - self.weight, self.canary_backend: self.weight}

    def settled(self) -> Rollout:
        """The same state with its pending commands carried out."""
        return replace(self, pending=())

    def next_wake_at(self) -> Millis | None:
        """When :func:`advance` next has something to do; ``None`` when only a person can act."""
        if self.terminal or (self.phase == "Paused" and self.pause_until is None):
            return None
        times = [self.pause_until]
        if self.analysis is not None and not self.analysis.completed:
            times.append(self.analysis.next_due_at())
        found = [t for t in times if t is not None]
        return min(found) if found else None


def start(
    rollout_id: str,
    service: str,
    strategy: Strategy,
    now: Millis,
    *,
    version: str,
    stable_version: str,
    backends: tuple[str, str] = ("stable", "canary"),
    author: str = "",
) -> Rollout:
    """A new rollout, not yet advanced (call :func:`advance`).

    Raises:
        ValueError: the strategy has no step, a weight outside 0..100, or equal backends.
    """
    stable, canary = backends
    rollout = Rollout(
        rollout_id,
        service,
        version,
        stable_version,
        strategy,
        now,
        stable_backend=stable,
        canary_backend=canary,
        updated_at=now,
        author=author,
    )
    problems = strategy_problems(rollout.steps)
    if stable == canary:
        problems.append(f"the stable and canary backends must differ, both are {stable!r}")
    if problems:
        raise ValueError("; ".join(problems))
    return rollout


def strategy_problems(steps: Sequence[Step]) -> list[str]:
    """What is wrong with a list of steps (empty when nothing is)."""
    problems = [] if steps else ["a rollout needs at least one step"]
    for i, step in enumerate(steps):
        if isinstance(step, SetWeight) and not 0 <= step.percent <= 100:
            problems.append(f"steps[{i}]: setWeight must be within 0..100, not {step.percent}")
        if isinstance(step, Pause) and step.duration is not None and step.duration < 0:
            problems.append(f"steps[{i}]: a pause cannot be negative")
        if isinstance(step, Analyze):
            problems += [f"steps[{i}].analysis: {p}" for p in validate_metrics(step.metrics)]
    return problems


def advance(rollout: Rollout, now: Millis, measure: Measure) -> Rollout:
    """Go as far as possible at ``now``: apply weights, measure what is due, end pauses."""
    if not _moving(rollout):
        return rollout
    before = rollout
    rollout = _walk(rollout, now, measure)
    return rollout if rollout == before else replace(rollout, updated_at=now)


def promote(rollout: Rollout, now: Millis, *, full: bool = False) -> Rollout:
    """Skip the current step (a pause, an analysis), or every remaining one with ``full``.

    The rollout moves on at the next :func:`advance` (which a runner calls right away).

    Raises:
        ConflictError: the rollout has already ended, or only waits to scale the old version
            down (nothing is left to promote).
    """
    if rollout.terminal:
        raise ConflictError(f"rollout {rollout.id} is {rollout.phase}; it cannot be promoted")
    current = _current(rollout)
    if isinstance(current, ScaleDownOld):
        msg = f"rollout {rollout.id} is already promoted; it is scaling the old version down"
        raise ConflictError(msg)
    return replace(
        rollout,
        phase="Progressing",
        step_index=rollout.step_index + 1,
        analysis=None,
        pause_until=None,
        promote_full=rollout.promote_full or full,
        message="",
        updated_at=now,
    )


def abort(rollout: Rollout, now: Millis, reason: str) -> Rollout:
    """Send every request back to the stable version and end the rollout.

    Raises:
        ConflictError: the rollout has already ended (an aborted one cannot be aborted twice;
            a completed one is undone by a new rollout, not an abort).
    """
    if rollout.terminal:
        raise ConflictError(f"rollout {rollout.id} is {rollout.phase}; it cannot be aborted")
    return _rolled_back(rollout, now, reason)


def _walk(rollout: Rollout, now: Millis, measure: Measure) -> Rollout:
    """Execute steps until one has to wait (a pause, an analysis) or the rollout ends."""
    steps = rollout.steps
    while _moving(rollout):
        if rollout.step_index >= len(steps):
            return _completed(rollout, now)
        step = steps[rollout.step_index]
        moved = _execute(rollout, step, now, measure)
        if moved is None:
            return rollout
        rollout = moved
    return rollout


def _execute(rollout: Rollout, step: Step, now: Millis, measure: Measure) -> Rollout | None:
    """One step at ``now``: the rollout after it, or ``None`` when the step must wait."""
    match step:
        case SetWeight(percent):
            return _next(_with_weight(rollout, percent, now))
        case Pause(duration):
            if rollout.promote_full:
                return _next(rollout)
            return _pause(rollout, duration, now)
        case Analyze(metrics):
            if rollout.promote_full:
                return _next(rollout)
            return _analyze(rollout, metrics, now, measure)
        case ScaleDownOld(delay):
            return _scale_down(rollout, delay, now)


def _pause(rollout: Rollout, duration: Millis | None, now: Millis) -> Rollout | None:
    if duration is None:
        return replace(rollout, phase="Paused", message="paused until promoted")
    until = rollout.pause_until if rollout.pause_until is not None else now + duration
    if now >= until:
        return _next(replace(rollout, pause_until=None, phase="Progressing", message=""))
    if rollout.pause_until is None:
        return replace(rollout, pause_until=until, phase="Paused", message=f"paused until {until}")
    return None


def _analyze(
    rollout: Rollout, metrics: tuple[AnalysisMetric, ...], now: Millis, measure: Measure
) -> Rollout | None:
    run = rollout.analysis or AnalysisRun.start(metrics, now)
    if not run.completed:
        run = run.tick(now, measure)
    if not run.completed:
        return None if run == rollout.analysis else replace(rollout, analysis=run)
    if run.phase == "Successful":
        return _next(replace(rollout, analysis=None))
    if run.phase == "Inconclusive":
        message = f"analysis Inconclusive: {run.message}"
        return replace(rollout, analysis=run, phase="Paused", message=message)
    return _rolled_back(replace(rollout, analysis=run), now, f"analysis {run.phase}: {run.message}")


def _scale_down(rollout: Rollout, delay: Millis, now: Millis) -> Rollout | None:
    until = rollout.pause_until if rollout.pause_until is not None else now + delay
    if now < until:
        return None if rollout.pause_until == until else replace(rollout, pause_until=until)
    event = RecordEvent(f"{rollout.stable_version} scaled down", now, now)
    commands = (ScaleDown(rollout.stable_backend), event)
    return _next(replace(rollout, pause_until=None), commands)


def _with_weight(rollout: Rollout, percent: int, now: Millis) -> Rollout:
    moved = replace(rollout, weight=percent)
    label = _event_label(rollout, percent)
    commands = (
        SetWeights(tuple(moved.weights.items())),
        RecordEvent(f"{rollout.version} {label}", now, now),
    )
    return replace(moved, pending=(*rollout.pending, *commands))


def _event_label(rollout: Rollout, percent: int) -> str:
    if isinstance(rollout.strategy, CanaryStrategy):
        return f"canary {percent}%"
    return "blue-green preview" if percent == 0 else "blue-green promoted"


def _completed(rollout: Rollout, now: Millis) -> Rollout:
    """Past the last step: 100 % on the new version (Argo's full promotion), then Completed."""
    if rollout.weight != 100:
        rollout = _with_weight(rollout, 100, now)
    event = RecordEvent(rollout.version, rollout.started_at, now)
    return replace(
        rollout,
        phase="Completed",
        analysis=None,
        message="",
        pending=(*rollout.pending, event),
    )


def _rolled_back(rollout: Rollout, now: Millis, reason: str) -> Rollout:
    run = rollout.analysis
    stopped = run.stop() if run is not None and not run.completed else run
    back = replace(rollout, weight=0, analysis=stopped, pause_until=None)
    summary = reason.split(":", 1)[0]
    detail = (
        f"rollout of {rollout.service} {rollout.version} rolled back to "
        f"{rollout.stable_version}: {reason}"
    )
    commands = (
        SetWeights(tuple(back.weights.items())),
        RecordEvent(
            f"{rollout.version} rolled back to {rollout.stable_version} ({summary})", now, now
        ),
        CorrelateIncidents(detail, now),
    )
    return replace(
        back,
        phase="Aborted",
        message=reason,
        updated_at=now,
        pending=(*rollout.pending, *commands),
    )


def _next(rollout: Rollout, commands: tuple[Command, ...] = ()) -> Rollout:
    return replace(
        rollout, step_index=rollout.step_index + 1, pending=(*rollout.pending, *commands)
    )


def _moving(rollout: Rollout) -> bool:
    """Progressing, or in a timed pause: :func:`advance` has work (or a wait) ahead."""
    return rollout.phase == "Progressing" or (
        rollout.phase == "Paused" and rollout.pause_until is not None
    )


def _current(rollout: Rollout) -> Step | None:
    steps = rollout.steps
    return steps[rollout.step_index] if rollout.step_index < len(steps) else None
