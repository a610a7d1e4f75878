"""Blocks on disk: one directory per block, written atomically, read through memory maps.

Layout of ``<store>/blocks/<name>/``::

    meta.json      BlockMeta fields and a format version
    labels.json    [[series id, [[name, value], ...]], ...] for the block's series
    keys.bin       int64 (local << 42) | ts      values.bin   float64
    <small>.bin    one file per SMALL_COLUMNS entry (series, offsets, fences, ...)

A block is written into ``tmp-<name>/``, every file and the directory are fsynced, then the
directory is renamed into place and the parent fsynced (the same protocol as Prometheus'
``tsdb/compact.go`` ``write``: tmp dir, fsync, rename). Leftover ``tmp-`` directories are
removed on open.

``keys`` and ``values`` are mapped read-only with ``MADV_RANDOM``, and their pages are dropped
from the page cache once written (``POSIX_FADV_DONTNEED``): Linux maps up to 64 KiB of cached
neighbours on each page fault ("fault-around"), so a store bigger than memory would otherwise
end up fully resident in the process. Reads then keep resident only the pages they touch,
as Prometheus does with its memory-mapped block chunks.
"""

from __future__ import annotations

import fcntl
import json
import mmap
import os
import re
import shutil
from collections.abc import Callable, Iterable
from dataclasses import asdict
from pathlib import Path
from typing import IO

import numpy as np
import numpy.typing as npt

from opsplane.adapters.metricstore.blocks import (
    COLUMNS,
    F64,
    I64,
    SMALL_COLUMNS,
    Block,
    BlockMeta,
    make_block,
)
from opsplane.adapters.metricstore.labels import LabelTuple
from opsplane.errors import DatasourceError

FORMAT_VERSION = 1
_BLOCK_NAME = re.compile(r"b(\d{10})-(\d{10})")


def fsync_dir(path: Path) -> None:
    """Make a directory's entries (created, renamed, removed files) durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class DiskWriter:
    """Writes a merged block into ``<blocks>/tmp-…`` chunk by chunk, then renames it."""

    def __init__(self, blocks_dir: Path, labels_of: Callable[[int], LabelTuple]) -> None:
        self._dir = blocks_dir
        self._labels_of = labels_of
        self._tmp = blocks_dir / f"tmp-{os.getpid()}-{id(self):x}"
        self._tmp.mkdir(parents=True)
        self._files: dict[str, IO[bytes]] = {
            name: (self._tmp / f"{name}.bin").open("wb") for name in COLUMNS
        }

    def add(self, keys: I64, values: F64) -> None:
        """Append the next samples to the column files."""
        self._files["keys"].write(np.ascontiguousarray(keys, np.int64).data)
        self._files["values"].write(np.ascontiguousarray(values, np.float64).data)

    def finish(self, small: dict[str, npt.NDArray[np.generic]], meta: BlockMeta) -> Block:
        """Write the small columns, fsync everything, rename into place; the mapped block."""
        for f in self._files.values():
            f.flush()
            os.fsync(f.fileno())
            os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
            f.close()
        for name, dtype in SMALL_COLUMNS.items():
            data = np.ascontiguousarray(small[name], dtype).data
            _write_file(self._tmp / f"{name}.bin", data)
        labels = [[int(g), [list(p) for p in self._labels_of(int(g))]] for g in small["series"]]
        _write_file(self._tmp / "labels.json", json.dumps(labels).encode())
        meta_doc = {"version": FORMAT_VERSION, **asdict(meta)}
        _write_file(self._tmp / "meta.json", json.dumps(meta_doc).encode())
        fsync_dir(self._tmp)
        final = self._dir / meta.name
        if final.exists():  # a leftover of an interrupted run with the same content range
            _remove_dir(final)
        self._tmp.rename(final)
        fsync_dir(self._dir)
        return load_block(final)[0]

    def abort(self) -> None:
        """Remove the partial block."""
        for f in self._files.values():
            f.close()
        shutil.rmtree(self._tmp, ignore_errors=True)


def _write_file(path: Path, data: memoryview | bytes) -> None:
    with path.open("wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def load_block(path: Path) -> tuple[Block, list[tuple[int, LabelTuple]]]:
    """A block directory: the block (big columns memory-mapped) and its series' labels."""
    try:
        doc = json.loads((path / "meta.json").read_text())
        if doc.pop("version") != FORMAT_VERSION:
            msg = f"unsupported block format in {path}"
            raise DatasourceError(msg)
        meta = BlockMeta(**doc)
        small = {
            name: np.fromfile(path / f"{name}.bin", dtype=dtype)
            for name, dtype in SMALL_COLUMNS.items()
        }
        keys, key_map = _map(path / "keys.bin", np.int64, meta.n_samples)
        values, value_map = _map(path / "values.bin", np.float64, meta.n_samples)
        raw = json.loads((path / "labels.json").read_text())
    except (OSError, ValueError, TypeError, KeyError) as exc:
        msg = f"cannot read metric store block {path}: {exc}"
        raise DatasourceError(msg) from exc
    labels = [(int(g), tuple((str(n), str(v)) for n, v in pairs)) for g, pairs in raw]
    maps = tuple(m for m in (key_map, value_map) if m is not None)
    return make_block(meta, keys, values, small, path=path, maps=maps), labels


