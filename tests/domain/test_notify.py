"""Notifications, the retry policy and the outbox step machine, without any I/O."""

from __future__ import annotations

from dataclasses import replace
from random import Random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opsplane.domain.duration import HOUR, MINUTE
from opsplane.domain.notify import (
    Alert,
    Delivered,
    Notification,
    OutboxEntry,
    OutboxState,
    Outcome,
    Permanent,
    ReceiverError,
    Retryable,
    RetryPolicy,
    advance,
    common_labels,
    payload_from_json,
    payload_to_json,
    with_remediation,
)
from tests.adapters.notify.factories import DASHBOARD, RUNBOOK, SUMMARY, notification, page_alert

NOW = 1_767_225_600_000
POLICY = RetryPolicy()

labels = st.dictionaries(st.text(max_size=8), st.text(max_size=8), max_size=4)
alerts = st.builds(
    Alert,
    labels=labels,
    annotations=labels,
    starts_at=st.integers(0, 2**53),
    ends_at=st.none() | st.integers(0, 2**53),
    generator_url=st.text(max_size=20),
    status=st.sampled_from(["firing", "resolved"]),
)


def claimed(attempts: int = 1, created_at: int = NOW) -> OutboxEntry:
    """A row claimed for its ``attempts``-th attempt, leased for a minute."""
    return OutboxEntry(7, notification(), "sending", attempts, NOW + MINUTE, created_at)


class TestNotification:
    @given(alerts=st.lists(alerts, max_size=3), summary=st.text(), truncated=st.integers(0, 9))
    def test_a_payload_survives_its_json_form_unchanged(
        self, alerts: list[Alert], summary: str, truncated: int
    ) -> None:
        payload = replace(
            notification().payload,
            alerts=tuple(alerts),
            summary=summary,
            truncated_alerts=truncated,
        )
        assert payload_from_json(payload_to_json(payload)) == payload

    def test_a_stored_payload_that_is_not_one_is_rejected(self) -> None:
        raw = payload_to_json(notification().payload)
        with pytest.raises(ValueError, match="not a stored notification payload"):
            payload_from_json({**raw, "alerts": [{"labels": {}}]})
        with pytest.raises(ValueError, match="not a stored notification payload"):
            payload_from_json({**raw, "severity": "P9"})

    def test_the_delivery_id_depends_on_content_not_on_label_order(self) -> None:
        forward = notification(alerts=(page_alert(labels={"a": "1", "b": "2"}),))
        backward = notification(alerts=(page_alert(labels={"b": "2", "a": "1"}),))
        assert forward.delivery_id == backward.delivery_id
        assert len(forward.delivery_id) == 32

    @pytest.mark.parametrize(
        "other",
        [
            notification(kind="resolved"),
            notification(receiver="pager"),
            notification(dedup_key="another-group"),
            notification(summary="a different summary"),
        ],
        ids=[
            "the resolution of a page is a different delivery",
            "the same page to another receiver is a different delivery",
            "another group is a different delivery",
            "a changed summary is a different delivery",
        ],
    )
    def test_notifications_that_differ_have_different_delivery_ids(
        self, other: Notification
    ) -> None:
        assert other.delivery_id != notification().delivery_id

    def test_the_title_counts_firing_alerts_like_alertmanager(self) -> None:
        two = notification(alerts=(page_alert(), page_alert(labels={"alertname": "X"})))
        assert two.title == "[FIRING:2] CheckoutAvailability"
        assert notification(kind="resolved").title == "[RESOLVED] CheckoutAvailability"

    def test_remediation_becomes_annotations_but_the_alerts_own_win(self) -> None:
        payload = notification().payload
        alert = page_alert(annotations={"runbook_url": "https://own.example"})
        assert with_remediation(alert, payload).annotations == {
            "remediation": SUMMARY,
            "runbook_url": "https://own.example",
            "dashboard_url": DASHBOARD,
        }
        assert with_remediation(page_alert(), payload).annotations["runbook_url"] == RUNBOOK

    def test_common_labels_are_the_pairs_every_alert_shares(self) -> None:
        sets = [{"a": "1", "b": "2", "c": "3"}, {"a": "1", "b": "other"}, {"a": "1", "c": "3"}]
        assert common_labels(sets) == {"a": "1"}
        assert common_labels([]) == {}


