"""Semantic checks every format shares (Sloth's ``pkg/common/validation`` and more).

Structural checks live in each format's pydantic models; these look at the domain model, so an
OpenSLO SLO and a Sloth SLO are held to the same rules.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import promql_parser

from opsplane.domain.slo import (
    SLI,
    SLO,
    WINDOW_VAR,
    EventsSLI,
    GoodTotalSLI,
    LatencySLI,
    RawSLI,
    ThresholdSLI,
)
from opsplane.errors import Problem
from opsplane.spec.parsed import Parsed, Path

# Sloth: pkg/common/conventions (names).
NAME_RE = re.compile(r"^[A-Za-z0-9][-A-Za-z0-9_.]*[A-Za-z0-9]$")
# Prometheus label names (data model docs); reserved "__" prefixes are refused too.
LABEL_RE = re.compile(r"^(?!__)[a-zA-Z_][a-zA-Z0-9_]*$")
METRIC_RE = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")


def check_service(parsed: Parsed) -> list[Problem]:
    """Every semantic problem of one parsed service."""
    svc = parsed.service
    problems = [
        parsed.doc.problem(m, *parsed.service_path) for m in _name_problems(svc.name, "service")
    ]
    for i, slo in enumerate(svc.slos):
        problems += [parsed.doc.problem(msg, *path) for path, msg in _slo_problems(parsed, i, slo)]
    return problems


def _name_problems(name: str, what: str) -> list[str]:
    if not name:
        return [f"{what} name is required"]
    if not NAME_RE.match(name):
        return [
            f"invalid {what} name {name!r}: must start and end with an alphanumeric and "
            "contain only alphanumerics, '.', '_' and '-'"
        ]
    return []


def _slo_problems(parsed: Parsed, i: int, slo: SLO) -> Iterator[tuple[Path, str]]:
    at = parsed.slo_field
    for msg in _name_problems(slo.name, "SLO"):
        yield at(i, "name"), msg
    if not 0 < slo.objective <= 100:
        yield at(i, "objective"), f"objective must be > 0 and <= 100, got {slo.objective:g}"
    for key in slo.labels:
        if not LABEL_RE.match(key):
            yield at(i, "labels"), f"invalid label name {key!r}"
    for msg in sli_problems(slo.sli, check_promql=slo.dialect == "promql"):
        yield at(i, "sli"), msg
    yield from ((at(i, "alerting"), m) for m in _alerting_problems(slo))


def _alerting_problems(slo: SLO) -> Iterator[str]:
    alerting = slo.alerting
    for tier in ("page", "ticket"):
        meta = alerting.page if tier == "page" else alerting.ticket
        if meta.disabled:
            continue
        if not alerting.name:
            yield f"{tier} alert: alert name is required"
        labels = {**alerting.labels, **meta.labels}
        annotations = {**alerting.annotations, **meta.annotations}
        yield from (
            f"{tier} alert: invalid label name {k!r}" for k in labels if not LABEL_RE.match(k)
        )
        yield from (
            f"{tier} alert: invalid annotation name {k!r}"
            for k in annotations
            if not LABEL_RE.match(k)
        )


def sli_problems(sli: SLI, *, check_promql: bool = True) -> list[str]:
    """Problems with the queries of an SLI (templates, PromQL syntax, equal queries).

    MetricsQL queries (VictoriaMetrics) are a superset of PromQL, so their syntax is not
    checked with the PromQL parser.
    """
    if isinstance(sli, EventsSLI | GoodTotalSLI):
        bad = (
            ("error query", sli.error_query)
            if isinstance(sli, EventsSLI)
            else ("good query", sli.good_query)
        )
        out = [
            *_template_problems(bad[1], bad[0], check_promql),
            *_template_problems(sli.total_query, "total query", check_promql),
        ]
        if bad[1] and bad[1] == sli.total_query:
            out.append(f"{bad[0].split()[0]} and total queries can't be the same")
        return out
    if isinstance(sli, RawSLI):
        return _template_problems(sli.error_ratio_query, "raw error ratio query", check_promql)
    if isinstance(sli, LatencySLI):
        return _latency_problems(sli)
    return _threshold_problems(sli)


def _template_problems(query: str, what: str, check_promql: bool = True) -> list[str]:
    if not query.strip():
        return [f"{what} is required"]
    if not WINDOW_VAR.search(query):
        return [f"{what} must contain the {{{{.window}}}} variable"]
    syntax = promql_error(WINDOW_VAR.sub("5m", query)) if check_promql else None
    return [f"{what} is not valid PromQL: {syntax}"] if syntax else []


def _latency_problems(sli: LatencySLI) -> list[str]:
    out = []
    if not METRIC_RE.match(sli.metric):
        out.append(f"latency metric {sli.metric!r} is not a valid metric name")
    if not sli.threshold > 0:
        out.append("latency threshold must be > 0 seconds")
    if sli.selector and (err := promql_error(f"x{{{sli.selector}}}")):
        out.append(f"latency selector is not valid PromQL: {err}")
    return out


def _threshold_problems(sli: ThresholdSLI) -> list[str]:
    if not sli.query.strip():
        return ["threshold query is required"]
    err = promql_error(WINDOW_VAR.sub("5m", sli.query))
    return [f"threshold query is not valid PromQL: {err}"] if err else []


def promql_error(expr: str) -> str | None:
    """The parser's complaint about ``expr``, or ``None`` when it is valid PromQL."""
    try:
        promql_parser.parse(expr)
    except (ValueError, TypeError) as exc:
        return str(exc).splitlines()[0] if str(exc) else "syntax error"
    return None


def duplicate_problems(parsed: list[Parsed]) -> list[Problem]:
    """SLO ids must be unique across every file (Sloth v0.16 ``validate``)."""
    seen: dict[str, str] = {}
    problems: list[Problem] = []
    for p in parsed:
        for i, slo in enumerate(p.service.slos):
            where = f"{p.doc.file}:{p.doc.path(*p.slo_paths[i])}"
            if slo.id in seen:
                problems.append(
                    p.doc.problem(
                        f"duplicate SLO id {slo.id!r} (first defined at {seen[slo.id]})",
                        *p.slo_paths[i],
                    )
                )
            else:
                seen[slo.id] = where
    return problems
