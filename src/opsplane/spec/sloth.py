"""Sloth specs: ``prometheus/v1`` and the ``sloth.slok.dev/v1`` ``PrometheusServiceLevel`` CR.

Field names follow Sloth (``pkg/prometheus/api/v1`` and ``pkg/kubernetes/api/sloth/v1``).
Like Sloth, unknown keys are ignored; the SLO period is not part of these formats and comes
from ``--period``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

from pydantic import Field

from opsplane.domain.slo import (
    SLI,
    SLO,
    Alerting,
    AlertMeta,
    EventsSLI,
    Origin,
    RawSLI,
    Service,
)
from opsplane.errors import Problem
from opsplane.spec.documents import Document
from opsplane.spec.edge import LabelMap, Lenient, parse_model
from opsplane.spec.parsed import Parsed
from opsplane.spec.sloth_plugins import PluginChain, plugin_effects

PROMETHEUS_V1 = "prometheus/v1"
K8S_V1 = "sloth.slok.dev/v1"


class _Alert(Lenient):
    disable: bool = False
    labels: LabelMap = Field(default_factory=dict)
    annotations: LabelMap = Field(default_factory=dict)


class _Plugin(Lenient):
    id: str
    options: LabelMap = Field(default_factory=dict)


class _PromEvents(Lenient):
    error_query: str = ""
    total_query: str = ""


class _PromRaw(Lenient):
    error_ratio_query: str = ""


class _PromSLI(Lenient):
    events: _PromEvents | None = None
    raw: _PromRaw | None = None
    plugin: _Plugin | None = None


class _PromAlerting(Lenient):
    name: str = ""
    labels: LabelMap = Field(default_factory=dict)
    annotations: LabelMap = Field(default_factory=dict)
    page_alert: _Alert = Field(default_factory=_Alert)
    ticket_alert: _Alert = Field(default_factory=_Alert)


class _PromSLO(Lenient):
    plugins: PluginChain = Field(default_factory=PluginChain)
    name: str = ""
    description: str = ""
    objective: float = 0
    labels: LabelMap = Field(default_factory=dict)
    sli: _PromSLI = Field(default_factory=_PromSLI)
    alerting: _PromAlerting = Field(default_factory=_PromAlerting)


class PrometheusV1(Lenient):
    """Sloth's ``version: prometheus/v1`` file."""

    version: str
    slo_plugins: PluginChain = Field(default_factory=PluginChain)
    service: str = ""
    labels: LabelMap = Field(default_factory=dict)
    slos: list[_PromSLO] = Field(default_factory=list)


class _K8sEvents(Lenient):
    errorQuery: str = ""  # noqa: N815 - Kubernetes field names are camelCase
    totalQuery: str = ""  # noqa: N815


class _K8sRaw(Lenient):
    errorRatioQuery: str = ""  # noqa: N815


class _K8sSLI(Lenient):
    events: _K8sEvents | None = None
    raw: _K8sRaw | None = None
    plugin: _Plugin | None = None


class _K8sAlerting(Lenient):
    name: str = ""
    labels: LabelMap = Field(default_factory=dict)
    annotations: LabelMap = Field(default_factory=dict)
    pageAlert: _Alert = Field(default_factory=_Alert)  # noqa: N815
    ticketAlert: _Alert = Field(default_factory=_Alert)  # noqa: N815


class _K8sSLO(Lenient):
    plugins: PluginChain = Field(default_factory=PluginChain)
    name: str = ""
    description: str = ""
    objective: float = 0
    labels: LabelMap = Field(default_factory=dict)
    sli: _K8sSLI = Field(default_factory=_K8sSLI)
    alerting: _K8sAlerting = Field(default_factory=_K8sAlerting)


class _K8sSpec(Lenient):
    sloPlugins: PluginChain = Field(default_factory=PluginChain)  # noqa: N815
    service: str = ""
    labels: LabelMap = Field(default_factory=dict)
    slos: list[_K8sSLO] = Field(default_factory=list)


class _K8sMeta(Lenient):
    name: str = ""
    namespace: str = ""
    labels: LabelMap = Field(default_factory=dict)
    annotations: LabelMap = Field(default_factory=dict)


class PrometheusServiceLevel(Lenient):
    """Sloth's Kubernetes CR."""

    apiVersion: str  # noqa: N815
    kind: str
    metadata: _K8sMeta = Field(default_factory=_K8sMeta)
    spec: _K8sSpec = Field(default_factory=_K8sSpec)


