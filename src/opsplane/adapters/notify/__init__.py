"""Notification receivers: webhook, Slack, PagerDuty, email (SMTP) and Alertmanager.

Each receiver answers :class:`~opsplane.ports.Receiver`: ``send`` delivers one
:class:`~opsplane.domain.notify.Notification` or raises
:class:`~opsplane.domain.notify.ReceiverError`, which says whether a retry may help. The HTTP
receivers share one ``httpx.Client`` (:func:`http_client`); secrets come from env vars or
files and never reach a log or an error message. Module map:

- :mod:`.base`: secret resolution and redaction.
- :mod:`.http`: JSON over HTTP and the retry classification of answers.
- :mod:`.webhook`, :mod:`.slack`, :mod:`.pagerduty`, :mod:`.smtp`, :mod:`.alertmanager`.
"""

from __future__ import annotations

from opsplane.adapters.notify.alertmanager import AlertmanagerConfig, AlertmanagerReceiver
from opsplane.adapters.notify.base import redact_url, resolve_secret
from opsplane.adapters.notify.http import http_client
from opsplane.adapters.notify.pagerduty import PagerDutyConfig, PagerDutyReceiver
from opsplane.adapters.notify.slack import SlackConfig, SlackReceiver
from opsplane.adapters.notify.smtp import EmailConfig, EmailReceiver
from opsplane.adapters.notify.webhook import WebhookConfig, WebhookReceiver
from opsplane.ports import Receiver

__all__ = [
    "AlertmanagerConfig",
    "AlertmanagerReceiver",
    "EmailConfig",
    "EmailReceiver",
    "PagerDutyConfig",
    "PagerDutyReceiver",
    "Receiver",
    "SlackConfig",
    "SlackReceiver",
    "WebhookConfig",
    "WebhookReceiver",
    "http_client",
    "redact_url",
    "resolve_secret",
]
