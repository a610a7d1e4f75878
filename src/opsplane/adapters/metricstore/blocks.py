"""Immutable columnar blocks of samples, and how they are built and merged.

A block holds the samples of many series over some stretch of appends, sorted by series and
then time, as two columns:

- ``keys``: ``(local series index << 42) | timestamp``. One ``searchsorted`` on this column
  finds the first sample at or after a time *within a given series*, for thousands of
  (series, window) pairs at once. Timestamps are epoch milliseconds in ``[0, 2**42)`` (up to
  the year 2109); the store rejects others as out of bounds.
- ``values``: the raw float64 sample values.

``series`` (ascending global series ids) maps local indices to series; ``offsets`` delimits
each series' samples. Counter resets (a value below the previous sample of the same series,
``promql/functions.go:105``) are kept sparsely as the key of the sample after the reset and the
pre-reset value, so ``increase`` can add them in sample order exactly as Prometheus does.

Blocks never overlap in time for one series: a later block only holds later samples of it. So
the store reads a series across blocks in block order, and merging blocks is a k-way merge of
runs that are already sorted (a stable sort on the keys, which numpy does with timsort).
"""

from __future__ import annotations

import mmap
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]

TS_BITS = 42
TS_MASK = (1 << TS_BITS) - 1
MAX_TIMESTAMP = TS_MASK
MAX_SERIES = 1 << (63 - TS_BITS)
COLUMNS = {"keys": np.int64, "values": np.float64}


@dataclass(frozen=True, slots=True)
class BlockMeta:
    """Where a block sits in the store's history.

    Attributes:
        seg_lo: The first write-ahead-log segment whose samples it holds.
        seg_hi: The last one. Blocks cover disjoint, ordered segment ranges; a merged block
            covers the union of its inputs, so a leftover input (a crash between writing the
            merge and deleting its inputs) is recognised by its range lying inside another.
        level: 0 for a block built from one append; ``n + 1`` for a merge of level-``n`` blocks.
        n_samples: Number of samples.
        min_ts: Smallest timestamp (ms).
        max_ts: Largest timestamp (ms).
    """

    seg_lo: int
    seg_hi: int
    level: int
    n_samples: int
    min_ts: int
    max_ts: int

    @property
    def name(self) -> str:
        """The block's directory name on disk."""
        return f"b{self.seg_lo:010d}-{self.seg_hi:010d}"


SMALL_COLUMNS: dict[str, type[np.generic]] = {
    "series": np.int64,
    "offsets": np.int64,
    "first_ts": np.int64,
    "last_ts": np.int64,
    "last_values": np.float64,
    "fences": np.int64,
    "reset_keys": np.int64,
    "reset_values": np.float64,
}
"""Per-series and sparse columns, small enough to keep in memory for every block."""

CHUNK_SAMPLES = 4_000_000
"""Samples merged per step: merging on disk needs memory for one chunk, not the output."""

FENCE = 512
"""Every ``FENCE``-th key is kept in memory (``fences``): one 4 KiB page of keys apart."""


@dataclass(frozen=True, slots=True, eq=False)
class Block:
    """One immutable block. ``keys`` and ``values`` may be read-only memory maps.

    The small columns let a read touch as few pages of the big ones as possible:
    ``first_ts``/``last_ts`` per series tell whether a range boundary falls inside the block
    at all, and ``fences`` narrow a search to one page of ``keys``.
    """

    meta: BlockMeta
    keys: I64
    values: F64
    series: I64
    offsets: I64
    first_ts: I64
    last_ts: I64
    last_values: F64
    fences: I64
    reset_keys: I64
    reset_values: F64
    path: Path | None = field(default=None, compare=False)
    maps: tuple[mmap.mmap, ...] = field(default=(), compare=False)
    cold: list[bool] = field(default_factory=lambda: [True], compare=False)
    """Whether the block has not been read since it was mapped (see ``scan.prefetch``)."""

    def read(self, column: str, start: int, stop: int) -> npt.NDArray[np.generic]:
        """A private copy of ``column[start:stop]``; disk blocks read it without mapping it.

        Merges read whole blocks; going through ``np.fromfile`` rather than the memory map
        keeps those pages out of the process' resident set once the chunk is written.
        """
        if self.path is None:
            return np.array(getattr(self, column)[start:stop])
        dtype = np.dtype(COLUMNS[column])
        return np.fromfile(
            self.path / f"{column}.bin", dtype=dtype, count=stop - start, offset=start * 8
        )


