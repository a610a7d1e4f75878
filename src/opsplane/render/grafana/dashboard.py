"""The parts every opsplane dashboard shares: envelope, variables, annotations and links.

Annotations on every dashboard (pick any subset in Grafana's dashboard controls):

1. Grafana's built-in "Annotations & Alerts" (annotations stored in Grafana and alert state
   changes), as every new Grafana dashboard has.
2. "Deployments": a Prometheus annotation that marks each step in which the Kubernetes
   Deployment named after the service rolled out a new generation, from kube-state-metrics:
   ``changes(kube_deployment_status_observed_generation{deployment="<service>"}[...]) > 0``.
3. "opsplane events": annotations stored in Grafana that carry the tags ``opsplane`` and
   ``<namespace>/<service>`` (all of them, ``matchAny: false``). A CD pipeline or opsplane's
   own rollouts can post these through Grafana's ``POST /api/annotations``.
"""

from __future__ import annotations

from typing import Any

from opsplane.domain.slo import SLO, Service
from opsplane.render.grafana.panels import DATASOURCE
from opsplane.render.grafana.queries import RATE_INTERVAL, matcher

# Grafana 10.4's dashboard JSON model; later Grafana versions migrate it on load.
SCHEMA_VERSION = 39
TAG = "opsplane"

JSON = dict[str, Any]


def envelope(
    *,
    uid: str,
    title: str,
    description: str,
    tags: list[str],
    panels: list[JSON],
    variables: list[JSON],
    annotations: list[JSON],
    links: list[JSON],
    time_from: str,
) -> JSON:
    """A complete dashboard model (the ``dashboard`` of Grafana's import API)."""
    return {
        "uid": uid,
        "title": title,
        "description": description,
        "tags": tags,
        "schemaVersion": SCHEMA_VERSION,
        "editable": True,
        "graphTooltip": 1,
        "timezone": "browser",
        "time": {"from": time_from, "to": "now"},
        "refresh": "1m",
        "fiscalYearStartMonth": 0,
        "liveNow": False,
        "weekStart": "",
        "timepicker": {},
        "links": links,
        "annotations": {"list": annotations},
        "templating": {"list": variables},
        "panels": panels,
    }


def service_tags(service: Service, kind: str) -> list[str]:
    """``opsplane``, the namespace, the service and the kind (``golden-signals``, ``slo``)."""
    return [TAG, service.namespace, service.name, kind]


def datasource_variable() -> JSON:
    """The ``datasource`` variable every panel and query uses: any Prometheus datasource."""
    return {
        "type": "datasource",
        "name": "datasource",
        "label": "Data source",
        "query": "prometheus",
        "hide": 0,
        "refresh": 1,
        "regex": "",
        "includeAll": False,
        "multi": False,
        "options": [],
        "skipUrlSync": False,
    }


def query_variable(
    name: str, label: str, query: str, *, current: str | None = None, multi: bool = False
) -> JSON:
    """A Prometheus query variable (``label_values(...)``), refreshed on time-range change.

    ``current`` preselects a value; a ``multi`` variable preselects "All" instead.
    """
    variable: JSON = {
        "type": "query",
        "name": name,
        "label": label,
        "datasource": dict(DATASOURCE),
        "query": query,
        "definition": query,
        "hide": 0,
        "refresh": 2,
        "regex": "",
        "sort": 1,
        "includeAll": multi,
        "multi": multi,
        "options": [],
        "skipUrlSync": False,
    }
    if multi:
        variable["current"] = {"text": ["All"], "value": ["$__all"]}
    elif current is not None:
        variable["current"] = {"text": current, "value": current}
    return variable


def annotation_queries(service: Service) -> list[JSON]:
    """The three annotation sources described in the module docstring."""
    deployment = matcher("deployment", service.name)
    return [
        {
            "builtIn": 1,
            "name": "Annotations & Alerts",
            "datasource": {"type": "grafana", "uid": "-- Grafana --"},
            "enable": True,
            "hide": True,
            "iconColor": "rgba(0, 211, 255, 1)",
            "target": {"limit": 100, "matchAny": False, "tags": [], "type": "dashboard"},
            "type": "dashboard",
        },
        {
            "name": "Deployments",
            "datasource": dict(DATASOURCE),
            "enable": True,
            "hide": False,
            "iconColor": "purple",
            "expr": (
                f"changes(kube_deployment_status_observed_generation{{{deployment}}}"
                f"[{RATE_INTERVAL}]) > 0"
            ),
            "step": "1m",
            "titleFormat": "Deployment rolled out",
            "textFormat": "{{namespace}}/{{deployment}}",
            "tagKeys": "namespace,deployment",
            "useValueForTime": False,
        },
        {
            "name": "opsplane events",
            "datasource": {"type": "grafana", "uid": "-- Grafana --"},
            "enable": True,
            "hide": False,
            "iconColor": "orange",
            "target": {
                "limit": 100,
                "matchAny": False,
                "tags": [TAG, f"{service.namespace}/{service.name}"],
                "type": "tags",
            },
        },
    ]


def link(title: str, url: str) -> JSON:
    """An external link in the dashboard's link bar, opened in a new tab."""
    return {
        "title": title,
        "type": "link",
        "url": url,
        "icon": "doc",
        "tooltip": url,
        "tags": [],
        "asDropdown": False,
        "targetBlank": True,
        "includeVars": False,
        "keepTime": False,
    }


def sibling_link(service: Service) -> JSON:
    """A link to every opsplane dashboard of the same service (matched by all their tags)."""
    return {
        "title": f"{service.name} dashboards",
        "type": "dashboards",
        "icon": "dashboard",
        "tooltip": "",
        "tags": [TAG, service.namespace, service.name],
        "asDropdown": True,
        "targetBlank": False,
        "includeVars": False,
        "keepTime": True,
    }


def runbook(slo: SLO, service: Service) -> str | None:
    """The runbook of an SLO: its own, else the service's, else a Sloth ``runbook_url``.

    Sloth specs have no runbook field; teams put ``runbook_url`` in the alert annotations.
    """
    return slo.runbook or service.runbook or slo.alerting.annotations.get("runbook_url") or None


def runbook_links(service: Service) -> list[JSON]:
    """One link per distinct runbook of the service and its SLOs, the service's first."""
    urls: dict[str, list[str]] = {}
    if service.runbook:
        urls[service.runbook] = []
    for slo in service.slos:
        url = runbook(slo, service)
        if url:
            urls.setdefault(url, []).append(slo.name)
    return [
        link("Runbook" if url == service.runbook else f"Runbook ({', '.join(names)})", url)
        for url, names in urls.items()
    ]
