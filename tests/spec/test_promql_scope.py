"""Selectors an SLI may use through the API: every one pinned to the tenant's namespace."""

from __future__ import annotations

import pytest

from opsplane.domain.slo import EventsSLI, LatencySLI
from opsplane.spec.promql_scope import sli_queries, unscoped_selectors


@pytest.mark.parametrize(
    ("query", "unscoped"),
    [
        ('sum(rate(x{namespace="a"}[5m]))', []),
        ('sum(rate(x{namespace="a"}[5m])) / sum(rate(y[5m]))', ["y{}"]),
        ('sum(rate(x{namespace="b"}[5m]))', ['x{namespace="b"}']),
        ('sum(rate(x{namespace=~"a"}[5m]))', ['x{namespace=~"a"}']),
        ('sum(rate(x{namespace!="a"}[5m]))', ['x{namespace!="a"}']),
        ('1 - (sum(rate(x{namespace="a"}[5m])) or vector(0))', []),
        ('histogram_quantile(0.9, sum by (le) (rate(h{namespace="a"}[5m]))) > 0.3', []),
        ('max_over_time(rate(x{namespace="a"}[5m])[30m:1m])', []),
        ('sum(rate(x{namespace="a"}[5m] offset 1h)) + -sum(rate(z[5m]))', ["z{}"]),
    ],
)
def test_unscoped_selectors_are_found_anywhere_in_the_expression(
    query: str, unscoped: list[str]
) -> None:
    assert unscoped_selectors(query, "namespace", "a") == unscoped


def test_every_sli_kind_yields_its_queries_with_the_window_filled_in() -> None:
    events = EventsSLI('sum(rate(e{s="1"}[{{.window}}]))', "sum(rate(t[{{ .window }}]))")
    assert sli_queries(events) == ['sum(rate(e{s="1"}[5m]))', "sum(rate(t[5m]))"]
    latency = LatencySLI("http_seconds", 0.3, 'job="x"')
    assert unscoped_selectors(sli_queries(latency)[0], "namespace", "a") == [
        'http_seconds_count{job="x"}'
    ]
