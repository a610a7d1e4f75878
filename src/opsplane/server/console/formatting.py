"""How the console prints numbers and times (Jinja filters; pure functions).

Ratios print as percentages with enough digits to tell 99.9 % from 99.95 %; a missing or
undefined number (no data, 0/0) prints as an em dash rather than ``nan`` or ``0``. Times print
in UTC, and ages keep their two largest units (``3d4h``, ``2h5m``), which is as precise as a
page that refreshes every few seconds can be.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

from opsplane.domain.duration import DAY, HOUR, MINUTE, format_duration
from opsplane.types import Millis

MISSING = "—"
SECOND: Millis = 1_000


def known(value: float | None) -> bool:
    """A number to show: not missing and not NaN."""
    return value is not None and not math.isnan(value)


def percent(ratio: float | None, digits: int = 2) -> str:
    """``0.99873`` -> ``99.87%``; trailing zeros are dropped (``99.9%``, not ``99.90%``)."""
    if ratio is None or not known(ratio):
        return MISSING
    text = f"{ratio * 100:.{digits}f}".rstrip("0").rstrip(".")
    return f"{'0' if text == '-0' else text}%"


def clamp(ratio: float | None) -> float:
    """A ratio for a 0..1 gauge: clipped, and 0 when missing."""
    return min(max(ratio, 0.0), 1.0) if ratio is not None and known(ratio) else 0.0


def objective(value: float) -> str:
    """An objective as written in specs: ``99.9`` -> ``99.9%``."""
    return f"{value:g}%"


def burn(rate: float | None) -> str:
    """A burn rate: ``14.4x``, ``0.52x``; large rates lose their decimals (``120x``)."""
    if rate is None or not known(rate):
        return MISSING
    if abs(rate) >= 100:
        return f"{rate:.0f}x"
    return f"{rate:.2f}".rstrip("0").rstrip(".") + "x"


def approx(span: float | None) -> str:
    """A duration to its two largest units: ``45s``, ``12m``, ``2h5m``, ``3d4h``."""
    if span is None:
        return MISSING
    ms = max(round(span), 0)
    unit = SECOND if ms < HOUR else MINUTE if ms < DAY else HOUR
    rounded = round(ms / unit) * unit
    return format_duration(rounded) if rounded else "0s"


def ago(at: Millis | None, now: Millis) -> str:
    """How long before ``now``: ``5m ago`` (``just now`` under a second)."""
    if at is None:
        return MISSING
    if now - at < SECOND:
        return "just now"
    return f"{approx(now - at)} ago"


def when(at: Millis | None) -> str:
    """A UTC time for people: ``2026-01-01 03:00:05 UTC``."""
    if at is None:
        return MISSING
    return datetime.fromtimestamp(at / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