def make_block(
    meta: BlockMeta,
    keys: I64,
    values: F64,
    small: dict[str, npt.NDArray[np.generic]],
    *,
    path: Path | None = None,
    maps: tuple[mmap.mmap, ...] = (),
) -> Block:
    """A block from its big columns and its small ones (``SMALL_COLUMNS``)."""
    return Block(
        meta=meta,
        keys=keys,
        values=values,
        series=np.asarray(small["series"], np.int64),
        offsets=np.asarray(small["offsets"], np.int64),
        first_ts=np.asarray(small["first_ts"], np.int64),
        last_ts=np.asarray(small["last_ts"], np.int64),
        last_values=np.asarray(small["last_values"], np.float64),
        fences=np.asarray(small["fences"], np.int64),
        reset_keys=np.asarray(small["reset_keys"], np.int64),
        reset_values=np.asarray(small["reset_values"], np.float64),
        path=path,
        maps=maps,
    )


def series_ends(keys: I64, values: F64, offsets: I64) -> dict[str, npt.NDArray[np.generic]]:
    """``first_ts``, ``last_ts`` and ``last_values`` of each series (``offsets`` into keys)."""
    first, last = offsets[:-1], offsets[1:] - 1
    return {
        "first_ts": keys[first] & TS_MASK,
        "last_ts": keys[last] & TS_MASK,
        "last_values": np.asarray(values[last], np.float64),
    }


def build_block(
    gids: I64, ts: I64, values: F64, *, resets: npt.NDArray[np.bool_], prev: F64, meta: BlockMeta
) -> Block:
    """A level-0 block from samples sorted by series id (stable: arrival order within one).

    ``resets`` marks samples below their predecessor, whose values are in ``prev``.
    """
    n = len(gids)
    starts = np.flatnonzero(np.r_[True, gids[1:] != gids[:-1]]) if n else np.zeros(0, np.int64)
    offsets = np.r_[starts, n].astype(np.int64)
    local = np.repeat(np.arange(len(starts), dtype=np.int64), np.diff(offsets))
    keys = (local << TS_BITS) | ts
    small = {
        "series": gids[starts].astype(np.int64),
        "offsets": offsets,
        "fences": keys[::FENCE],
        "reset_keys": keys[resets],
        "reset_values": prev[resets],
        **series_ends(keys, values, offsets),
    }
    return make_block(meta, keys, values, small)


class BlockWriter(Protocol):
    """Receives a merged block chunk by chunk (samples of consecutive series ranges)."""

    def add(self, keys: I64, values: F64) -> None:
        """Append the next samples, in key order."""
        ...

    def finish(self, small: dict[str, npt.NDArray[np.generic]], meta: BlockMeta) -> Block:
        """Write the small columns and return the finished block."""
        ...


class MemoryWriter:
    """Collects a merged block in memory."""

    def __init__(self) -> None:
        self._keys: list[I64] = []
        self._values: list[F64] = []

    def add(self, keys: I64, values: F64) -> None:
        """Append the next samples."""
        self._keys.append(keys)
        self._values.append(values)

    def finish(self, small: dict[str, npt.NDArray[np.generic]], meta: BlockMeta) -> Block:
        """The block, its columns concatenated."""
        keys = np.concatenate(self._keys) if self._keys else np.zeros(0, np.int64)
        values = np.concatenate(self._values) if self._values else np.zeros(0)
        return make_block(meta, keys, values, small)


