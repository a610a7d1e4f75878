"""SLO evaluation results: window ratios, burn rates, budget and alert states.

The types are shared by the evaluator (pure, in this package), the state store and the CLI.
Alert states follow Prometheus' alerting rules (``rules/alerting.go``): an alert whose
expression holds becomes ``pending`` (``active_at`` set), then ``firing`` once it has held for
the rule's ``for`` (at once when ``for`` is 0); when the expression stops holding a pending
alert becomes ``inactive`` and a firing one ``resolved``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeAlias

from opsplane.types import Millis

AlertState: TypeAlias = Literal["inactive", "pending", "firing", "resolved"]


@dataclass(frozen=True, slots=True)
class WindowStatus:
    """Error ratio and burn rate over one window (``None`` when there was no data)."""

    window: Millis
    error_ratio: float | None
    burn_rate: float | None


@dataclass(frozen=True, slots=True)
class AlertStatus:
    """The state of one alert of one SLO.

    Attributes:
        key: Stable id inside the SLO: ``page``, ``ticket``, ``no_data`` or
            ``condition:<name>`` (OpenSLO alert conditions).
        name: The Prometheus alert name (``alertname``).
        severity: ``P0``..``P3`` or an OpenSLO free-text severity.
        state: The current state.
        active_at: When the expression started to hold (Prometheus ``ActiveAt``).
        fired_at: When it last started firing.
        resolved_at: When it last resolved.
    """

    key: str
    name: str
    severity: str
    state: AlertState
    active_at: Millis | None = None
    fired_at: Millis | None = None
    resolved_at: Millis | None = None


@dataclass(frozen=True, slots=True)
class AlertTransition:
    """One change of alert state, for the history."""

    slo_id: str
    key: str
    name: str
    from_state: AlertState
    to_state: AlertState
    at: Millis


@dataclass(frozen=True, slots=True)
class SLOStatus:
    """Everything ``slo status`` reports for one SLO at one instant.

    Attributes:
        period_start: Start of the period evaluated (``at - period`` when rolling).
        budget_remaining: ``1 - period_error_ratio / error_budget`` (Sloth's
            ``slo:period_error_budget_remaining:ratio``); negative once overspent.
        budget_consumed: ``1 - budget_remaining``.
    """

    slo_id: str
    service: str
    slo: str
    objective: float
    period: str
    at: Millis
    period_start: Millis
    windows: tuple[WindowStatus, ...]
    period_error_ratio: float | None
    budget_remaining: float | None
    budget_consumed: float | None
    alerts: tuple[AlertStatus, ...]
