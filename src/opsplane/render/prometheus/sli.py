"""PromQL for each SLI kind: the error ratio, and for event-based SLIs the event rates.

Event-based SLIs (events, good/total, latency) expose bad and total event rates separately, so
the period SLI can be a ratio of counts instead of an average of ratios.
"""

from __future__ import annotations

from opsplane.domain.slo import (
    SLI,
    EventsSLI,
    GoodTotalSLI,
    LatencySLI,
    RawSLI,
    ThresholdSLI,
)
from opsplane.render.prometheus.promql import go_float, le_matcher

# PromQL comparison operators for OpenSLO's op names.
_OPS = {"lt": "<", "lte": "<=", "gt": ">", "gte": ">="}


def error_ratio(sli: SLI) -> str:
    """The error ratio as a ``{{.window}}`` template."""
    if isinstance(sli, EventsSLI):
        return f"({sli.error_query})\n/\n({sli.total_query})\n"
    if isinstance(sli, GoodTotalSLI):
        return f"1 - (\n  ({sli.good_query})\n  /\n  ({sli.total_query})\n)\n"
    if isinstance(sli, RawSLI):
        return f"({sli.error_ratio_query})"
    if isinstance(sli, LatencySLI):
        good, total = latency_rates(sli)
        return f"1 - (\n  {good}\n  /\n  {total}\n)\n"
    return _threshold_ratio(sli)


def event_rates(sli: SLI) -> tuple[str, str] | None:
    """``(bad events rate, total events rate)`` templates, or ``None`` for ratio-only SLIs."""
    if isinstance(sli, EventsSLI):
        return sli.error_query, sli.total_query
    if isinstance(sli, GoodTotalSLI):
        return f"({sli.total_query}) - ({sli.good_query})", sli.total_query
    if isinstance(sli, LatencySLI):
        good, total = latency_rates(sli)
        return f"{total} - {good}", total
    return None


def latency_rates(sli: LatencySLI) -> tuple[str, str]:
    """``(good events rate, total events rate)`` templates of a latency SLI."""
    sel = f"{sli.selector}," if sli.selector else ""
    good = f"sum(rate({sli.metric}_bucket{{{sel}{le_matcher(sli.threshold)}}}[{{{{.window}}}}]))"
    total_sel = f"{{{sli.selector}}}" if sli.selector else ""
    total = f"sum(rate({sli.metric}_count{total_sel}[{{{{.window}}}}]))"
    return good, total


def _threshold_ratio(sli: ThresholdSLI) -> str:
    """Fraction of 1-minute samples in the window where the threshold was broken."""
    good = f"({sli.query}) {_OPS[sli.op]} bool {go_float(sli.value)}"
    return f"1 - avg_over_time(({good})[{{{{.window}}}}:1m])"