def merge_blocks(
    blocks: list[Block], writer: BlockWriter, *, level: int, chunk_samples: int
) -> Block:
    """Merge consecutive blocks (oldest first) into one at ``level``, a chunk at a time.

    Each chunk is a range of series with about ``chunk_samples`` samples, so merging blocks
    on disk needs memory for one chunk, not for the whole output.
    """
    union = np.unique(np.concatenate([b.series for b in blocks]))
    counts = np.zeros(len(union), np.int64)
    for b in blocks:
        counts[np.searchsorted(union, b.series)] += np.diff(b.offsets)
    offsets = np.r_[0, np.cumsum(counts)].astype(np.int64)
    parts: dict[str, list[npt.NDArray[np.generic]]] = {
        "fences": [],
        "first_ts": [],
        "last_ts": [],
        "last_values": [],
    }
    for u0, u1 in _chunks(offsets, chunk_samples):
        keys, values = _merge_chunk(blocks, union, int(union[u0]), int(union[u1 - 1]) + 1)
        writer.add(keys, values)
        at = int(offsets[u0])
        parts["fences"].append(keys[(-at) % FENCE :: FENCE])
        for name, array in series_ends(keys, values, offsets[u0 : u1 + 1] - at).items():
            parts[name].append(array)
    reset_keys, reset_values = _merge_resets(blocks, union)
    small = {name: np.concatenate(arrays) for name, arrays in parts.items()}
    small |= {
        "series": union,
        "offsets": offsets,
        "reset_keys": reset_keys,
        "reset_values": reset_values,
    }
    meta = BlockMeta(
        seg_lo=min(b.meta.seg_lo for b in blocks),
        seg_hi=max(b.meta.seg_hi for b in blocks),
        level=level,
        n_samples=int(offsets[-1]),
        min_ts=min(b.meta.min_ts for b in blocks),
        max_ts=max(b.meta.max_ts for b in blocks),
    )
    return writer.finish(small, meta)


def compact_tail(
    blocks: list[Block],
    fanout: int,
    writer: Callable[[], BlockWriter],
    *,
    max_samples: int | None,
) -> list[Block]:
    """Size-tiered compaction: while the newest ``fanout`` blocks share a level, merge them.

    Updates ``blocks`` in place and returns the blocks merged away. Merges whose output would
    exceed ``max_samples`` are not done.
    """
    replaced: list[Block] = []
    while len(blocks) >= fanout and len({b.meta.level for b in blocks[-fanout:]}) == 1:
        tail = blocks[-fanout:]
        if max_samples is not None and sum(b.meta.n_samples for b in tail) > max_samples:
            break
        out = writer()
        try:
            merged = merge_blocks(
                tail, out, level=tail[0].meta.level + 1, chunk_samples=CHUNK_SAMPLES
            )
        except BaseException:
            abort = getattr(out, "abort", None)
            if abort is not None:
                abort()
            raise
        blocks[-fanout:] = [merged]
        replaced += tail
    return replaced


def _chunks(offsets: I64, chunk_samples: int) -> list[tuple[int, int]]:
    """Ranges ``[u0, u1)`` of series holding about ``chunk_samples`` samples each."""
    n = len(offsets) - 1
    out: list[tuple[int, int]] = []
    u0 = 0
    while u0 < n:
        target = offsets[u0] + chunk_samples
        u1 = max(int(np.searchsorted(offsets, target, side="right")) - 1, u0 + 1)
        u1 = min(u1, n)
        out.append((u0, u1))
        u0 = u1
    return out


def _merge_chunk(blocks: list[Block], union: I64, g0: int, g1: int) -> tuple[I64, F64]:
    """Samples of series ids ``[g0, g1)`` from every block, re-keyed to the union's indices."""
    key_parts: list[I64] = []
    value_parts: list[F64] = []
    for b in blocks:
        l0, l1 = (int(x) for x in np.searchsorted(b.series, [g0, g1]))
        if l0 == l1:
            continue
        start, stop = int(b.offsets[l0]), int(b.offsets[l1])
        keys = b.read("keys", start, stop).astype(np.int64)
        remap = np.searchsorted(union, b.series[l0:l1]).astype(np.int64)
        local = remap[(keys >> TS_BITS) - l0]
        key_parts.append((local << TS_BITS) | (keys & TS_MASK))
        value_parts.append(b.read("values", start, stop).astype(np.float64))
    keys = np.concatenate(key_parts)
    order = np.argsort(keys, kind="stable")
    return keys[order], np.concatenate(value_parts)[order]


def _merge_resets(blocks: list[Block], union: I64) -> tuple[I64, F64]:
    keys: list[I64] = []
    values: list[F64] = []
    for b in blocks:
        remap = np.searchsorted(union, b.series).astype(np.int64)
        local = remap[b.reset_keys >> TS_BITS]
        keys.append((local << TS_BITS) | (b.reset_keys & TS_MASK))
        values.append(b.reset_values)
    all_keys = np.concatenate(keys)
    order = np.argsort(all_keys, kind="stable")
    return all_keys[order], np.concatenate(values)[order]
