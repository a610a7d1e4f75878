"""``apiVersion: opsplane/v1``, ``kind: Service``: our own format (see ``docs/spec.md``).

Field names follow Sloth's ``prometheus/v1`` where the concept is the same (``error_query``,
``total_query``, ``error_ratio_query``, page/ticket alert tiers), so moving from Sloth is a
matter of wrapping the SLO list. Unknown keys are errors.
"""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, StringConstraints, WithJsonSchema

from opsplane.domain.alert_naming import camel
from opsplane.domain.duration import DAY, parse_duration
from opsplane.domain.slo import (
    SLI,
    SLO,
    Alerting,
    AlertMeta,
    EventsSLI,
    GoldenSignals,
    GoodTotalSLI,
    LatencySLI,
    Origin,
    Period,
    RawSLI,
    ScrapeConfig,
    Service,
)
from opsplane.domain.windows import AlertWindow, AlertWindows
from opsplane.errors import Problem
from opsplane.spec.cost_budget import CostsSpec, service_budget
from opsplane.spec.documents import Document
from opsplane.spec.edge import LabelMap, Strict, parse_model
from opsplane.spec.parsed import Parsed

API_VERSION = "opsplane/v1"
NAME_PATTERN = r"^[a-z0-9][-a-z0-9]{0,61}[a-z0-9]$"


def _check_name(value: str) -> str:
    if not re.fullmatch(NAME_PATTERN, value):
        msg = (
            f"invalid name {value!r}: use 2 to 63 lowercase letters, digits or '-', "
            "starting and ending with a letter or digit"
        )
        raise ValueError(msg)
    return value


NAME = Annotated[
    str,
    AfterValidator(_check_name),
    WithJsonSchema({"type": "string", "pattern": NAME_PATTERN, "minLength": 2, "maxLength": 63}),
]
CALENDAR_LENGTH = {"week": 7 * DAY, "month": 30 * DAY, "quarter": 90 * DAY}


class Metadata(Strict):
    """Who the service is and who owns it."""

    name: NAME = Field(description="Unique inside the namespace; lowercase, digits and '-'.")
    namespace: NAME = Field("default", description="Grafana folder, RBAC scope and budget owner.")
    owner: str = Field("", description="Owning team, e.g. team-payments.")
    labels: LabelMap = Field(default_factory=dict, description="Added to every SLO rule.")


class Golden(Strict):
    """The four golden signals; ``{{.window}}`` stands for the PromQL range."""

    requests: str | None = None
    errors: str | None = None
    latency: str | None = Field(None, description="A histogram _bucket series selector.")
    saturation: str | None = None
    dependencies: list[str] = Field(
        default_factory=list, description="Up/down queries, one per dependency."
    )


class ScrapeSpec(Strict):
    """Targets the embedded store scrapes (Prometheus text or OpenMetrics ``/metrics``)."""

    interval: str = Field("15s", description="How often to scrape, e.g. 15s.")
    targets: list[Annotated[str, StringConstraints(pattern=r"^https?://")]] = Field(
        min_length=1, description="Full URLs, e.g. http://127.0.0.1:8000/metrics."
    )


class EventsSpec(Strict):
    """Bad events over all events, as rate queries."""

    error_query: str
    total_query: str


class RatioSpec(Strict):
    """Good events over all events, as rate queries (OpenSLO's good/total)."""

    good_query: str
    total_query: str


class RawSpec(Strict):
    """A query that already is the error ratio."""

    error_ratio_query: str


class LatencySpec(Strict):
    """Requests slower than ``threshold`` seconds are bad (from histogram buckets)."""

    metric: str = Field(description="Histogram base name, e.g. http_request_duration_seconds.")
    threshold: float = Field(description="Seconds; must be one of the histogram's le bounds.")
    selector: str = Field("", description='Extra label matchers, e.g. job="checkout".')


class SLISpec(Strict):
    """Exactly one SLI kind."""

    events: EventsSpec | None = None
    ratio: RatioSpec | None = None
    raw: RawSpec | None = None
    latency: LatencySpec | None = None


class TierSpec(Strict):
    """One burn-rate alert tier."""

    disable: bool = False
    severity: Literal["P0", "P1", "P2", "P3"] | None = None
    labels: LabelMap = Field(default_factory=dict)
    annotations: LabelMap = Field(default_factory=dict)