def parse_prometheus_v1(doc: Document) -> tuple[list[Parsed], list[Problem]]:
    """A ``prometheus/v1`` document as one service."""
    spec, problems = parse_model(PrometheusV1, doc, doc.data)
    if spec is None:
        return [], problems
    if spec.version != PROMETHEUS_V1:
        return [], [doc.problem(f"unsupported version {spec.version!r}", "version")]
    origin = Origin(doc.file, doc.index, PROMETHEUS_V1, "")
    slos: list[SLO] = []
    paths: list[tuple[str | int, ...]] = []
    for i, s in enumerate(spec.slos):
        ev, raw = s.sli.events, s.sli.raw
        sli, sli_problems = _sli(
            doc,
            ("slos", i, "sli"),
            EventsSLI(ev.error_query, ev.total_query) if ev else None,
            RawSLI(raw.error_ratio_query) if raw else None,
            s.sli.plugin,
        )
        problems += sli_problems
        if sli is None:
            continue
        alerting = _alerting(
            s.alerting.name,
            s.alerting.labels,
            s.alerting.annotations,
            s.alerting.page_alert,
            s.alerting.ticket_alert,
        )
        fx = plugin_effects(
            doc, ("slo_plugins",), spec.slo_plugins, ("slos", i, "plugins"), s.plugins
        )
        problems += fx.problems
        slo = _slo(spec.service, spec.labels, s, sli, alerting)
        dialect: Literal["promql", "metricsql"] = "metricsql" if fx.metricsql else "promql"
        slos.append(
            replace(slo, info_labels=fx.info_labels, intervals=fx.intervals, dialect=dialect)
        )
        paths.append(("slos", i))
    if not spec.slos:
        problems.append(doc.problem("at least one SLO is required", "slos"))
    service = Service(spec.service, tuple(slos), origin, labels=spec.labels)
    return [Parsed(service, doc, ("service",), tuple(paths))], problems


def parse_k8s(doc: Document) -> tuple[list[Parsed], list[Problem]]:
    """A ``PrometheusServiceLevel`` CR as one service (spec paths are prefixed ``spec.``)."""
    cr, problems = parse_model(PrometheusServiceLevel, doc, doc.data)
    if cr is None:
        return [], problems
    meta = cr.metadata
    origin = Origin(
        doc.file,
        doc.index,
        K8S_V1,
        cr.kind,
        meta.name,
        meta.namespace,
        meta.labels,
        meta.annotations,
    )
    spec = cr.spec
    slos: list[SLO] = []
    paths: list[tuple[str | int, ...]] = []
    for i, s in enumerate(spec.slos):
        events = (
            EventsSLI(s.sli.events.errorQuery, s.sli.events.totalQuery) if s.sli.events else None
        )
        raw = RawSLI(s.sli.raw.errorRatioQuery) if s.sli.raw else None
        sli, sli_problems = _sli(doc, ("spec", "slos", i, "sli"), events, raw, s.sli.plugin)
        problems += sli_problems
        if sli is None:
            continue
        a = s.alerting
        alerting = _alerting(a.name, a.labels, a.annotations, a.pageAlert, a.ticketAlert)
        fx = plugin_effects(
            doc, ("spec", "sloPlugins"), spec.sloPlugins, ("spec", "slos", i, "plugins"), s.plugins
        )
        problems += fx.problems
        slo = _slo(spec.service, spec.labels, s, sli, alerting)
        dialect: Literal["promql", "metricsql"] = "metricsql" if fx.metricsql else "promql"
        slos.append(
            replace(slo, info_labels=fx.info_labels, intervals=fx.intervals, dialect=dialect)
        )
        paths.append(("spec", "slos", i))
    if not spec.slos:
        problems.append(doc.problem("at least one SLO is required", "spec", "slos"))
    service = Service(
        spec.service, tuple(slos), origin, namespace=meta.namespace or "default", labels=spec.labels
    )
    return [Parsed(service, doc, ("spec", "service"), tuple(paths))], problems


def _slo(
    service: str, labels: dict[str, str], s: _PromSLO | _K8sSLO, sli: SLI, alerting: Alerting
) -> SLO:
    return SLO(
        service=service,
        name=s.name,
        objective=s.objective,
        sli=sli,
        description=s.description,
        labels={**labels, **s.labels},
        alerting=alerting,
    )


def _alerting(
    name: str, labels: dict[str, str], annotations: dict[str, str], page: _Alert, ticket: _Alert
) -> Alerting:
    return Alerting(
        name=name,
        labels=labels,
        annotations=annotations,
        page=AlertMeta(page.disable, page.labels, page.annotations),
        ticket=AlertMeta(ticket.disable, ticket.labels, ticket.annotations),
    )


def _sli(
    doc: Document,
    path: tuple[str | int, ...],
    events: EventsSLI | None,
    raw: RawSLI | None,
    plugin: _Plugin | None,
) -> tuple[SLI | None, list[Problem]]:
    """Exactly one SLI type; plugins have no Python equivalent and are reported."""
    if plugin is not None:
        msg = (
            f"SLI plugin {plugin.id!r} is not supported: opsplane has no Go plugins; "
            "use an events or raw SLI"
        )
        return None, [doc.problem(msg, *path, "plugin")]
    if events is None and raw is None:
        return None, [doc.problem("at least one SLI type is required (events or raw)", *path)]
    if events is not None and raw is not None:
        return None, [doc.problem("only one SLI type is allowed", *path)]
    return events or raw, []
