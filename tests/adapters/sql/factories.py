"""Readable builders for statuses, alerts and transitions, and a NaN-aware comparison."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from opsplane.domain.evaluation import (
    AlertState,
    AlertStatus,
    AlertTransition,
    SLOStatus,
    WindowStatus,
)

MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR
T0 = 1_767_225_600_000
"""2026-01-01T00:00:00Z in epoch milliseconds."""


def page(state: AlertState = "inactive", **times: int | None) -> AlertStatus:
    """The page alert of shop/availability."""
    return AlertStatus("page", "ShopAvailabilityPage", "P1", state, **times)


def ticket(state: AlertState = "inactive", **times: int | None) -> AlertStatus:
    """The ticket alert of shop/availability."""
    return AlertStatus("ticket", "ShopAvailabilityTicket", "P3", state, **times)


def status(
    slo_id: str = "shop-availability",
    *,
    at: int = T0,
    windows: tuple[WindowStatus, ...] | None = None,
    period_error_ratio: float | None = 0.0004,
    budget_remaining: float | None = 0.6,
    budget_consumed: float | None = 0.4,
    alerts: tuple[AlertStatus, ...] = (page(), ticket()),
) -> SLOStatus:
    """A 99.9 % over 30d status; every field can be overridden."""
    service, _, slo = slo_id.partition("-")
    return SLOStatus(
        slo_id=slo_id,
        service=service,
        slo=slo or "availability",
        objective=99.9,
        period="30d",
        at=at,
        period_start=at - 30 * DAY,
        windows=(
            windows
            if windows is not None
            else (
                WindowStatus(5 * MINUTE, 0.0, 0.0),
                WindowStatus(HOUR, 0.0008, 0.8),
            )
        ),
        period_error_ratio=period_error_ratio,
        budget_remaining=budget_remaining,
        budget_consumed=budget_consumed,
        alerts=alerts,
    )


def transition(
    at: int,
    from_state: AlertState = "inactive",
    to_state: AlertState = "pending",
    *,
    slo_id: str = "shop-availability",
    key: str = "page",
) -> AlertTransition:
    """One alert transition of shop/availability's page alert (by default)."""
    return AlertTransition(slo_id, key, "ShopAvailabilityPage", from_state, to_state, at)


def comparable(value: Any) -> Any:
    """``value`` with dataclasses as tuples and NaN as a marker, so ``==`` treats NaN == NaN."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = dataclasses.fields(value)
        return (type(value).__name__, *(comparable(getattr(value, f.name)) for f in fields))
    if isinstance(value, tuple | list):
        return tuple(comparable(v) for v in value)
    if isinstance(value, dict):
        return {k: comparable(v) for k, v in value.items()}
    if isinstance(value, float) and math.isnan(value):
        return "<NaN>"
    return value