class NoDataSpec(Strict):
    """Alert when the SLI has had no data for ``for``."""

    disable: bool = False
    for_: str = Field("10m", alias="for")


class AlertingSpec(Strict):
    """Alerts for one SLO; the name defaults to CamelCase service + SLO."""

    name: str | None = None
    labels: LabelMap = Field(default_factory=dict)
    annotations: LabelMap = Field(default_factory=dict)
    page: TierSpec = Field(default_factory=TierSpec)
    ticket: TierSpec = Field(default_factory=TierSpec)
    no_data: NoDataSpec = NoDataSpec.model_validate({})


class WindowSpec(Strict):
    """One condition of a Sloth ``AlertWindows`` catalog."""

    errorBudgetPercent: float = Field(gt=0, le=100)  # noqa: N815 - Sloth's field names
    shortWindow: str  # noqa: N815
    longWindow: str  # noqa: N815


class TierWindowsSpec(Strict):
    """The quick and slow conditions of one tier."""

    quick: WindowSpec
    slow: WindowSpec


class WindowsSpec(Strict):
    """A custom alert-window catalog in Sloth's ``AlertWindows`` ``spec`` format."""

    page: TierWindowsSpec
    ticket: TierWindowsSpec


class SLOSpec(Strict):
    """One service level objective."""

    name: NAME
    description: str = ""
    objective: float = Field(
        description="Percent, > 0 and <= 100.",
        json_schema_extra={"exclusiveMinimum": 0, "maximum": 100},
    )
    period: str | None = Field(
        None, description="Rolling (7d, 28d, 30d, ...) or week|month|quarter."
    )
    labels: LabelMap = Field(default_factory=dict)
    sli: SLISpec
    alerting: AlertingSpec = Field(default_factory=AlertingSpec)
    windows: WindowsSpec | None = None
    runbook: str | None = None


class ServiceSpec(Strict):
    """An opsplane service blueprint."""

    apiVersion: Literal["opsplane/v1"]  # noqa: N815
    kind: Literal["Service"]
    metadata: Metadata
    runbook: str | None = None
    golden: Golden | None = None
    scrape: ScrapeSpec | None = None
    slos: list[SLOSpec] = Field(min_length=1)
    costs: CostsSpec | None = Field(
        None, description="Cost settings: the service's budget (docs/spec.md, docs/cost.md)."
    )
    delivery: dict[str, Any] | None = Field(None, description="Rollout settings.")
    resources: list[dict[str, Any]] = Field(
        default_factory=list, description="Decommission registry."
    )


def json_schema() -> str:
    """The JSON Schema of ``opsplane/v1`` ``Service``, pretty-printed."""
    return json.dumps(ServiceSpec.model_json_schema(by_alias=True), indent=2)


def parse_service(doc: Document) -> tuple[list[Parsed], list[Problem]]:
    """An ``opsplane/v1`` ``Service`` document."""
    spec, problems = parse_model(ServiceSpec, doc, doc.data)
    if spec is None:
        return [], problems
    meta = spec.metadata
    slos: list[SLO] = []
    paths: list[tuple[str | int, ...]] = []
    for i, s in enumerate(spec.slos):
        slo, slo_problems = _slo(doc, i, spec, s)
        problems += slo_problems
        if slo is not None:
            slos.append(slo)
            paths.append(("slos", i))
    # SLOs with problems of their own still go on to the shared checks, so one run reports
    # every problem of the file; the caller generates nothing while any problem is left.
    scrape, scrape_problems = _scrape(doc, spec.scrape)
    problems += scrape_problems
    budget, budget_problems = service_budget(doc, spec.costs, meta.namespace, meta.name)
    problems += budget_problems
    origin = Origin(doc.file, doc.index, API_VERSION, "Service", meta.name, meta.namespace)
    service = Service(
        meta.name,
        tuple(slos),
        origin,
        meta.namespace,
        meta.owner,
        meta.labels,
        spec.runbook,
        _golden(spec.golden),
        scrape,
        budget,
    )
    return [Parsed(service, doc, ("metadata", "name"), tuple(paths))], problems


