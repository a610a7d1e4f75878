"""Notifications for the delivery tests: one firing SLO page, its resolution, and variants."""

from __future__ import annotations

from dataclasses import replace

from opsplane.domain.notify import Alert, Notification, NotificationKind, Payload

STARTED = 1_767_225_600_000  # 2026-01-01T00:00:00Z
RESOLVED = STARTED + 90_000  # 2026-01-01T00:01:30Z
SUMMARY = (
    "checkout availability is burning its error budget 14.4x over 1h (5m: 16.2x); "
    "62% of the 30d budget is left.\n"
    "Changed recently: checkout v1.42 deployed 25 minutes ago.\n"
    "Consider rolling back: kubectl argo rollouts undo checkout"
)
RUNBOOK = "https://runbooks.example/checkout"
DASHBOARD = "https://grafana.example/d/checkout-slo"
GROUP_KEY = '{}:{alertname="CheckoutAvailability"}'


def page_alert(**changes: object) -> Alert:
    """The firing page of checkout's availability SLO."""
    alert = Alert(
        labels={
            "alertname": "CheckoutAvailability",
            "service": "checkout",
            "namespace": "payments",
            "slo": "availability",
            "severity": "page",
        },
        annotations={"summary": "checkout availability burns its budget"},
        starts_at=STARTED,
        generator_url="http://opsplane.example/slos/checkout-availability",
    )
    return replace(alert, **changes)  # type: ignore[arg-type]


def notification(
    kind: NotificationKind = "firing",
    receiver: str = "ops",
    dedup_key: str = GROUP_KEY,
    alerts: tuple[Alert, ...] | None = None,
    **payload_changes: object,
) -> Notification:
    """A notification about the checkout page; ``resolved`` ends its alert at RESOLVED."""
    if alerts is None:
        alert = page_alert()
        if kind == "resolved":
            alert = replace(alert, status="resolved", ends_at=RESOLVED)
        alerts = (alert,)
    payload = Payload(
        group_labels={"alertname": "CheckoutAvailability"},
        alerts=alerts,
        summary=SUMMARY if kind == "firing" else "",
        severity="P1",
        runbook_url=RUNBOOK,
        dashboard_url=DASHBOARD,
        external_url="http://opsplane.example",
    )
    return Notification(dedup_key, receiver, kind, replace(payload, **payload_changes))  # type: ignore[arg-type]


def numbered(count: int, receiver: str = "ops") -> list[Notification]:
    """``count`` distinct firing notifications (group keys ``group-0``, ``group-1``, ...)."""
    return [
        notification(
            receiver=receiver,
            dedup_key=f"group-{i}",
            alerts=(page_alert(labels={"alertname": "Burn", "group": str(i)}),),
        )
        for i in range(count)
    ]
