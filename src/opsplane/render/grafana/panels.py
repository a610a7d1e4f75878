"""Panel builders: one function per Grafana panel type, returning the panel as a dict.

Builders leave out ``id`` and ``gridPos``; :mod:`.layout` assigns both. Every panel and every
query points at the dashboard's ``datasource`` variable, so one dashboard works against any
Prometheus-compatible datasource (Prometheus, Thanos, Mimir).

Options carry every field that the grafana-foundation-sdk panel schemas mark as required
(CUE defaults are emitted as required there), so the panels validate in strict mode.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from opsplane.render.grafana.ids import ref_id

DATASOURCE: dict[str, Any] = {"type": "prometheus", "uid": "${datasource}"}

JSON = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Query:
    """One PromQL query of a panel, with its legend."""

    expr: str
    legend: str = "__auto"
    instant: bool = False
    heatmap: bool = False


@dataclass(frozen=True, slots=True)
class Step:
    """One threshold step: ``color`` from ``value`` upwards (None is minus infinity)."""

    color: str
    value: float | None


def targets(queries: Sequence[Query]) -> list[JSON]:
    """Prometheus targets with unique refIds (A, B, ...)."""
    out: list[JSON] = []
    for i, q in enumerate(queries):
        target: JSON = {
            "datasource": dict(DATASOURCE),
            "editorMode": "code",
            "expr": q.expr,
            "legendFormat": q.legend,
            "range": not q.instant,
            "instant": q.instant,
            "refId": ref_id(i),
        }
        if q.heatmap:
            target["format"] = "heatmap"
        out.append(target)
    return out


def thresholds(steps: Sequence[Step] = (Step("green", None),)) -> JSON:
    """An absolute thresholds config; the first step must have value None."""
    return {"mode": "absolute", "steps": [{"color": s.color, "value": s.value} for s in steps]}


def _panel(kind: str, title: str, description: str, queries: Sequence[Query]) -> JSON:
    return {
        "type": kind,
        "title": title,
        "description": description,
        "datasource": dict(DATASOURCE),
        "targets": targets(queries),
    }


def _defaults(unit: str, steps: Sequence[Step], color: str, **extra: Any) -> JSON:
    return {
        "unit": unit,
        "color": {"mode": color},
        "thresholds": thresholds(steps),
        "mappings": [],
        **extra,
    }


def timeseries(
    title: str,
    description: str,
    queries: Sequence[Query],
    *,
    unit: str = "short",
    steps: Sequence[Step] = (Step("green", None),),
    threshold_style: str = "off",
    soft_min: float | None = 0,
    **defaults: Any,
) -> JSON:
    """A line chart; ``threshold_style`` ``dashed`` draws each threshold step as a line."""
    custom: JSON = {
        "drawStyle": "line",
        "lineWidth": 1,
        "fillOpacity": 10,
        "gradientMode": "none",
        "showPoints": "never",
        "spanNulls": False,
        "thresholdsStyle": {"mode": threshold_style},
    }
    if soft_min is not None:
        custom["axisSoftMin"] = soft_min
    panel = _panel("timeseries", title, description, queries)
    panel["fieldConfig"] = {
        "defaults": {**_defaults(unit, steps, "palette-classic", **defaults), "custom": custom},
        "overrides": [],
    }
    panel["options"] = {
        "legend": {"calcs": [], "displayMode": "list", "placement": "bottom", "showLegend": True},
        "tooltip": {"mode": "multi", "sort": "desc"},
    }
    return panel


def _reduce() -> JSON:
    return {"calcs": ["lastNotNull"], "fields": "", "values": False}


def stat(
    title: str,
    description: str,
    queries: Sequence[Query],
    *,
    unit: str = "short",
    steps: Sequence[Step] = (Step("green", None),),
    mappings: Sequence[JSON] = (),
    **defaults: Any,
) -> JSON:
    """A big number per series, coloured by thresholds (or by value mappings)."""
    panel = _panel("stat", title, description, queries)
    fd = _defaults(unit, steps, "thresholds", **defaults)
    fd["mappings"] = list(mappings)
    panel["fieldConfig"] = {"defaults": fd, "overrides": []}
    panel["options"] = {
        "colorMode": "background",
        "graphMode": "none",
        "justifyMode": "auto",
        "orientation": "auto",
        "percentChangeColorMode": "standard",
        "reduceOptions": _reduce(),
        "showPercentChange": False,
        "textMode": "value_and_name",
        "wideLayout": True,
    }
    return panel


def gauge(
    title: str,
    description: str,
    queries: Sequence[Query],
    *,
    unit: str,
    steps: Sequence[Step],
    **defaults: Any,
) -> JSON:
    """A radial gauge with threshold markers."""
    panel = _panel("gauge", title, description, queries)
    panel["fieldConfig"] = {
        "defaults": _defaults(unit, steps, "thresholds", **defaults),
        "overrides": [],
    }
    panel["options"] = {
        "minVizHeight": 75,
        "minVizWidth": 75,
        "orientation": "auto",
        "reduceOptions": _reduce(),
        "showThresholdLabels": False,
        "showThresholdMarkers": True,
        "sizing": "auto",
    }
    return panel


def heatmap(title: str, description: str, query: Query, *, unit: str = "s") -> JSON:
    """A heatmap of pre-bucketed histogram rates (``format: heatmap``, buckets by ``le``)."""
    panel = _panel("heatmap", title, description, [query])
    panel["fieldConfig"] = {
        "defaults": {
            "custom": {
                "hideFrom": {"legend": False, "tooltip": False, "viz": False},
                "scaleDistribution": {"type": "linear"},
            },
        },
        "overrides": [],
    }
    panel["options"] = {
        "calculate": False,
        "cellGap": 1,
        "color": {
            "exponent": 0.5,
            "fill": "dark-orange",
            "mode": "scheme",
            "reverse": False,
            "scale": "exponential",
            "scheme": "Oranges",
            "steps": 64,
        },
        "exemplars": {"color": "rgba(255,0,255,0.7)"},
        "filterValues": {"le": 1e-9},
        "legend": {"show": True},
        "rowsFrame": {"layout": "le"},
        "showValue": "never",
        "tooltip": {"mode": "single", "yHistogram": True, "showColorScale": False},
        "yAxis": {"axisPlacement": "left", "reverse": False, "unit": unit},
    }
    return panel


def text(title: str, content: str) -> JSON:
    """A markdown text panel (no queries)."""
    return {
        "type": "text",
        "title": title,
        "datasource": dict(DATASOURCE),
        "options": {"mode": "markdown", "content": content},
    }


def row(title: str) -> JSON:
    """An expanded row header; the panels below it, up to the next row, belong to it."""
    return {
        "type": "row",
        "title": title,
        "collapsed": False,
        "datasource": dict(DATASOURCE),
        "panels": [],
    }


def value_map(values: dict[str, tuple[str, str]]) -> JSON:
    """A value mapping: ``{"1": ("up", "green")}`` shows 1 as a green "up"."""
    options = {
        key: {"text": label, "color": color, "index": i}
        for i, (key, (label, color)) in enumerate(values.items())
    }
    return {"type": "value", "options": options}
