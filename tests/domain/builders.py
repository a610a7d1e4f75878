"""Small SLOs for the domain tests, built directly from the domain model."""

from __future__ import annotations

from opsplane.domain.duration import MINUTE
from opsplane.domain.slo import (
    SLO,
    Alerting,
    AlertMeta,
    BurnRateCondition,
    ComparisonOp,
    EventsSLI,
    Origin,
    Period,
    Service,
)
from opsplane.domain.windows import DEFAULT_CATALOGS, AlertWindows, catalog_for
from opsplane.types import Millis

SHOP_SLI = EventsSLI(
    error_query='sum(rate(http_requests_total{job="shop",code=~"5.."}[{{.window}}]))',
    total_query='sum(rate(http_requests_total{job="shop"}[{{.window}}]))',
)


def shop_slo(
    objective: float = 99.9,
    period: Period | None = None,
    *,
    name: str = "ShopAvailability",
    no_data_for: Millis | None = 10 * MINUTE,
    page: AlertMeta | None = None,
    ticket: AlertMeta | None = None,
    conditions: tuple[BurnRateCondition, ...] = (),
) -> SLO:
    """``shop/availability`` with the opsplane/v1 alerting defaults unless told otherwise."""
    alerting = Alerting(
        name=name,
        page=page or AlertMeta(),
        ticket=ticket or AlertMeta(),
        no_data_for=no_data_for,
    )
    return SLO(
        service="shop",
        name="availability",
        objective=objective,
        sli=SHOP_SLI,
        period=period,
        alerting=alerting,
        conditions=conditions,
    )


def service_of(*slos: SLO) -> Service:
    """A service holding ``slos``, as the rule renderer wants it."""
    return Service(name="shop", slos=slos, origin=Origin("shop.yaml", 0, "opsplane/v1", "Service"))


def catalog(slo: SLO, default_period: Millis) -> AlertWindows:
    """The SLO's alert windows as native rendering resolves them."""
    period = slo.period.length if slo.period else default_period
    found = catalog_for(slo.windows, period, DEFAULT_CATALOGS, derive=True)
    assert found is not None  # derive=True always finds one
    return found


def burn(
    name: str,
    op: ComparisonOp,
    threshold: float,
    lookback: Millis,
    *,
    after: Millis = 0,
    severity: str = "critical",
) -> BurnRateCondition:
    """An OpenSLO burn-rate condition."""
    return BurnRateCondition(
        name=name,
        severity=severity,
        op=op,
        threshold=threshold,
        lookback=lookback,
        alert_after=after,
    )
