"""Window statistics for many (series, range) pairs at once, read across blocks.

For each pair the store needs what ``extrapolatedRate`` reads from the selected samples
(:class:`opsplane.domain.promrate.WindowStats`): how many samples fall in the closed range
``[start, end]`` (engine.go ``matrixIterSlice``), the first and last of them, and the counter
resets between them.

A series' samples are spread over blocks in time order, so the first sample comes from the
first block that has any and the last from the last one. In each block, a range boundary
that falls before or after the series' samples there needs no search (``first_ts`` and
``last_ts`` say so); one that falls inside is searched for all pairs at once: ``fences``
(every 512th key, in memory) pick the page, then a vectorised binary search within it.
"""

from __future__ import annotations

import mmap

import numpy as np
import numpy.typing as npt

from opsplane.adapters.metricstore.blocks import F64, FENCE, I64, TS_BITS, TS_MASK, Block
from opsplane.domain.promrate import NO_CORRECTION, WindowStats

Bools = npt.NDArray[np.bool_]
_STEPS = FENCE.bit_length()  # binary search steps within one fence interval
_PAGE = FENCE * 8  # bytes of keys (or values) between two fences: one 4 KiB page


def gather(blocks: list[Block], gids: I64, starts: I64, ends: I64) -> WindowStats:
    """Stats of the ranges ``[starts[i], ends[i]]`` of series ``gids[i]`` (ends within bounds)."""
    q = len(gids)
    count = np.zeros(q, np.int64)
    first_t, last_t = np.zeros(q, np.int64), np.zeros(q, np.int64)
    first_v, last_v = np.zeros(q), np.zeros(q)
    starts = np.clip(starts, 0, TS_MASK)
    hits: list[tuple[Block, I64, Bools]] = []
    for block in blocks:
        if q == 0 or block.meta.min_ts > int(ends.max()) or block.meta.max_ts < int(starts.min()):
            continue
        local, present = _locate(block, gids)
        if not present.any():
            continue
        if block.cold[0]:
            prefetch(block, local[present], starts[present], ends[present])
        hits.append((block, local, present))
        lo, hi = _bounds(block, local, starts, ends)
        n = np.where(present, np.maximum(hi - lo, 0), 0)
        got = n > 0
        new_first = got & (count == 0)
        first_t[new_first] = block.keys[lo[new_first]] & TS_MASK
        first_v[new_first] = block.values[lo[new_first]]
        last_t[got] = block.keys[hi[got] - 1] & TS_MASK
        last_v[got] = block.values[hi[got] - 1]
        count += n
    corrections = _corrections(hits, count, first_t, last_t)
    return WindowStats(count, first_t, last_t, first_v, last_v, corrections)


