"""Turning an append into accepted, sorted columns: Prometheus' head appender rules.

``tsdb/head_append.go`` (v2.42, ``memSeries.appendable`` and ``headAppender.Commit``) decides
per sample, in arrival order:

- a timestamp after the series' latest sample is appended;
- the latest timestamp again is a duplicate: an identical value is silently dropped, another
  value fails with ``ErrDuplicateSampleForTimestamp``;
- an earlier timestamp is out of order (``ErrOutOfOrderSample``; out-of-order ingestion is off
  by default in 2.42).

Neither is stored. Timestamps outside ``[0, 2**42)`` ms are out of bounds for this store's
block keys. Staleness markers (the ``StaleNaN`` bit pattern, ``model/value``) are dropped:
range selection skips them anyway (engine.go ``matrixIterSlice``), so ``rate`` is unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from opsplane.adapters.metricstore.blocks import F64, I64, MAX_SERIES, MAX_TIMESTAMP, TS_BITS
from opsplane.adapters.metricstore.labels import LabelTuple, SeriesIndex, canonical_labels
from opsplane.errors import UsageError

Bools = npt.NDArray[np.bool_]
STALE_NAN_BITS = 0x7FF0000000000002  # model/value.StaleNaN
_GROUP_SHIFT = TS_BITS + 1
MAX_BATCH_SERIES = 1 << (63 - _GROUP_SHIFT)


@dataclass(slots=True)
class IngestStats:
    """Counts of samples an append did not store, by reason (cumulative in the store)."""

    appended: int = 0
    out_of_order: int = 0
    duplicate: int = 0
    out_of_bounds: int = 0
    stale_markers: int = 0

    def add(self, other: IngestStats) -> None:
        """Accumulate ``other`` into this one."""
        self.appended += other.appended
        self.out_of_order += other.out_of_order
        self.duplicate += other.duplicate
        self.out_of_bounds += other.out_of_bounds
        self.stale_markers += other.stale_markers


@dataclass(slots=True)
class Prepared:
    """The accepted samples of one append, sorted by series (arrival order within one)."""

    new_series: list[tuple[int, LabelTuple]]
    gids: I64
    ts: I64
    values: F64
    resets: Bools
    prev: F64
    stats: IngestStats = field(default_factory=IngestStats)


def group_starts(gids: I64) -> I64:
    """Index of the first sample of each run of equal series ids."""
    if len(gids) == 0:
        return np.zeros(0, np.int64)
    return np.flatnonzero(np.r_[True, gids[1:] != gids[:-1]]).astype(np.int64)


def prepare(
    new_series: list[tuple[int, LabelTuple]],
    gids: I64,
    ts: I64,
    values: F64,
    *,
    last_ts: I64,
    last_val: F64,
) -> Prepared:
    """Apply the appender rules to one append.

    Args:
        new_series: Series this append would create, with provisional ids following the
            existing ones; those left without an accepted sample are dropped and the rest
            renumbered.
        gids: Series id per sample (arrival order).
        ts: Timestamp per sample (ms).
        values: Value per sample.
        last_ts: Latest timestamp per existing series id (-1: none).
        last_val: Latest value per existing series id.
    """
    stats = IngestStats()
    order = np.argsort(gids, kind="stable")
    g, t, v = gids[order], ts[order], values[order]
    oob = (t < 0) | (t > MAX_TIMESTAMP)
    stale = v.view(np.uint64) == np.uint64(STALE_NAN_BITS)
    stats.out_of_bounds = int(oob.sum())
    stats.stale_markers = int((stale & ~oob).sum())
    keep = ~(oob | stale)
    g, t, v = g[keep], t[keep], v[keep]
    known = len(last_ts)
    prior = np.where(g < known, last_ts[np.minimum(g, known - 1)] if known else -1, -1)
    accept, bound = _in_order(g, t, prior)
    stats.duplicate = int((~accept & (t == bound)).sum())
    stats.out_of_order = int((~accept & (t < bound)).sum())
    g, t, v = g[accept], t[accept], v[accept]
    kept_series, g = _renumber_new(new_series, g, known)
    resets, prev = detect_resets(g, v, last_val)
    stats.appended = len(g)
    return Prepared(kept_series, g, t, v, resets, prev, stats)


def _in_order(g: I64, t: I64, prior: I64) -> tuple[Bools, I64]:
    """Which samples are newer than every earlier sample of their series, and that bound.

    A rejected sample never raises the bound, so the bound of sample ``i`` is the maximum of
    the series' stored latest timestamp and all earlier timestamps of the series in the batch.
    """
    n = len(g)
    if n == 0:
        return np.zeros(0, np.bool_), np.zeros(0, np.int64)
    starts = group_starts(g)
    is_start = np.zeros(n, np.bool_)
    is_start[starts] = True
    rising = np.r_[True, t[1:] > t[:-1]] | is_start
    if bool(rising.all()) and bool((t[starts] > prior[starts]).all()):
        return np.ones(n, np.bool_), prior
    if len(starts) >= MAX_BATCH_SERIES:
        msg = f"an append may hold samples of at most {MAX_BATCH_SERIES} series"
        raise ValueError(msg)
    rank = np.cumsum(is_start) - 1
    key = (rank << _GROUP_SHIFT) | (t + 1)
    running = np.maximum.accumulate(key)
    before = np.r_[np.int64(0), running[:-1]] & ((1 << _GROUP_SHIFT) - 1)
    earlier = np.where(is_start, -1, before - 1)
    bound = np.maximum(earlier, prior)
    return t > bound, bound


def _renumber_new(
    new_series: list[tuple[int, LabelTuple]], g: I64, known: int
) -> tuple[list[tuple[int, LabelTuple]], I64]:
    """Drop provisional series without accepted samples; keep ids dense and in order."""
    if not new_series:
        return [], g
    used = np.unique(g[g >= known])
    if len(used) == len(new_series):
        return new_series, g
    kept = [new_series[int(i) - known] for i in used]
    renumbered = [(known + i, labels) for i, (_, labels) in enumerate(kept)]
    new_ids = known + np.searchsorted(used, g[g >= known])
    g = g.copy()
    g[g >= known] = new_ids
    return renumbered, g


def detect_resets(g: I64, v: F64, last_val: F64) -> tuple[Bools, F64]:
    """Counter resets: samples below the previous sample of their series (functions.go:105).

    The previous sample of a series' first sample in the batch is its stored latest value
    (NaN for a new series, which compares false: no reset).
    """
    n = len(g)
    prev = np.empty(n)
    if n == 0:
        return np.zeros(0, np.bool_), prev
    prev[1:] = v[:-1]
    starts = group_starts(g)
    first = g[starts]
    known = len(last_val)
    safe = np.minimum(first, max(known - 1, 0))
    prev[starts] = np.where(first < known, last_val[safe] if known else np.nan, np.nan)
    with np.errstate(invalid="ignore"):
        return v < prev, prev


class Resolver:
    """Series ids for the label sets of one append, creating provisional ids for new ones."""

    def __init__(self, index: SeriesIndex, alias: dict[LabelTuple, int]) -> None:
        self._index = index
        self._alias = alias
        self._pending: dict[LabelTuple, int] = {}
        self._misses: list[tuple[LabelTuple, LabelTuple]] = []
        self.new: list[tuple[int, LabelTuple]] = []

    def resolve(self, raw: LabelTuple) -> int:
        """The id of a label set as given (any order; empty values dropped)."""
        known = self._alias.get(raw)
        if known is not None:
            return known
        gid = self._pending.get(raw)
        if gid is not None:
            return gid
        try:
            canon = canonical_labels(raw)
        except (ValueError, TypeError) as exc:
            msg = f"invalid series labels {raw!r}: {exc}"
            raise UsageError(msg) from exc
        if not canon:
            msg = "a series needs at least one label with a non-empty value"
            raise UsageError(msg)
        gid = self._index.get(canon)
        if gid is None:
            gid = self._pending.get(canon)
        if gid is None:
            gid = len(self._index) + len(self.new)
            if gid >= MAX_SERIES:
                msg = f"the metric store holds at most {MAX_SERIES} series"
                raise UsageError(msg)
            self.new.append((gid, canon))
        self._pending[raw] = self._pending[canon] = gid
        self._misses.append((raw, canon))
        return gid

    def remember(self) -> None:
        """After a commit: look up the label sets seen in this append directly next time."""
        for raw, canon in self._misses:
            gid = self._index.get(canon)
            if gid is not None:
                self._alias[raw] = gid
