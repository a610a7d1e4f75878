"""The PagerDuty receiver: Events API v2 (https://developer.pagerduty.com/docs/events-api-v2/).

A firing notification is a ``trigger`` event, a resolved one a ``resolve`` event, both with the
same ``dedup_key``: PagerDuty folds repeated triggers into one open incident and closes it on
resolve, so a notification delivered twice (at-least-once) pages once. The key is the
notification's dedup key, or its SHA-256 when longer than PagerDuty's 255 characters. The
routing (integration) key is a secret: it is sent in the body and never shown.

Severity: P0 and P1 page as ``critical``, P2 as ``error``, P3 as ``warning``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from opsplane.adapters.closing import Closing
from opsplane.adapters.notify.base import config_secret
from opsplane.adapters.notify.http import DEFAULT_TIMEOUT_S, JsonPoster
from opsplane.domain.notify import Notification
from opsplane.render.status import rfc3339
from opsplane.types import Severity

EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"
SEVERITIES: Mapping[Severity, str] = {
    "P0": "critical",
    "P1": "critical",
    "P2": "error",
    "P3": "warning",
}
DEDUP_KEY_LIMIT = 255
SUMMARY_LIMIT = 1024
"""Events API v2 limits on ``dedup_key`` and ``payload.summary``."""


@dataclass(frozen=True, slots=True)
class PagerDutyConfig:
    """A PagerDuty service integration; the routing key is a secret.

    Attributes:
        url: The Events API endpoint (tests point it at a local server).
        source: ``payload.source`` when the alerts carry no ``service`` label.
    """

    name: str
    routing_key: str | None = None
    routing_key_env: str | None = None
    routing_key_file: str | None = None
    url: str = EVENTS_URL
    source: str = "opsplane"
    timeout: float = DEFAULT_TIMEOUT_S


def pagerduty_dedup_key(dedup_key: str) -> str:
    """The notification's key, hashed when PagerDuty would reject its length."""
    if len(dedup_key) <= DEDUP_KEY_LIMIT:
        return dedup_key
    return hashlib.sha256(dedup_key.encode()).hexdigest()


def _trigger_payload(notification: Notification, source: str) -> dict[str, object]:
    payload = notification.payload
    first_line = payload.summary.strip().splitlines()[0] if payload.summary.strip() else ""
    summary = f"{notification.title}: {first_line}" if first_line else notification.title
    labels = payload.group_labels
    body: dict[str, object] = {
        "summary": summary[:SUMMARY_LIMIT],
        "source": labels.get("service") or source,
        "severity": SEVERITIES[payload.severity],
        "custom_details": {
            "remediation": payload.summary,
            "group_labels": dict(labels),
            "alerts": [dict(alert.labels) for alert in payload.alerts],
            "delivery_id": notification.delivery_id,
        },
    }
    if payload.alerts:
        body["timestamp"] = rfc3339(min(alert.starts_at for alert in payload.alerts))
    for field, label in (("group", "namespace"), ("class", "alertname")):
        if labels.get(label):
            body[field] = labels[label]
    return body


def pagerduty_event(notification: Notification, routing_key: str, source: str) -> dict[str, object]:
    """The Events API v2 event of ``notification``."""
    event: dict[str, object] = {
        "routing_key": routing_key,
        "event_action": "trigger" if notification.kind == "firing" else "resolve",
        "dedup_key": pagerduty_dedup_key(notification.dedup_key),
    }
    if notification.kind == "resolved":
        return event
    event["payload"] = _trigger_payload(notification, source)
    payload = notification.payload
    links = [
        {"href": href, "text": text}
        for href, text in ((payload.runbook_url, "Runbook"), (payload.dashboard_url, "Dashboard"))
        if href
    ]
    if links:
        event["links"] = links
    event["client"] = "opsplane"
    if payload.external_url:
        event["client_url"] = payload.external_url
    return event


class PagerDutyReceiver(Closing):
    """Sends Events API v2 events for one integration (routing key)."""

    def __init__(
        self,
        config: PagerDutyConfig,
        client: httpx.Client,
        *,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        """Resolve the routing key now.

        Raises:
            UsageError: the routing key's secret cannot be resolved.
        """
        self._routing_key = config_secret(config, "routing_key", environ)
        self._config = config
        self._poster = JsonPoster(
            client,
            config.url,
            what=f"pagerduty {config.name!r}",
            timeout=config.timeout,
            secrets=(self._routing_key,),
        )

    @property
    def name(self) -> str:
        """The receiver name."""
        return self._config.name

    def send(self, notification: Notification) -> None:
        """Send the event; see :class:`~opsplane.adapters.notify.base.Receiver`."""
        event = pagerduty_event(notification, self._routing_key, self._config.source)
        self._poster.post(event)

    def close(self) -> None:
        """Stop redacting this receiver's secrets from httpx's log."""
        self._poster.close()
