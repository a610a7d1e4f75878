"""What the console's pages show, built from domain values (pure; the routes do the I/O).

Each page has one function here that takes what the runtime returned and gives the template
plain data, so the pages' content is tested without a server.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from opsplane.app.burndown import BurnPoint
from opsplane.domain import incidents as inc
from opsplane.domain.duration import format_duration
from opsplane.domain.evaluation import AlertStatus, AlertTransition, SLOStatus
from opsplane.domain.remediation import Deployment
from opsplane.domain.slo import SLO, Service
from opsplane.server.console.formatting import known
from opsplane.types import Millis

PAGE_BURN = 14.4
"""The fast page of the SRE Workbook's Table 5-8 (2 % of a 30d budget in 1h, see
docs/slo-math.md); burn-rate bars are drawn to at least this scale."""
SLOW_PAGE_BURN = 6.0
"""The slow page of the same table (5 % of a 30d budget in 6h): a window burning faster is
drawn as critical, one burning faster than 1x (the budget's own pace) as a warning."""


def achieved(status: SLOStatus | None) -> float | None:
    """The period's good ratio, ``1 - period error ratio`` (``None`` without data)."""
    ratio = status.period_error_ratio if status else None
    return 1 - ratio if ratio is not None and known(ratio) else None


def overspent(status: SLOStatus | None) -> bool:
    """The period's error budget is spent (Sloth's budget remaining at or below 0)."""
    budget = status.budget_remaining if status else None
    return budget is not None and known(budget) and budget <= 0


def meets(slo: SLO, status: SLOStatus | None) -> bool | None:
    """Whether the period so far meets the objective (``None`` without data)."""
    good = achieved(status)
    return None if good is None else good >= slo.objective_ratio


@dataclass(frozen=True, slots=True)
class SLORow:
    """One SLO on the services page."""

    service: Service
    slo: SLO
    status: SLOStatus | None
    last_deployment: Deployment | None

    @property
    def firing(self) -> list[AlertStatus]:
        """Alerts firing now."""
        return [a for a in self.status.alerts if a.state == "firing"] if self.status else []

    @property
    def pending(self) -> list[AlertStatus]:
        """Alerts whose condition holds but that do not fire yet."""
        return [a for a in self.status.alerts if a.state == "pending"] if self.status else []

    @property
    def achieved(self) -> float | None:
        """The period's good ratio (``1 - period error ratio``)."""
        return achieved(self.status)

    @property
    def overspent(self) -> bool:
        """The period's error budget is spent."""
        return overspent(self.status)

    @property
    def meets_objective(self) -> bool | None:
        """Whether the period so far meets the objective (``None`` without data)."""
        return meets(self.slo, self.status)


@dataclass(frozen=True, slots=True)
class Overview:
    """The services page: every SLO row and the counts above the table."""

    rows: list[SLORow]
    at: Millis | None

    @property
    def firing(self) -> int:
        """Firing alerts over all SLOs."""
        return sum(len(r.firing) for r in self.rows)

    @property
    def overspent(self) -> int:
        """SLOs whose error budget for the period is spent."""
        return sum(1 for r in self.rows if r.overspent)

    @property
    def services(self) -> int:
        """How many services the rows belong to."""
        return len({r.service.name for r in self.rows})


def overview(
    services: Sequence[Service], statuses: Sequence[SLOStatus], deployments: Iterable[Deployment]
) -> Overview:
    """Rows in service then SLO order; ``deployments`` newest first (the runtime's order)."""
    by_id = {s.slo_id: s for s in statuses}
    last: dict[str, Deployment] = {}
    for deployment in deployments:
        last.setdefault(deployment.service, deployment)
    rows = [
        SLORow(service, slo, by_id.get(slo.id), last.get(service.name))
        for service in sorted(services, key=lambda s: s.name)
        for slo in service.slos
    ]
    return Overview(rows, max((s.at for s in statuses), default=None))


@dataclass(frozen=True, slots=True)
class WindowRow:
    """One alerting window of an SLO: its error ratio and burn rate, and the bar's scale."""

    window: str
    error_ratio: float | None
    burn_rate: float | None
    scale: float

    @property
    def bar(self) -> float:
        """The bar's value: the burn rate, clipped to the scale (0 without data)."""
        rate = self.burn_rate
        return min(rate, self.scale) if rate is not None and known(rate) and rate > 0 else 0.0


@dataclass(frozen=True, slots=True)
class SLODetail:
    """The SLO page: status, windows, alert history, deployments and the chart's data."""

    service: Service
    slo: SLO
    status: SLOStatus
    period: Millis
    windows: list[WindowRow]
    history: list[AlertTransition]
    deployments: list[Deployment]
    chart: dict[str, Any]

    @property
    def runbook(self) -> str | None:
        """The SLO's runbook, else its service's."""
        return self.slo.runbook or self.service.runbook

    @property
    def achieved(self) -> float | None:
        """The period's good ratio."""
        return achieved(self.status)

    @property
    def overspent(self) -> bool:
        """The period's error budget is spent."""
        return overspent(self.status)

    @property
    def meets_objective(self) -> bool | None:
        """Whether the period so far meets the objective."""
        return meets(self.slo, self.status)


def windows(status: SLOStatus) -> list[WindowRow]:
    """The status's windows, shortest first, with one bar scale shared by all of them."""
    rates = [w.burn_rate for w in status.windows if w.burn_rate is not None and known(w.burn_rate)]
    scale = max([PAGE_BURN, *rates])
    return [
        WindowRow(format_duration(w.window), w.error_ratio, w.burn_rate, scale)
        for w in sorted(status.windows, key=lambda w: w.window)
    ]


def slo_detail(
    service: Service,
    slo: SLO,
    status: SLOStatus,
    *,
    period: Millis,
    curve: Sequence[BurnPoint],
    history: Sequence[AlertTransition],
    deployments: Sequence[Deployment],
) -> SLODetail:
    """The SLO page; ``deployments`` are the service's, newest first."""
    shown = [d for d in deployments if status.period_start <= d.started_at <= status.at]
    return SLODetail(
        service,
        slo,
        status,
        period,
        windows(status),
        list(history),
        shown,
        burn_chart(curve, shown),
    )


def burn_chart(curve: Sequence[BurnPoint], deployments: Sequence[Deployment]) -> dict[str, Any]:
    """The burn-down as the chart script reads it: epoch seconds and percentages.

    uPlot takes columns (one x array and one array per series) in seconds; a point without
    data is ``null`` (a gap in the line).
    """
    return {
        "x": [p.at / 1000 for p in curve],
        "budget": [_pct(p.budget_remaining) for p in curve],
        "ideal": [_pct(p.ideal) for p in curve],
        "deployments": [
            {"x": d.started_at / 1000, "label": d.version}
            for d in sorted(deployments, key=lambda d: d.started_at)
        ],
    }


def _pct(ratio: float | None) -> float | None:
    if ratio is None or math.isnan(ratio):
        return None
    return round(ratio * 100, 4)


@dataclass(frozen=True, slots=True)
class IncidentsView:
    """The incidents page: newest first, with MTTA and MTTR over those listed."""

    incidents: list[inc.Incident]
    mtta: float | None
    mttr: float | None

    @property
    def open(self) -> int:
        """Incidents not resolved yet."""
        return sum(1 for i in self.incidents if i.state != "resolved")


def incidents_view(incidents: Sequence[inc.Incident]) -> IncidentsView:
    """Incidents with their means (``opsplane incident list`` computes the same)."""
    return IncidentsView(list(incidents), inc.mtta(incidents), inc.mttr(incidents))


def namespace_deployments(
    deployments: Iterable[Deployment], services: Sequence[Service]
) -> list[Deployment]:
    """The deployments of ``services`` only: the deployment log is shared by all tenants."""
    names = {s.name for s in services}
    return [d for d in deployments if d.service in names]
