"""Which series an SLI may read: every selector must be pinned to one label value.

A tenant's SLIs read the embedded metric store, which holds every tenant's samples. The store
labels what arrives through the API with ``namespace`` (pushed events and OpenMetrics, scraped
targets of a namespace's services), so an SLI reads only its own namespace's series exactly
when every vector selector of its queries has the matcher ``namespace="<ns>"``. This module
finds the selectors that do not, using the PromQL parser the rest of the spec layer uses.
"""

from __future__ import annotations

from collections.abc import Iterator

import promql_parser

from opsplane.domain.slo import (
    SLI,
    WINDOW_VAR,
    EventsSLI,
    GoodTotalSLI,
    LatencySLI,
    RawSLI,
    ThresholdSLI,
)

_CHILDREN = ("lhs", "rhs", "expr", "param", "vector_selector")


def sli_queries(sli: SLI) -> list[str]:
    """The PromQL an SLI reads, windows filled in."""
    if isinstance(sli, EventsSLI):
        queries = [sli.error_query, sli.total_query]
    elif isinstance(sli, GoodTotalSLI):
        queries = [sli.good_query, sli.total_query]
    elif isinstance(sli, RawSLI):
        queries = [sli.error_ratio_query]
    elif isinstance(sli, ThresholdSLI):
        queries = [sli.query]
    elif isinstance(sli, LatencySLI):
        queries = [f"{sli.metric}_count{{{sli.selector}}}"]
    else:  # pragma: no cover - the SLI union is closed
        raise TypeError(f"unknown SLI {sli!r}")
    return [WINDOW_VAR.sub("5m", q) for q in queries]


def unscoped_selectors(query: str, label: str, value: str) -> list[str]:
    """The vector selectors of ``query`` that do not require ``label="value"``.

    Raises:
        ValueError: ``query`` is not valid PromQL (the spec checks reported that already).
    """
    return [
        str(selector)
        for selector in _selectors(promql_parser.parse(query))
        if not _pinned(selector, label, value)
    ]


def _selectors(node: object) -> Iterator[promql_parser.VectorSelector]:
    if isinstance(node, promql_parser.VectorSelector):
        yield node
        return
    for name in _CHILDREN:
        child = getattr(node, name, None)
        if child is not None:
            yield from _selectors(child)
    for arg in getattr(node, "args", None) or ():
        yield from _selectors(arg)


def _pinned(selector: promql_parser.VectorSelector, label: str, value: str) -> bool:
    groups = [selector.matchers.matchers, *(selector.matchers.or_matchers or [])]
    return all(
        any(m.name == label and str(m.op) == "MatchOp.Equal" and m.value == value for m in group)
        for group in groups
        if group
    ) and bool(selector.matchers.matchers or selector.matchers.or_matchers)
