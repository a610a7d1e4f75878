"""The Kayenta conformance vectors in ``../shared/conformance/kayenta`` (see its README.md).

Vectors are read at collection time so each case becomes its own test; when the shared
directory is absent the lists are empty and each module's "every case is collected" test skips
with a clear message (through :func:`tests.conftest.shared_path`).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from opsplane.domain.canary import Samples
from tests.conftest import SHARED, shared_path

KAYENTA = SHARED / "conformance" / "kayenta"


def load(name: str) -> dict[str, Any]:
    """One vector file, or ``{}`` when the shared data is absent."""
    path = KAYENTA / name
    if not path.exists():
        return {}
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def require(name: str) -> Path:
    """The vector file's path; skip (clearly) when it is absent."""
    return shared_path("conformance", "kayenta", name)


def number(value: float | str) -> float:
    """A vector number: ``"NaN"`` stands for IEEE NaN."""
    return math.nan if value == "NaN" else float(value)


def samples(values: list[float | str]) -> Samples:
    """A vector array as float64 samples."""
    return np.array([number(v) for v in values], dtype=np.float64)


def same(actual: float, expected: float | str, tol: float = 0.0) -> bool:
    """Equal within ``tol``, NaN equal to NaN."""
    want = number(expected)
    if math.isnan(want):
        return math.isnan(actual)
    return abs(actual - want) <= tol
