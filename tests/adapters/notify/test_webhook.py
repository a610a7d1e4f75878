"""The webhook receiver posts Alertmanager's version-4 webhook JSON to a real local server."""

from __future__ import annotations

import httpx
import pytest

from opsplane.adapters.notify import WebhookConfig, WebhookReceiver
from opsplane.adapters.notify.webhook import fingerprint
from opsplane.domain.notify import ReceiverError
from tests.adapters.notify.factories import (
    DASHBOARD,
    GROUP_KEY,
    RUNBOOK,
    SUMMARY,
    notification,
    page_alert,
)
from tests.adapters.notify.http_server import RecordingServer, Reply

PAGE_LABELS = {
    "alertname": "CheckoutAvailability",
    "service": "checkout",
    "namespace": "payments",
    "slo": "availability",
    "severity": "page",
}


def receiver(server: RecordingServer, client: httpx.Client, max_alerts: int = 0) -> WebhookReceiver:
    url = server.url("/hooks/ops?token=s3cret")
    return WebhookReceiver(WebhookConfig("ops", url=url, max_alerts=max_alerts), client)


def test_a_firing_page_is_posted_as_alertmanager_webhook_version_4(
    server: RecordingServer, client: httpx.Client
) -> None:
    receiver(server, client).send(notification())
    (request,) = server.requests
    assert (request.method, request.path) == ("POST", "/hooks/ops?token=s3cret")
    assert request.headers["content-type"] == "application/json"
    annotations = {
        "summary": "checkout availability burns its budget",
        "remediation": SUMMARY,
        "runbook_url": RUNBOOK,
        "dashboard_url": DASHBOARD,
    }
    assert request.json() == {
        "version": "4",
        "groupKey": GROUP_KEY,
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "ops",
        "groupLabels": {"alertname": "CheckoutAvailability"},
        "commonLabels": PAGE_LABELS,
        "commonAnnotations": annotations,
        "externalURL": "http://opsplane.example",
        "alerts": [
            {
                "status": "firing",
                "labels": PAGE_LABELS,
                "annotations": annotations,
                "startsAt": "2026-01-01T00:00:00Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://opsplane.example/slos/checkout-availability",
                "fingerprint": fingerprint(PAGE_LABELS),
            }
        ],
    }


def test_a_resolution_carries_the_end_time_and_the_same_group_key(
    server: RecordingServer, client: httpx.Client
) -> None:
    receiver(server, client).send(notification(kind="resolved"))
    body = server.requests[0].json()
    assert (body["status"], body["groupKey"]) == ("resolved", GROUP_KEY)
    assert [(a["status"], a["endsAt"]) for a in body["alerts"]] == [
        ("resolved", "2026-01-01T00:01:30Z")
    ]


def test_every_attempt_carries_the_same_delivery_id(
    server: RecordingServer, client: httpx.Client
) -> None:
    webhook = receiver(server, client)
    page = notification()
    webhook.send(page)
    webhook.send(page)
    ids = [r.headers["x-opsplane-delivery-id"] for r in server.requests]
    assert ids == [page.delivery_id, page.delivery_id]


def test_max_alerts_truncates_and_counts_what_it_left_out(
    server: RecordingServer, client: httpx.Client
) -> None:
    alerts = tuple(page_alert(labels={"alertname": "Burn", "n": str(i)}) for i in range(5))
    receiver(server, client, max_alerts=2).send(notification(alerts=alerts, truncated_alerts=1))
    body = server.requests[0].json()
    assert [a["labels"]["n"] for a in body["alerts"]] == ["0", "1"]
    assert body["truncatedAlerts"] == 4
    assert body["commonLabels"] == {"alertname": "Burn"}


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        ({}, "cbf29ce484222325"),
        ({"alertname": "X"}, "d2aeefc389ca7746"),
        (PAGE_LABELS, "7f2eb37ba1e1de83"),
    ],
    ids=[
        "no labels hash to the FNV-1a offset basis",
        "one label as Alertmanager 0.25 fingerprints it",
        "the page's labels as Alertmanager 0.25 fingerprints them",
    ],
)
def test_fingerprints_match_alertmanagers_own(labels: dict[str, str], expected: str) -> None:
    assert fingerprint(labels) == expected


def test_a_rejected_post_is_a_permanent_error_without_the_url_path(
    server: RecordingServer, client: httpx.Client
) -> None:
    server.answer(Reply(404, body=b"no such hook"))
    with pytest.raises(ReceiverError) as caught:
        receiver(server, client).send(notification())
    assert not caught.value.retryable
    assert str(caught.value) == (
        f"webhook 'ops' at http://127.0.0.1:{server.port}: HTTP 404 Not Found: no such hook"
    )
