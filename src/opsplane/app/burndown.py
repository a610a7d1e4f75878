"""The error-budget burn-down of an SLO over its period, for charts.

At ``points`` instants ``t`` from the period's start to ``at``, the budget left is the share
of the whole period's error budget not yet spent by the errors between the start and ``t``::

    left(t) = 1 - (ratio(start, t) / error_budget) * (t - start) / period

``ratio(start, t)`` is the error ratio of the events between the period's start and ``t`` (a
window of ``t - start``, read like every other window); scaling it by the elapsed share of the
period counts those errors against the whole period's allowance, at the traffic rate seen so
far. A service whose error ratio equals its budget exactly falls linearly from 100 % to 0 % at
the period's end, which is the ideal line drawn beside it. For a rolling period the last point
(``t - start == period``) equals the status's ``budget_remaining``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from opsplane.domain.duration import MINUTE
from opsplane.domain.evaluation import SLOStatus
from opsplane.domain.slo import SLO
from opsplane.ports import RatioRequest, SLIReader
from opsplane.types import Millis


@dataclass(frozen=True, slots=True)
class BurnPoint:
    """The budget left at ``at`` (``None`` without data) and on the ideal line."""

    at: Millis
    budget_remaining: float | None
    ideal: float


def burn_down(
    reader: SLIReader, slo: SLO, status: SLOStatus, period: Millis, points: int = 60
) -> list[BurnPoint]:
    """The burn-down from ``status.period_start`` to ``status.at`` in ``points`` steps.

    ``period`` is the period's length (the ideal line reaches 0 at ``period_start + period``).
    """
    start, end = status.period_start, status.at
    step = max((end - start) // max(points, 1), MINUTE)
    instants = list(range(start + step, end + 1, step)) or [end]
    budget = slo.error_budget_ratio
    requests = [RatioRequest(slo, (max(t - start, MINUTE),)) for t in instants]
    out = []
    for t, request in zip(instants, requests, strict=True):
        (ratios,) = reader.error_ratios([request], t)
        ratio = ratios.get(request.windows[0])
        elapsed = (t - start) / period
        left = None if ratio is None or math.isnan(ratio) else 1 - ratio / budget * elapsed
        out.append(BurnPoint(t, left, max(0.0, 1 - elapsed)))
    return out
