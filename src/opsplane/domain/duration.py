"""Prometheus durations: parse ``1h30m`` and print them as Prometheus does.

Durations are whole milliseconds (:data:`Millis`), like ``prometheus/common/model.Duration``.
"""

from __future__ import annotations

import re
from functools import lru_cache

from opsplane.types import Millis

_UNITS: tuple[tuple[str, int], ...] = (
    ("y", 365 * 24 * 3_600_000),
    ("w", 7 * 24 * 3_600_000),
    ("d", 24 * 3_600_000),
    ("h", 3_600_000),
    ("m", 60_000),
    ("s", 1_000),
    ("ms", 1),
)
_PATTERN = re.compile(
    r"^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$"
)

MINUTE: Millis = 60_000
HOUR: Millis = 3_600_000
DAY: Millis = 24 * HOUR


def parse_duration(text: str) -> Millis:
    """Parse a Prometheus duration such as ``5m``, ``1h30m`` or ``4w``.

    Raises:
        ValueError: the text is not a positive Prometheus duration.
    """
    match = _PATTERN.match(text.strip()) if text else None
    if match is None or not any(match.groups()):
        msg = f"invalid duration {text!r}: use Prometheus units such as 5m, 1h, 30d or 4w"
        raise ValueError(msg)
    total = sum(int(v) * mult for v, (_, mult) in zip(match.groups(), _UNITS, strict=True) if v)
    if total <= 0:
        msg = f"invalid duration {text!r}: must be greater than zero"
        raise ValueError(msg)
    return total


@lru_cache(maxsize=1024)
def format_duration(millis: Millis) -> str:
    """Print a duration as ``prometheus/common/model.Duration.String()`` does.

    Years and weeks are only used when they divide the duration exactly, so 28d prints as
    ``4w`` and 30d stays ``30d`` (the Sloth period rule for 28 days is ``ratio_rate4w``).
    """
    if millis == 0:
        return "0s"
    out: list[str] = []
    rest = millis
    for unit, mult in _UNITS:
        if unit in ("y", "w") and rest % mult != 0:
            continue
        count, rest = divmod(rest, mult)
        if count:
            out.append(f"{count}{unit}")
    return "".join(out)
