"""The PagerDuty receiver sends Events API v2 events (to a real local server standing in)."""

from __future__ import annotations

import httpx
import pytest

from opsplane.adapters.notify import PagerDutyConfig, PagerDutyReceiver
from opsplane.adapters.notify.pagerduty import EVENTS_URL, pagerduty_event
from opsplane.types import Severity
from tests.adapters.notify.factories import DASHBOARD, GROUP_KEY, RUNBOOK, SUMMARY, notification
from tests.adapters.notify.http_server import RecordingServer, Reply

ROUTING_KEY = "R0UT1NGKEY0123456789abcdef012345"
ACCEPTED = Reply(202, {"Content-Type": "application/json"}, b'{"status":"success"}')


def pager(server: RecordingServer, client: httpx.Client) -> PagerDutyReceiver:
    config = PagerDutyConfig("pager", routing_key=ROUTING_KEY, url=server.url("/v2/enqueue"))
    return PagerDutyReceiver(config, client)


def test_a_firing_page_triggers_an_incident_with_context_and_links(
    server: RecordingServer, client: httpx.Client
) -> None:
    server.answer(ACCEPTED)
    page = notification()
    pager(server, client).send(page)
    (request,) = server.requests
    assert request.path == "/v2/enqueue"
    assert request.json() == {
        "routing_key": ROUTING_KEY,
        "event_action": "trigger",
        "dedup_key": GROUP_KEY,
        "payload": {
            "summary": "[FIRING:1] CheckoutAvailability: checkout availability is burning its "
            "error budget 14.4x over 1h (5m: 16.2x); 62% of the 30d budget is left.",
            "source": "opsplane",
            "severity": "critical",
            "timestamp": "2026-01-01T00:00:00Z",
            "class": "CheckoutAvailability",
            "custom_details": {
                "remediation": SUMMARY,
                "group_labels": {"alertname": "CheckoutAvailability"},
                "alerts": [dict(page.payload.alerts[0].labels)],
                "delivery_id": page.delivery_id,
            },
        },
        "links": [{"href": RUNBOOK, "text": "Runbook"}, {"href": DASHBOARD, "text": "Dashboard"}],
        "client": "opsplane",
        "client_url": "http://opsplane.example",
    }


def test_the_resolution_resolves_the_same_dedup_key(
    server: RecordingServer, client: httpx.Client
) -> None:
    server.answer(ACCEPTED, ACCEPTED, ACCEPTED)
    receiver = pager(server, client)
    receiver.send(notification())
    receiver.send(notification())  # a retried trigger folds into the same incident
    receiver.send(notification(kind="resolved"))
    events = [r.json() for r in server.requests]
    assert [(e["event_action"], e["dedup_key"]) for e in events] == [
        ("trigger", GROUP_KEY),
        ("trigger", GROUP_KEY),
        ("resolve", GROUP_KEY),
    ]
    assert events[2] == {
        "routing_key": ROUTING_KEY,
        "event_action": "resolve",
        "dedup_key": GROUP_KEY,
    }


@pytest.mark.parametrize(
    ("severity", "expected"),
    [("P0", "critical"), ("P1", "critical"), ("P2", "error"), ("P3", "warning")],
    ids=["P0 pages as critical", "P1 pages as critical", "P2 as error", "P3 as warning"],
)
def test_severities_map_to_pagerdutys(severity: Severity, expected: str) -> None:
    event = pagerduty_event(notification(severity=severity), "key", "opsplane")
    payload = event["payload"]
    assert isinstance(payload, dict)
    assert payload["severity"] == expected


def test_a_dedup_key_too_long_for_pagerduty_is_hashed_stably() -> None:
    long_key = "{}:{" + ",".join(f'l{i}="{"v" * 20}"' for i in range(20)) + "}"
    first = pagerduty_event(notification(dedup_key=long_key), "key", "opsplane")
    again = pagerduty_event(notification(dedup_key=long_key, kind="resolved"), "key", "opsplane")
    assert first["dedup_key"] == again["dedup_key"]
    assert len(str(first["dedup_key"])) == 64


def test_the_service_label_names_the_source_and_the_default_url_is_pagerdutys() -> None:
    page = notification(group_labels={"alertname": "A", "service": "checkout"})
    payload = pagerduty_event(page, "key", "opsplane")["payload"]
    assert isinstance(payload, dict)
    assert payload["source"] == "checkout"
    assert PagerDutyConfig("p").url == EVENTS_URL == "https://events.pagerduty.com/v2/enqueue"