def _slo(doc: Document, i: int, spec: ServiceSpec, s: SLOSpec) -> tuple[SLO | None, list[Problem]]:
    at = ("slos", i)
    problems: list[Problem] = []
    sli = _sli(s.sli)
    if sli is None:
        problems.append(
            doc.problem("exactly one of events, ratio, raw or latency is required", *at, "sli")
        )
    period, msg = _period(s.period)
    if msg:
        problems.append(doc.problem(msg, *at, "period"))
    windows, window_problems = _windows(doc, at, s.windows, period)
    problems += window_problems
    no_data = None
    if not s.alerting.no_data.disable:
        try:
            no_data = parse_duration(s.alerting.no_data.for_)
        except ValueError as exc:
            problems.append(doc.problem(str(exc), *at, "alerting", "no_data", "for"))
    if sli is None:
        return None, problems
    name = s.alerting.name or default_alert_name(spec.metadata.name, s.name)
    a = s.alerting
    alerting = Alerting(name, a.labels, a.annotations, _tier(a.page), _tier(a.ticket), no_data)
    return SLO(
        service=spec.metadata.name,
        name=s.name,
        objective=s.objective,
        sli=sli,
        description=s.description,
        labels={**spec.metadata.labels, **s.labels},
        period=period,
        windows=windows,
        alerting=alerting,
        runbook=s.runbook or spec.runbook,
    ), problems


def default_alert_name(service: str, slo: str) -> str:
    """``checkout`` + ``latency-p99`` -> ``CheckoutLatencyP99``."""
    return camel(f"{service}-{slo}")


def _tier(t: TierSpec) -> AlertMeta:
    return AlertMeta(t.disable, t.labels, t.annotations, t.severity)


def _sli(s: SLISpec) -> SLI | None:
    given: list[SLI] = []
    if s.events:
        given.append(EventsSLI(s.events.error_query, s.events.total_query))
    if s.ratio:
        given.append(GoodTotalSLI(s.ratio.good_query, s.ratio.total_query))
    if s.raw:
        given.append(RawSLI(s.raw.error_ratio_query))
    if s.latency:
        given.append(LatencySLI(s.latency.metric, s.latency.threshold, s.latency.selector))
    return given[0] if len(given) == 1 else None


def _period(text: str | None) -> tuple[Period | None, str | None]:
    if text is None:
        return None, None
    if text in CALENDAR_LENGTH:
        return Period(CALENDAR_LENGTH[text], text), None  # type: ignore[arg-type]
    try:
        return Period(parse_duration(text)), None
    except ValueError as exc:
        return None, f"{exc}, or one of week, month, quarter"


def _windows(
    doc: Document, at: tuple[str | int, ...], w: WindowsSpec | None, period: Period | None
) -> tuple[AlertWindows | None, list[Problem]]:
    if w is None:
        return None, []
    conds: list[AlertWindow] = []
    problems: list[Problem] = []
    for tier, tw in (("page", w.page), ("ticket", w.ticket)):
        for speed, ws in (("quick", tw.quick), ("slow", tw.slow)):
            try:
                short, long = parse_duration(ws.shortWindow), parse_duration(ws.longWindow)
            except ValueError as exc:
                problems.append(doc.problem(str(exc), *at, "windows", tier, speed))
                continue
            if short >= long:
                problems.append(
                    doc.problem(
                        "shortWindow must be shorter than longWindow", *at, "windows", tier, speed
                    )
                )
            conds.append(AlertWindow(ws.errorBudgetPercent, short, long))
    if problems:
        return None, problems
    length = period.length if period else 30 * DAY
    return AlertWindows(length, *conds), []


def _scrape(doc: Document, s: ScrapeSpec | None) -> tuple[ScrapeConfig | None, list[Problem]]:
    if s is None:
        return None, []
    try:
        return ScrapeConfig(tuple(s.targets), parse_duration(s.interval)), []
    except ValueError as exc:
        return None, [doc.problem(str(exc), "scrape", "interval")]


def _golden(g: Golden | None) -> GoldenSignals | None:
    if g is None:
        return None
    return GoldenSignals(g.requests, g.errors, g.latency, g.saturation, tuple(g.dependencies))