def prefetch(block: Block, local: I64, starts: I64, ends: I64) -> None:
    """Ask the kernel to read, all at once, the pages the first read of a block will touch.

    A block fresh from disk is not in the page cache (its pages were dropped after writing),
    and a binary search would fault its pages in one synchronous read at a time.
    ``MADV_WILLNEED`` on the pages of the segment edges and of the fence intervals around
    each boundary queues those reads together. Later reads find the pages resident.
    """
    block.cold[0] = False
    if not block.maps:
        return
    base = local << TS_BITS
    fence_pages = [
        np.searchsorted(block.fences, base | np.clip(edge, 0, TS_MASK)) + d
        for edge in (starts, ends)
        for d in (-1, 0)
    ]
    edges = [block.offsets[local] // FENCE, (block.offsets[local + 1] - 1) // FENCE]
    last_page = (len(block.keys) - 1) // FENCE
    pages = np.unique(np.clip(np.concatenate([*fence_pages, *edges]), 0, last_page))
    breaks = np.flatnonzero(np.diff(pages) != 1) + 1
    for run in np.split(pages, breaks):
        start, length = int(run[0]) * _PAGE, len(run) * _PAGE
        for mapped in block.maps:
            mapped.madvise(mmap.MADV_WILLNEED, start, min(length, len(mapped) - start))


def _locate(block: Block, gids: I64) -> tuple[I64, Bools]:
    """Local index of each series in the block (clamped) and whether it is there."""
    pos = np.searchsorted(block.series, gids)
    local = np.minimum(pos, len(block.series) - 1).astype(np.int64)
    return local, block.series[local] == gids


def _bounds(block: Block, local: I64, starts: I64, ends: I64) -> tuple[I64, I64]:
    """Index of the first sample at or after each start, and one past the last at or before
    each end, within each series' segment of the block."""
    seg_lo, seg_hi = block.offsets[local], block.offsets[local + 1]
    first, last = block.first_ts[local], block.last_ts[local]
    lo = np.where(starts <= first, seg_lo, seg_hi)
    inside = (starts > first) & (starts <= last)
    if inside.any():
        lo[inside] = _search(block, (local[inside] << TS_BITS) | starts[inside], right=False)
    hi = np.where(ends >= last, seg_hi, seg_lo)
    inside = (ends >= first) & (ends < last)
    if inside.any():
        hi[inside] = _search(block, (local[inside] << TS_BITS) | ends[inside], right=True)
    return lo, hi


def _search(block: Block, needles: I64, *, right: bool) -> I64:
    """``np.searchsorted(block.keys, needles)``, reading one page of keys per needle."""
    keys, n = block.keys, len(block.keys)
    f = np.searchsorted(block.fences, needles, side="right" if right else "left")
    lo = np.maximum(f - 1, 0) * FENCE
    hi = np.minimum(f * FENCE, n)
    for _ in range(_STEPS + 1):
        active = lo < hi
        if not active.any():
            break
        mid = (lo + hi) >> 1
        probe = keys[np.minimum(mid, n - 1)]
        go_right = active & ((probe <= needles) if right else (probe < needles))
        lo = np.where(go_right, mid + 1, lo)
        hi = np.where(active & ~go_right, mid, hi)
    return lo


def _corrections(
    hits: list[tuple[Block, I64, Bools]], count: I64, first_t: I64, last_t: I64
) -> F64:
    """Pre-reset values of the resets in ``(first_t, last_t]``, in sample order, padded.

    A reset belongs to a range when both the sample before it and the sample after it were
    selected, i.e. when the sample after it lies in ``(first, last]``. Blocks are visited in
    time order and each block's resets in key order, so the columns are in sample order;
    padding (``-0.0``) between them does not change the sequential sum.
    """
    columns: list[F64] = []
    enough = count >= 2
    for block, local, present in hits:
        if len(block.reset_keys) == 0:
            continue
        base = local << TS_BITS
        r_lo = np.searchsorted(block.reset_keys, base | first_t, side="right")
        r_hi = np.searchsorted(block.reset_keys, base | last_t, side="right")
        n = np.where(present & enough, r_hi - r_lo, 0)
        for k in range(int(n.max(initial=0))):
            has = n > k
            col = np.full(len(count), NO_CORRECTION)
            col[has] = block.reset_values[r_lo[has] + k]
            columns.append(col)
    if not columns:
        return np.full((len(count), 0), NO_CORRECTION)
    return np.stack(columns, axis=1)


def read_series(blocks: list[Block], gid: int) -> tuple[I64, F64]:
    """All samples of series ``gid``, oldest first."""
    ts: list[I64] = [np.zeros(0, np.int64)]
    values: list[F64] = [np.zeros(0)]
    for block in blocks:
        local = int(np.searchsorted(block.series, gid))
        if local >= len(block.series) or block.series[local] != gid:
            continue
        start, stop = int(block.offsets[local]), int(block.offsets[local + 1])
        ts.append(np.asarray(block.keys[start:stop]) & TS_MASK)
        values.append(np.array(block.values[start:stop], np.float64))
    return np.concatenate(ts), np.concatenate(values)
