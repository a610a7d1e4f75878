"""The Slack receiver: an incoming webhook with Block Kit blocks.

Message shape (https://api.slack.com/messaging/webhooks, https://api.slack.com/block-kit):
``text`` is the fallback shown in notifications, then a ``header`` block with the title, a
``section`` with the remediation summary (mrkdwn), a ``context`` line with severity and alert
count, and an ``actions`` block with "Runbook" and "Dashboard" link buttons when the links
are known. Slack's limits are applied (header 150 characters, section text 3000) and
``&``, ``<`` and ``>`` are escaped as Slack's mrkdwn requires. The webhook URL is a credential.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from opsplane.adapters.closing import Closing
from opsplane.adapters.notify.base import config_secret
from opsplane.adapters.notify.http import DEFAULT_TIMEOUT_S, JsonPoster
from opsplane.domain.notify import Notification

HEADER_LIMIT = 150
SECTION_LIMIT = 3000
"""Block Kit text limits: ``header`` plain_text and ``section`` text."""
_ELLIPSIS = "…"


@dataclass(frozen=True, slots=True)
class SlackConfig:
    """A Slack incoming webhook; the URL is a secret (inline, by env var or by file)."""

    name: str
    url: str | None = None
    url_env: str | None = None
    url_file: str | None = None
    timeout: float = DEFAULT_TIMEOUT_S


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + _ELLIPSIS


def mrkdwn_escape(text: str) -> str:
    """Escape the three characters Slack's mrkdwn treats as control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _summary_text(notification: Notification) -> str:
    summary = notification.payload.summary.strip()
    if summary:
        return summary
    count = len(notification.payload.alerts)
    return f"All {count} alerts resolved." if notification.kind == "resolved" else ""


def _button(text: str, url: str, action_id: str) -> dict[str, object]:
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": text},
        "url": url,
        "action_id": action_id,
    }


def slack_body(notification: Notification) -> dict[str, object]:
    """The incoming-webhook message of ``notification``."""
    payload = notification.payload
    title = f"{notification.title} ({payload.severity})"
    firing = sum(alert.status == "firing" for alert in payload.alerts)
    blocks: list[dict[str, object]] = [
        {"type": "header", "text": {"type": "plain_text", "text": _cut(title, HEADER_LIMIT)}},
    ]
    summary = _summary_text(notification)
    if summary:
        text = _cut(mrkdwn_escape(summary), SECTION_LIMIT)
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text}})
    context = f"*Severity* {payload.severity} · {firing} firing of {len(payload.alerts)}"
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": context}]})
    buttons = [
        _button(label, url, action)
        for label, url, action in (
            ("Runbook", payload.runbook_url, "runbook"),
            ("Dashboard", payload.dashboard_url, "dashboard"),
        )
        if url
    ]
    if buttons:
        blocks.append({"type": "actions", "elements": buttons})
    return {"text": title, "blocks": blocks}


class SlackReceiver(Closing):
    """Posts Block Kit messages to one Slack incoming webhook."""

    def __init__(
        self,
        config: SlackConfig,
        client: httpx.Client,
        *,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        """Resolve the webhook URL now.

        Raises:
            UsageError: the URL's secret cannot be resolved.
        """
        url = config_secret(config, "url", environ)
        self._name = config.name
        self._poster = JsonPoster(
            client, url, what=f"slack {config.name!r}", timeout=config.timeout
        )

    @property
    def name(self) -> str:
        """The receiver name."""
        return self._name

    def send(self, notification: Notification) -> None:
        """Post the message; see :class:`~opsplane.adapters.notify.base.Receiver`."""
        self._poster.post(slack_body(notification))

    def close(self) -> None:
        """Stop redacting this receiver's URL from httpx's log."""
        self._poster.close()
