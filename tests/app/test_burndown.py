"""The burn-down: errors so far counted against the whole period's allowance."""

from __future__ import annotations

import pytest

from opsplane.app.burndown import burn_down
from opsplane.app.engine import Engine
from opsplane.domain.duration import DAY
from opsplane.domain.slo import SLO, EventsSLI, Origin, Period, Service
from opsplane.testing import FakeClock, FunctionReader
from opsplane.types import Millis

SLI = EventsSLI("sum(rate(e[{{.window}}]))", "sum(rate(t[{{.window}}]))")
NOW = FakeClock().now


def _status_and_curve(ratio: float) -> tuple[float | None, list[float | None], list[float]]:
    slo = SLO("shop", "availability", 99.9, SLI, period=Period(30 * DAY))
    service = Service("shop", (slo,), Origin("x", 0, "opsplane/v1", "Service"))

    def constant(_slo_id: str, _window: Millis, _at: Millis) -> float | None:
        return ratio

    reader = FunctionReader(constant)
    (status,) = Engine([service], reader).tick(NOW).statuses
    curve = burn_down(reader, slo, status, 30 * DAY, points=30)
    return (
        status.budget_remaining,
        [p.budget_remaining for p in curve],
        [p.ideal for p in curve],
    )


def test_burning_exactly_the_budget_follows_the_ideal_line() -> None:
    _, left, ideal = _status_and_curve(0.001)
    assert left == pytest.approx(ideal)
    assert ideal[-1] == pytest.approx(0.0)


def test_the_last_point_of_a_rolling_period_is_the_status_budget() -> None:
    status_left, left, _ = _status_and_curve(0.0004)
    assert left[-1] == pytest.approx(status_left)
    assert left == sorted(left, reverse=True)  # errors only ever spend budget
    assert left[0] == pytest.approx(1 - 0.4 / 30)
