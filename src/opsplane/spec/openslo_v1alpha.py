"""OpenSLO ``openslo/v1alpha`` ``SLO`` documents, read as Sloth reads them.

Sloth (``internal/storage/io/openslo.go``) is the reference: each objective ``idx`` becomes an
SLO named ``<metadata.name>-<idx>`` (so its id is ``<service>-<name>-<idx>``) with
``objective = target * 100``, the SLO's ``description`` and both alert tiers disabled. Only
``ratioMetrics`` with a ``prometheus`` or ``sloth`` source and ``queryType: promql`` are
read, as good/total events. The period is ``count`` days of the one ``timeWindows`` item;
without one it comes from the command line (``--period``).

Two differences, both on input Sloth mishandles: a missing ``target`` is a problem (Sloth
dereferences a nil pointer), and the ``total`` source is checked on its own (Sloth tests
``good.source`` twice). Sloth stops at the first error; every problem is reported here, and
a document with any problem yields no service, as in Sloth.
"""

from __future__ import annotations

from pydantic import AliasChoices, Field

from opsplane.domain.duration import DAY
from opsplane.domain.slo import (
    SLO,
    Alerting,
    AlertMeta,
    GoodTotalSLI,
    Origin,
    Period,
    Service,
)
from opsplane.errors import Problem
from opsplane.spec.documents import Document
from opsplane.spec.edge import Lenient, parse_model
from opsplane.spec.parsed import Parsed, Path

API_VERSION = "openslo/v1alpha"
_SOURCES = ("prometheus", "sloth")
_DISABLED = AlertMeta(disabled=True)


class _Query(Lenient):
    source: str = ""
    queryType: str = ""  # noqa: N815 - OpenSLO field names are camelCase
    query: str = ""


class _RatioMetrics(Lenient):
    good: _Query = Field(default_factory=_Query)
    total: _Query = Field(default_factory=_Query)
    incremental: bool = False


class _Objective(Lenient):
    displayName: str = ""  # noqa: N815
    target: float | None = Field(None, validation_alias=AliasChoices("target", "budgetTarget"))
    ratioMetrics: _RatioMetrics | None = None  # noqa: N815


class _TimeWindow(Lenient):
    unit: str = ""
    count: int = 0
    isRolling: bool = False  # noqa: N815


class _Spec(Lenient):
    service: str = ""
    description: str = ""
    budgetingMethod: str = ""  # noqa: N815
    objectives: list[_Objective] = Field(default_factory=list)
    timeWindows: list[_TimeWindow] = Field(default_factory=list)  # noqa: N815


class _Metadata(Lenient):
    name: str = ""
    displayName: str = ""  # noqa: N815


class SLOV1Alpha(Lenient):
    """An ``openslo/v1alpha`` ``SLO`` (the fields Sloth reads)."""

    apiVersion: str  # noqa: N815
    kind: str
    metadata: _Metadata = Field(default_factory=_Metadata)
    spec: _Spec = Field(default_factory=_Spec)


def parse_openslo_v1alpha(doc: Document) -> tuple[list[Parsed], list[Problem]]:
    """One v1alpha SLO document as one service, with one SLO per objective."""
    slo, problems = parse_model(SLOV1Alpha, doc, doc.data)
    if slo is None:
        return [], problems
    spec = slo.spec
    if not spec.objectives:
        problems.append(doc.problem("at least one SLO is required", "spec", "objectives"))
    period, found = _period(doc, spec.timeWindows)
    problems += found
    objectives: list[tuple[float, GoodTotalSLI]] = []
    for i, objective in enumerate(spec.objectives):
        got, found = _objective(doc, ("spec", "objectives", i), objective)
        problems += found
        objectives += [got] if got else []
    if problems:
        return [], problems
    return [_parsed(doc, slo, objectives, period)], []


def _period(doc: Document, windows: list[_TimeWindow]) -> tuple[Period | None, list[Problem]]:
    """Sloth's ``validateTimeWindow``: at most one window, counted in days."""
    if not windows:
        return None, []
    if len(windows) > 1:
        return None, [doc.problem("only 1 time window is supported", "spec", "timeWindows")]
    window = windows[0]
    if window.unit.lower() != "day":
        msg = "only days based time windows are supported"
        return None, [doc.problem(msg, "spec", "timeWindows", 0, "unit")]
    if window.count <= 0:
        msg = "must be greater than zero"
        return None, [doc.problem(msg, "spec", "timeWindows", 0, "count")]
    return Period(window.count * DAY), []


def _objective(
    doc: Document, at: Path, objective: _Objective
) -> tuple[tuple[float, GoodTotalSLI] | None, list[Problem]]:
    """The objective in percent and Sloth's ``getSLI``: good/total PromQL from prometheus/sloth."""
    problems: list[Problem] = []
    if objective.target is None:
        problems.append(
            doc.problem("is required: the objective as a ratio, e.g. 0.999", *at, "target")
        )
    ratio = objective.ratioMetrics
    if ratio is None:
        return None, [*problems, doc.problem("missing ratioMetrics", *at)]
    for part, query in (("good", ratio.good), ("total", ratio.total)):
        where = (*at, "ratioMetrics", part)
        if query.source not in _SOURCES:
            msg = f"prometheus or sloth query ratio {part!r} source is required"
            problems.append(doc.problem(msg, *where, "source"))
        if query.queryType != "promql":
            msg = f"unsupported {part!r} indicator query type: {query.queryType!r} (must be promql)"
            problems.append(doc.problem(msg, *where, "queryType"))
    if problems or objective.target is None:
        return None, problems
    # OpenSLO uses ratios, Sloth percents: ``*slo.BudgetTarget * 100``.
    return (objective.target * 100, GoodTotalSLI(ratio.good.query, ratio.total.query)), []


def _parsed(
    doc: Document,
    slo: SLOV1Alpha,
    objectives: list[tuple[float, GoodTotalSLI]],
    period: Period | None,
) -> Parsed:
    spec, name = slo.spec, slo.metadata.name
    slos: list[SLO] = []
    field_paths: list[dict[str, Path]] = []
    for i, (objective, sli) in enumerate(objectives):
        slos.append(
            SLO(
                service=spec.service,
                name=f"{name}-{i}",
                objective=objective,
                sli=sli,
                description=spec.description,
                period=period,
                alerting=Alerting(page=_DISABLED, ticket=_DISABLED),
            )
        )
        at = ("spec", "objectives", i)
        field_paths.append(
            {
                "name": ("metadata", "name"),
                "objective": (*at, "target"),
                "sli": (*at, "ratioMetrics"),
            }
        )
    origin = Origin(doc.file, doc.index, API_VERSION, "SLO", name)
    service = Service(spec.service, tuple(slos), origin)
    paths = tuple(("spec", "objectives", i) for i in range(len(slos)))
    return Parsed(service, doc, ("spec", "service"), paths, tuple(field_paths))
