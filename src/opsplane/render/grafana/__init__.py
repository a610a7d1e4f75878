"""Grafana dashboards as data: two dashboards per service, one folder per namespace.

:func:`render_dashboards` is pure. It returns the dashboard models (Grafana's dashboard JSON
model, ``schemaVersion`` 39) and a folders manifest; writing files or calling Grafana's HTTP
API is left to the caller. Per service:

- ``<namespace>/<service>-golden.json``: golden signals (see :mod:`.golden`);
- ``<namespace>/<service>-slo.json``: SLOs, error budgets and burn rates (see :mod:`.slo`).

Dashboard uids are stable across runs and unique across namespaces (see :mod:`.ids`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from opsplane.domain.duration import DAY
from opsplane.domain.slo import Service
from opsplane.domain.windows import DEFAULT_CATALOGS, AlertWindows
from opsplane.render.grafana.folders import folders_manifest
from opsplane.render.grafana.golden import golden_dashboard
from opsplane.render.grafana.ids import dashboard_uid, file_stem
from opsplane.render.grafana.slo import slo_dashboard
from opsplane.types import Millis

__all__ = ["DashboardFile", "GrafanaOutput", "render_dashboards"]

GOLDEN = "golden"
SLO = "slo"


@dataclass(frozen=True, slots=True)
class DashboardFile:
    """One dashboard and where it goes.

    Attributes:
        folder: The Grafana folder title, which is the service's namespace.
        filename: A relative path, ``<namespace>/<service>-<kind>.json``.
        uid: The dashboard uid (also ``model["uid"]``).
        model: The dashboard JSON model.
    """

    folder: str
    filename: str
    uid: str
    model: dict[str, Any]


@dataclass(frozen=True, slots=True)
class GrafanaOutput:
    """Everything ``generate grafana`` writes.

    Attributes:
        dashboards: Two per service (golden signals, then SLOs), in service order.
        folders: The folders manifest, see :func:`.folders.folders_manifest`:
            ``{"version": 1, "folders": [{"uid": "opsplane-payments", "title": "payments",
            "dashboards": ["payments_checkout-golden", "payments_checkout-slo"]}]}``.
    """

    dashboards: list[DashboardFile]
    folders: dict[str, Any]


def render_dashboards(
    services: Sequence[Service],
    *,
    default_period: Millis = 30 * DAY,
    catalogs: Mapping[Millis, AlertWindows] = DEFAULT_CATALOGS,
) -> GrafanaOutput:
    """The dashboards of ``services`` and the folders they go in.

    Args:
        services: The services to render. Services with the same namespace and name (one
            service split over several files) share one pair of dashboards.
        default_period: The SLO period for SLOs whose spec sets none (Sloth's default, 30d).
        catalogs: Alert-window catalogs by period, the same the rules were generated with.
    """
    files: list[DashboardFile] = []
    for service in merge_services(services):
        for kind in (GOLDEN, SLO):
            uid = dashboard_uid(service.namespace, service.name, kind)
            if kind == GOLDEN:
                model = golden_dashboard(service, uid)
            else:
                model = slo_dashboard(
                    service, uid, default_period=default_period, catalogs=catalogs
                )
            filename = f"{file_stem(service.namespace)}/{file_stem(service.name)}-{kind}.json"
            files.append(DashboardFile(service.namespace, filename, uid, model))
    manifest = folders_manifest([(f.folder, f.uid) for f in files])
    return GrafanaOutput(dashboards=files, folders=manifest)


def merge_services(services: Sequence[Service]) -> list[Service]:
    """One service per (namespace, name): SLOs of a service split over files are joined."""
    merged: dict[tuple[str, str], Service] = {}
    for service in services:
        key = (service.namespace, service.name)
        if key in merged:
            first = merged[key]
            merged[key] = replace(
                first,
                slos=first.slos + service.slos,
                golden=first.golden or service.golden,
                runbook=first.runbook or service.runbook,
            )
        else:
            merged[key] = service
    return list(merged.values())
