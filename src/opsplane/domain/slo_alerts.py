"""SLO alert states as Alertmanager alerts, and dispatcher flushes as notifications.

An SLO alert carries the labels the generated Prometheus rule would give it (the SLO's
``sloth_*`` identity labels and its own labels, ``alertname``, ``severity``,
``sloth_severity`` and the alerting labels), so one Alertmanager routing file routes the
same way whether opsplane or Prometheus evaluates. A flush of an alert group becomes one
:class:`~opsplane.domain.notify.Notification` per receiver integration, with the remediation
summary of every burning SLO in the group.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from opsplane.domain.evaluation import AlertStatus, SLOStatus
from opsplane.domain.notify import Alert as NotifyAlert
from opsplane.domain.notify import Notification, Payload
from opsplane.domain.remediation import Deployment, remediation
from opsplane.domain.routing.config import Integration
from opsplane.domain.routing.dispatch import Alert, Flush
from opsplane.domain.slo import SLO, Service
from opsplane.types import Severity

SEVERITY_ORDER: tuple[Severity, ...] = ("P0", "P1", "P2", "P3")
_TIERS = ("page", "ticket", "no_data")


@dataclass(frozen=True, slots=True)
class SLOContext:
    """What a notification about one SLO's alert needs to say: the SLO and its latest status."""

    service: Service
    slo: SLO
    status: SLOStatus

    @property
    def runbook(self) -> str | None:
        """The SLO's runbook, else the service's."""
        return self.slo.runbook or self.service.runbook


def alert_labels(slo: SLO, alert: AlertStatus, namespace: str = "") -> dict[str, str]:
    """The labels of the Prometheus alert the generated rule would fire for ``alert``.

    ``namespace`` (the service's) is added as a label when given, so routes can group and
    silences can match by tenant.
    """
    labels = {
        **({"namespace": namespace} if namespace else {}),
        "sloth_id": slo.id,
        "sloth_service": slo.service,
        "sloth_slo": slo.name,
        **slo.labels,
        "alertname": alert.name,
        "severity": alert.severity,
    }
    if alert.key in _TIERS:
        labels["sloth_severity"] = alert.key
    labels.update(slo.alerting.labels)
    if alert.key in ("page", "ticket"):
        labels.update(slo.alerting.tier(alert.key).labels)  # type: ignore[arg-type]
    return labels


def slo_alert(context: SLOContext, alert: AlertStatus) -> Alert | None:
    """``alert`` as the dispatcher's alert: firing, or resolved at ``resolved_at``.

    ``None`` for an alert that is inactive or pending (Prometheus sends neither).
    """
    if alert.state not in ("firing", "resolved") or alert.fired_at is None:
        return None
    ends_at = alert.resolved_at if alert.state == "resolved" else None
    slo = context.slo
    annotations = {
        "summary": f"{slo.service} {slo.name} SLO error budget burn rate is too fast.",
        **({"runbook_url": context.runbook} if context.runbook else {}),
    }
    labels = alert_labels(slo, alert, context.service.namespace)
    return Alert(labels, alert.fired_at, ends_at, annotations)


def most_urgent(severities: Sequence[str]) -> Severity:
    """The most urgent P-level among ``severities``; P3 when none is a P-level."""
    levels = [SEVERITY_ORDER.index(s) for s in severities if s in SEVERITY_ORDER]
    return SEVERITY_ORDER[min(levels, default=len(SEVERITY_ORDER) - 1)]


def notifications(
    flush: Flush,
    contexts: Mapping[str, SLOContext],
    integrations: Sequence[Integration],
    deployments: Sequence[Deployment],
    *,
    external_url: str = "",
    dashboard_url: Callable[[SLOContext], str | None] = lambda _context: None,
) -> list[Notification]:
    """The notifications a flush sends: one per integration of its receiver.

    Args:
        flush: What the dispatcher flushed.
        contexts: The SLO context of every alert, by ``sloth_id``.
        integrations: The receiver's integrations; those without ``send_resolved`` get no
            resolved alerts and no all-resolved notification.
        deployments: Recent deployments, for the remediation summary.
        external_url: This opsplane's URL.
        dashboard_url: The dashboard link of an SLO.
    """
    firing = [_notify_alert(a, "firing") for a in flush.firing]
    resolved = [_notify_alert(a, "resolved") for a in flush.resolved]
    burning = _contexts(flush.firing, contexts)
    first = burning[0] if burning else None
    payload = Payload(
        group_labels=dict(flush.group_labels),
        alerts=(*firing, *resolved),
        summary=_summary(flush, burning, contexts, deployments, dashboard_url),
        severity=most_urgent(
            [a.labels.get("severity", "") for a in flush.firing or flush.resolved]
        ),
        runbook_url=first.runbook if first else None,
        dashboard_url=dashboard_url(first) if first else None,
        external_url=external_url,
    )
    found = []
    for integration in integrations:
        if firing:
            shown = payload if integration.send_resolved else _firing_only(payload, len(firing))
            found.append(Notification(flush.group_key, integration.id, "firing", shown))
        elif integration.send_resolved:
            found.append(Notification(flush.group_key, integration.id, "resolved", payload))
    return found


def _notify_alert(alert: Alert, status: str) -> NotifyAlert:
    return NotifyAlert(
        labels=dict(alert.labels),
        annotations=dict(alert.annotations),
        starts_at=alert.starts_at,
        ends_at=alert.ends_at,
        status="firing" if status == "firing" else "resolved",
    )


def _firing_only(payload: Payload, count: int) -> Payload:
    return Payload(
        payload.group_labels,
        payload.alerts[:count],
        payload.summary,
        payload.severity,
        payload.runbook_url,
        payload.dashboard_url,
        payload.external_url,
    )


def _contexts(alerts: Sequence[Alert], contexts: Mapping[str, SLOContext]) -> list[SLOContext]:
    """The distinct SLOs of ``alerts``, most urgent alert first."""
    ordered = sorted(alerts, key=lambda a: most_urgent([a.labels.get("severity", "")]))
    seen: dict[str, SLOContext] = {}
    for alert in ordered:
        slo_id = alert.labels.get("sloth_id", "")
        if slo_id in contexts and slo_id not in seen:
            seen[slo_id] = contexts[slo_id]
    return list(seen.values())


def _summary(
    flush: Flush,
    burning: Sequence[SLOContext],
    contexts: Mapping[str, SLOContext],
    deployments: Sequence[Deployment],
    dashboard_url: Callable[[SLOContext], str | None],
) -> str:
    if burning:
        return "\n\n".join(
            remediation(c.status, deployments, runbook=c.runbook, dashboard=dashboard_url(c)).text()
            for c in burning
        )
    recovered = _contexts(flush.resolved, contexts)
    return "\n".join(
        f"Resolved: {c.slo.service}/{c.slo.name} no longer burns its error budget"
        + (
            f" (budget left {c.status.budget_remaining:.1%})."
            if c.status.budget_remaining is not None
            else "."
        )
        for c in recovered
    )
