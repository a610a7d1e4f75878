"""The alert state machine of a Prometheus alerting rule, one evaluation at a time.

A port of ``AlertingRule.Eval`` in Prometheus' ``rules/alerting.go`` for a rule whose
expression returns at most one series (every opsplane alert: the expressions aggregate with
``max(...) without (sloth_window)`` or use ``absent()``), without ``keep_firing_for``:

- The expression holds and there is no active alert (none, or only a resolved one): a new alert
  starts ``pending`` with ``ActiveAt = ts``.
- A pending alert fires once ``ts - ActiveAt >= for``; this check runs in the same evaluation
  that created the alert, so with ``for: 0`` an alert is firing at once.
- The expression stops holding: a pending alert is deleted (``inactive``), a firing one becomes
  inactive with ``ResolvedAt = ts``, which opsplane calls ``resolved``.
- A resolved alert is kept for ``resolvedRetention`` (15m) and deleted at the first evaluation
  with ``ts - ResolvedAt > resolvedRetention``.

``inactive`` means Prometheus holds no alert: its status carries no timestamps. The history
of an alert is its transitions.
"""

from __future__ import annotations

from dataclasses import replace

from opsplane.domain.duration import MINUTE
from opsplane.domain.evaluation import AlertState, AlertStatus, AlertTransition
from opsplane.types import Millis

RESOLVED_RETENTION: Millis = 15 * MINUTE
"""``resolvedRetention`` in Prometheus' ``rules/alerting.go``."""

_ACTIVE: frozenset[AlertState] = frozenset({"pending", "firing"})


def inactive(key: str, name: str, severity: str) -> AlertStatus:
    """An alert that Prometheus holds no state for."""
    return AlertStatus(key=key, name=name, severity=severity, state="inactive")


def next_status(
    previous: AlertStatus,
    *,
    holds: bool,
    hold: Millis,
    at: Millis,
    resolved_retention: Millis = RESOLVED_RETENTION,
) -> AlertStatus:
    """The alert's status after one evaluation at ``at``.

    Args:
        previous: Its status after the previous evaluation (``inactive`` when it had none).
        holds: Whether the rule's expression returned a sample at ``at``.
        hold: The rule's ``for``.
        at: The evaluation instant.
        resolved_retention: How long a resolved alert is kept before it becomes inactive.
    """
    if holds:
        return _activate(previous, hold, at)
    return _deactivate(previous, at, resolved_retention)


def _activate(previous: AlertStatus, hold: Millis, at: Millis) -> AlertStatus:
    current = previous
    if previous.state not in _ACTIVE or previous.active_at is None:
        # alerting.go: no alert, or only an inactive (resolved) one: a new pending alert.
        current = replace(previous, state="pending", active_at=at, fired_at=None, resolved_at=None)
    assert current.active_at is not None  # set above for every alert that was not active
    if current.state == "pending" and at - current.active_at >= hold:
        return replace(current, state="firing", fired_at=at)
    return current


def _deactivate(previous: AlertStatus, at: Millis, resolved_retention: Millis) -> AlertStatus:
    if previous.state == "firing":
        return replace(previous, state="resolved", resolved_at=at)
    resolved_at = previous.resolved_at
    if previous.state == "resolved" and resolved_at is not None:
        kept = at - resolved_at <= resolved_retention
    else:
        stamps = (previous.active_at, previous.fired_at, resolved_at)
        kept = previous.state == "inactive" and stamps == (None, None, None)
    # A pending alert is deleted, and so is a resolved one past its retention.
    return previous if kept else inactive(previous.key, previous.name, previous.severity)


def transition(
    slo_id: str, previous: AlertStatus, current: AlertStatus, at: Millis
) -> AlertTransition | None:
    """The change from ``previous`` to ``current``, or ``None`` when the state is unchanged.

    One evaluation yields at most one transition per alert: with ``for: 0`` an alert goes
    from ``inactive`` straight to ``firing``, as Prometheus never exposes the pending state.
    """
    if previous.state == current.state:
        return None
    return AlertTransition(
        slo_id=slo_id,
        key=current.key,
        name=current.name,
        from_state=previous.state,
        to_state=current.state,
        at=at,
    )
