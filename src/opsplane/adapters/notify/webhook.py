"""The generic webhook receiver: Alertmanager's webhook JSON, version 4.

The body is exactly what Alertmanager's ``webhook_config`` posts
(https://prometheus.io/docs/alerting/latest/configuration/#webhook_config), so any consumer
written for Alertmanager reads it unchanged. ``groupKey`` is the notification's dedup key, and
every request carries ``X-Opsplane-Delivery-Id``, stable across retries: a consumer that drops
ids it has seen turns at-least-once delivery into effectively-once. The remediation summary and
links travel as the alerts' ``remediation``, ``runbook_url`` and ``dashboard_url`` annotations.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from opsplane.adapters.closing import Closing
from opsplane.adapters.notify.base import config_secret
from opsplane.adapters.notify.http import DEFAULT_TIMEOUT_S, JsonPoster
from opsplane.domain.notify import Alert, Notification, common_labels, with_remediation
from opsplane.domain.routing.config import receiver_name
from opsplane.render.status import rfc3339
from opsplane.types import Labels, Millis

VERSION = "4"
DELIVERY_ID_HEADER = "X-Opsplane-Delivery-Id"
GO_ZERO_TIME = "0001-01-01T00:00:00Z"
"""How Go (and so Alertmanager) writes an unset ``endsAt``."""

# FNV-1a, 64 bit (http://www.isthe.com/chongo/tech/comp/fnv/), as prometheus/common hashes a
# label set into its fingerprint (model/fnv.go, model/signature.go: labelSetToFingerprint).
_FNV_OFFSET = 14695981039346656037
_FNV_PRIME = 1099511628211
_SEPARATOR = 0xFF
_MASK = (1 << 64) - 1


@dataclass(frozen=True, slots=True)
class WebhookConfig:
    """A webhook receiver; the URL is a secret (given inline, by env var or by file).

    Attributes:
        name: The receiver name notifications are addressed to.
        max_alerts: Send at most this many alerts (0: all); the rest are counted in
            ``truncatedAlerts``, as Alertmanager's ``max_alerts`` does.
        timeout: Seconds per request.
    """

    name: str
    url: str | None = None
    url_env: str | None = None
    url_file: str | None = None
    max_alerts: int = 0
    timeout: float = DEFAULT_TIMEOUT_S


def fingerprint(labels: Labels) -> str:
    """Alertmanager's alert fingerprint: FNV-1a 64 of the sorted labels, 16 hex digits."""
    digest = _FNV_OFFSET
    for name in sorted(labels):
        for part in (name, labels[name]):
            for byte in (*part.encode(), _SEPARATOR):
                digest = ((digest ^ byte) * _FNV_PRIME) & _MASK
    return f"{digest:016x}"


def _time(at: Millis | None) -> str:
    return GO_ZERO_TIME if at is None else rfc3339(at)


def alert_json(alert: Alert) -> dict[str, object]:
    """One alert as Alertmanager's template data renders it."""
    return {
        "status": alert.status,
        "labels": dict(alert.labels),
        "annotations": dict(alert.annotations),
        "startsAt": _time(alert.starts_at),
        "endsAt": _time(alert.ends_at),
        "generatorURL": alert.generator_url,
        "fingerprint": fingerprint(alert.labels),
    }


def webhook_body(notification: Notification, max_alerts: int = 0) -> dict[str, object]:
    """The version-4 webhook body of ``notification``."""
    payload = notification.payload
    alerts = [with_remediation(alert, payload) for alert in payload.alerts]
    kept = alerts[:max_alerts] if max_alerts > 0 else alerts
    return {
        "version": VERSION,
        "groupKey": notification.dedup_key,
        "truncatedAlerts": payload.truncated_alerts + len(alerts) - len(kept),
        "status": notification.kind,
        "receiver": receiver_name(notification.receiver),  # Alertmanager sends the name
        "groupLabels": dict(payload.group_labels),
        "commonLabels": common_labels([a.labels for a in alerts]),
        "commonAnnotations": common_labels([a.annotations for a in alerts]),
        "externalURL": payload.external_url,
        "alerts": [alert_json(alert) for alert in kept],
    }


class WebhookReceiver(Closing):
    """Posts version-4 webhook JSON to one URL through the shared client."""

    def __init__(
        self,
        config: WebhookConfig,
        client: httpx.Client,
        *,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        """Resolve the URL now, so a missing secret fails at start-up, not at the first page.

        Raises:
            UsageError: the URL's secret cannot be resolved.
        """
        url = config_secret(config, "url", environ)
        self._config = config
        self._poster = JsonPoster(
            client, url, what=f"webhook {config.name!r}", timeout=config.timeout
        )

    @property
    def name(self) -> str:
        """The receiver name."""
        return self._config.name

    def send(self, notification: Notification) -> None:
        """Post the notification; see :class:`~opsplane.adapters.notify.base.Receiver`."""
        body = webhook_body(notification, self._config.max_alerts)
        self._poster.post(body, {DELIVERY_ID_HEADER: notification.delivery_id})

    def close(self) -> None:
        """Stop redacting this receiver's URL from httpx's log."""
        self._poster.close()
