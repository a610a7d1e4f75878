"""Runs whose cost jumped after a deployment: the mean cost per run before and after.

For each deployment of a service, the runs *before* are those since the previous deployment
(at most ``window`` back), the runs *after* those until the next deployment (at most ``window``
on). With at least ``min_runs`` on each side and a mean that rose by more than
``min_increase`` (default 20 %), the deployment is reported with the component that rose
most, and the monthly saving of going back: the increase per run times the runs per month
seen after the deployment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Final

from opsplane.domain.cost.model import COMPONENTS, Breakdown, Component
from opsplane.domain.cost.money import APPROX, EXACT, ZERO, money_text
from opsplane.domain.cost.recommend import DAYS_PER_MONTH, Recommendation

MIN_RUNS: Final = 5
MIN_INCREASE: Final = Decimal("0.2")
WINDOW: Final = timedelta(days=7)
_DAY: Final = Decimal(86_400)


@dataclass(frozen=True, slots=True)
class RunCost:
    """One priced run of a service, at the time it started."""

    service: str
    at: datetime
    breakdown: Breakdown


@dataclass(frozen=True, slots=True)
class Deployment:
    """A new version of a service went live at ``at``."""

    service: str
    at: datetime
    version: str = ""


def cost_jumps(
    runs: Sequence[RunCost],
    deployments: Sequence[Deployment],
    *,
    min_runs: int = MIN_RUNS,
    min_increase: Decimal = MIN_INCREASE,
    window: timedelta = WINDOW,
) -> list[Recommendation]:
    """Deployments after which the mean cost per run rose by more than ``min_increase``."""
    out: list[Recommendation] = []
    for service in sorted({d.service for d in deployments}):
        mine = sorted((r for r in runs if r.service == service), key=lambda r: r.at)
        deploys = sorted((d for d in deployments if d.service == service), key=lambda d: d.at)
        for i, deploy in enumerate(deploys):
            start = deploy.at - window
            if i > 0:
                start = max(start, deploys[i - 1].at)
            end = deploy.at + window
            if i + 1 < len(deploys):
                end = min(end, deploys[i + 1].at)
            before = [r for r in mine if start <= r.at < deploy.at]
            after = [r for r in mine if deploy.at <= r.at < end]
            if len(before) < min_runs or len(after) < min_runs:
                continue
            found = _jump(deploy, before, after, min_increase, end)
            if found is not None:
                out.append(found)
    return sorted(out, key=lambda r: -r.monthly_savings)


def _jump(
    deploy: Deployment,
    before: Sequence[RunCost],
    after: Sequence[RunCost],
    min_increase: Decimal,
    end: datetime,
) -> Recommendation | None:
    mean_before, mean_after = _mean(before), _mean(after)
    threshold = EXACT.multiply(mean_before.total, EXACT.add(Decimal(1), min_increase))
    if mean_after.total <= threshold:
        return None
    rises = {
        c: APPROX.subtract(mean_after.component(c), mean_before.component(c)) for c in COMPONENTS
    }
    worst: Component = max(COMPONENTS, key=lambda c: rises[c])
    increase = APPROX.subtract(mean_after.total, mean_before.total)
    span = min(end, max(r.at for r in after) + timedelta(seconds=1)) - deploy.at
    days = max(APPROX.divide(Decimal(int(span.total_seconds())), _DAY), Decimal("0.000001"))
    per_month = APPROX.divide(APPROX.multiply(Decimal(len(after)), DAYS_PER_MONTH), days)
    saving = APPROX.multiply(increase, per_month).quantize(Decimal("0.000001"), context=APPROX)
    rise = APPROX.divide(increase, mean_before.total) if mean_before.total else Decimal(0)
    version = f" {deploy.version}" if deploy.version else ""
    summary = (
        f"{deploy.service}: cost per run rose {float(rise):.0%} after deployment{version} at "
        f"{deploy.at.isoformat()} ({money_text(_r(mean_before.total))} -> "
        f"{money_text(_r(mean_after.total))}), mostly {worst} (+{money_text(_r(rises[worst]))})"
    )
    detail = {
        "deployment": deploy.version,
        "at": deploy.at.isoformat(),
        "mean_before": money_text(_r(mean_before.total)),
        "mean_after": money_text(_r(mean_after.total)),
        "component": worst,
        "runs_before": str(len(before)),
        "runs_after": str(len(after)),
    }
    return Recommendation("cost-jump", deploy.service, summary, saving, detail)


def _mean(runs: Sequence[RunCost]) -> Breakdown:
    total = Breakdown(runs[0].breakdown.currency)
    for r in runs:
        total = total + Breakdown.of(
            r.breakdown.currency, [r.breakdown.component(c) for c in COMPONENTS]
        )
    n = Decimal(len(runs))
    parts = [APPROX.divide(total.component(c), n) for c in COMPONENTS]
    return Breakdown.of(total.currency, parts)


def _r(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.000001"), context=APPROX) if value else ZERO