def _map(path: Path, dtype: type[np.generic], n: int) -> tuple[np.ndarray, mmap.mmap | None]:
    """A read-only array over the file's pages, advised for random access (no readahead)."""
    if n == 0:
        return np.zeros(0, dtype), None
    with path.open("rb") as f:
        mapped = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    mapped.madvise(mmap.MADV_RANDOM)
    return np.frombuffer(mapped, dtype=dtype, count=n), mapped


def load_blocks(blocks_dir: Path) -> tuple[list[Block], list[tuple[int, LabelTuple]]]:
    """Every live block in segment order, and the labels of all their series.

    Removes ``tmp-`` leftovers (half-written blocks, blocks being deleted) and blocks whose
    segment range lies inside another block's: inputs of a merge that was written but whose
    inputs were not yet deleted. Ranges come from the directory names, so a leftover is
    dropped without reading it.
    """
    blocks_dir.mkdir(parents=True, exist_ok=True)
    for leftover in blocks_dir.glob("tmp-*"):
        shutil.rmtree(leftover, ignore_errors=True)
    ranges: dict[Path, tuple[int, int]] = {}
    for path in blocks_dir.iterdir():
        match = _BLOCK_NAME.fullmatch(path.name)
        if match and path.is_dir():
            ranges[path] = (int(match[1]), int(match[2]))
    live = [p for p, r in ranges.items() if not _covered(r, ranges.values())]
    for path in ranges.keys() - set(live):
        _remove_dir(path)
    loaded = [load_block(p) for p in sorted(live)]
    labels = [pair for _, pairs in loaded for pair in pairs]
    return sorted((b for b, _ in loaded), key=lambda b: b.meta.seg_lo), labels


def _covered(r: tuple[int, int], others: Iterable[tuple[int, int]]) -> bool:
    return any(o != r and o[0] <= r[0] and r[1] <= o[1] for o in others)


def remove_block(block: Block) -> None:
    """Delete a block directory (after a merge replaced it)."""
    if block.path is not None:
        _remove_dir(block.path)


def _remove_dir(path: Path) -> None:
    """Rename, then delete: a crash never leaves a block directory with files missing."""
    doomed = path.with_name(f"tmp-deleted-{path.name}")
    path.rename(doomed)
    fsync_dir(path.parent)
    shutil.rmtree(doomed, ignore_errors=True)


def lock_directory(path: Path) -> int:
    """Hold an exclusive lock on ``path`` (released when the process dies); its fd."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as exc:
        os.close(fd)
        msg = f"the metric store in {path.parent} is in use by another process"
        raise DatasourceError(msg) from exc
    return fd
