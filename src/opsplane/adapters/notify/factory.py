"""Receivers built from an Alertmanager configuration's ``receivers:``.

Each ``*_configs`` entry becomes one receiver named as Alertmanager names the integration,
``<receiver>/<kind>/<index>`` (:meth:`opsplane.domain.routing.AlertmanagerConfig.integrations`).
The fields are Alertmanager's, so an existing configuration works as it is:

- ``webhook_configs``: ``url`` or ``url_file``, ``max_alerts``;
- ``slack_configs``: ``api_url`` or ``api_url_file``;
- ``pagerduty_configs``: ``routing_key`` or ``routing_key_file`` (Events API v2), ``url``,
  ``source``;
- ``email_configs``: ``to`` (comma-separated), ``from``, ``smarthost`` (``host:port``),
  ``auth_username`` with ``auth_password`` or ``auth_password_file``, ``require_tls``
  (STARTTLS, true by default as in Alertmanager), ``hello``, ``tls_config.ca_file``.

opsplane adds ``*_env`` beside every secret (``url_env``, ``api_url_env``,
``routing_key_env``, ``auth_password_env``): the secret is read from that environment variable.
It also accepts ``alertmanager_configs`` (``url``, ``url_file`` or ``url_env``): alerts are
posted to that Alertmanager's v2 API, for teams that keep Alertmanager in front of on-call.
Any other integration is reported, one problem per entry, before anything starts.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import httpx

from opsplane.adapters.notify.alertmanager import AlertmanagerConfig, AlertmanagerReceiver
from opsplane.adapters.notify.pagerduty import EVENTS_URL, PagerDutyConfig, PagerDutyReceiver
from opsplane.adapters.notify.slack import SlackConfig, SlackReceiver
from opsplane.adapters.notify.smtp import EmailConfig, EmailReceiver
from opsplane.adapters.notify.webhook import WebhookConfig, WebhookReceiver
from opsplane.domain.routing.config import AlertmanagerConfig as RoutingConfig
from opsplane.domain.routing.config import Integration
from opsplane.errors import OpsplaneError, Problem, SpecError
from opsplane.ports import Clock, Receiver

SUPPORTED = ("webhook", "slack", "pagerduty", "email", "alertmanager")
_Env = Mapping[str, str] | None


def build_receivers(
    config: RoutingConfig,
    client: httpx.Client,
    clock: Clock,
    *,
    file: str | Path = "",
    environ: _Env = None,
) -> dict[str, Receiver]:
    """A receiver for every integration of every receiver, by integration id.

    Raises:
        SpecError: one problem per integration that is unsupported, misconfigured or whose
            secret cannot be read (``FILE:receivers.NAME.KIND_configs[I]: message``).
    """
    built: dict[str, Receiver] = {}
    problems: list[Problem] = []
    for name, integrations in config.integrations().items():
        for integration in integrations:
            where = _path(name, integration)
            try:
                built[integration.id] = _build(integration, client, clock, environ)
            except (OpsplaneError, KeyError, TypeError, ValueError) as exc:
                problems.append(Problem(str(file), where, _message(exc)))
    if problems:
        raise SpecError(problems)
    return built


def _path(name: str, integration: Integration) -> str:
    index = integration.id.rsplit("/", 1)[1]
    return f"receivers.{name}.{integration.kind}_configs[{index}]"


def _message(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"{exc.args[0]} is required"
    return str(exc)


def _build(integration: Integration, client: httpx.Client, clock: Clock, env: _Env) -> Receiver:
    builder = _BUILDERS.get(integration.kind)
    if builder is None:
        supported = ", ".join(f"{k}_configs" for k in SUPPORTED)
        raise ValueError(f"{integration.kind}_configs is not supported by opsplane ({supported})")
    return builder(integration.id, integration.settings, client, clock, env)


def _webhook(
    name: str, s: Mapping[str, Any], client: httpx.Client, _c: Clock, env: _Env
) -> Receiver:
    config = WebhookConfig(
        name,
        url=_opt(s, "url"),
        url_env=_opt(s, "url_env"),
        url_file=_opt(s, "url_file"),
        max_alerts=int(s.get("max_alerts", 0)),
    )
    return WebhookReceiver(config, client, environ=env)


def _slack(name: str, s: Mapping[str, Any], client: httpx.Client, _c: Clock, env: _Env) -> Receiver:
    config = SlackConfig(
        name,
        url=_opt(s, "api_url"),
        url_env=_opt(s, "api_url_env"),
        url_file=_opt(s, "api_url_file"),
    )
    return SlackReceiver(config, client, environ=env)


def _pagerduty(
    name: str, s: Mapping[str, Any], client: httpx.Client, _c: Clock, env: _Env
) -> Receiver:
    if "service_key" in s or "service_key_file" in s:
        raise ValueError("service_key is Events API v1; use routing_key (Events API v2)")
    config = PagerDutyConfig(
        name,
        routing_key=_opt(s, "routing_key"),
        routing_key_env=_opt(s, "routing_key_env"),
        routing_key_file=_opt(s, "routing_key_file"),
        url=str(s.get("url", EVENTS_URL)),
        source=str(s.get("source", "opsplane")),
    )
    return PagerDutyReceiver(config, client, environ=env)


def _email(
    name: str, s: Mapping[str, Any], _client: httpx.Client, clock: Clock, env: _Env
) -> Receiver:
    host, _, port = str(s["smarthost"]).rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"smarthost {s['smarthost']!r} must be host:port")
    tls = s.get("tls_config") or {}
    username = _opt(s, "auth_username")
    config = EmailConfig(
        name,
        to=tuple(a.strip() for a in str(s["to"]).split(",") if a.strip()),
        sender=str(s["from"]),
        host=host,
        port=int(port),
        starttls=s.get("require_tls", True) is True,
        username=username,
        password=_opt(s, "auth_password"),
        password_env=_opt(s, "auth_password_env"),
        password_file=_opt(s, "auth_password_file"),
        ca_file=_opt(tls, "ca_file"),
        hello=_opt(s, "hello"),
    )
    return EmailReceiver(config, clock, environ=env)


def _alertmanager(
    name: str, s: Mapping[str, Any], client: httpx.Client, _c: Clock, env: _Env
) -> Receiver:
    config = AlertmanagerConfig(
        name, url=_opt(s, "url"), url_env=_opt(s, "url_env"), url_file=_opt(s, "url_file")
    )
    return AlertmanagerReceiver(config, client, environ=env)


def _opt(settings: Mapping[str, Any], key: str) -> str | None:
    value = settings.get(key)
    return None if value is None else str(value)


_BUILDERS: dict[str, Callable[[str, Mapping[str, Any], httpx.Client, Clock, _Env], Receiver]] = {
    "webhook": _webhook,
    "slack": _slack,
    "pagerduty": _pagerduty,
    "email": _email,
    "alertmanager": _alertmanager,
}
