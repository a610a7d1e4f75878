"""A whole Alertmanager configuration, once validated: what routing, inhibition and delivery use.

The spec layer (:mod:`opsplane.spec.alertmanager_config`) reads the YAML and checks it as
Alertmanager's ``config.Load`` does; this module only holds the result.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from opsplane.domain.routing.inhibit import InhibitRule
from opsplane.domain.routing.route import Route, RouteConfig
from opsplane.domain.routing.timeintervals import TimeInterval
from opsplane.types import Labels

INTEGRATIONS = frozenset(
    f"{kind}_configs"
    for kind in (
        *("discord", "email", "incidentio", "pagerduty", "slack", "webhook", "opsgenie"),
        *("wechat", "pushover", "victorops", "sns", "telegram", "webex", "msteams"),
        *("msteamsv2", "jira", "rocketchat", "mattermost"),
        "alertmanager",  # opsplane's own: forward to an Alertmanager (adapters/notify/factory)
    )
)
"""The receiver integrations of Alertmanager's ``config.Receiver``, plus opsplane's
``alertmanager_configs``."""

SEND_RESOLVED_DEFAULTS = {
    "alertmanager_configs": True,
    "webhook_configs": True,
    "pagerduty_configs": True,
    "opsgenie_configs": True,
    "victorops_configs": True,
}
"""Integrations whose ``send_resolved`` defaults to true in Alertmanager; all others false."""


_INTEGRATION_ID = re.compile(r"(?P<receiver>.+)/[a-z0-9]+/[0-9]+")


def receiver_name(integration_id: str) -> str:
    """The receiver an integration id belongs to: ``team-db/webhook/0`` -> ``team-db``.

    An id that is not of that form is a receiver name already (receivers configured one by
    one rather than from an Alertmanager file).
    """
    found = _INTEGRATION_ID.fullmatch(integration_id)
    return found.group("receiver") if found else integration_id


@dataclass(frozen=True, slots=True)
class Integration:
    """One delivery target of a receiver, named as Alertmanager names it: ``<receiver>/<kind>/<i>``.

    Attributes:
        id: ``team-db/webhook/0``: what the outbox addresses notifications to.
        kind: The ``*_configs`` key without ``_configs`` (``webhook``, ``slack``, ...).
        send_resolved: Whether resolved notifications go to it.
        settings: The entry as written.
    """

    id: str
    kind: str
    send_resolved: bool
    settings: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Receiver:
    """One entry of ``receivers:``.

    Attributes:
        name: The unique name routes refer to.
        integrations: Each ``*_configs`` key present (``webhook_configs``, ``slack_configs``,
            ...) with its entries as raw mappings; delivery interprets them.
    """

    name: str
    integrations: Mapping[str, tuple[Mapping[str, object], ...]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AlertmanagerConfig:
    """The parts of an Alertmanager configuration that opsplane acts on.

    Attributes:
        route: The routing tree, built (inheritance applied).
        route_config: The root ``route:`` as written.
        receivers: In file order.
        inhibit_rules: In file order.
        time_intervals: ``time_intervals`` and the deprecated ``mute_time_intervals``, by name.
    """

    route: Route
    route_config: RouteConfig
    receivers: tuple[Receiver, ...] = ()
    inhibit_rules: tuple[InhibitRule, ...] = ()
    time_intervals: Mapping[str, tuple[TimeInterval, ...]] = field(default_factory=dict)

    def integrations(self) -> dict[str, tuple[Integration, ...]]:
        """Every receiver's integrations, by receiver name, in file order."""
        return {r.name: _integrations(r) for r in self.receivers}

    def receiver(self, name: str) -> Receiver | None:
        """The receiver called ``name``, if there is one."""
        return next((r for r in self.receivers if r.name == name), None)

    def receivers_for(self, labels: Labels) -> list[str]:
        """The receiver names an alert is routed to, in order (``amtool config routes test``)."""
        return self.route.receivers(labels)


def _integrations(receiver: Receiver) -> tuple[Integration, ...]:
    found = []
    for key, entries in receiver.integrations.items():
        kind = key.removesuffix("_configs")
        for index, settings in enumerate(entries):
            resolved = settings.get("send_resolved", SEND_RESOLVED_DEFAULTS.get(key, False))
            found.append(
                Integration(f"{receiver.name}/{kind}/{index}", kind, resolved is True, settings)
            )
    return tuple(found)
