"""Deliver due notifications from the outbox: claim, send, then record the step's result.

One :func:`deliver_due` pass claims a batch of due rows (leased to this worker), sends each
through its receiver and records what the pure step machine
(:func:`opsplane.domain.notify.advance`) decides: ``sent``, ``pending`` again after a jittered
backoff, or ``dead``. Every decision is committed right after its send, so a crash re-sends at
most the notification that was in flight (it is due again once its lease ends).

A pass stops early when the lease no longer leaves ``send_budget_ms`` for the next send: past
its end another worker may have claimed the row, and sending it too would be a needless
duplicate. The rows left over are simply claimed again later.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from random import Random

from opsplane.domain.duration import MINUTE
from opsplane.domain.notify import (
    SECOND,
    Delivered,
    OutboxEntry,
    Outcome,
    ReceiverError,
    Retryable,
    RetryPolicy,
    advance,
)
from opsplane.errors import DeliveryError
from opsplane.ports import Clock, Outbox, Receiver
from opsplane.types import Millis

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DeliveryOptions:
    """How a delivery pass behaves.

    Attributes:
        policy: Backoff and give-up rules.
        batch: Rows claimed per pass.
        lease_ms: How long a claim lasts. It must outlast ``batch`` sends at the receivers'
            timeouts (10 rows at 15 s worst case fit in 5 min).
        send_budget_ms: Lease time a send needs; with less left, the pass stops.
    """

    policy: RetryPolicy = field(default_factory=RetryPolicy)
    batch: int = 10
    lease_ms: Millis = 5 * MINUTE
    send_budget_ms: Millis = 30 * SECOND


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """What one pass did.

    Attributes:
        claimed: Rows claimed.
        sent: Rows delivered.
        retried: Rows rescheduled after a transient failure.
        dead: Rows given up on.
        unsent: Claimed rows left for later because the lease ran short.
        lease_lost: Results not recorded because another worker had claimed the row.
    """

    claimed: int = 0
    sent: int = 0
    retried: int = 0
    dead: int = 0
    unsent: int = 0
    lease_lost: int = 0


def deliver_due(
    outbox: Outbox,
    receivers: Mapping[str, Receiver],
    clock: Clock,
    rng: Random,
    options: DeliveryOptions | None = None,
) -> DeliveryReport:
    """Claim the due notifications, send them and record each outcome.

    Args:
        outbox: Where notifications wait.
        receivers: The receivers by name; a notification for an unknown one is retried
            (the configuration may be reloaded) until the policy gives up.
        clock: The time for claims, leases and backoff.
        rng: The jitter source.
        options: Batch, lease and retry policy.
    """
    options = options or DeliveryOptions()
    entries = outbox.claim_due(clock.now_ms(), options.batch, options.lease_ms)
    tally = {"sent": 0, "pending": 0, "dead": 0, "lost": 0}
    for position, entry in enumerate(entries):
        if clock.now_ms() + options.send_budget_ms > entry.next_attempt_at:
            unsent = len(entries) - position
            logger.warning("outbox lease running out: %d claimed rows left for later", unsent)
            return _report(len(entries), tally, unsent)
        outcome = attempt(entry, receivers)
        after = advance(entry, outcome, clock.now_ms(), options.policy, rng)
        recorded = _record(outbox, entry, after)
        tally[after.state if recorded or after.state == "sent" else "lost"] += 1
    return _report(len(entries), tally, 0)


def attempt(entry: OutboxEntry, receivers: Mapping[str, Receiver]) -> Outcome:
    """Send ``entry``'s notification once and say how it went (never raises for a receiver)."""
    name = entry.notification.receiver
    receiver = receivers.get(name)
    if receiver is None:
        return Retryable(f"no receiver named {name!r} is configured")
    try:
        receiver.send(entry.notification)
    except ReceiverError as exc:
        return exc.outcome()
    except DeliveryError as exc:
        return Retryable(str(exc))
    except Exception as exc:  # a receiver's bug must not stop the other deliveries
        # Only the type: a foreign exception's message may hold a secret.
        logger.error("receiver %r raised %s", name, type(exc).__name__)
        return Retryable(f"receiver {name!r} raised {type(exc).__name__}")
    return Delivered()


def _record(outbox: Outbox, claimed: OutboxEntry, after: OutboxEntry) -> bool:
    """Store the step's result; ``False`` when the lease had been lost."""
    error = after.last_error or ""
    if after.state == "sent":
        assert after.sent_at is not None
        return outbox.mark_sent(claimed.id, after.sent_at)
    if after.state == "pending":
        logger.warning(
            "notification %d to %r failed (attempt %d), retrying: %s",
            claimed.id,
            claimed.notification.receiver,
            claimed.attempts,
            error,
        )
        return outbox.mark_retry(claimed.id, claimed.attempts, after.next_attempt_at, error)
    logger.error(
        "notification %d to %r is dead: %s", claimed.id, claimed.notification.receiver, error
    )
    return outbox.mark_dead(claimed.id, claimed.attempts, error)


def _report(claimed: int, tally: Mapping[str, int], unsent: int) -> DeliveryReport:
    return DeliveryReport(
        claimed=claimed,
        sent=tally["sent"],
        retried=tally["pending"],
        dead=tally["dead"],
        unsent=unsent,
        lease_lost=tally["lost"],
    )
