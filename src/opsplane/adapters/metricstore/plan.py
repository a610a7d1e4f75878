"""Planning a batch of SLO window ratios once, so that each tick is a few numpy passes.

A :class:`BatchPlan` is everything about a batch of :class:`~opsplane.ports.RatioRequest` that
does not change between ticks: the parsed queries, the series they select (in label order,
the order in which PromQL's ``sum`` adds them), and the distinct (series, range,
rate|increase) evaluations they need. The :class:`Planner` caches plans, parsed queries and
selector results, and forgets plans and selections when new series appear.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt

from opsplane.adapters.metricstore.blocks import I64
from opsplane.adapters.metricstore.labels import LabelTuple, Matcher, SeriesIndex, without_name
from opsplane.adapters.metricstore.query import Combine, Leaf, parse_leaf, sli_parts
from opsplane.domain.slo import SLI, WINDOW_VAR
from opsplane.errors import DatasourceError
from opsplane.ports import RatioRequest
from opsplane.types import Millis

EVENTS, ONE_MINUS = 0, 1
_RANGE_ONLY = re.compile(r"\[\s*{{ *\.window *}}\s*\]")
_PLACEHOLDER_WINDOW: Millis = 3_600_000


@dataclass(slots=True)
class BatchPlan:
    """The tick-invariant part of evaluating a batch of ratio requests."""

    q_gid: list[int] = field(default_factory=list)
    q_range: list[int] = field(default_factory=list)
    q_rate: list[bool] = field(default_factory=list)
    elem_query: list[int] = field(default_factory=list)
    elem_labels: list[LabelTuple] = field(default_factory=list)
    leaf_start: list[int] = field(default_factory=list)
    leaf_len: list[int] = field(default_factory=list)
    leaf_aggregate: list[bool] = field(default_factory=list)
    out_kind: list[int] = field(default_factory=list)
    out_a: list[int] = field(default_factory=list)
    out_b: list[int] = field(default_factory=list)
    windows: list[tuple[Millis, ...]] = field(default_factory=list)
    slo_ids: list[str] = field(default_factory=list)
    arrays: dict[str, I64] = field(default_factory=dict)
    rate_flags: npt.NDArray[np.bool_] = field(default_factory=lambda: np.zeros(0, np.bool_))

    def freeze(self) -> BatchPlan:
        """Convert the index lists to arrays once planning is done.

        Evaluations are sorted by series, then range start: the search keys of a tick are
        then ascending, which lets ``searchsorted`` narrow each search from the previous one
        and read the block columns front to back.
        """
        gid = np.asarray(self.q_gid, np.int64)
        rng = np.asarray(self.q_range, np.int64)
        order = np.lexsort((-rng, gid))
        rank = np.empty_like(order)
        rank[order] = np.arange(len(order))
        self.arrays["q_gid"], self.arrays["q_range"] = gid[order], rng[order]
        self.rate_flags = np.asarray(self.q_rate, np.bool_)[order]
        self.arrays["elem_query"] = rank[np.asarray(self.elem_query, np.int64)]
        for name in ("leaf_start", "leaf_len", "out_kind", "out_a", "out_b"):
            self.arrays[name] = np.asarray(getattr(self, name), np.int64)
        return self


class Planner:
    """Builds and caches :class:`BatchPlan` s; forgets them when the series set changes."""

    def __init__(self, index: SeriesIndex) -> None:
        self._index = index
        self._generation = -1
        self._leaves: dict[tuple[str, Millis], Leaf] = {}
        self._parts: dict[SLI, tuple[Combine, str, str]] = {}
        self._selected: dict[tuple[Matcher, ...], list[int]] = {}
        self._plans: dict[tuple[object, ...], BatchPlan] = {}
        self._last: tuple[Sequence[RatioRequest], BatchPlan] | None = None

    def plan(self, requests: Sequence[RatioRequest]) -> BatchPlan:
        """The plan of a batch, from the cache when the same batch was planned before."""
        if self._generation != len(self._index):
            self._generation = len(self._index)
            self._plans.clear()
            self._selected.clear()
            self._last = None
        last = self._last
        if (
            last is not None
            and len(last[0]) == len(requests)
            and all(a is b for a, b in zip(last[0], requests, strict=True))
        ):
            return last[1]
        key = tuple((r.slo.sli, r.slo.id, r.windows) for r in requests)
        plan = self._plans.get(key)
        if plan is None:
            if len(self._plans) >= 16:
                self._plans.clear()
            plan = self._plans[key] = self._build(requests)
        self._last = (list(requests), plan)
        return plan

    def leaf(self, template: str, window: Millis) -> Leaf:
        """A parsed query template for one window (cached).

        A template whose ``{{.window}}`` only appears as a range (``[{{.window}}]``) is
        parsed once; its other windows differ only in ``range_ms``.
        """
        key = (template, window)
        leaf = self._leaves.get(key)
        if leaf is not None:
            return leaf
        uses = len(WINDOW_VAR.findall(template))
        if uses and uses == len(_RANGE_ONLY.findall(template)):
            base_key = (template, _PLACEHOLDER_WINDOW)
            base = self._leaves.get(base_key)
            if base is None:
                try:
                    base = parse_leaf(template, _PLACEHOLDER_WINDOW)
                except DatasourceError:
                    parse_leaf(template, window)  # the same error, naming this window
                    raise
                self._leaves[base_key] = base
            leaf = replace(base, range_ms=window)
        else:
            leaf = parse_leaf(template, window)
        self._leaves[key] = leaf
        return leaf

    def series(self, matchers: tuple[Matcher, ...]) -> list[int]:
        """Series selected by ``matchers``, in label order (cached until series change)."""
        found = self._selected.get(matchers)
        if found is None:
            found = self._index.select(matchers)
            found.sort(key=self._index.labels.__getitem__)
            self._selected[matchers] = found
        return found

    def _build(self, requests: Sequence[RatioRequest]) -> BatchPlan:
        plan = BatchPlan()
        leaf_ids: dict[Leaf, int] = {}
        query_ids: dict[tuple[int, int, bool], int] = {}
        for request in requests:
            slo = request.slo
            parts = self._parts.get(slo.sli)
            if parts is None:
                parts = self._parts[slo.sli] = sli_parts(slo.sli, slo.id)
            combine, first, second = parts
            for window in request.windows:
                try:
                    a, b = self.leaf(first, window), self.leaf(second, window)
                except DatasourceError as exc:
                    msg = f"SLO {slo.id}: {exc}"
                    raise DatasourceError(msg) from exc
                plan.out_kind.append(EVENTS if combine == "events" else ONE_MINUS)
                plan.out_a.append(self._leaf_id(plan, a, leaf_ids, query_ids))
                plan.out_b.append(self._leaf_id(plan, b, leaf_ids, query_ids))
            plan.windows.append(request.windows)
            plan.slo_ids.append(slo.id)
        return plan.freeze()

    def _leaf_id(
        self,
        plan: BatchPlan,
        leaf: Leaf,
        leaf_ids: dict[Leaf, int],
        query_ids: dict[tuple[int, int, bool], int],
    ) -> int:
        found = leaf_ids.get(leaf)
        if found is not None:
            return found
        gids = self.series(leaf.matchers)
        labels = self._index.labels
        plan.leaf_start.append(len(plan.elem_query))
        plan.leaf_len.append(len(gids))
        plan.leaf_aggregate.append(leaf.aggregate)
        is_rate = leaf.func == "rate"
        for gid in gids:
            qkey = (gid, leaf.range_ms, is_rate)
            q = query_ids.get(qkey)
            if q is None:
                q = query_ids[qkey] = len(plan.q_gid)
                plan.q_gid.append(gid)
                plan.q_range.append(leaf.range_ms)
                plan.q_rate.append(is_rate)
            plan.elem_query.append(q)
            plan.elem_labels.append(without_name(labels[gid]))
        leaf_ids[leaf] = len(plan.leaf_len) - 1
        return leaf_ids[leaf]
