"""SLO statuses as the versioned JSON of ``opsplane slo status --json`` (``docs/cli-json.md``).

Version 1. Fields may be added, never renamed or removed. A ratio with no data (or 0/0) is
``null``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from opsplane.domain.duration import format_duration
from opsplane.domain.evaluation import AlertStatus, SLOStatus
from opsplane.types import Millis

VERSION = 1


def rfc3339(at: Millis) -> str:
    """``2026-01-01T00:00:00Z`` (milliseconds only when there are any)."""
    moment = datetime.fromtimestamp(at / 1000, tz=UTC)
    text = moment.isoformat(timespec="milliseconds" if at % 1000 else "seconds")
    return text.replace("+00:00", "Z")


def number(value: float | None) -> float | None:
    """JSON has no NaN: a missing or undefined number is ``null``."""
    return None if value is None or math.isnan(value) else value


def status_document(statuses: Sequence[SLOStatus], at: Millis) -> dict[str, Any]:
    """The whole ``--json`` document."""
    return {"version": VERSION, "at": rfc3339(at), "slos": [slo_entry(s) for s in statuses]}


def slo_entry(status: SLOStatus) -> dict[str, Any]:
    """One SLO: objective, windows, period ratio, budget and alerts."""
    return {
        "service": status.service,
        "slo": status.slo,
        "id": status.slo_id,
        "objective": status.objective,
        "period": status.period,
        "period_start": rfc3339(status.period_start),
        "windows": {
            format_duration(w.window): {
                "error_ratio": number(w.error_ratio),
                "burn_rate": number(w.burn_rate),
            }
            for w in status.windows
        },
        "period_error_ratio": number(status.period_error_ratio),
        "budget_remaining": number(status.budget_remaining),
        "budget_consumed": number(status.budget_consumed),
        "alerts": [alert_entry(a) for a in status.alerts],
    }


def alert_entry(alert: AlertStatus) -> dict[str, Any]:
    """One alert: name, tier (``severity``, as in DESIGN.md), priority, state, changes.

    ``severity`` is the burn-rate tier (``page``, ``ticket``), ``no_data`` or the OpenSLO
    condition key, matching the ``sloth_severity`` label of the rule; ``priority`` is the
    on-call severity P0-P3.
    """
    entry: dict[str, Any] = {
        "name": alert.name,
        "severity": alert.key,
        "priority": alert.severity,
        "state": alert.state,
    }
    for field, value in (
        ("active_at", alert.active_at),
        ("fired_at", alert.fired_at),
        ("resolved_at", alert.resolved_at),
    ):
        if value is not None:
            entry[field] = rfc3339(value)
    return entry
