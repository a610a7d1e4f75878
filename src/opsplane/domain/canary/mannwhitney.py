"""The Mann-Whitney (Wilcoxon rank-sum) confidence interval and estimate of a location shift.

A port of Kayenta's ``kayenta-mannwhitney`` ``MannWhitney.scala``, itself a port of R's
``wilcox.test(x, y, conf.int = TRUE, exact = FALSE, correct = TRUE)``: the normal approximation
with continuity and tie corrections, whose roots in the shift ``mu`` give the interval and the
estimate of ``x - y`` (experiment minus control). The roots are found with R's Brent solver
(:mod:`.zeroin`).

``wilcoxonDiff`` re-ranks ``x - mu`` together with ``y`` at every step of the root finder. Here
both samples are sorted once and each step counts, with ``searchsorted``, how many control
values lie below and at each shifted experiment value; the rank sum, and the sizes of tied
groups, follow from those counts. The result is the same number to the last bit (sums of
half-integers are exact in doubles), for O(n log n) per step instead of a sort, which is what
lets the judge classify 100 metrics of 1,000 samples in a few tens of milliseconds.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from scipy.special import ndtri

from opsplane.domain.canary.model import ShiftTest
from opsplane.domain.canary.types import Samples
from opsplane.domain.canary.zeroin import zeroin


class AllTiedError(ValueError):
    """Every observation has the same value: the statistic has no variance."""

    def __init__(self) -> None:
        super().__init__("cannot compute confidence interval when all observations are tied")


def _tie_sum(counts: Samples) -> float:
    """``sum(t^3 - t)`` over the sizes ``t`` of groups of equal values."""
    return float(np.sum(counts**3 - counts))


class RankSumShift:
    """The rank-sum statistic of ``x - mu`` against ``y``, for any shift ``mu``.

    Args:
        x: The experiment sample (no NaNs, not empty).
        y: The control sample (no NaNs, not empty).
    """

    def __init__(self, x: Samples, y: Samples) -> None:
        self.x = np.sort(x)
        self.y = np.sort(y)
        self.nx, self.ny = len(x), len(y)
        self._x_runs = int(np.count_nonzero(np.diff(self.x))) + 1
        self._x_ties = _tie_sum(np.unique(self.x, return_counts=True)[1].astype(np.float64))
        self._y_ties = _tie_sum(np.unique(self.y, return_counts=True)[1].astype(np.float64))

    def u_statistic(self) -> float:
        """Mann-Whitney's U of ``x`` at shift 0: pairs with ``x > y``, plus half the ties."""
        below = np.searchsorted(self.y, self.x, "left")
        equal = np.searchsorted(self.y, self.x, "right") - below
        return float(np.sum(below)) + float(np.sum(equal)) * 0.5

    def diff(self, mu: float, quantile: float) -> float:
        """``MannWhitney.wilcoxonDiff``: the standardised, continuity- and tie-corrected statistic
        at shift ``mu``, minus ``quantile``. It falls as ``mu`` grows; its root at ``quantile``
        0 is the estimate, at the normal quantiles the interval's bounds.

        Raises:
            AllTiedError: every value of ``x - mu`` and ``y`` is the same.
        """
        nx, ny = self.nx, self.ny
        shifted = self.x - mu
        below = np.searchsorted(self.y, shifted, "left")
        at = self.y[np.minimum(below, ny - 1)] == shifted
        runs = int(np.count_nonzero(np.diff(shifted))) + 1
        if at.any() or runs != self._x_runs:
            # ties across the samples (or x values merged by rounding): count them exactly
            equal = np.searchsorted(self.y, shifted, "right") - below
            dz = (float(np.sum(below)) + float(np.sum(equal)) * 0.5) - nx * ny / 2
            ties = self._merged_ties(shifted, equal)
        else:
            dz = float(np.sum(below)) - nx * ny / 2
            ties = self._x_ties + self._y_ties
        correction = 0.0 if dz == 0 else math.copysign(0.5, dz)
        n = nx + ny
        variance = (nx * ny / 12) * ((n + 1) - ties / (n * (n - 1)))
        if variance <= 0:
            raise AllTiedError
        return (dz - correction) / math.sqrt(variance) - quantile

    def _merged_ties(self, shifted: Samples, equal: npt.NDArray[np.intp]) -> float:
        """``sum(t^3 - t)`` over the tied groups of ``shifted`` and ``y`` together."""
        starts = np.flatnonzero(np.diff(shifted, prepend=np.nan) != 0)
        in_x = np.diff(starts, append=len(shifted)).astype(np.float64)
        in_y = equal[starts].astype(np.float64)
        both = in_x + in_y
        return _tie_sum(both) - _tie_sum(in_y) + self._y_ties

    def interval(self, confidence_level: float) -> ShiftTest:
        """``MannWhitney.calculateConfidenceInterval``: the interval and the estimate.

        The bounds are the roots at ``+z`` and ``-z``, ``z = |qnorm((1 - level) / 2)|``,
        searched between ``min(x) - max(y)`` and ``max(x) - min(y)``; a bound whose function
        does not change sign over that range is the range's end. The estimate is the root at 0,
        searched without that check, as upstream.
        """
        mu_min = float(self.x[0] - self.y[-1])
        mu_max = float(self.x[-1] - self.y[0])
        z = z_quantile((1.0 - confidence_level) / 2)
        lower = self._bound(mu_min, mu_max, -z)
        upper = self._bound(mu_min, mu_max, z)
        estimate = zeroin(
            mu_min, mu_max, self.diff(mu_min, 0.0), self.diff(mu_max, 0.0), self._at(0.0)
        )
        return ShiftTest(lower, upper, estimate)

    def _bound(self, mu_min: float, mu_max: float, quantile: float) -> float:
        """``findRoot`` in ``calculateConfidenceInterval``."""
        f_lower = self.diff(mu_min, quantile)
        f_upper = self.diff(mu_max, quantile)
        if f_lower <= 0:
            return mu_min
        if f_upper >= 0:
            return mu_max
        return zeroin(mu_min, mu_max, f_lower, f_upper, self._at(quantile))

    def _at(self, quantile: float) -> _Diff:
        return _Diff(self, quantile)


