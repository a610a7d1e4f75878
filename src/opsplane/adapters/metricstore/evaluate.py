"""Evaluating a planned batch of SLO window ratios, as PromQL evaluates the rules.

A tick runs :func:`~opsplane.adapters.metricstore.scan.gather` and
:func:`~opsplane.domain.promrate.extrapolate_many` over all the evaluations of a
:class:`~opsplane.adapters.metricstore.plan.BatchPlan` at once, then sums and combines them.

PromQL semantics reproduced here (Prometheus 2.42, ``promql/engine.go``):

- ``sum`` adds the elements one by one in series order (``aggregation``: ``group.value +=
  s.V``); series come from blocks in label order, which is the order used here. ``sum`` of no
  elements is an empty vector: no data (``None``), unlike ``0/0``, which is NaN.
- ``a or b`` keeps ``a`` and adds the elements of ``b`` whose label set ``a`` lacks
  (``VectorOr``); ``a / b`` matches elements with identical label sets (``VectorBinop``);
  scalar arithmetic (``0 * v``, ``1 - v``) keeps labels.
- ``rate`` drops ``__name__``; two results with the same remaining labels are an error
  ("vector cannot contain metrics with the same labelset").
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from opsplane.adapters.metricstore.blocks import F64, I64, Block
from opsplane.adapters.metricstore.labels import LabelTuple, without_name
from opsplane.adapters.metricstore.plan import EVENTS, BatchPlan, Planner
from opsplane.adapters.metricstore.scan import gather
from opsplane.domain.promrate import NO_CORRECTION, extrapolate_many
from opsplane.errors import DatasourceError
from opsplane.types import Millis

Bools = npt.NDArray[np.bool_]
_SEQUENTIAL_COLUMNS = 8
_NO_WINDOW: Millis = 60_000  # instant() queries have literal ranges; {{.window}} means 1m


def run(plan: BatchPlan, blocks: list[Block], at: Millis) -> list[Mapping[Millis, float | None]]:
    """Evaluate a plan at ``at``: for each request, ``{window: ratio or None}``."""
    vals, present = _evaluate_queries(plan, blocks, at)
    arr = plan.arrays
    ev = vals[arr["elem_query"]]
    ep = present[arr["elem_query"]]
    leaf_v, leaf_p = _segment_sums(ev, ep, arr["leaf_start"], arr["leaf_len"])
    out_v, out_p = _combine(arr, leaf_v, leaf_p)
    slow = [
        i
        for i, (a, b) in enumerate(zip(plan.out_a, plan.out_b, strict=True))
        if not (plan.leaf_aggregate[a] and plan.leaf_aggregate[b])
    ]
    for i in slow:
        ratio = _general(plan, i, ev, ep)
        out_p[i] = ratio is not None
        out_v[i] = np.nan if ratio is None else ratio
    values = out_v.tolist()
    ok = out_p.tolist()
    results: list[Mapping[Millis, float | None]] = []
    at_out = 0
    for windows in plan.windows:
        n = len(windows)
        chunk = [
            v if p else None
            for v, p in zip(values[at_out : at_out + n], ok[at_out : at_out + n], strict=True)
        ]
        results.append(dict(zip(windows, chunk, strict=True)))
        at_out += n
    return results


def _evaluate_queries(plan: BatchPlan, blocks: list[Block], at: Millis) -> tuple[F64, Bools]:
    q_range = plan.arrays["q_range"]
    starts = at - q_range
    ends = np.full(len(q_range), at, np.int64)
    stats = gather(blocks, plan.arrays["q_gid"], starts, ends)
    is_rate = plan.rate_flags
    return extrapolate_many(stats, starts, ends, q_range, is_counter=True, is_rate=is_rate)


def _segment_sums(ev: F64, ep: Bools, start: I64, length: I64) -> tuple[F64, Bools]:
    """Sequential sums of each leaf's present elements (Go adds them one at a time).

    Absent elements add ``-0.0``, which changes no float; the accumulator starts at ``-0.0``
    so the first present element is taken as is.
    """
    x = np.where(ep, ev, NO_CORRECTION)
    acc = np.full(len(start), NO_CORRECTION)
    anyp = np.zeros(len(start), np.bool_)
    for k in range(min(int(length.max(initial=0)), _SEQUENTIAL_COLUMNS)):
        idx = np.flatnonzero(length > k)
        acc[idx] = acc[idx] + x[start[idx] + k]
        anyp[idx] |= ep[start[idx] + k]
    for leaf in np.flatnonzero(length > _SEQUENTIAL_COLUMNS).tolist():
        s, n = int(start[leaf]), int(length[leaf])
        rest = x[s + _SEQUENTIAL_COLUMNS : s + n]
        acc[leaf] = np.cumsum(np.r_[acc[leaf], rest])[-1]  # cumsum adds sequentially
        anyp[leaf] |= bool(ep[s + _SEQUENTIAL_COLUMNS : s + n].any())
    return acc, anyp


def _combine(arr: dict[str, I64], leaf_v: F64, leaf_p: Bools) -> tuple[F64, Bools]:
    a_v, a_p = leaf_v[arr["out_a"]], leaf_p[arr["out_a"]]
    b_v, b_p = leaf_v[arr["out_b"]], leaf_p[arr["out_b"]]
    events = arr["out_kind"] == EVENTS
    with np.errstate(all="ignore"):
        numerator = np.where(a_p, a_v, 0.0 * b_v)  # (E) or (0 * (T))
        ratio_events = numerator / b_v
        ratio_good = 1 - (a_v / b_v)
    # events: present whenever the total is (the numerator falls back to 0 * total).
    present = np.where(events, b_p, a_p & b_p)
    return np.where(events, ratio_events, ratio_good), present


Vector = dict[LabelTuple, float]


def _general(plan: BatchPlan, out: int, ev: F64, ep: Bools) -> float | None:
    """One output with a non-aggregated leaf, with PromQL's label-set vector matching."""
    a = _leaf_vector(plan, plan.out_a[out], ev, ep)
    b = _leaf_vector(plan, plan.out_b[out], ev, ep)
    with np.errstate(all="ignore"):
        if plan.out_kind[out] == EVENTS:
            numerator = dict(a)
            for k, v in b.items():
                numerator.setdefault(k, float(np.float64(0.0) * v))
            result = {k: float(np.float64(v) / b[k]) for k, v in numerator.items() if k in b}
        else:
            result = {k: float(1 - np.float64(v) / b[k]) for k, v in a.items() if k in b}
    if len(result) > 1:
        msg = (
            f"SLO {_slo_of(plan, out)}: the error ratio query returns {len(result)} series; "
            "an SLI must return one (wrap its queries in sum(...))"
        )
        raise DatasourceError(msg)
    return next(iter(result.values()), None)


