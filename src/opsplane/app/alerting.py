"""The alerting pipeline: evaluation ticks in, routed notifications and incidents out.

:meth:`AlertPipeline.observe` takes each tick's firing and just-resolved SLO alerts to the
Alertmanager dispatcher (as Prometheus sends alerts to Alertmanager), and
:meth:`AlertPipeline.observe_alerts` does the same for alerts of other sources (cost budgets).
:meth:`AlertPipeline.flush` runs the dispatcher's due groups through silences and time
intervals, turns each flush into one notification per receiver integration with the remediation
summary (and the other alerts' own annotations), stores them in the outbox (delivery is
:func:`opsplane.app.delivery.deliver_due`'s job) and opens, joins or resolves the incidents of
paging groups. All are safe to call from different threads.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from opsplane.app.engine import Tick
from opsplane.domain import incidents as inc
from opsplane.domain.duration import HOUR
from opsplane.domain.notify import Notification
from opsplane.domain.remediation import Deployment
from opsplane.domain.routing.config import AlertmanagerConfig
from opsplane.domain.routing.dispatch import Alert, Dispatcher, Flush, LabelPairs
from opsplane.domain.routing.silences import Silence, muted_by
from opsplane.domain.slo import Service
from opsplane.domain.slo_alerts import (
    SLOContext,
    most_urgent,
    notifications,
    slo_alert,
)
from opsplane.ports import DeploymentLog, IncidentStore, NotificationLog, Outbox, SilenceStore
from opsplane.types import Labels, Millis

NFLOG_RETENTION: Millis = 120 * HOUR
"""How long a group's notification log entry is kept (Alertmanager's ``--data.retention``)."""


@dataclass(frozen=True, slots=True)
class AlertingStores:
    """Where the pipeline keeps what it must not lose."""

    outbox: Outbox
    incidents: IncidentStore
    silences: SilenceStore
    deployments: DeploymentLog
    log: NotificationLog


@dataclass(frozen=True, slots=True)
class Links:
    """URLs put into notifications.

    Attributes:
        external_url: This opsplane's URL (the webhook's ``externalURL``).
        dashboard: A template for an SLO's dashboard with ``{service}``, ``{slo}`` and
            ``{slo_id}``; empty for none.
    """

    external_url: str = ""
    dashboard: str = ""

    def dashboard_for(self, context: SLOContext) -> str | None:
        """The dashboard link of an SLO, or ``None``."""
        if not self.dashboard:
            return None
        slo = context.slo
        return self.dashboard.format(service=slo.service, slo=slo.name, slo_id=slo.id)


@dataclass
class AlertPipeline:
    """Routes the engine's SLO alerts like Alertmanager and records what was sent.

    Attributes:
        services: The evaluated services (for labels, runbooks and summaries).
        config: The Alertmanager configuration: routes, inhibition, time intervals.
        stores: Outbox, incidents, silences and deployments.
        links: URLs for notifications.
        deployment_lookback: How far back a deployment counts as a recent change.
        new_id: Makes incident ids.
    """

    services: Sequence[Service]
    config: AlertmanagerConfig
    stores: AlertingStores
    links: Links = field(default_factory=Links)
    deployment_lookback: Millis = 6 * HOUR
    new_id: Callable[[], str] = lambda: uuid.uuid4().hex[:12]
    _dispatcher: Dispatcher = field(init=False)
    _contexts: dict[str, SLOContext] = field(init=False, default_factory=dict)
    _sources: dict[str, dict[LabelPairs, Alert]] = field(init=False, default_factory=dict)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._dispatcher = Dispatcher(
            self.config.route,
            inhibit_rules=self.config.inhibit_rules,
            time_intervals=self.config.time_intervals,
            log=self.stores.log.load_log(),
        )
        self._integrations = self.config.integrations()
        self._slos = {slo.id: (svc, slo) for svc in self.services for slo in svc.slos}

    def update_services(self, services: Sequence[Service]) -> None:
        """Evaluate a new set of services from now on (specs were applied or deleted)."""
        with self._lock:
            self.services = services
            self._slos = {slo.id: (svc, slo) for svc in services for slo in svc.slos}

    def observe(self, tick: Tick) -> None:
        """Hand the tick's firing alerts, and those that resolved in it, to the dispatcher."""
        resolved_now = {(t.slo_id, t.key) for t in tick.transitions if t.to_state == "resolved"}
        with self._lock:
            for status in tick.statuses:
                service, slo = self._slos[status.slo_id]
                context = SLOContext(service, slo, status)
                self._contexts[status.slo_id] = context
                for state in status.alerts:
                    if state.state == "resolved" and (status.slo_id, state.key) not in resolved_now:
                        continue
                    alert = slo_alert(context, state)
                    if alert is not None:
                        self._dispatcher.receive(alert, tick.at)

    def observe_alerts(self, source: str, alerts: Sequence[Alert], at: Millis) -> None:
        """Hand a source's firing alerts that are not SLO alerts (budgets...) to the dispatcher.

        ``alerts`` is everything ``source`` has firing at ``at``, as Prometheus sends every
        active alert of each evaluation: an alert that the source sent last time and not now is
        resolved at ``at``. Their ``summary`` and ``description`` annotations make the
        notification's summary, since there is no SLO to summarise.
        """
        current = {a.fingerprint: a for a in alerts}
        with self._lock:
            for fingerprint, alert in self._sources.get(source, {}).items():
                if fingerprint not in current:
                    self._dispatcher.receive(replace(alert, ends_at=at), at)
            for alert in current.values():
                self._dispatcher.receive(alert, at)
            self._sources[source] = current

    def next_wakeup(self) -> Millis | None:
        """When :meth:`flush` next has work, if ever."""
        with self._lock:
            return self._dispatcher.next_wakeup()

    def flush(self, now: Millis) -> list[Notification]:
        """Flush the due groups; store their notifications and update incidents.

        Returns the notifications, already committed to the outbox.
        """
        silences = [s for s in self.stores.silences.silences() if s.state(now) == "active"]
        with self._lock:
            flushes = self._dispatcher.due(now, _silencer(silences, now))
            contexts = dict(self._contexts)
        if not flushes:
            return []
        since = now - self.deployment_lookback
        deployments = self.stores.deployments.deployments(since)
        found = [n for f in flushes for n in self._notifications(f, contexts, deployments)]
        self.stores.outbox.enqueue(found, now)
        sent = {f.group_key: f.log for f in flushes if f.log is not None}
        self.stores.log.save_log(sent, now - NFLOG_RETENTION)
        for flush in flushes:
            sent_to = [n.receiver for n in found if n.dedup_key == flush.group_key]
            self._track_incident(flush, sent_to, deployments, now)
        return found

    def _notifications(
        self, flush: Flush, contexts: Mapping[str, SLOContext], deployments: Sequence[Deployment]
    ) -> list[Notification]:
        found = notifications(
            flush,
            contexts,
            self._integrations.get(flush.receiver, ()),
            deployments,
            external_url=self.links.external_url,
            dashboard_url=self.links.dashboard_for,
        )
        return [_with_other_alerts(n, flush) for n in found]

    def _track_incident(
        self, flush: Flush, sent_to: Sequence[str], deployments: Sequence[Deployment], now: Millis
    ) -> None:
        """Open or join the group's incident on a page; resolve it when the group resolved."""
        open_ones = self.stores.incidents.incidents(unresolved_only=True, limit=1_000)
        current = next((i for i in open_ones if i.group_key == flush.group_key), None)
        if not flush.firing:
            if current is not None:
                self.stores.incidents.save_incident(
                    inc.resolve(current, now, "all alerts of the group resolved")
                )
            return
        severity = most_urgent([a.labels.get("severity", "") for a in flush.firing])
        names = sorted({a.labels.get("alertname", "") for a in flush.firing})
        if current is None:
            if not inc.opens_incident(severity):
                return
            fired_at = min(a.starts_at for a in flush.firing)
            incident, _ = inc.open_or_join(
                [],
                group_key=flush.group_key,
                alert=", ".join(names),
                severity=severity,
                at=fired_at,
                new_id=self.new_id(),
                namespace=_common(flush.firing, "namespace"),
            )
            for line in _correlated(flush.firing, deployments, fired_at):
                incident = inc.record(incident, now, "deployment_correlated", line)
        else:
            incident = current
            joining = [n for n in names if not _mentions(current, n)]
            if joining:
                incident, _ = inc.open_or_join(
                    [current],
                    group_key=flush.group_key,
                    alert=", ".join(joining),
                    severity=severity,
                    at=now,
                    new_id="",
                )
        if sent_to:
            incident = inc.record(incident, now, "notified", ", ".join(sent_to))
        self.stores.incidents.save_incident(incident)


