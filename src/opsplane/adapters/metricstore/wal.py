"""The write-ahead log: one record per acknowledged append, fsynced before it is acknowledged.

Segments are files ``<store>/wal/<seq>.wal`` holding records::

    u32 payload length | u32 CRC-32 of the payload | payload
    payload = u8 kind (1) | u32 series JSON length | u32 sample count
              | series JSON: [[id, [[name, value], ...]], ...] for series new in this append
              | int64 series ids[n] | int64 timestamps[n] | float64 values[n]

An append is one record, so it is replayed whole or not at all. A record cut short by a crash
(``kill -9`` between ``write`` and ``fdatasync``, or a torn page) fails its length or CRC check
and ends the replay of its segment; it was never acknowledged. This mirrors Prometheus'
``tsdb/wlog`` (records with a CRC-32 per fragment; a torn tail is truncated on repair), with
one record per append instead of page-aligned fragments.
"""

from __future__ import annotations

import json
import os
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from opsplane.adapters.metricstore.blocks import F64, I64
from opsplane.adapters.metricstore.disk import fsync_dir
from opsplane.adapters.metricstore.labels import LabelTuple

_HEADER = struct.Struct("<II")
_HEAD = struct.Struct("<BII")
_KIND_APPEND = 1
_MAX_RECORD = 1 << 31


@dataclass(frozen=True, slots=True)
class Record:
    """One append as logged: the series it created and its accepted samples."""

    new_series: list[tuple[int, LabelTuple]]
    gids: I64
    ts: I64
    values: F64


def encode(record: Record) -> list[memoryview | bytes]:
    """The record as buffers to write in order, header first (no copy of the samples)."""
    series = json.dumps([[g, [list(p) for p in labels]] for g, labels in record.new_series])
    series_bytes = series.encode()
    parts: list[memoryview | bytes] = [
        _HEAD.pack(_KIND_APPEND, len(series_bytes), len(record.gids)),
        series_bytes,
        np.ascontiguousarray(record.gids, np.int64).data,
        np.ascontiguousarray(record.ts, np.int64).data,
        np.ascontiguousarray(record.values, np.float64).data,
    ]
    crc = 0
    for part in parts:
        crc = zlib.crc32(part, crc)
    length = sum(len(p) if isinstance(p, bytes) else p.nbytes for p in parts)
    return [_HEADER.pack(length, crc), *parts]


def decode(payload: bytes) -> Record:
    """A record from its payload (CRC already checked)."""
    kind, series_len, n = _HEAD.unpack_from(payload)
    if kind != _KIND_APPEND:
        msg = f"unknown WAL record kind {kind}"
        raise ValueError(msg)
    at = _HEAD.size
    raw = json.loads(payload[at : at + series_len])
    at += series_len
    if len(payload) != at + 24 * n:
        msg = f"WAL record of {n} samples has {len(payload) - at} bytes of sample data"
        raise ValueError(msg)
    gids = np.frombuffer(payload, np.int64, n, at).copy()
    ts = np.frombuffer(payload, np.int64, n, at + 8 * n).copy()
    values = np.frombuffer(payload, np.float64, n, at + 16 * n).copy()
    new_series = [(int(g), tuple((str(a), str(b)) for a, b in pairs)) for g, pairs in raw]
    return Record(new_series, gids, ts, values)


@dataclass(slots=True)
class ReplayStats:
    """What a replay found: good records and records cut short by a crash."""

    records: int = 0
    torn: int = 0


def read_segment(path: Path, stats: ReplayStats) -> Iterator[Record]:
    """The intact records of a segment, stopping at the first torn or corrupt one."""
    data = path.read_bytes()
    at = 0
    while at < len(data):
        if at + _HEADER.size > len(data):
            stats.torn += 1
            return
        length, crc = _HEADER.unpack_from(data, at)
        payload = data[at + _HEADER.size : at + _HEADER.size + length]
        if length > _MAX_RECORD or len(payload) < length or zlib.crc32(payload) != crc:
            stats.torn += 1
            return
        try:
            record = decode(payload)
        except (ValueError, UnicodeDecodeError, struct.error):
            stats.torn += 1
            return
        stats.records += 1
        yield record
        at += _HEADER.size + length


def read_records(wal_dir: Path, *, after: int, stats: ReplayStats) -> list[tuple[int, Record]]:
    """The intact records of every segment numbered above ``after``, with their segment."""
    return [
        (seq, record)
        for seq in list_segments(wal_dir)
        if seq > after
        for record in read_segment(segment_path(wal_dir, seq), stats)
    ]


def segment_path(wal_dir: Path, seq: int) -> Path:
    """The file of segment ``seq``."""
    return wal_dir / f"{seq:010d}.wal"


def list_segments(wal_dir: Path) -> list[int]:
    """Segment numbers present, ascending."""
    return sorted(int(p.stem) for p in wal_dir.glob("*.wal") if p.stem.isdigit())


class WalWriter:
    """Appends records to the current segment and fsyncs each before returning."""

    def __init__(self, wal_dir: Path, seq: int) -> None:
        self.dir = wal_dir
        self.seq = seq
        self._fd = self._open(seq)

    def _open(self, seq: int) -> int:
        fd = os.open(
            segment_path(self.dir, seq), os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_EXCL, 0o644
        )
        fsync_dir(self.dir)
        return fd

    def append(self, record: Record) -> None:
        """Write one record and make it durable (``fdatasync``).

        On failure the segment is cut back to its previous length, so a half-written record
        cannot hide the records acknowledged after it from a replay.
        """
        parts = [memoryview(p).cast("B") for p in encode(record)]
        size = os.lseek(self._fd, 0, os.SEEK_END)
        try:
            while parts:
                written = os.writev(self._fd, parts)
                while parts and written >= len(parts[0]):
                    written -= len(parts[0])
                    parts.pop(0)
                if parts:
                    parts[0] = parts[0][written:]
            os.fdatasync(self._fd)
        except OSError:
            os.ftruncate(self._fd, size)
            raise

    def rotate(self) -> int:
        """Start the next segment; returns the number of the one just closed."""
        closed = self.seq
        os.close(self._fd)
        self.seq += 1
        self._fd = self._open(self.seq)
        return closed

    def close(self) -> None:
        """Close the current segment."""
        os.close(self._fd)

    def remove_through(self, seq: int) -> None:
        """Delete every segment up to and including ``seq`` (their samples are in blocks)."""
        for s in list_segments(self.dir):
            if s <= seq:
                segment_path(self.dir, s).unlink(missing_ok=True)
        fsync_dir(self.dir)