class TestRetryPolicy:
    @pytest.mark.parametrize(
        ("attempt", "ceiling"),
        [(1, 1_000), (2, 2_000), (3, 4_000), (9, 256_000), (10, 300_000), (500, 300_000)],
        ids=[
            "the first retry waits up to 1 s",
            "the second up to 2 s",
            "the third up to 4 s",
            "the ninth up to 256 s",
            "the tenth reaches the 5 min cap",
            "the five hundredth stays at the cap",
        ],
    )
    def test_full_jitter_spreads_delays_over_zero_to_the_capped_exponential(
        self, attempt: int, ceiling: int
    ) -> None:
        rng = Random(1)
        delays = [POLICY.backoff_ms(attempt, rng) for _ in range(2_000)]
        assert 0 <= min(delays) < ceiling * 0.01
        assert ceiling * 0.99 < max(delays) <= ceiling
        assert abs(sum(delays) / len(delays) - ceiling / 2) < ceiling * 0.05

    def test_the_same_seed_gives_the_same_delays(self) -> None:
        first = [POLICY.backoff_ms(n, Random(42)) for n in range(1, 20)]
        assert first == [POLICY.backoff_ms(n, Random(42)) for n in range(1, 20)]

    @pytest.mark.parametrize(
        "changes",
        [{"base_ms": 0}, {"factor": 0.5}, {"cap_ms": 10}, {"max_attempts": 0}],
        ids=["a zero base", "a shrinking factor", "a cap below the base", "no attempts at all"],
    )
    def test_a_policy_that_cannot_back_off_is_rejected(self, changes: dict[str, int]) -> None:
        with pytest.raises(ValueError, match="retry policy needs"):
            RetryPolicy(**changes)


class TestAdvance:
    def test_a_delivered_row_is_sent(self) -> None:
        after = advance(claimed(), Delivered(), NOW + 5, POLICY, Random(0))
        assert (after.state, after.sent_at, after.attempts) == ("sent", NOW + 5, 1)

    def test_a_permanent_failure_buries_the_row_at_once(self) -> None:
        after = advance(claimed(), Permanent("HTTP 404 Not Found"), NOW, POLICY, Random(0))
        assert (after.state, after.last_error) == ("dead", "HTTP 404 Not Found")

    def test_a_transient_failure_reschedules_within_the_backoff(self) -> None:
        after = advance(claimed(attempts=3), Retryable("HTTP 503"), NOW, POLICY, Random(0))
        assert after.state == "pending"
        assert NOW <= after.next_attempt_at <= NOW + 4_000
        assert after.last_error == "HTTP 503"

    def test_retry_after_is_a_lower_bound_on_the_delay(self) -> None:
        outcome = Retryable("HTTP 429", retry_after_ms=120_000)
        after = advance(claimed(), outcome, NOW, POLICY, Random(0))
        assert after.next_attempt_at == NOW + 120_000

    def test_a_short_retry_after_does_not_shorten_the_backoff(self) -> None:
        outcome = Retryable("HTTP 429", retry_after_ms=0)
        rng_a, rng_b = Random(3), Random(3)
        after = advance(claimed(attempts=8), outcome, NOW, POLICY, rng_a)
        assert after.next_attempt_at == NOW + POLICY.backoff_ms(8, rng_b)

    def test_the_last_allowed_attempt_failing_buries_the_row(self) -> None:
        policy = RetryPolicy(max_attempts=3)
        after = advance(claimed(attempts=3), Retryable("timed out"), NOW, policy, Random(0))
        assert (after.state, after.last_error) == ("dead", "gave up after 3 attempts: timed out")
        assert advance(claimed(attempts=2), Retryable("x"), NOW, policy, Random(0)).state == (
            "pending"
        )

    def test_a_row_whose_next_attempt_would_be_too_old_is_buried(self) -> None:
        policy = RetryPolicy(max_attempts=None, max_age_ms=HOUR)
        old = claimed(attempts=4, created_at=NOW - HOUR + 500)
        outcome = Retryable("HTTP 429", retry_after_ms=1_000)
        assert advance(old, outcome, NOW, policy, Random(0)).state == "dead"

    @pytest.mark.parametrize("state", ["pending", "sent", "dead"])
    def test_only_a_claimed_row_can_advance(self, state: OutboxState) -> None:
        entry = replace(claimed(), state=state)
        with pytest.raises(ValueError, match="not sending"):
            advance(entry, Delivered(), NOW, POLICY, Random(0))

    @pytest.mark.parametrize(
        ("error", "outcome"),
        [
            (ReceiverError("x: HTTP 500", retryable=True), Retryable("x: HTTP 500")),
            (
                ReceiverError("x: HTTP 429", retryable=True, retry_after_ms=7_000),
                Retryable("x: HTTP 429", 7_000),
            ),
            (ReceiverError("x: HTTP 400", retryable=False), Permanent("x: HTTP 400")),
        ],
        ids=["a retryable error", "a retryable error with Retry-After", "a permanent error"],
    )
    def test_a_receiver_error_says_which_outcome_it_is(
        self, error: ReceiverError, outcome: Outcome
    ) -> None:
        assert error.outcome() == outcome
