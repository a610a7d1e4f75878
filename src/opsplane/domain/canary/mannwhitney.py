"""The Mann-Whitney (Wilcoxon rank-sum) confidence interval and estimate of a location shift.

A port of Kayenta's ``kayenta-mannwhitney`` ``MannWhitney.scala``, itself a port of R's
``wilcox.test(x, y, conf.int = TRUE, exact = FALSE, correct = TRUE)``: the normal approximation
with continuity and tie corrections, whose roots in the shift ``mu`` give the interval and the
estimate of ``x - y`` (experiment minus control). The roots are found with R's Brent solver
(:mod:`.zeroin`).

``wilcoxonDiff`` re-ranks ``x - mu`` together with ``y`` at every step of the root finder. Here
both samples are sorted once and each step counts, with ``searchsorted``, how many control
values lie below and at each distinct shifted experiment value; the rank sum, and the sizes of
tied groups, follow from those counts. The result is the same number to the last bit (sums of
half-integers are exact in doubles). The three root searches (two bounds and the estimate) run
in lock step and share one ``searchsorted`` per round. Together this is what lets the judge
classify 100 metrics of 1,000 samples in about 100 ms (``bench/canary.py``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from opsplane.domain.canary.model import ShiftTest
from opsplane.domain.canary.types import Samples
from opsplane.domain.canary.zeroin import Search, zeroin_steps


class AllTiedError(ValueError):
    """Every observation has the same value: the statistic has no variance."""

    def __init__(self) -> None:
        super().__init__("cannot compute confidence interval when all observations are tied")


Counts = npt.NDArray[np.int64]


def _tie_sum(sizes: Counts) -> float:
    """``sum(t^3 - t)`` over the sizes ``t`` of groups of equal values (exact integers)."""
    return float((sizes**3 - sizes).sum())


def _runs(ordered: Samples) -> tuple[Samples, Counts]:
    """The distinct values of a sorted array, and how often each occurs."""
    starts = np.flatnonzero(np.concatenate(([True], ordered[1:] != ordered[:-1])))
    counts = np.diff(np.append(starts, len(ordered))).astype(np.int64)
    return ordered[starts], counts


class RankSumShift:
    """The rank-sum statistic of ``x - mu`` against ``y``, for any shift ``mu``.

    ``x`` is kept as its distinct values and their counts, so tie-heavy samples (error counts)
    cost as many lookups as they have distinct values.

    Args:
        x: The experiment sample (no NaNs, not empty).
        y: The control sample (no NaNs, not empty).
    """

    def __init__(self, x: Samples, y: Samples) -> None:
        # a stable sort is linear on the sorted samples the classifier passes
        self.x_values, self.x_counts = _runs(np.sort(x, kind="stable"))
        self.y = np.sort(y, kind="stable")
        self.nx, self.ny = len(x), len(y)
        self._y_or_nan = np.append(self.y, np.nan)  # searchsorted may point past the end
        self._x_ties = _tie_sum(self.x_counts)
        self._y_ties = _tie_sum(_runs(self.y)[1])

    def u_statistic(self) -> float:
        """Mann-Whitney's U of ``x`` at shift 0: pairs with ``x > y``, plus half the ties."""
        below = self.y.searchsorted(self.x_values, "left")
        equal = self.y.searchsorted(self.x_values, "right") - below
        return float(below @ self.x_counts) + float(equal @ self.x_counts) * 0.5

    def diff(self, mu: float, quantile: float) -> float:
        """``MannWhitney.wilcoxonDiff``: the standardised, continuity- and tie-corrected statistic
        at shift ``mu``, minus ``quantile``. It falls as ``mu`` grows; its root at ``quantile``
        0 is the estimate, at the normal quantiles the interval's bounds.

        Raises:
            AllTiedError: every value of ``x - mu`` and ``y`` is the same.
        """
        return self.statistics([mu])[0] - quantile

    def statistics(self, mus: Sequence[float]) -> list[float]:
        """``diff(mu, 0)`` at several shifts, with one ``searchsorted`` for all of them."""
        shifted = self.x_values[np.newaxis, :] - np.asarray(mus, np.float64)[:, np.newaxis]
        below = self.y.searchsorted(shifted, "left")
        across = (self._y_or_nan[below] == shifted).any(axis=1).tolist()
        merged = (shifted[:, 1:] == shifted[:, :-1]).any(axis=1).tolist()
        totals = (below @ self.x_counts).tolist()
        half_pairs = self.nx * self.ny / 2
        out = []
        for row, total in enumerate(totals):
            if across[row] or merged[row]:
                # ties across the samples (or x values merged by rounding): count them exactly
                equal = self.y.searchsorted(shifted[row], "right") - below[row]
                dz = (float(total) + float(equal @ self.x_counts) * 0.5) - half_pairs
                ties = self._merged_ties(shifted[row], equal)
            else:
                dz = float(total) - half_pairs
                ties = self._x_ties + self._y_ties
            out.append(self._standardise(dz, ties))
        return out

    def _standardise(self, dz: float, ties: float) -> float:
        """``(dz - correction) / sigma`` with the tie-corrected variance of the rank sum."""
        nx, ny = self.nx, self.ny
        correction = 0.0 if dz == 0 else math.copysign(0.5, dz)
        n = nx + ny
        variance = (nx * ny / 12) * ((n + 1) - ties / (n * (n - 1)))
        if variance <= 0:
            raise AllTiedError
        return (dz - correction) / math.sqrt(variance)

    def _merged_ties(self, shifted: Samples, equal: npt.NDArray[np.intp]) -> float:
        """``sum(t^3 - t)`` over the tied groups of ``shifted`` and ``y`` together: equal
        shifted values form one group, which merges with the ``y`` values equal to it."""
        starts = np.flatnonzero(np.concatenate(([True], shifted[1:] != shifted[:-1])))
        in_x = np.add.reduceat(self.x_counts, starts)
        in_y = equal[starts].astype(np.int64)
        return _tie_sum(in_x + in_y) - _tie_sum(in_y) + self._y_ties

    def interval(self, confidence_level: float) -> ShiftTest:
        """``MannWhitney.calculateConfidenceInterval``: the interval and the estimate.

        The bounds are the roots at ``+z`` and ``-z``, ``z = |qnorm((1 - level) / 2)|``,
        searched between ``min(x) - max(y)`` and ``max(x) - min(y)``; a bound whose function
        does not change sign over that range is the range's end. The estimate is the root at 0,
        searched without that check, as upstream. The three searches run side by side, so each
        round evaluates the statistic at up to three shifts in one go; each search takes
        exactly the steps it would take alone.
        """
        mu_min = float(self.x_values[0] - self.y[-1])
        mu_max = float(self.x_values[-1] - self.y[0])
        z = z_quantile((1.0 - confidence_level) / 2)
        at_min, at_max = self.statistics([mu_min, mu_max])
        roots: dict[str, float] = {}
        searches: dict[str, tuple[float, Search]] = {}
        for key, quantile in (("lower", -z), ("upper", z)):  # findRoot
            f_lower, f_upper = at_min - quantile, at_max - quantile
            if f_lower <= 0:
                roots[key] = mu_min
            elif f_upper >= 0:
                roots[key] = mu_max
            else:
                searches[key] = (quantile, zeroin_steps(mu_min, mu_max, f_lower, f_upper))
        searches["estimate"] = (0.0, zeroin_steps(mu_min, mu_max, at_min - 0.0, at_max - 0.0))
        roots.update(self._solve_together(searches))
        return ShiftTest(roots["lower"], roots["upper"], roots["estimate"])

    def _solve_together(self, searches: dict[str, tuple[float, Search]]) -> dict[str, float]:
        """Run root searches of ``diff(mu, quantile)`` in lock step; their roots by key."""
        roots: dict[str, float] = {}
        pending: dict[str, float] = {}
        for key, (_, search) in searches.items():
            try:
                pending[key] = next(search)
            except StopIteration as done:
                roots[key] = done.value
        while pending:
            values = self.statistics(list(pending.values()))
            for key, value in zip(list(pending), values, strict=True):
                quantile, search = searches[key]
                try:
                    pending[key] = search.send(value - quantile)
                except StopIteration as done:
                    del pending[key]
                    roots[key] = done.value
        return roots


def z_quantile(p: float) -> float:
    """The standard normal quantile at ``p``.

    commons-math ``NormalDistribution.inverseCumulativeProbability`` upstream; here
    ``scipy.special.ndtri``, which is what ``scipy.stats.norm.ppf`` computes (without importing
    all of ``scipy.stats``, ~1.5 s). Imported here, on first use: ``scipy.special`` alone takes
    ~150 ms, which every CLI command would pay (specs import the delivery policy, which names
    the judge's config), though only a judgement needs it.
    """
    from scipy.special import ndtri  # noqa: PLC0415  # deferred: see above

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
