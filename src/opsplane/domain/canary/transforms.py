"""What the judge does to samples before it tests them (Kayenta ``preprocessing/Transforms.scala``,
``detectors/IQRDetector.scala``, ``detectors/KSigmaDetector.scala``).

NetflixACAJudge first handles NaNs (remove them, or replace them with 0.0), then, when a metric
asks for ``outliers.strategy: remove``, drops what an ``IQRDetector(outlierFactor,
reduceSensitivity = true)`` flags (``NetflixACAJudge.handleOutliers``).
"""

from __future__ import annotations

import numpy as np

from opsplane.domain.canary.model import NanStrategy
from opsplane.domain.canary.stats import percentile
from opsplane.domain.canary.types import Mask, Samples


def remove_nans(values: Samples) -> Samples:
    """The values that are not NaN (``Transforms.removeNaNs``)."""
    return values[~np.isnan(values)]


def replace_nans(values: Samples, value: float = 0.0) -> Samples:
    """NaNs replaced by ``value`` (``Transforms.replaceNaNs``; the judge replaces with 0.0)."""
    return np.where(np.isnan(values), value, values)


def handle_nans(values: Samples, strategy: NanStrategy) -> Samples:
    """``NetflixACAJudge.handleNaNs``: remove or replace NaN samples."""
    return remove_nans(values) if strategy == "remove" else replace_nans(values)


def iqr_outliers(values: Samples, factor: float = 1.5, *, reduce_sensitivity: bool = False) -> Mask:
    """Tukey's fences (``IQRDetector``): below ``Q1 - factor*IQR`` or above ``Q3 + factor*IQR``.

    With ``reduce_sensitivity`` (what the judge uses) the fences widen to at least the 1st and
    99th percentiles, so at most the extreme 1% on each side can be flagged. Percentiles are
    R-7 estimates.

    Raises:
        ValueError: ``factor`` is not positive (``require(factor > 0.0)`` upstream).
    """
    if factor <= 0.0:
        msg = "factor must be greater than zero"
        raise ValueError(msg)
    if len(values) == 0:
        return np.zeros(0, np.bool_)
    p25, p75 = percentile(values, 25), percentile(values, 75)
    iqr = p75 - p25
    lower, upper = p25 - factor * iqr, p75 + factor * iqr
    if reduce_sensitivity:
        lower = min(percentile(values, 1), lower)
        upper = max(percentile(values, 99), upper)
    flagged: Mask = (values > upper) | (values < lower)
    return flagged


def ksigma_outliers(values: Samples, k: float = 3.0) -> Mask:
    """More than ``k`` population standard deviations from the mean (``KSigmaDetector``).

    Raises:
        ValueError: ``k`` is not positive.
    """
    if k <= 0.0:
        msg = "k must be greater than zero"
        raise ValueError(msg)
    if len(values) == 0:
        return np.zeros(0, np.bool_)
    flagged: Mask = np.abs(values - np.mean(values)) > np.std(values) * k
    return flagged


def remove_outliers(values: Samples, outliers: Mask) -> Samples:
    """The values a detector did not flag (``Transforms.removeOutliers``)."""
    return values[~outliers]


def add_gaussian_noise(
    values: Samples, stdev: float, rng: np.random.Generator, mean: float = 0.0
) -> Samples:
    """``values`` plus independent N(mean, stdev) noise (``Transforms.addGaussianNoise``).

    Kayenta draws from an unseeded JVM ``Random``; here the caller passes the generator, so a
    judgement is reproducible.
    """
    noise = rng.normal(mean, abs(stdev), len(values))
    out: Samples = values + noise
    return out
