"""Use case: drive rollouts (canary or blue-green) through their steps, durably.

:class:`RolloutCoordinator` is the runner of the pure step machine in
:mod:`opsplane.domain.rollout`. For every change it:

1. computes the next state (:func:`~opsplane.domain.rollout.advance`, ``promote``, ``abort``),
   whose ``pending`` commands say what must happen outside;
2. saves that state, fenced by its revision (:class:`~opsplane.ports.RolloutStore`);
3. carries the commands out: weights to the :class:`~opsplane.ports.TrafficRouter`, a
   deployment event to the :class:`~opsplane.ports.DeploymentLog`, a ``deployment_correlated``
   entry in the service's open incidents, the old version scaled down;
4. saves the state again without them.

Each command is removed from the stored state once it is carried out. A crash (or a failing
router, a conflicting incident write) before that leaves it there, and the store keeps such a
rollout among the active ones even when it has ended; the next :meth:`tick` (of this
coordinator or one started after a restart) carries out what is left. So a rollback's weights
are applied at least once, and a deployment event is never lost; only a crash between a
command and its save repeats it.

:meth:`run` is the loop: it advances every active rollout when it is due and sleeps until the
next one is, so analysis intervals are kept without polling.

:class:`~opsplane.app.rollout_control.RolloutControl` records an operator's start, promote
or abort without a router; the coordinator carries it out at its next tick. A rollout that is
*Progressing* with nothing scheduled (just started or promoted) is therefore due at once
(:func:`waits_for_controller`).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from opsplane.domain import incidents as inc
from opsplane.domain import rollout as machine
from opsplane.domain.analysis import AnalysisMetric, Measurement
from opsplane.domain.incidents import Incident
from opsplane.domain.remediation import Deployment
from opsplane.domain.rollout import (
    Command,
    CorrelateIncidents,
    RecordEvent,
    Rollout,
    ScaleDown,
    SetWeights,
    Strategy,
)
from opsplane.errors import (
    ConflictError,
    DatasourceError,
    NotFoundError,
    Problem,
    SpecError,
    UsageError,
)
from opsplane.ports import (
    Clock,
    DeploymentLog,
    IncidentStore,
    MetricProvider,
    RolloutStore,
    TrafficRouter,
)
from opsplane.types import Millis

logger = logging.getLogger(__name__)

ScaleDownHook = Callable[[str, str], None]
"""Called with ``(service, backend)`` when blue-green scales the old version down."""

IDLE_WAIT_MS: Millis = 1_000
"""How long :meth:`RolloutCoordinator.run` sleeps when nothing is due (new rollouts, promotes)."""
VERSION = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+-]{0,127}$")
"""A version: an image tag's characters (``[A-Za-z0-9_.-]``, at most 128) and ``+``."""


@dataclass(frozen=True, slots=True)
class RolloutRequest:
    """What to roll out: ``version`` of ``service`` over ``stable_version``, and how."""

    service: str
    version: str
    stable_version: str
    strategy: Strategy
    backends: tuple[str, str] = ("stable", "canary")
    author: str = ""


