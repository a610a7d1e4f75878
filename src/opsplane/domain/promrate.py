"""PromQL ``rate()`` and ``increase()`` exactly as Prometheus 2.42 computes them.

Everything here follows ``extrapolatedRate`` in ``promql/functions.go`` of Prometheus v2.42.0
(lines 66-161) and the range selection of ``promql/engine.go`` (``matrixIterSlice``, lines
1861-1940), float operation for float operation, so that results are bit-identical to what
``promtool`` and a Prometheus server return for the same samples:

- A range selector ``x[w]`` evaluated at ``t`` selects the samples with timestamps in the CLOSED
  interval ``[t - w, t]`` (``t >= mint`` ... ``t == maxt`` in ``matrixIterSlice``; Prometheus 3
  made the start open, 2.x did not).
- Fewer than two samples in the range give no result (functions.go:79).
- A counter reset (a value below the previous one) adds the pre-reset value to the increase, in
  sample order (functions.go:105).
- The increase is extrapolated to each edge of the range when the first or last sample is less
  than 1.1 average sample intervals from it, and by half an interval otherwise
  (functions.go:138-148). A counter is not extrapolated below zero: the start extrapolation is
  clamped at the point where the counter would reach zero (``durationToZero``,
  functions.go:120-131).
- ``rate`` divides by the range in seconds (``time.Duration.Seconds()``); ``increase`` does not.

The scalar functions take one series; :func:`window_stats` and :func:`extrapolate_many` are the
vectorised form over many (series, window) pairs at once, used by the embedded metric store.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from opsplane.types import Millis

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]

# The padding of WindowStats.corrections: adding -0.0 leaves every float (even -0.0) unchanged,
# so padded columns do not perturb the sequential sum.
NO_CORRECTION = -0.0


def range_seconds(range_ms: Millis) -> float:
    """``time.Duration.Seconds()`` of a range given in milliseconds.

    Go computes ``float64(d / Second) + float64(d % Second) / 1e9`` on nanoseconds
    (``time/time.go``), which is not always the same float as ``range_ms / 1000``.
    """
    whole, rest_ms = divmod(range_ms, 1000)
    return float(whole) + float(rest_ms * 1_000_000) / 1e9


def select_range(ts: I64, at: Millis, range_ms: Millis) -> slice:
    """The samples a range selector ``[range_ms]`` evaluated at ``at`` reads: ``[at - w, at]``.

    ``ts`` must be sorted ascending (engine.go ``matrixIterSlice``: ``t >= mint`` and
    ``t <= maxt``).
    """
    lo = int(np.searchsorted(ts, at - range_ms, side="left"))
    hi = int(np.searchsorted(ts, at, side="right"))
    return slice(lo, hi)


def extrapolated_rate(
    ts: I64,
    values: F64,
    range_start: Millis,
    range_end: Millis,
    *,
    is_counter: bool = True,
    is_rate: bool = True,
) -> float | None:
    """``extrapolatedRate`` (functions.go:66) over the samples already selected for one range.

    Args:
        ts: Strictly increasing sample timestamps (ms) inside ``[range_start, range_end]``.
        values: The sample values.
        range_start: ``eval time - range``.
        range_end: The evaluation time.
        is_counter: Handle counter resets and the zero clamp (``rate``, ``increase``).
        is_rate: Divide by the range in seconds (``rate``).

    Returns:
        The result, or ``None`` when fewer than two samples were selected (no output sample).
    """
    n = len(ts)
    if n < 2:
        return None
    first_v, last_v = float(values[0]), float(values[-1])
    result = last_v - first_v
    if is_counter:
        prev = first_v
        for value in values[1:].tolist():
            if value < prev:
                result += prev
            prev = value
    return _extrapolate(
        result,
        first_t=int(ts[0]),
        last_t=int(ts[-1]),
        first_v=first_v,
        count=n,
        range_start=range_start,
        range_end=range_end,
        is_counter=is_counter,
        is_rate=is_rate,
    )


def _extrapolate(
    result: float,
    *,
    first_t: int,
    last_t: int,
    first_v: float,
    count: int,
    range_start: Millis,
    range_end: Millis,
    is_counter: bool,
    is_rate: bool,
) -> float:
    """functions.go:115-157, one range at a time, in Go's operation order."""
    duration_to_start = float(first_t - range_start) / 1000
    duration_to_end = float(range_end - last_t) / 1000
    sampled_interval = float(last_t - first_t) / 1000
    average_interval = sampled_interval / float(count - 1)
    if is_counter and result > 0 and first_v >= 0:
        duration_to_zero = sampled_interval * (first_v / result)
        # min() keeps its first argument unless the second is smaller, as Go's ``if`` does.
        duration_to_start = min(duration_to_start, duration_to_zero)
    threshold = average_interval * 1.1
    interval = sampled_interval
    interval += duration_to_start if duration_to_start < threshold else average_interval / 2
    interval += duration_to_end if duration_to_end < threshold else average_interval / 2
    factor = interval / sampled_interval
    if is_rate:
        factor /= range_seconds(range_end - range_start)
    return result * factor


