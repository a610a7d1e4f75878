"""Acknowledged appends survive crashes: WAL replay, torn records, interrupted merges, kill -9."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from opsplane.adapters.metricstore import MetricStore
from opsplane.ports import Sample

BATCH = 10


def batch(b: int, n_series: int = BATCH) -> list[Sample]:
    """Batch ``b``: one sample per series at ``b`` seconds with value ``b``."""
    return [
        Sample((("__name__", "c_total"), ("s", str(j))), b * 1000, float(b))
        for j in range(n_series)
    ]


def present(store: MetricStore, n_series: int = BATCH) -> list[set[int]]:
    """The batch ids found in each series."""
    return [
        {int(t) // 1000 for t in store.read((("__name__", "c_total"), ("s", str(j))))[0]}
        for j in range(n_series)
    ]


def wal_copy(source: Path, target: Path, cut: int | None = None) -> Path:
    """A store directory holding only a copy of ``source``'s WAL, optionally cut short."""
    (target / "wal").mkdir(parents=True)
    for segment in (source / "wal").iterdir():
        data = segment.read_bytes()
        (target / "wal" / segment.name).write_bytes(data if cut is None else data[:cut])
    return target


def test_replay_keeps_whole_records_and_ignores_a_torn_tail(tmp_path: Path) -> None:
    live = MetricStore.open(tmp_path / "live")  # left open: its WAL is what a crash leaves
    (segment,) = (tmp_path / "live" / "wal").iterdir()
    ends = []
    for b in range(1, 9):
        live.append(batch(b))
        ends.append(segment.stat().st_size)
    cuts = [(end, k + 1, 0) for k, end in enumerate(ends)]  # record boundaries: nothing torn
    cuts += [(end - d, k, 1) for k, end in enumerate(ends) for d in (1, 7, 100)]  # inside one
    for i, (cut, whole, torn) in enumerate(cuts):
        store = MetricStore.open(wal_copy(tmp_path / "live", tmp_path / f"cut{i}", cut))
        assert (store.replay.records, store.replay.torn) == (whole, torn)
        assert present(store) == [set(range(1, whole + 1))] * BATCH
        store.close()
    live.close()


def test_a_corrupt_record_is_not_replayed(tmp_path: Path) -> None:
    live = MetricStore.open(tmp_path / "live")
    for b in (1, 2, 3):
        live.append(batch(b))
    copy = wal_copy(tmp_path / "live", tmp_path / "copy")
    (segment,) = (copy / "wal").iterdir()
    data = bytearray(segment.read_bytes())
    data[-5] ^= 0xFF  # a flipped bit in the last record's values
    segment.write_bytes(bytes(data))
    store = MetricStore.open(copy)
    assert store.replay.torn == 1
    assert present(store) == [{1, 2}] * BATCH
    store.close()
    live.close()


def test_restart_restores_series_latest_samples_and_blocks(tmp_path: Path) -> None:
    store = MetricStore.open(tmp_path, flush_samples=25, fanout=2)
    for b in range(1, 21):
        store.append(batch(b))
    store.close()
    store = MetricStore.open(tmp_path)
    assert store.series_count == BATCH
    assert store.append(batch(5)) == 0  # older than what is stored: rejected after a restart
    assert store.stats.duplicate == 0
    assert store.stats.out_of_order == BATCH
    assert store.append(batch(21)) == BATCH
    assert present(store) == [set(range(1, 22))] * BATCH
    store.close()


def test_leftovers_of_an_interrupted_merge_are_dropped(tmp_path: Path) -> None:
    store = MetricStore.open(tmp_path, flush_samples=BATCH, fanout=3)
    store.append(batch(1))
    store.append(batch(2))
    blocks = tmp_path / "blocks"
    inputs = tmp_path / "inputs"
    shutil.copytree(blocks, inputs)  # the two level-0 blocks the next flush merges
    store.append(batch(3))
    assert store.block_count == (1, 0)
    store.close()
    for leftover in inputs.iterdir():  # a crash between writing the merge and deleting them
        shutil.copytree(leftover, blocks / leftover.name)
    (blocks / "tmp-1-abc").mkdir()  # and a half-written block
    store = MetricStore.open(tmp_path)
    assert store.block_count == (1, 0)
    assert present(store) == [{1, 2, 3}] * BATCH
    assert sorted(p.name for p in blocks.iterdir()) == ["b0000000001-0000000003"]
    store.close()


CHILD = """
import sys
from pathlib import Path
from opsplane.adapters.metricstore import MetricStore
from opsplane.ports import Sample

store = MetricStore.open(Path(sys.argv[1]), flush_samples=2000, fanout=2)
b = int(sys.argv[2])
while True:
    store.append([Sample((("__name__", "c_total"), ("s", str(j))), b * 1000, float(b))
                  for j in range(50)])
    print(b, flush=True)
    b += 1
"""


def _run_and_kill(directory: Path, start: int, rng: random.Random) -> set[int]:
    """Start an ingesting child, SIGKILL it at a random point, return the batches it acked."""
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(directory), str(start)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()  # the child is up and has acknowledged one batch
    assert first.strip().isdigit(), "the ingesting child did not start"
    time.sleep(rng.uniform(0.0, 1.5))
    proc.send_signal(signal.SIGKILL)
    rest, _ = proc.communicate(timeout=30)
    lines = [first, *rest.splitlines(keepends=True)]
    return {int(x) for x in lines if x.endswith("\n") and x.strip().isdigit()}


def test_acknowledged_batches_survive_kill_9(tmp_path: Path) -> None:
    rng = random.Random(11)
    acked: set[int] = set()
    in_flight: set[int] = set()  # sent when the child died: may or may not be stored
    start = 1
    for _ in range(5):
        round_acked = _run_and_kill(tmp_path, start, rng)
        acked |= round_acked
        in_flight.add(max(round_acked) + 1)
        store = MetricStore.open(tmp_path)
        found = present(store, 50)
        store.close()
        union = set().union(*found)
        assert all(series == union for series in found), "a batch was stored in part"
        assert acked <= union, f"acknowledged but lost: {sorted(acked - union)[:10]}"
        assert union <= acked | in_flight, "a batch appeared that was never sent"
        start = max(union) + 1
    assert len(acked) > 100  # the kills landed after real work (flushes every 40 batches)


@pytest.mark.parametrize("flush_samples", [15, 10_000], ids=["flushing", "WAL only"])
def test_close_and_reopen_keeps_every_sample(tmp_path: Path, flush_samples: int) -> None:
    store = MetricStore.open(tmp_path, flush_samples=flush_samples)
    for b in range(1, 30):
        store.append(batch(b))
    store.close()
    store = MetricStore.open(tmp_path)
    assert store.sample_count == 29 * BATCH
    assert present(store) == [set(range(1, 30))] * BATCH
    store.close()
