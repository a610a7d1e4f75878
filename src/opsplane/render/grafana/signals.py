"""The golden signals of a service as dashboard queries, from its spec or from its SLOs.

Each signal comes from the service's ``golden`` block when it is there, else from its SLOs:
the first events or good/total SLI gives traffic (its total query) and the success rate, a raw
SLI gives the success rate alone, and a latency SLI gives the histogram. A signal that cannot
be filled stays None and its panel is left out, so no dashboard carries an empty query.

Per-version variants split a query by the ``version`` label (the label Argo Rollouts and most
canary setups put on request metrics). They exist only where the query is a plain ``sum(...)``
(see :func:`.queries.by_version`).
"""

from __future__ import annotations

from dataclasses import dataclass

from opsplane.domain.slo import EventsSLI, GoodTotalSLI, LatencySLI, RawSLI, Service
from opsplane.render.grafana import queries as q


@dataclass(frozen=True, slots=True)
class Signals:
    """Dashboard-ready queries; ``None`` where the spec gives nothing to fill them with."""

    success: str | None = None
    success_by_version: str | None = None
    traffic: str | None = None
    traffic_by_version: str | None = None
    latency_buckets: str | None = None
    saturation: str | None = None
    dependencies: tuple[str, ...] = ()

    def empty(self) -> bool:
        """Whether there is nothing at all to chart."""
        return not (
            self.success
            or self.traffic
            or self.latency_buckets
            or self.saturation
            or self.dependencies
        )


def signals(service: Service) -> Signals:
    """Every signal that the spec of ``service`` lets us chart."""
    golden = service.golden
    requests = golden.requests if golden else None
    errors = golden.errors if golden else None
    success, success_v = _success(requests, errors) if requests and errors else (None, None)
    if success is None:
        success, success_v = _success_from_slos(service)
    total = requests or _total_from_slos(service)
    latency = golden.latency if golden and golden.latency else _latency_from_slos(service)
    saturation = golden.saturation if golden else None
    return Signals(
        success=success,
        success_by_version=success_v,
        traffic=q.on_dashboard(total) if total else None,
        traffic_by_version=q.by_version(total) if total else None,
        latency_buckets=latency,
        saturation=q.on_dashboard(saturation) if saturation else None,
        dependencies=tuple(q.on_dashboard(d) for d in golden.dependencies) if golden else (),
    )


def _success(requests: str, errors: str) -> tuple[str, str | None]:
    """``1 - errors/requests``, and per version when both are plain sums."""
    overall = q.one_minus(q.ratio(errors, requests))
    errors_v, requests_v = q.by_version(errors), q.by_version(requests)
    per_version = q.one_minus(f"{errors_v} / {requests_v}") if errors_v and requests_v else None
    return overall, per_version


def _good_ratio(good: str, total: str) -> tuple[str, str | None]:
    good_v, total_v = q.by_version(good), q.by_version(total)
    return q.ratio(good, total), (f"{good_v} / {total_v}" if good_v and total_v else None)


def _success_from_slos(service: Service) -> tuple[str | None, str | None]:
    for slo in service.slos:
        sli = slo.sli
        if isinstance(sli, EventsSLI):
            return _success(sli.total_query, sli.error_query)
        if isinstance(sli, GoodTotalSLI):
            return _good_ratio(sli.good_query, sli.total_query)
        if isinstance(sli, RawSLI):
            return q.one_minus(q.on_dashboard(sli.error_ratio_query)), None
    return None, None


def _total_from_slos(service: Service) -> str | None:
    for slo in service.slos:
        if isinstance(slo.sli, EventsSLI | GoodTotalSLI):
            return slo.sli.total_query
    return None


def _latency_from_slos(service: Service) -> str | None:
    for slo in service.slos:
        if isinstance(slo.sli, LatencySLI):
            return q.latency_buckets(slo.sli.metric, slo.sli.selector)
    return None
