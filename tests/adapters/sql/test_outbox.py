"""The durable outbox, on every backend: idempotent enqueue, exclusive leases, lease expiry."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from random import Random

import pytest

from opsplane.adapters.sql.outbox import SqlOutbox
from opsplane.app.delivery import DeliveryOptions, deliver_due
from opsplane.domain.notify import ReceiverError, RetryPolicy
from opsplane.testing import FakeClock, InboxReceiver
from tests.adapters.notify.factories import notification, numbered

NOW = 1_767_225_600_000
LEASE = 60_000
CLAIMERS = 4


@pytest.fixture
def outbox(db_url: str) -> Iterator[SqlOutbox]:
    """An open outbox on a fresh database, closed afterwards."""
    with SqlOutbox.open(db_url) as opened:
        yield opened


def test_an_enqueued_notification_is_committed_and_reads_back_unchanged(db_url: str) -> None:
    page = notification()
    with SqlOutbox.open(db_url) as writer:
        assert writer.enqueue([page], NOW) == 1
    with SqlOutbox.open(db_url) as reader:  # another connection pool: it was committed
        (entry,) = reader.entries()
    assert entry.notification == page
    assert (entry.state, entry.attempts, entry.next_attempt_at, entry.created_at) == (
        "pending",
        0,
        NOW,
        NOW,
    )


def test_enqueueing_the_same_notification_again_is_a_no_op(outbox: SqlOutbox) -> None:
    assert outbox.enqueue([notification(), notification()], NOW) == 1
    assert outbox.enqueue([notification()], NOW + 1) == 0
    assert len(outbox.entries()) == 1


def test_a_notification_differing_in_kind_receiver_or_payload_is_a_new_row(
    outbox: SqlOutbox,
) -> None:
    variants = [
        notification(),
        notification(kind="resolved"),
        notification(receiver="pager"),
        notification(summary="budget now 40% left"),
    ]
    assert outbox.enqueue(variants, NOW) == 4


def test_a_sent_notification_enqueued_again_is_not_sent_again(outbox: SqlOutbox) -> None:
    outbox.enqueue([notification()], NOW)
    (claimed,) = outbox.claim_due(NOW, 10, LEASE)
    assert outbox.mark_sent(claimed.id, NOW + 5)
    assert outbox.enqueue([notification()], NOW + 10) == 0
    assert outbox.claim_due(NOW + 10 * LEASE, 10, LEASE) == []


def test_claiming_leases_due_rows_oldest_first_and_counts_the_attempt(outbox: SqlOutbox) -> None:
    first, second, third = numbered(3)
    outbox.enqueue([second], NOW + 5)
    outbox.enqueue([first], NOW)
    outbox.enqueue([third], NOW + 1_000)  # not due yet
    claimed = outbox.claim_due(NOW + 10, 10, LEASE)
    assert [e.notification for e in claimed] == [first, second]
    assert {(e.state, e.attempts, e.next_attempt_at) for e in claimed} == {
        ("sending", 1, NOW + 10 + LEASE)
    }
    assert outbox.claim_due(NOW + 10, 10, LEASE) == []  # leased: nobody else gets them
    assert outbox.counts() == {"pending": 1, "sending": 2, "sent": 0, "dead": 0}


def test_the_limit_bounds_a_claim(outbox: SqlOutbox) -> None:
    outbox.enqueue(numbered(5), NOW)
    assert len(outbox.claim_due(NOW, 3, LEASE)) == 3
    assert len(outbox.claim_due(NOW, 3, LEASE)) == 2
    assert outbox.claim_due(NOW, 0, LEASE) == []


def test_a_lease_that_expires_makes_the_row_due_again(outbox: SqlOutbox) -> None:
    outbox.enqueue([notification()], NOW)
    (crashed,) = outbox.claim_due(NOW, 10, LEASE)  # the worker dies mid-send
    assert outbox.claim_due(NOW + LEASE - 1, 10, LEASE) == []
    (again,) = outbox.claim_due(NOW + LEASE, 10, LEASE)
    assert (again.id, again.attempts) == (crashed.id, 2)


def test_a_worker_whose_lease_was_lost_cannot_reschedule_or_bury_the_row(
    outbox: SqlOutbox,
) -> None:
    outbox.enqueue([notification()], NOW)
    (slow,) = outbox.claim_due(NOW, 10, LEASE)
    (fast,) = outbox.claim_due(NOW + LEASE, 10, LEASE)
    assert not outbox.mark_retry(slow.id, slow.attempts, NOW + 99, "late")
    assert not outbox.mark_dead(slow.id, slow.attempts, "late")
    assert outbox.mark_retry(fast.id, fast.attempts, NOW + 2 * LEASE, "HTTP 503")
    (entry,) = outbox.entries()
    assert (entry.state, entry.next_attempt_at, entry.last_error) == (
        "pending",
        NOW + 2 * LEASE,
        "HTTP 503",
    )


def test_a_delivery_is_recorded_even_after_the_lease_ran_out(outbox: SqlOutbox) -> None:
    outbox.enqueue([notification()], NOW)
    (slow,) = outbox.claim_due(NOW, 10, LEASE)
    outbox.claim_due(NOW + LEASE, 10, LEASE)
    assert outbox.mark_sent(slow.id, NOW + LEASE + 1)
    assert not outbox.mark_sent(slow.id, NOW + LEASE + 2)  # the second worker's report
    assert [(e.state, e.sent_at) for e in outbox.entries()] == [("sent", NOW + LEASE + 1)]


def test_concurrent_workers_never_claim_the_same_row(db_url: str) -> None:
    with SqlOutbox.open(db_url) as setup:
        setup.enqueue(numbered(60), NOW)
    claims: list[list[int]] = [[] for _ in range(CLAIMERS)]
    start = threading.Barrier(CLAIMERS)

    def work(index: int) -> None:
        with SqlOutbox.open(db_url) as own:  # its own engine: its own connections
            start.wait()
            while batch := own.claim_due(NOW, 3, LEASE):
                claims[index].extend(entry.id for entry in batch)
                time.sleep(0.002)  # "sending": lets the other worker in, as real sends do

    threads = [threading.Thread(target=work, args=(i,)) for i in range(CLAIMERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    every = [row_id for claim in claims for row_id in claim]
    assert sorted(every) == list(range(1, 61))  # each row exactly once
    assert sum(1 for claim in claims if claim) > 1, "the workers did not overlap at all"


def test_deliver_due_retries_then_delivers_and_buries_permanent_failures(
    outbox: SqlOutbox,
) -> None:
    clock = FakeClock(NOW)
    good, flaky, rejected = numbered(3)
    outbox.enqueue([good, flaky, rejected], NOW)
    inbox = InboxReceiver()
    receivers = {"ops": inbox}
    inbox.failures = [ReceiverError("HTTP 503", retryable=True)]
    policy = RetryPolicy(base_ms=1_000)
    options = DeliveryOptions(policy=policy, batch=10, lease_ms=LEASE, send_budget_ms=1_000)
    first = deliver_due(outbox, receivers, clock, Random(1), options)
    assert (first.claimed, first.sent, first.retried) == (3, 2, 1)
    inbox.failures = [ReceiverError("HTTP 400", retryable=False)]
    outbox.enqueue([notification(dedup_key="bad")], NOW)
    clock.advance(1_000)
    second = deliver_due(outbox, receivers, clock, Random(1), options)
    assert (second.claimed, second.sent, second.dead) == (2, 1, 1)
    states = {e.notification.dedup_key: e.state for e in outbox.entries()}
    assert states == {"group-0": "sent", "group-1": "sent", "group-2": "sent", "bad": "dead"}
    assert sorted(n.dedup_key for n in inbox.received) == ["group-0", "group-1", "group-2"]