def rate(ts: I64, values: F64, at: Millis, range_ms: Millis) -> float | None:
    """``rate(x[range_ms])`` evaluated at ``at`` for one series (sorted, unique timestamps)."""
    window = select_range(ts, at, range_ms)
    return extrapolated_rate(ts[window], values[window], at - range_ms, at)


def increase(ts: I64, values: F64, at: Millis, range_ms: Millis) -> float | None:
    """``increase(x[range_ms])`` evaluated at ``at`` for one series."""
    window = select_range(ts, at, range_ms)
    return extrapolated_rate(ts[window], values[window], at - range_ms, at, is_rate=False)


@dataclass(frozen=True, slots=True)
class WindowStats:
    """What ``extrapolatedRate`` needs from the samples of each of ``q`` ranges.

    Attributes:
        count: Samples selected per range; ranges with fewer than 2 give no result.
        first_t: Timestamp of the first selected sample (ms; arbitrary when ``count == 0``).
        last_t: Timestamp of the last selected sample.
        first_v: Value of the first selected sample.
        last_v: Value of the last selected sample.
        corrections: ``(q, k)`` pre-reset values of the counter resets inside each range, in
            sample order, padded with :data:`NO_CORRECTION`.
    """

    count: I64
    first_t: I64
    last_t: I64
    first_v: F64
    last_v: F64
    corrections: F64


def window_stats(ts: I64, values: F64, starts: I64, ends: I64) -> WindowStats:
    """Stats of the closed ranges ``[starts[i], ends[i]]`` of one series, vectorised.

    A reset at sample ``i`` (``values[i] < values[i-1]``) belongs to a range when both samples
    are selected, i.e. ``lo < i < hi`` for the selected index range ``[lo, hi)``.
    """
    lo = np.searchsorted(ts, starts, side="left").astype(np.int64)
    hi = np.searchsorted(ts, ends, side="right").astype(np.int64)
    count = np.maximum(hi - lo, 0)
    first = np.minimum(lo, len(ts) - 1).clip(0)
    last = np.clip(hi - 1, 0, None)
    resets = np.flatnonzero(values[1:] < values[:-1]).astype(np.int64) + 1
    r_lo = np.searchsorted(resets, lo, side="right")
    r_hi = np.searchsorted(resets, hi, side="left")
    n_resets = np.where(count >= 2, np.maximum(r_hi - r_lo, 0), 0)
    width = int(n_resets.max(initial=0))
    corrections = np.full((len(starts), width), NO_CORRECTION)
    for k in range(width):
        has = n_resets > k
        corrections[has, k] = values[resets[r_lo[has] + k] - 1]
    empty = len(ts) == 0
    return WindowStats(
        count=count,
        first_t=np.zeros_like(count) if empty else ts[first],
        last_t=np.zeros_like(count) if empty else ts[last],
        first_v=np.zeros(len(count)) if empty else values[first],
        last_v=np.zeros(len(count)) if empty else values[last],
        corrections=corrections,
    )


def extrapolate_many(
    stats: WindowStats,
    range_start: I64,
    range_end: I64,
    range_ms: I64,
    *,
    is_counter: bool = True,
    is_rate: bool | Bools = True,
) -> tuple[F64, Bools]:
    """``extrapolatedRate`` for many ranges at once, bit-identical to :func:`extrapolated_rate`.

    ``is_rate`` may be one flag or one per range (``rate`` and ``increase`` mixed).

    Returns:
        ``(values, present)``: ``present`` is False where fewer than two samples were selected
        (Prometheus outputs nothing there); ``values`` is NaN at those places.
    """
    present = stats.count >= 2
    with np.errstate(all="ignore"):
        result = stats.last_v - stats.first_v
        if is_counter:
            for k in range(stats.corrections.shape[1]):
                result = result + stats.corrections[:, k]
        to_start = (stats.first_t - range_start).astype(np.float64) / 1000
        to_end = (range_end - stats.last_t).astype(np.float64) / 1000
        sampled = (stats.last_t - stats.first_t).astype(np.float64) / 1000
        average = sampled / (stats.count - 1).astype(np.float64)
        if is_counter:
            clamp = (result > 0) & (stats.first_v >= 0)
            to_zero = sampled * (stats.first_v / result)
            to_start = np.where(clamp & (to_zero < to_start), to_zero, to_start)
        threshold = average * 1.1
        half = average / 2
        interval = sampled + np.where(to_start < threshold, to_start, half)
        interval = interval + np.where(to_end < threshold, to_end, half)
        factor = interval / sampled
        if isinstance(is_rate, np.ndarray):
            factor = np.where(is_rate, factor / _range_seconds_many(range_ms), factor)
        elif is_rate:
            factor = factor / _range_seconds_many(range_ms)
        out = result * factor
    return np.where(present, out, np.nan), present


def _range_seconds_many(range_ms: I64) -> F64:
    """:func:`range_seconds` over an array."""
    whole, rest = np.divmod(range_ms, 1000)
    return whole.astype(np.float64) + (rest * 1_000_000).astype(np.float64) / 1e9
