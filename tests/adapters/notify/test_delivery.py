"""``deliver_due`` retries 429 (honouring Retry-After) and 5xx until success; 4xx is final.

Real receivers post to a real local server; the outbox is the in-memory fake and the clock is
fake, so every delay the step machine chooses is visible.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from random import Random

import httpx
import pytest

from opsplane.adapters.notify import (
    PagerDutyConfig,
    PagerDutyReceiver,
    SlackConfig,
    SlackReceiver,
    WebhookConfig,
    WebhookReceiver,
)
from opsplane.app.delivery import DeliveryOptions, DeliveryReport, deliver_due
from opsplane.ports import Receiver
from opsplane.testing import FakeClock, InboxReceiver, InMemoryOutbox
from tests.adapters.notify.factories import notification, numbered
from tests.adapters.notify.http_server import RecordingServer, Reply

NOW = FakeClock().now
OPTIONS = DeliveryOptions(lease_ms=60_000, send_budget_ms=1_000)


def receivers_for(server: RecordingServer, client: httpx.Client) -> Mapping[str, Receiver]:
    """Every HTTP receiver kind, all posting to the local server."""
    return {
        "ops": WebhookReceiver(WebhookConfig("ops", url=server.url("/hook/T0KEN")), client),
        "chat": SlackReceiver(SlackConfig("chat", url=server.url("/services/T/B/X")), client),
        "pager": PagerDutyReceiver(
            PagerDutyConfig("pager", routing_key="k3y", url=server.url("/v2/enqueue")), client
        ),
    }


@pytest.mark.parametrize("receiver", ["ops", "chat", "pager"])
def test_429_then_503_then_success_delivers_after_honouring_retry_after(
    server: RecordingServer, client: httpx.Client, receiver: str
) -> None:
    server.answer(Reply(429, {"Retry-After": "30"}), Reply(503))
    outbox, clock = InMemoryOutbox(), FakeClock()
    outbox.enqueue([notification(receiver=receiver)], clock.now)
    receivers = receivers_for(server, client)

    assert deliver_due(outbox, receivers, clock, Random(1), OPTIONS).retried == 1
    (entry,) = outbox.entries()
    assert entry.next_attempt_at == NOW + 30_000  # Retry-After beats the <= 1 s backoff
    assert "HTTP 429 Too Many Requests" in (entry.last_error or "")

    clock.advance(29_999)
    assert deliver_due(outbox, receivers, clock, Random(1), OPTIONS).claimed == 0
    clock.advance(1)
    assert deliver_due(outbox, receivers, clock, Random(1), OPTIONS).retried == 1
    (entry,) = outbox.entries()
    assert clock.now <= entry.next_attempt_at <= clock.now + 2_000  # second backoff: <= 2 s

    clock.now = entry.next_attempt_at
    assert deliver_due(outbox, receivers, clock, Random(1), OPTIONS).sent == 1
    (entry,) = outbox.entries()
    assert (entry.state, entry.attempts, entry.sent_at) == ("sent", 3, clock.now)
    assert [r.status for r in server.requests] == [429, 503, 200]


def test_a_4xx_buries_the_notification_after_one_attempt(
    server: RecordingServer, client: httpx.Client
) -> None:
    server.answer(Reply(404, body=b"no_service"))
    outbox, clock = InMemoryOutbox(), FakeClock()
    outbox.enqueue([notification(receiver="chat")], clock.now)
    report = deliver_due(outbox, receivers_for(server, client), clock, Random(1), OPTIONS)
    assert report == DeliveryReport(claimed=1, dead=1)
    (entry,) = outbox.entries()
    assert entry.state == "dead"
    assert entry.last_error == (
        f"slack 'chat' at http://127.0.0.1:{server.port}: HTTP 404 Not Found: no_service"
    )
    clock.advance(10**9)
    assert deliver_due(outbox, receivers_for(server, client), clock, Random(1)).claimed == 0
    assert len(server.requests) == 1


def test_a_notification_for_an_unknown_receiver_waits_for_the_configuration() -> None:
    outbox, clock = InMemoryOutbox(), FakeClock()
    outbox.enqueue([notification(receiver="gone")], clock.now)
    assert deliver_due(outbox, {}, clock, Random(1), OPTIONS).retried == 1
    assert outbox.entries()[0].last_error == "no receiver named 'gone' is configured"


@dataclass
class Broken:
    """A receiver with a bug: its exception's message holds a secret."""

    def send(self, notification: object) -> None:
        raise KeyError("routing-key-SECRET")


def test_a_receiver_bug_is_retried_and_logged_without_its_message(
    caplog: pytest.LogCaptureFixture,
) -> None:
    outbox, clock = InMemoryOutbox(), FakeClock()
    outbox.enqueue([notification()], clock.now)
    report = deliver_due(outbox, {"ops": Broken()}, clock, Random(1), OPTIONS)
    assert report.retried == 1
    assert outbox.entries()[0].last_error == "receiver 'ops' raised KeyError"
    assert "SECRET" not in caplog.text
    assert "receiver 'ops' raised KeyError" in caplog.text


@dataclass
class Slow:
    """Delivers, but each send takes 20 s of (fake) time."""

    clock: FakeClock
    inbox: InboxReceiver

    def send(self, notification: object) -> None:
        self.clock.advance(20_000)
        self.inbox.send(notification)  # type: ignore[arg-type]


def test_a_pass_stops_before_the_lease_runs_out_and_leaves_the_rest(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    outbox, clock = InMemoryOutbox(), FakeClock()
    outbox.enqueue(numbered(5), clock.now)
    options = DeliveryOptions(batch=5, lease_ms=60_000, send_budget_ms=15_000)
    slow = Slow(clock, InboxReceiver())
    report = deliver_due(outbox, {"ops": slow}, clock, Random(1), options)
    # Sends start at 0, 20 and 40 s, each with at least the 15 s budget left of the 60 s
    # lease; at 60 s nothing is left, so the pass stops.
    assert (report.sent, report.unsent) == (3, 2)
    assert "2 claimed rows left for later" in caplog.text
    clock.advance(1)  # the lease has ended: the rest are due again
    assert deliver_due(outbox, {"ops": slow}, clock, Random(1), options).sent == 2
    assert len(slow.inbox.received) == 5
