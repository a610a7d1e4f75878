"""The embedded metric store: durable appends, and SLI error ratios exactly as PromQL computes.

Writes go to the write-ahead log (fsynced before :meth:`MetricStore.append` returns), then
into an in-memory level-0 block. Blocks of equal level merge ``fanout`` at a time (a
size-tiered LSM), so a store holds O(log n) blocks. Once the in-memory blocks hold
``flush_samples`` samples they are merged into one block on disk, the WAL segments they came
from are deleted, and on-disk blocks merge the same way. Opening a store maps its blocks and
replays only the WAL written since the last flush.

Reads (:meth:`MetricStore.error_ratios`) evaluate every window of every SLO in one vectorised
pass over the blocks; see :mod:`~opsplane.adapters.metricstore.evaluate`.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from opsplane.adapters.closing import Closing
from opsplane.adapters.metricstore import evaluate
from opsplane.adapters.metricstore.blocks import (
    CHUNK_SAMPLES,
    F64,
    I64,
    MAX_TIMESTAMP,
    Block,
    BlockMeta,
    MemoryWriter,
    build_block,
    compact_tail,
    merge_blocks,
)
from opsplane.adapters.metricstore.disk import DiskWriter, load_blocks, lock_directory, remove_block
from opsplane.adapters.metricstore.ingest import (
    IngestStats,
    Prepared,
    Resolver,
    detect_resets,
    group_starts,
    prepare,
)
from opsplane.adapters.metricstore.labels import LabelTuple, SeriesIndex, canonical_labels
from opsplane.adapters.metricstore.plan import Planner
from opsplane.adapters.metricstore.scan import read_series
from opsplane.adapters.metricstore.wal import (
    Record,
    ReplayStats,
    WalWriter,
    list_segments,
    read_records,
)
from opsplane.errors import DatasourceError, UsageError
from opsplane.ports import RatioRequest, Sample
from opsplane.types import Millis

DEFAULT_FLUSH_SAMPLES = 4_000_000
DEFAULT_FANOUT = 4
# Merges run inside append (there is no background compactor); bounding their output bounds
# the pause. 30 days of 1-minute samples of 2,000 series (86.4M) stay within 6 blocks.
MAX_MERGED_SAMPLES = 80_000_000


class MetricStore(Closing):
    """Counters and histograms for SLO evaluation; a :class:`~opsplane.ports.SampleSink` and
    :class:`~opsplane.ports.SLIReader`. Create it with :meth:`open` or :meth:`in_memory`.

    Thread-safe: one lock serialises appends, reads and flushes.
    """

    def __init__(self, directory: Path | None, flush_samples: int, fanout: int) -> None:
        self._dir = directory
        self._flush_samples = flush_samples
        self._fanout = max(2, fanout)
        self._lock = threading.RLock()
        self._index = SeriesIndex()
        self._alias: dict[LabelTuple, int] = {}
        self._last_ts: I64 = np.full(0, -1, np.int64)
        self._last_val: F64 = np.zeros(0)
        self._mem: list[Block] = []
        self._disk: list[Block] = []
        self._wal: WalWriter | None = None
        self._seq = 1
        self._planner = Planner(self._index)
        self._lock_fd: int | None = None
        self._closed = False
        self.stats = IngestStats()
        """Samples appended and rejected (by reason) since the store was opened."""
        self.replay = ReplayStats()
        """WAL records replayed on open, and torn records ignored."""
        self.flush_error: OSError | None = None
        """Why the last flush after an append failed (it is retried after the next one)."""

    @classmethod
    def in_memory(cls, *, fanout: int = DEFAULT_FANOUT) -> MetricStore:
        """A store that keeps everything in memory (tests, the demo)."""
        return cls(None, 0, fanout)

    @classmethod
    def open(
        cls,
        directory: Path,
        *,
        flush_samples: int = DEFAULT_FLUSH_SAMPLES,
        fanout: int = DEFAULT_FANOUT,
    ) -> MetricStore:
        """Open (or create) the store in ``directory``, replaying its write-ahead log.

        Raises:
            DatasourceError: another process has it open, or its files are unreadable.
        """
        store = cls(directory, max(1, flush_samples), fanout)
        try:
            store._recover(directory)
        except OSError as exc:
            store._release()
            msg = f"cannot open the metric store in {directory}: {exc}"
            raise DatasourceError(msg) from exc
        except BaseException:
            store._release()
            raise
        return store

    @property
    def series_count(self) -> int:
        """Number of series."""
        return len(self._index)

    @property
    def sample_count(self) -> int:
        """Number of stored samples."""
        return sum(b.meta.n_samples for b in self._disk + self._mem)

    @property
    def block_count(self) -> tuple[int, int]:
        """``(on disk, in memory)`` block counts."""
        return len(self._disk), len(self._mem)

    def append(self, samples: Sequence[Sample]) -> int:
        """Store samples; durable once this returns. Returns how many were stored.

        Out-of-order, duplicate and out-of-bounds samples are not stored (see
        :mod:`~opsplane.adapters.metricstore.ingest`); :attr:`stats` counts them.

        Raises:
            UsageError: a sample is malformed (nothing of the batch is stored).
            DatasourceError: the write-ahead log could not be written (nothing is stored).
        """
        if not samples:
            return 0
        with self._lock:
            self._check_open()
            resolver = Resolver(self._index, self._alias)
            n = len(samples)
            try:
                alias = self._alias
                gids = np.fromiter((alias.get(s.labels, -1) for s in samples), np.int64, n)
                ts = np.fromiter((s.timestamp for s in samples), np.int64, n)
                values = np.fromiter((s.value for s in samples), np.float64, n)
            except (TypeError, ValueError, AttributeError, OverflowError) as exc:
                msg = f"invalid sample: {exc}"
                raise UsageError(msg) from exc
            for i in np.flatnonzero(gids < 0).tolist():
                gids[i] = resolver.resolve(samples[i].labels)
            return self._ingest(resolver, gids, ts, values)

    def append_columns(
        self, labels: Sequence[LabelTuple], series: I64, ts: I64, values: F64
    ) -> int:
        """Columnar :meth:`append`: sample ``i`` belongs to series ``labels[series[i]]``."""
        n = len(ts)
        if len(series) != n or len(values) != n:
            msg = "series, ts and values must have the same length"
            raise UsageError(msg)
        if n == 0:
            return 0
        if int(series.min()) < 0 or int(series.max()) >= len(labels):
            msg = "series index out of range of labels"
            raise UsageError(msg)
        with self._lock:
            self._check_open()
            resolver = Resolver(self._index, self._alias)
            ids = np.array([resolver.resolve(lt) for lt in labels], np.int64)
            gids = ids[np.asarray(series, np.int64)]
            ts64 = np.asarray(ts, np.int64)
            return self._ingest(resolver, gids, ts64, np.asarray(values, np.float64))

    def error_ratios(
        self, requests: Sequence[RatioRequest], at: Millis
    ) -> list[Mapping[Millis, float | None]]:
        """For each request, ``{window: error ratio}``, ``None`` where there is no data.

        Raises:
            DatasourceError: an SLI the store cannot evaluate (raw and threshold SLIs, queries
                beyond ``sum(rate(selector[window]))``), naming the SLO and the query.
        """
        if not 0 <= at <= MAX_TIMESTAMP:
            msg = f"evaluation time {at} ms is outside the store's range [0, {MAX_TIMESTAMP}]"
            raise DatasourceError(msg)
        with self._lock:
            self._check_open()
            for request in requests:
                if any(w <= 0 for w in request.windows):
                    msg = f"SLO {request.slo.id}: windows must be positive, got {request.windows}"
                    raise DatasourceError(msg)
            plan = self._planner.plan(requests)
            return evaluate.run(plan, self._disk + self._mem, at)

    def instant(self, query: str, at: Millis) -> dict[LabelTuple, float]:
        """Evaluate one ``[sum](rate|increase(selector[range]))`` query, as PromQL would."""
        with self._lock:
            self._check_open()
            return evaluate.instant(
                self._planner, self._index.labels, self._disk + self._mem, query, at
            )

    def read(self, labels: Sequence[tuple[str, str]]) -> tuple[I64, F64]:
        """Every stored sample of one series: ``(timestamps, values)``, oldest first."""
        with self._lock:
            self._check_open()
            try:
                gid = self._index.get(canonical_labels(labels))
            except ValueError as exc:
                raise UsageError(str(exc)) from exc
            if gid is None:
                return np.zeros(0, np.int64), np.zeros(0)
            return read_series(self._disk + self._mem, gid)

    def flush(self) -> None:
        """Write the in-memory blocks to one block on disk and drop the WAL they came from."""
        with self._lock:
            self._check_open()
            if self._dir is None or self._wal is None or not self._mem:
                return
            closed = self._wal.rotate()
            writer = DiskWriter(self._dir / "blocks", self._index.labels.__getitem__)
            try:
                block = merge_blocks(self._mem, writer, level=0, chunk_samples=CHUNK_SAMPLES)
            except BaseException:
                writer.abort()
                raise
            self._disk.append(block)
            self._mem = []
            self._wal.remove_through(closed)
            self._compact_disk()

    def close(self) -> None:
        """Flush and release the store; later calls raise :class:`DatasourceError`."""
        with self._lock:
            if self._closed:
                return
            try:
                self.flush()
            finally:
                if self._wal is not None:
                    self._wal.close()
                self._release()
                self._closed = True

    # -- internals ---------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            msg = "the metric store is closed"
            raise DatasourceError(msg)

    def _release(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def _ingest(self, resolver: Resolver, gids: I64, ts: I64, values: F64) -> int:
        known = len(self._index)
        try:
            prepared = prepare(
                resolver.new,
                gids,
                ts,
                values,
                last_ts=self._last_ts[:known],
                last_val=self._last_val[:known],
            )
        except ValueError as exc:
            raise UsageError(str(exc)) from exc
        if len(prepared.gids):
            seg = self._seq
            if self._wal is not None:
                record = Record(prepared.new_series, prepared.gids, prepared.ts, prepared.values)
                try:
                    self._wal.append(record)
                except OSError as exc:
                    msg = f"cannot write the metric store's write-ahead log: {exc}"
                    raise DatasourceError(msg) from exc
                seg = self._wal.seq
            self._apply(prepared, seg, register=True)
        self.stats.add(prepared.stats)
        resolver.remember()
        if self._dir is not None and self._mem_samples() >= self._flush_samples:
            try:
                self.flush()
                self.flush_error = None
            except OSError as exc:  # the append is durable in the WAL; retried next time
                self.flush_error = exc
        return prepared.stats.appended

    def _apply(self, prepared: Prepared, seg: int, *, register: bool) -> None:
        if register:
            for gid, labels in prepared.new_series:
                self._index.add(gid, labels)
        self._grow(len(self._index))
        g, t, v = prepared.gids, prepared.ts, prepared.values
        if len(g) == 0:
            return
        ends = np.r_[group_starts(g)[1:], len(g)] - 1
        self._last_ts[g[ends]] = t[ends]
        self._last_val[g[ends]] = v[ends]
        meta = BlockMeta(seg, seg, 0, len(g), int(t.min()), int(t.max()))
        self._mem.append(
            build_block(g, t, v, resets=prepared.resets, prev=prepared.prev, meta=meta)
        )
        self._compact_memory()

    def _grow(self, n: int) -> None:
        if n <= len(self._last_ts):
            return
        size = max(n, 2 * len(self._last_ts), 1024)
        last_ts = np.full(size, -1, np.int64)
        last_val = np.full(size, np.nan)
        last_ts[: len(self._last_ts)] = self._last_ts
        last_val[: len(self._last_val)] = self._last_val
        self._last_ts, self._last_val = last_ts, last_val

    def _mem_samples(self) -> int:
        return sum(b.meta.n_samples for b in self._mem)

    def _compact_memory(self) -> None:
        compact_tail(self._mem, self._fanout, MemoryWriter, max_samples=None)

    def _compact_disk(self) -> None:
        assert self._dir is not None
        blocks_dir, labels = self._dir / "blocks", self._index.labels.__getitem__
        replaced = compact_tail(
            self._disk,
            self._fanout,
            lambda: DiskWriter(blocks_dir, labels),
            max_samples=MAX_MERGED_SAMPLES,
        )
        for block in replaced:
            remove_block(block)

    def _recover(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self._lock_fd = lock_directory(directory / "LOCK")
        self._disk, labels = load_blocks(directory / "blocks")
        wal_dir = directory / "wal"
        wal_dir.mkdir(exist_ok=True)
        done = max((b.meta.seg_hi for b in self._disk), default=0)
        records = read_records(wal_dir, after=done, stats=self.replay)
        series = dict(labels)
        for _, record in records:
            series.update(record.new_series)
        for gid in range(len(series)):
            if gid not in series:
                msg = f"metric store {directory}: series {gid} is missing from blocks and WAL"
                raise DatasourceError(msg)
            self._index.add(gid, series[gid])
        self._restore_last()
        for seg, record in records:
            resets, prev = detect_resets(record.gids, record.values, self._last_val)
            prepared = Prepared([], record.gids, record.ts, record.values, resets, prev)
            self._apply(prepared, seg, register=False)
        self._seq = max([done, *list_segments(wal_dir)]) + 1
        self._wal = WalWriter(wal_dir, self._seq)
        if self._mem_samples() >= self._flush_samples:
            self.flush()

    def _restore_last(self) -> None:
        self._grow(len(self._index))
        for block in self._disk:
            self._last_ts[block.series] = block.last_ts
            self._last_val[block.series] = block.last_values
