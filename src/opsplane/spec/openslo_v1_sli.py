"""OpenSLO v1 SLIs -> domain SLIs, with Prometheus queries templated on ``{{.window}}``.

A ``ratioMetric`` becomes ``GoodTotalSLI`` (good/total), ``EventsSLI`` (bad/total) or
``RawSLI`` (``raw``; ``rawType: success`` is turned into ``1 - (query)``). A
``thresholdMetric`` needs the objective's ``op`` and ``value``, so it is returned as a
:class:`ThresholdQuery` that the SLO parser completes.

Queries must come from Prometheus (``type: Prometheus``, inline or through the referenced
DataSource): opsplane generates Prometheus rules. A good/bad/total query is used as is when it
holds ``{{.window}}``; a bare selector of a counter (``counter`` defaults to true, as every
ratio query is a count of events) is wrapped as ``sum(rate(<selector>[{{.window}}]))``; any
other query needs ``{{.window}}`` written in, because only its author knows where the range
goes. ``raw`` queries are ratios, so they are never wrapped. Threshold queries are sampled
as they are and need no range.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

import promql_parser

from opsplane.domain.slo import WINDOW_VAR, EventsSLI, GoodTotalSLI, RawSLI
from opsplane.errors import Problem
from opsplane.spec.openslo_v1_catalog import Entry, Loc, lookup
from opsplane.spec.openslo_v1_models import (
    DataSourceSpec,
    MetricSource,
    MetricSpec,
    Obj,
    RatioMetric,
    SLISpec,
)
from opsplane.spec.rules import promql_error


@dataclass(frozen=True, slots=True)
class ThresholdQuery:
    """A ``thresholdMetric`` query; the objective supplies ``op`` and ``value``."""

    query: str


Indicator: TypeAlias = GoodTotalSLI | EventsSLI | RawSLI | ThresholdQuery
Sources: TypeAlias = Mapping[str, Entry[Obj[DataSourceSpec]]]
# counter: wrap a bare selector in a rate; window: {{.window}} required; any: used as is.
QueryUse: TypeAlias = Literal["counter", "window", "any"]

_NEEDS_WINDOW = (
    "has no {{.window}} range: write the rate over {{.window}}, e.g. "
    "sum(rate(http_requests_total[{{.window}}])); only a bare selector of a counter "
    "(counter: true) is wrapped automatically"
)


def unsupported_source(kind: str) -> str:
    """The message for a metric source opsplane cannot generate rules for."""
    return f"data source type {kind!r} is not supported; opsplane generates Prometheus rules"


def translate_sli(
    spec: SLISpec, at: Loc, sources: Sources
) -> tuple[Indicator | None, list[Problem]]:
    """The domain SLI of ``spec`` (written at ``at``), or the problems that prevent it."""
    ratio, threshold = spec.ratioMetric, spec.thresholdMetric
    if ratio is not None and threshold is None:
        return _ratio(ratio, at.at("ratioMetric"), sources)
    if threshold is not None and ratio is None:
        query, problems = _metric_query(threshold, at.at("thresholdMetric"), sources, "any")
        return (None if query is None else ThresholdQuery(query)), problems
    return None, [at.problem("exactly one of ratioMetric or thresholdMetric is required")]


def _ratio(r: RatioMetric, at: Loc, sources: Sources) -> tuple[Indicator | None, list[Problem]]:
    if r.raw is not None:
        return _raw(r, r.raw, at, sources)
    if r.total is None:
        return None, [at.problem("total is required with good or bad (or use raw and rawType)")]
    if r.good is not None and r.bad is None:
        part, metric = "good", r.good
    elif r.bad is not None and r.good is None:
        part, metric = "bad", r.bad
    else:
        return None, [at.problem("exactly one of good or bad is required with total")]
    use: QueryUse = "counter" if r.counter else "window"
    query, problems = _metric_query(metric, at.at(part), sources, use)
    total, total_problems = _metric_query(r.total, at.at("total"), sources, use)
    problems += total_problems
    if query is None or total is None:
        return None, problems
    return (GoodTotalSLI(query, total) if part == "good" else EventsSLI(query, total)), problems


def _raw(
    r: RatioMetric, raw: MetricSpec, at: Loc, sources: Sources
) -> tuple[Indicator | None, list[Problem]]:
    mixed = [name for name in ("good", "bad", "total") if getattr(r, name) is not None]
    if mixed:
        return None, [at.problem(f"raw cannot be combined with {', '.join(mixed)}")]
    if r.rawType is None:
        return None, [at.problem("is required with raw: success or failure", "rawType")]
    query, problems = _metric_query(raw, at.at("raw"), sources, "window")
    if query is None:
        return None, problems
    # rawType: success stores the good ratio; the domain wants the error ratio.
    return RawSLI(query if r.rawType == "failure" else f"1 - ({query})"), problems


def _metric_query(
    m: MetricSpec, at: Loc, sources: Sources, use: QueryUse
) -> tuple[str | None, list[Problem]]:
    source_at = at.at("metricSource")
    problems = _source_problems(m.metricSource, source_at, sources)
    if problems:
        return None, problems
    return _promql(m.metricSource.spec, source_at.at("spec"), use)


def _source_problems(source: MetricSource, at: Loc, sources: Sources) -> list[Problem]:
    """The source must be Prometheus, said by ``type`` or by the referenced DataSource.

    An inline ``type`` is enough on its own: a ``metricSourceRef`` next to it only names
    connection details, which generated rules do not need, so it may point elsewhere.
    """
    if source.type:
        ok = source.type.lower() == "prometheus"
        return [] if ok else [at.problem(unsupported_source(source.type), "type")]
    if not source.metricSourceRef:
        return [at.problem("type or metricSourceRef is required")]
    ref_at = at.at("metricSourceRef")
    entry, problems = lookup(sources, "DataSource", source.metricSourceRef, ref_at)
    if entry is None:
        return problems
    kind = entry.obj.spec.type
    if kind.lower() != "prometheus":
        return [
            ref_at.problem(f"DataSource {source.metricSourceRef!r}: {unsupported_source(kind)}")
        ]
    return []


def _promql(spec: Mapping[str, Any], at: Loc, use: QueryUse) -> tuple[str | None, list[Problem]]:
    key = "promql" if "promql" in spec and "query" not in spec else "query"
    raw = spec.get(key)
    if not isinstance(raw, str) or not raw.strip():
        return None, [at.problem("is required: the PromQL expression", key)]
    query = raw.strip()
    if use == "any" or WINDOW_VAR.search(query):
        return query, []
    error = promql_error(query)
    if error:
        return None, [at.problem(f"is not valid PromQL: {error}", key)]
    if use == "counter" and _is_bare_selector(query):
        return f"sum(rate({query}[{{{{.window}}}}]))", []
    return None, [at.problem(_NEEDS_WINDOW, key)]


def _is_bare_selector(query: str) -> bool:
    """``http_requests_total{code!~"5.."}``: no function, range, offset or ``@``."""
    expr = promql_parser.parse(query)
    return (
        isinstance(expr, promql_parser.VectorSelector) and expr.offset is None and expr.at is None
    )