@dataclass
class RolloutCoordinator:
    """Starts, advances, promotes and aborts rollouts, persisting every step.

    Attributes:
        store: Where rollouts are kept.
        router: Moves the traffic.
        deployments: Receives one deployment event per step, rollback included.
        provider: Measures the analysis metrics.
        clock: The time.
        incidents: When given, a rollback is added to the timeline of the service's open
            incidents (``deployment_correlated``).
        scale_down: Called when blue-green scales the old version down.
    """

    store: RolloutStore
    router: TrafficRouter
    deployments: DeploymentLog
    provider: MetricProvider
    clock: Clock
    incidents: IncidentStore | None = None
    scale_down: ScaleDownHook | None = None

    def start(self, request: RolloutRequest, rollout_id: str | None = None) -> Rollout:
        """Start a rollout and take its first steps at once.

        Raises:
            ConflictError: the service has a rollout in progress, or the id is taken.
            UsageError: the strategy is invalid.
        """
        rollout = insert_rollout(self.store, request, self.clock.now_ms(), rollout_id)
        return self._advance_started(rollout.id)

    def reconcile(self, rollout_id: str) -> Rollout:
        """Advance one rollout as far as it can go now; returns its new state.

        Raises:
            NotFoundError: no rollout has that id.
        """
        rollout = self._get(rollout_id)
        if rollout.pending:  # left by a crash or a failed router: carry them out first
            rollout = self._carry_out(rollout)
        return self._commit(rollout, machine.advance(rollout, self.clock.now_ms(), self._measure))

    def promote(self, rollout_id: str, *, full: bool = False) -> Rollout:
        """Skip the current step (or, with ``full``, every remaining pause and analysis).

        Raises:
            NotFoundError: no rollout has that id.
            ConflictError: it has ended, or has nothing left to promote.
        """
        rollout = self._get(rollout_id)
        if rollout.pending:
            rollout = self._carry_out(rollout)
        promoted = self._commit(rollout, machine.promote(rollout, self.clock.now_ms(), full=full))
        return self._advance_started(promoted.id)

    def _advance_started(self, rollout_id: str) -> Rollout:
        """Take the steps a start or promote allows now, unless another coordinator does.

        The start or promote is saved already; if another coordinator (the loop's thread, or
        another replica) moves the rollout first, that is not a failure of this request.
        """
        try:
            return self.reconcile(rollout_id)
        except ConflictError:
            return self._get(rollout_id)

    def abort(self, rollout_id: str, reason: str) -> Rollout:
        """Roll back: all traffic to the stable version, the rollout Aborted.

        Raises:
            NotFoundError: no rollout has that id.
            ConflictError: it has already ended.
        """
        rollout = self._get(rollout_id)
        if rollout.pending:
            rollout = self._carry_out(rollout)
        return self._commit(rollout, machine.abort(rollout, self.clock.now_ms(), reason))

    def tick(self) -> Millis | None:
        """Advance every rollout that is due; when the next one is due (``None``: idle).

        A rollout whose router or store fails is logged and tried again at the next tick; it
        does not hold the others up.
        """
        now = self.clock.now_ms()
        wakes: list[Millis] = []
        for stored in self.store.rollouts(active_only=True):
            rollout = stored
            due = now if waits_for_controller(rollout) else rollout.next_wake_at()
            if due is not None and due <= now:
                try:
                    rollout = self.reconcile(stored.id)
                except (ConflictError, DatasourceError, UsageError) as exc:
                    # UsageError: a router refusing the split (an unknown backend name).
                    logger.warning("rollout %s not advanced: %s", stored.id, exc)
                    wakes.append(now + IDLE_WAIT_MS)
                    continue
                due = now if waits_for_controller(rollout) else rollout.next_wake_at()
            if due is not None:
                wakes.append(due)
        return min(wakes) if wakes else None

    def run(
        self,
        stop: threading.Event,
        *,
        idle_wait_ms: Millis = IDLE_WAIT_MS,
        wake: threading.Event | None = None,
        gate: Callable[[], bool] | None = None,
    ) -> None:
        """Tick until ``stop`` is set, sleeping until the next rollout is due (at most
        ``idle_wait_ms``, so rollouts started or promoted elsewhere are picked up).

        Args:
            stop: Ends the loop between ticks (with ``wake``, set ``wake`` too to end at once).
            idle_wait_ms: The longest sleep.
            wake: Cuts a sleep short when set (an API request recorded a start or a promote).
            gate: Asked before each tick; ``False`` skips it (another replica holds the lease).
        """
        while not stop.is_set():
            due: Millis | None = None
            try:
                if gate is None or gate():
                    due = self.tick()
            except Exception:  # the loop must outlive a database hiccup or a router's bug
                logger.exception("rollout tick failed; retrying")
            now = self.clock.now_ms()
            delay = idle_wait_ms if due is None else min(max(due - now, 0), idle_wait_ms)
            if wake is None:
                stop.wait(delay / 1000)
            else:
                wake.wait(delay / 1000)
                wake.clear()

    def _measure(self, metric: AnalysisMetric, at: Millis) -> Measurement:
        return self.provider.measure(metric, at)

    def _get(self, rollout_id: str) -> Rollout:
        rollout = self.store.rollout(rollout_id)
        if rollout is None:
            raise NotFoundError(f"no rollout {rollout_id!r}")
        return rollout

    def _commit(self, before: Rollout, after: Rollout) -> Rollout:
        """Save ``after`` (fenced on ``before``), then carry out its commands."""
        if after == before:
            return before
        after = replace(after, revision=before.revision + 1)
        self.store.save_rollout(after, before.revision)
        return self._carry_out(after) if after.pending else after

    def _carry_out(self, rollout: Rollout) -> Rollout:
        """Carry out the pending commands in order, saving after each one.

        If one fails, those before it are not repeated next time (only a crash between a
        command and its save repeats that one command).
        """
        while rollout.pending:
            command, *rest = rollout.pending
            self._execute(rollout, command)
            done = replace(rollout, pending=tuple(rest), revision=rollout.revision + 1)
            self.store.save_rollout(done, rollout.revision)
            rollout = done
        return rollout

    def _execute(self, rollout: Rollout, command: Command) -> None:
        match command:
            case SetWeights(weights):
                self.router.set_weights(rollout.service, dict(weights))
            case RecordEvent(version, started_at, finished_at):
                self.deployments.record_deployment(
                    Deployment(rollout.service, version, started_at, finished_at, rollout.author)
                )
            case CorrelateIncidents(detail, at):
                self._correlate(rollout.service, detail, at)
            case ScaleDown(backend):
                if self.scale_down is not None:
                    self.scale_down(rollout.service, backend)
        logger.info("rollout %s: %s", rollout.id, command)

    def _correlate(self, service: str, detail: str, at: Millis) -> None:
        if self.incidents is None:
            return
        for incident in self.incidents.incidents(unresolved_only=True, limit=1_000):
            if concerns(incident, service):
                self.incidents.save_incident(
                    inc.record(incident, at, "deployment_correlated", detail)
                )