class _Diff:
    """``diff`` at a fixed quantile, as the one-argument function the root finder wants."""

    __slots__ = ("quantile", "shift")

    def __init__(self, shift: RankSumShift, quantile: float) -> None:
        self.shift = shift
        self.quantile = quantile

    def __call__(self, mu: float) -> float:
        return self.shift.diff(mu, self.quantile)


def z_quantile(p: float) -> float:
    """The standard normal quantile at ``p``.

    commons-math ``NormalDistribution.inverseCumulativeProbability`` upstream; here
    ``scipy.special.ndtri``, which is what ``scipy.stats.norm.ppf`` computes (without importing
    all of ``scipy.stats``, ~1.5 s).
    """
    return float(ndtri(p))


def wilcoxon_diff(mu: float, quantile: float, x: Samples, y: Samples) -> float:
    """``MannWhitney.wilcoxonDiff(mu, quantile, x, y)`` for one shift."""
    return RankSumShift(x, y).diff(mu, quantile)


def mann_whitney_u_test(x: Samples, y: Samples, confidence_level: float = 0.95) -> ShiftTest:
    """``MannWhitney.mannWhitneyUTest``: interval and estimate of the shift ``x - y``.

    Args:
        x: The experiment sample (no NaNs, not empty).
        y: The control sample (no NaNs, not empty).
        confidence_level: The interval's confidence level, e.g. 0.98.

    Raises:
        AllTiedError: every observation has the same value.
    """
    return RankSumShift(x, y).interval(confidence_level)