def _with_other_alerts(notification: Notification, flush: Flush) -> Notification:
    """Add the annotations of alerts that are not SLO alerts to the notification's summary.

    The SLO summary (remediation) knows only SLO alerts; a budget alert says what it is in its
    ``description`` (else ``summary``) annotation, and its ``runbook_url`` when it has one.
    """
    firing = [_said(a) for a in flush.firing if "sloth_id" not in a.labels]
    resolved = [f"Resolved: {_said(a)}" for a in flush.resolved if "sloth_id" not in a.labels]
    shown = firing if notification.kind == "firing" else resolved
    if not shown:
        return notification
    payload = notification.payload
    summary = "\n\n".join(part for part in (payload.summary, "\n".join(shown)) if part)
    runbook = payload.runbook_url or next(
        (a.annotations["runbook_url"] for a in flush.firing if "runbook_url" in a.annotations),
        None,
    )
    return replace(notification, payload=replace(payload, summary=summary, runbook_url=runbook))


def _said(alert: Alert) -> str:
    text = alert.annotations.get("summary") or alert.labels.get("alertname", "alert")
    description = alert.annotations.get("description")
    return f"{text} {description}" if description else text


def _common(alerts: Sequence[Alert], label: str) -> str:
    """The value of ``label`` that all ``alerts`` share, else ``""``."""
    values = {a.labels.get(label, "") for a in alerts}
    return values.pop() if len(values) == 1 else ""


def _mentions(incident: inc.Incident, alertname: str) -> bool:
    """Whether the incident's timeline already has ``alertname`` firing."""
    return any(
        e.kind in ("fired", "joined") and alertname in e.detail.removesuffix(" fired").split(", ")
        for e in incident.timeline
    )


def _silencer(silences: Sequence[Silence], now: Millis) -> Callable[[Labels], bool]:
    def silenced(labels: Labels) -> bool:
        return bool(silences) and bool(muted_by(silences, labels, now))

    return silenced


def _correlated(
    alerts: Sequence[Alert], deployments: Sequence[Deployment], at: Millis
) -> list[str]:
    """Deployments of the alerts' services before they fired, as timeline lines."""
    services = {a.labels.get("sloth_service") for a in alerts}
    return [
        f"{d.service} {d.version} deployed {max((at - d.started_at) // 60_000, 0)}m before it fired"
        for d in deployments
        if d.service in services and d.started_at <= at
    ]