def concerns(incident: Incident, service: str) -> bool:
    """Whether an open incident is about ``service``.

    It is when its alert group is keyed by the service (``sloth_service`` or ``service`` among
    the group labels) or when alerting already correlated one of the service's deployments
    with it (its timeline names ``<service> <version> deployed ...``).
    """
    labels = (f'sloth_service="{service}"', f'service="{service}"')
    if any(label in incident.group_key for label in labels):
        return True
    return any(
        event.kind == "deployment_correlated" and event.detail.startswith(f"{service} ")
        for event in incident.timeline
    )


def active_rollouts(store: RolloutStore, services: Sequence[str] = ()) -> list[Rollout]:
    """The rollouts in progress (of ``services``, when given), newest first."""
    found = store.rollouts(active_only=True)
    return [r for r in found if not services or r.service in services]


def waits_for_controller(rollout: Rollout) -> bool:
    """Whether the rollout has work that only a coordinator can do now.

    That is commands left to carry out (a new step's weights, a rollback recorded by
    ``opsplane rollout abort``), or a *Progressing* rollout with nothing scheduled: one just
    started or promoted by :class:`RolloutControl`, whose next step has not been taken yet.
    """
    if rollout.pending:
        return True
    return rollout.phase == "Progressing" and rollout.next_wake_at() is None


def check_request(request: RolloutRequest, where: str = "request") -> None:
    """Refuse versions that are not image-tag-like (they end up in ids, URLs and events).

    Raises:
        SpecError: one problem per bad field.
    """
    problems = [
        Problem(where, name, f"{value!r} is not a version ([A-Za-z0-9_.+-], at most 128)")
        for name, value in (
            ("version", request.version),
            ("stable_version", request.stable_version),
        )
        if not VERSION.match(value)
    ]
    if request.version == request.stable_version and not problems:
        msg = f"is the stable version {request.version!r} itself; nothing would change"
        problems.append(Problem(where, "version", msg))
    if problems:
        raise SpecError(problems)


def insert_rollout(
    store: RolloutStore, request: RolloutRequest, now: Millis, rollout_id: str | None = None
) -> Rollout:
    """Store a new rollout of ``request`` at its first step, not advanced yet.

    Raises:
        SpecError: a version is invalid.
        ConflictError: the service has a rollout in progress, or the id is taken.
        UsageError: the strategy is invalid.
    """
    check_request(request)
    active = store.rollouts(active_only=True, service=request.service)
    if active:
        msg = f"service {request.service} has a rollout in progress ({active[0].id})"
        raise ConflictError(msg)
    try:
        rollout = machine.start(
            rollout_id or f"{request.service}-{request.version}-{now}",
            request.service,
            request.strategy,
            now,
            version=request.version,
            stable_version=request.stable_version,
            backends=request.backends,
            author=request.author,
        )
    except ValueError as exc:
        raise UsageError(str(exc)) from exc
    rollout = replace(rollout, revision=1)
    store.save_rollout(rollout, None)
    return rollout
