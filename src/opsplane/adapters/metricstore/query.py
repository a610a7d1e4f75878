"""From SLI query templates to the selectors the store reads.

The embedded store evaluates the PromQL that SLO queries are made of, not PromQL at large:
an optional ``sum(...)`` (no ``by``/``without`` grouping) around ``rate(...)`` or
``increase(...)`` of a vector selector with a range. Anything else is refused with a
:class:`~opsplane.errors.DatasourceError` that names the query, so ``--prometheus`` can take it.

Each SLI kind combines its queries the way the generated recording rules do
(``render/prometheus/native.py`` ``error_ratio_template`` and ``sli.py``):

- events: ``((E) or (0 * (T))) / (T)``
- good/total: ``1 - ((G) / (T))``
- latency: ``1 - (sum(rate(M_bucket{sel,le}[w])) / sum(rate(M_count{sel}[w])))``
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Literal, TypeAlias

import promql_parser

from opsplane.adapters.metricstore.labels import METRIC_NAME, Matcher, MatchOp
from opsplane.domain.duration import format_duration
from opsplane.domain.slo import (
    SLI,
    WINDOW_VAR,
    EventsSLI,
    GoodTotalSLI,
    LatencySLI,
    RawSLI,
    ThresholdSLI,
)
from opsplane.errors import DatasourceError
from opsplane.render.prometheus.sli import latency_rates
from opsplane.types import Millis

Combine: TypeAlias = Literal["events", "one_minus_ratio"]
# promql_parser's MatchOp members are not hashable; they print as "MatchOp.<name>".
_OPS: dict[str, MatchOp] = {
    "MatchOp.Equal": "=",
    "MatchOp.NotEqual": "!=",
    "MatchOp.Re": "=~",
    "MatchOp.NotRe": "!~",
}
_SUPPORTED = (
    "the embedded store evaluates sum(rate(selector[window])) queries "
    "(sum optional, increase allowed); use --prometheus for this one"
)


@dataclass(frozen=True, slots=True)
class Leaf:
    """One ``[sum](rate|increase(selector[range]))`` query.

    Attributes:
        func: ``rate`` or ``increase``.
        aggregate: Whether the query sums over its series.
        matchers: The selector's label matchers, the metric name included.
        range_ms: The range of the selector.
    """

    func: Literal["rate", "increase"]
    aggregate: bool
    matchers: tuple[Matcher, ...]
    range_ms: Millis


def sli_parts(sli: SLI, slo_id: str) -> tuple[Combine, str, str]:
    """How an SLI's ratio is computed: the combination and its two query templates."""
    if isinstance(sli, EventsSLI):
        return "events", sli.error_query, sli.total_query
    if isinstance(sli, GoodTotalSLI):
        return "one_minus_ratio", sli.good_query, sli.total_query
    if isinstance(sli, LatencySLI):
        good, total = latency_rates(sli)
        return "one_minus_ratio", good, total
    kind = "raw" if isinstance(sli, RawSLI) else "threshold"
    assert isinstance(sli, RawSLI | ThresholdSLI)
    msg = (
        f"SLO {slo_id}: the embedded store cannot evaluate {kind} SLIs "
        "(they need PromQL beyond rate ratios); use --prometheus"
    )
    raise DatasourceError(msg)


def parse_leaf(template: str, window: Millis) -> Leaf:
    """Parse one query template for one window; :class:`DatasourceError` when unsupported."""
    query = WINDOW_VAR.sub(format_duration(window), template).strip()
    try:
        expr = promql_parser.parse(query)
    except ValueError as exc:
        msg = f"invalid PromQL {query!r}: {exc}"
        raise DatasourceError(msg) from exc
    try:
        return _leaf(expr)
    except _UnsupportedError as exc:
        msg = f"{_SUPPORTED}: {query!r} ({exc})"
        raise DatasourceError(msg) from None


class _UnsupportedError(Exception):
    """A query outside the subset; the message says which part."""


def _leaf(expr: promql_parser.Expr) -> Leaf:
    expr = _strip_parens(expr)
    aggregate = False
    if isinstance(expr, promql_parser.AggregateExpr):
        if str(expr.op) != "sum":
            raise _UnsupportedError(f"aggregation {expr.op}")
        if expr.modifier is not None and (
            expr.modifier.type != promql_parser.AggModifierType.By or expr.modifier.labels
        ):
            raise _UnsupportedError("sum with by/without grouping")
        aggregate, expr = True, _strip_parens(expr.expr)
    if not isinstance(expr, promql_parser.Call) or expr.func.name not in ("rate", "increase"):
        raise _UnsupportedError("expected rate(...) or increase(...)")
    func: Literal["rate", "increase"] = "rate" if expr.func.name == "rate" else "increase"
    arg = expr.args[0]
    if not isinstance(arg, promql_parser.MatrixSelector):
        raise _UnsupportedError("the argument must be a selector with a range")
    vs = arg.vector_selector
    if vs.offset is not None or vs.at is not None:
        raise _UnsupportedError("offset and @ modifiers")
    if vs.matchers.or_matchers:
        raise _UnsupportedError("'or' inside a selector")
    return Leaf(func, aggregate, _matchers(vs), _millis(arg.range))


def _strip_parens(expr: promql_parser.Expr) -> promql_parser.Expr:
    while isinstance(expr, promql_parser.ParenExpr):
        expr = expr.expr
    return expr


def _matchers(vs: promql_parser.VectorSelector) -> tuple[Matcher, ...]:
    out = []
    if vs.name is not None:
        out.append(Matcher.make(METRIC_NAME, "=", vs.name))
    for m in vs.matchers.matchers:
        try:
            out.append(Matcher.make(m.name, _OPS[str(m.op)], m.value))
        except ValueError as exc:
            raise _UnsupportedError(str(exc)) from exc
    return tuple(sorted(out, key=lambda m: (m.name, m.op, m.value)))


def _millis(delta: timedelta) -> Millis:
    return (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000
