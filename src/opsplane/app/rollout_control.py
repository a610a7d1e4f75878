"""Use case: the operator's rollout actions, recorded for a coordinator to carry out.

``opsplane rollout start|promote|abort`` act on the state database only, as
``kubectl argo rollouts`` only edits the ``Rollout`` object and leaves the rest to the
controller: :class:`RolloutControl` saves the new state with its commands pending, and the
:class:`~opsplane.app.rollout.RolloutCoordinator` of ``opsplane serve`` takes the steps and
moves the traffic at its next tick. A new rollout's strategy comes from its service's
``delivery:`` section, found in the server's catalog (:func:`strategy_from_catalog`) or in
spec files (:func:`strategy_from_paths`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from opsplane.app.rollout import RolloutRequest, insert_rollout
from opsplane.domain import rollout as machine
from opsplane.domain.delivery import rollout_strategy
from opsplane.domain.rollout import Rollout, Strategy
from opsplane.errors import ConflictError, NotFoundError, Problem, SpecError, UsageError
from opsplane.ports import Clock, RolloutStore, SpecCatalog
from opsplane.spec import load_paths, load_texts
from opsplane.spec.delivery import deliveries
from opsplane.spec.loader import LoadResult

ATTEMPTS = 3
"""Tries of a promote or abort that races the coordinator's step."""


@dataclass
class RolloutControl:
    """The operator's actions, recorded for a coordinator to carry out (no router here).

    ``opsplane rollout start|promote|abort`` use it: each saves the new state, fenced by its
    revision, with its commands still pending; the coordinator of ``opsplane serve`` takes the
    steps and applies the weights at its next tick (at most ``IDLE_WAIT_MS`` later).
    """

    store: RolloutStore
    clock: Clock

    def start(self, request: RolloutRequest, rollout_id: str | None = None) -> Rollout:
        """Record a new rollout; the coordinator takes its first step.

        Raises:
            SpecError: a version is invalid.
            ConflictError: the service has a rollout in progress, or the id is taken.
        """
        return insert_rollout(self.store, request, self.clock.now_ms(), rollout_id)

    def promote(self, rollout_id: str, *, full: bool = False) -> Rollout:
        """Record a promote (skip the current step, or every remaining one with ``full``).

        Raises:
            NotFoundError: no rollout has that id.
            ConflictError: it has ended, or changed while this was computed.
        """
        return self._act(rollout_id, lambda r: machine.promote(r, self.clock.now_ms(), full=full))

    def abort(self, rollout_id: str, reason: str) -> Rollout:
        """Record an abort: Aborted at once, the rollback's weights pending.

        Raises:
            NotFoundError: no rollout has that id.
            ConflictError: it has ended, or changed while this was computed.
        """
        return self._act(rollout_id, lambda r: machine.abort(r, self.clock.now_ms(), reason))

    def _get(self, rollout_id: str) -> Rollout:
        rollout = self.store.rollout(rollout_id)
        if rollout is None:
            raise NotFoundError(f"no rollout {rollout_id!r}")
        return rollout

    def _act(self, rollout_id: str, change: Callable[[Rollout], Rollout]) -> Rollout:
        """Apply ``change`` to the stored rollout and save it, fenced by its revision.

        When the coordinator moved the rollout in between (a fenced write is refused), the
        change is computed again on the new state, up to :data:`ATTEMPTS` times: the operator
        acts on the rollout as it is, as ``kubectl argo rollouts promote`` does.
        """
        for attempt in range(1, ATTEMPTS + 1):
            before = self._get(rollout_id)
            after = replace(change(before), revision=before.revision + 1)
            try:
                self.store.save_rollout(after, before.revision)
            except ConflictError:
                if attempt == ATTEMPTS:
                    raise
                continue
            return after
        raise AssertionError("unreachable")


@dataclass
class StateOnlyRouter:
    """A :class:`~opsplane.ports.TrafficRouter` that moves no traffic.

    ``opsplane serve``'s default: the weights a rollout wants are kept in its stored state
    (``status`` and the API show them), and whatever deploys the service reads them from
    there. It only remembers the last split per service, for ``weights``.
    """

    splits: dict[str, dict[str, int]] = field(default_factory=dict)

    def set_weights(self, service: str, weights: Mapping[str, int]) -> None:
        """Remember ``weights`` (percent per backend, adding up to 100).

        Raises:
            UsageError: the weights are not whole percents adding up to 100.
        """
        if sum(weights.values()) != 100 or any(not 0 <= w <= 100 for w in weights.values()):
            raise UsageError(f"traffic split of {service!r} must add up to 100: {dict(weights)}")
        self.splits[service] = dict(weights)

    def weights(self, service: str) -> Mapping[str, int]:
        """The last split of ``service`` (empty before the first)."""
        return dict(self.splits.get(service, {}))


def strategy_from_catalog(catalog: SpecCatalog, service: str) -> Strategy:
    """The rollout strategy of a stored service's ``delivery:`` section.

    Raises:
        NotFoundError: no namespace has a service of that name.
        SpecError: its spec has no ``delivery:`` section (or an invalid one).
    """
    for spec in catalog.specs(None):
        if spec.name == service:
            return _strategy(load_texts([(spec.name, spec.source)]), service)
    raise NotFoundError(f"no service {service!r} in the catalog")


def strategy_from_paths(paths: Sequence[str | Path], service: str) -> Strategy:
    """The rollout strategy of ``service`` in the spec files under ``paths``.

    Raises:
        NotFoundError: no spec there describes that service.
        SpecError: a spec is invalid, or the service has no ``delivery:`` section.
    """
    return _strategy(load_paths(paths), service)


def _strategy(loaded: LoadResult, service: str) -> Strategy:
    found, problems = deliveries(loaded)
    if loaded.problems or problems:
        raise SpecError(sorted(dict.fromkeys(loaded.problems + problems), key=lambda p: p.file))
    matches = [p for p in loaded.parsed if p.service.name == service]
    if not matches:
        raise NotFoundError(f"no service {service!r} in the specs")
    for parsed, policy in found:
        if parsed.service.name == service:
            return rollout_strategy(parsed.service, policy)
    msg = f"service {service} has no delivery: section, so it cannot be rolled out"
    raise SpecError([Problem(matches[0].doc.file, "delivery", msg)])
