"""Hand alerts to a real Alertmanager: ``POST /api/v2/alerts`` (its OpenAPI ``postableAlerts``).

Each alert is posted with its labels, annotations (plus the remediation summary and links, as
:func:`~opsplane.domain.notify.with_remediation` adds them), ``startsAt`` and
``generatorURL``. A resolved alert carries ``endsAt`` in the past, which is how Alertmanager
learns of a resolution (Prometheus does the same). A firing alert carries ``endsAt`` only if it
has one; otherwise Alertmanager resolves it after its ``resolve_timeout`` unless it is posted
again, as Prometheus re-posts firing alerts every ``resend_delay``.

Alertmanager deduplicates alerts by their label set, so posting the same alert twice is
harmless. User info in the base URL (``https://user:secret@am.example``) is sent as basic auth.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from opsplane.adapters.closing import Closing
from opsplane.adapters.notify.base import config_secret
from opsplane.adapters.notify.http import DEFAULT_TIMEOUT_S, JsonPoster
from opsplane.domain.notify import Alert, Notification, with_remediation
from opsplane.render.status import rfc3339

ALERTS_PATH = "/api/v2/alerts"


@dataclass(frozen=True, slots=True)
class AlertmanagerConfig:
    """An Alertmanager to post to; the base URL is a secret when it carries credentials."""

    name: str
    url: str | None = None
    url_env: str | None = None
    url_file: str | None = None
    timeout: float = DEFAULT_TIMEOUT_S


def postable_alert(alert: Alert) -> dict[str, object]:
    """One alert as ``POST /api/v2/alerts`` takes it.

    A resolved alert without an end time ends when it started: Alertmanager accepts an
    ``endsAt`` equal to ``startsAt`` (it rejects only an end before the start).
    """
    body: dict[str, object] = {
        "labels": dict(alert.labels),
        "annotations": dict(alert.annotations),
        "startsAt": rfc3339(alert.starts_at),
        "generatorURL": alert.generator_url,
    }
    ends_at = alert.ends_at
    if ends_at is None and alert.status == "resolved":
        ends_at = alert.starts_at
    if ends_at is not None:
        body["endsAt"] = rfc3339(ends_at)
    return body


def postable_alerts(notification: Notification) -> list[dict[str, object]]:
    """The request body: every alert of the notification, remediation included."""
    payload = notification.payload
    return [postable_alert(with_remediation(alert, payload)) for alert in payload.alerts]


class AlertmanagerReceiver(Closing):
    """Posts alerts to one Alertmanager through the shared client."""

    def __init__(
        self,
        config: AlertmanagerConfig,
        client: httpx.Client,
        *,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        """Resolve the base URL now; user info becomes basic auth.

        Raises:
            UsageError: the URL's secret cannot be resolved.
        """
        base = httpx.URL(config_secret(config, "url", environ))
        auth = httpx.BasicAuth(base.username, base.password) if base.userinfo else None
        root = base.copy_with(userinfo=b"", query=None, fragment=None)
        url = root.copy_with(path=root.path.rstrip("/") + ALERTS_PATH)
        self._name = config.name
        self._poster = JsonPoster(
            client,
            str(url),
            what=f"alertmanager {config.name!r}",
            timeout=config.timeout,
            secrets=(base.password,) if base.password else (),
            auth=auth,
        )

    @property
    def name(self) -> str:
        """The receiver name."""
        return self._name

    def send(self, notification: Notification) -> None:
        """Post the alerts; see :class:`~opsplane.adapters.notify.base.Receiver`."""
        if notification.payload.alerts:
            self._poster.post(postable_alerts(notification))

    def close(self) -> None:
        """Stop redacting this receiver's URL from httpx's log."""
        self._poster.close()
