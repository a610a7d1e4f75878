"""Rows to domain objects and back: the one place that knows both shapes.

Every function here is pure. Rows are plain mappings keyed by column name (see
:mod:`.schema` for the representation of NaN, infinities and windows).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from opsplane.adapters.sql.schema import ALERT_STATES, NAN_FLAGGED
from opsplane.domain.evaluation import (
    AlertState,
    AlertStatus,
    AlertTransition,
    SLOStatus,
    WindowStatus,
)

Row = Mapping[Any, Any]
"""A row as SQLAlchemy returns it (``RowMapping``, keyed by column name)."""

_JSON_SPECIALS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def split_nan(value: float | None) -> tuple[float | None, bool]:
    """``(column value, nan flag)``: NaN becomes NULL with the flag set."""
    if value is not None and math.isnan(value):
        return None, True
    return value, False


def join_nan(value: float | None, is_nan: bool) -> float | None:
    """The inverse of :func:`split_nan`."""
    return math.nan if is_nan else value


def json_float(value: float | None) -> float | str | None:
    """A float as JSON can hold it: non-finite values become ``"NaN"``/``"Infinity"``."""
    if value is None or math.isfinite(value):
        return value
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def float_from_json(raw: object) -> float | None:
    """The inverse of :func:`json_float` (JSON integers come back as floats)."""
    if raw is None:
        return None
    if isinstance(raw, str):
        return _JSON_SPECIALS[raw]
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return float(raw)
    raise ValueError(f"not a stored float: {raw!r}")


def alert_state(raw: object) -> AlertState:
    """A stored alert state, checked against the closed set of :data:`AlertState`."""
    if raw not in ALERT_STATES:
        raise ValueError(f"not an alert state: {raw!r}")
    return raw


def windows_to_json(windows: Sequence[WindowStatus]) -> list[dict[str, object]]:
    """Window statuses as a JSON array, in order."""
    return [
        {
            "window": w.window,
            "error_ratio": json_float(w.error_ratio),
            "burn_rate": json_float(w.burn_rate),
        }
        for w in windows
    ]


def windows_from_json(raw: Sequence[Row]) -> tuple[WindowStatus, ...]:
    """The inverse of :func:`windows_to_json`."""
    return tuple(
        WindowStatus(
            window=int(item["window"]),
            error_ratio=float_from_json(item["error_ratio"]),
            burn_rate=float_from_json(item["burn_rate"]),
        )
        for item in raw
    )


def status_row(status: SLOStatus) -> dict[str, object]:
    """The ``slo_status`` row of ``status`` (its alerts go to :func:`alert_rows`)."""
    row: dict[str, object] = {
        "slo_id": status.slo_id,
        "service": status.service,
        "slo": status.slo,
        "objective": status.objective,
        "period": status.period,
        "at": status.at,
        "period_start": status.period_start,
        "windows": windows_to_json(status.windows),
    }
    for name in NAN_FLAGGED:
        row[name], row[f"{name}_nan"] = split_nan(getattr(status, name))
    return row


def status_from_row(row: Row, alerts: Sequence[AlertStatus]) -> SLOStatus:
    """The inverse of :func:`status_row`, given the SLO's alerts in order."""
    flagged = {name: join_nan(row[name], bool(row[f"{name}_nan"])) for name in NAN_FLAGGED}
    return SLOStatus(
        slo_id=row["slo_id"],
        service=row["service"],
        slo=row["slo"],
        objective=float(row["objective"]),
        period=row["period"],
        at=int(row["at"]),
        period_start=int(row["period_start"]),
        windows=windows_from_json(row["windows"]),
        period_error_ratio=flagged["period_error_ratio"],
        budget_remaining=flagged["budget_remaining"],
        budget_consumed=flagged["budget_consumed"],
        alerts=tuple(alerts),
    )


def alert_rows(status: SLOStatus) -> list[dict[str, object]]:
    """The ``alert_state`` rows of ``status``' alerts, numbered in their order."""
    return [
        {
            "slo_id": status.slo_id,
            "key": alert.key,
            "position": position,
            "name": alert.name,
            "severity": alert.severity,
            "state": alert.state,
            "active_at": alert.active_at,
            "fired_at": alert.fired_at,
            "resolved_at": alert.resolved_at,
        }
        for position, alert in enumerate(status.alerts)
    ]


def alert_from_row(row: Row) -> AlertStatus:
    """The inverse of one :func:`alert_rows` row."""
    return AlertStatus(
        key=row["key"],
        name=row["name"],
        severity=row["severity"],
        state=alert_state(row["state"]),
        active_at=row["active_at"],
        fired_at=row["fired_at"],
        resolved_at=row["resolved_at"],
    )


def transition_row(transition: AlertTransition) -> dict[str, object]:
    """The ``alert_transition`` row of ``transition`` (the id is assigned by the database)."""
    return {
        "slo_id": transition.slo_id,
        "key": transition.key,
        "name": transition.name,
        "from_state": transition.from_state,
        "to_state": transition.to_state,
        "at": transition.at,
    }


def transition_from_row(row: Row) -> AlertTransition:
    """The inverse of :func:`transition_row`."""
    return AlertTransition(
        slo_id=row["slo_id"],
        key=row["key"],
        name=row["name"],
        from_state=alert_state(row["from_state"]),
        to_state=alert_state(row["to_state"]),
        at=int(row["at"]),
    )