def _leaf_vector(plan: BatchPlan, leaf: int, ev: F64, ep: Bools) -> Vector:
    start, n = plan.leaf_start[leaf], plan.leaf_len[leaf]
    idx = range(start, start + n)
    if plan.leaf_aggregate[leaf]:
        present = [i for i in idx if ep[i]]
        total = np.float64(NO_CORRECTION)
        for i in present:
            total = total + ev[i]
        return {(): float(total)} if present else {}
    out: Vector = {}
    for i in idx:
        if ep[i]:
            if plan.elem_labels[i] in out:
                msg = "vector cannot contain metrics with the same labelset"
                raise DatasourceError(msg)
            out[plan.elem_labels[i]] = float(ev[i])
    return out


def _slo_of(plan: BatchPlan, out: int) -> str:
    at = 0
    for slo_id, windows in zip(plan.slo_ids, plan.windows, strict=True):
        at += len(windows)
        if out < at:
            return slo_id
    return "?"


def instant(
    planner: Planner, labels: list[LabelTuple], blocks: list[Block], query: str, at: Millis
) -> dict[LabelTuple, float]:
    """One ``[sum](rate|increase(selector[range]))`` query at ``at``, as a PromQL vector."""
    leaf = planner.leaf(query, _NO_WINDOW)
    gids = planner.series(leaf.matchers)
    q_gid = np.asarray(gids, np.int64)
    q_range = np.full(len(gids), leaf.range_ms, np.int64)
    starts, ends = at - q_range, np.full(len(gids), at, np.int64)
    stats = gather(blocks, q_gid, starts, ends)
    vals, present = extrapolate_many(stats, starts, ends, q_range, is_rate=leaf.func == "rate")
    if leaf.aggregate:
        total = np.float64(NO_CORRECTION)
        for v in vals[present]:
            total = total + v
        return {(): float(total)} if present.any() else {}
    out: dict[LabelTuple, float] = {}
    for gid, v, ok in zip(gids, vals.tolist(), present.tolist(), strict=True):
        key = without_name(labels[gid])
        if ok:
            if key in out:
                msg = f"{query!r}: vector cannot contain metrics with the same labelset"
                raise DatasourceError(msg)
            out[key] = v
    return out
