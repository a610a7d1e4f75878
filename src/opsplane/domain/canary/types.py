"""Array types of the canary judge."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeAlias

import numpy as np
import numpy.typing as npt

Samples: TypeAlias = npt.NDArray[np.float64]
"""One metric's samples for one side (control or experiment), as float64."""

Mask: TypeAlias = npt.NDArray[np.bool_]
"""One flag per sample, e.g. "is an outlier"."""


def as_samples(values: Iterable[float] | Samples) -> Samples:
    """``values`` as a one-dimensional float64 array (no copy when it already is one)."""
    return np.asarray(values if isinstance(values, np.ndarray) else list(values), np.float64)
