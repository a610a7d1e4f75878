"""Descriptive statistics and effect sizes (Kayenta ``stats/DescriptiveStatistics.scala`` and
``stats/EffectSizes.scala``).

Kayenta computes these with Apache commons-math; numpy gives the same numbers: commons-math's
``Percentile`` with ``EstimationType.R_7`` is numpy's default ``linear`` method.
"""

from __future__ import annotations

import math

import numpy as np

from opsplane.domain.canary.mannwhitney import RankSumShift
from opsplane.domain.canary.model import Summary
from opsplane.domain.canary.types import Samples


def summary(values: Samples) -> Summary:
    """Min, max, mean, sample standard deviation and count (``DescriptiveStatistics.summary``).

    An empty sample summarises to zeros, not NaN; one value has a standard deviation of 0
    (commons-math's ``StatUtils.variance`` of one value is 0).
    """
    n = len(values)
    if n == 0:
        return Summary(0.0, 0.0, 0.0, 0.0, 0)
    std = math.sqrt(float(np.var(values, ddof=1))) if n > 1 else 0.0
    return Summary(float(np.min(values)), float(np.max(values)), mean(values), std, n)


def mean(values: Samples) -> float:
    """The arithmetic mean; NaN for an empty sample (``StatUtils.mean``)."""
    return float(np.mean(values)) if len(values) else math.nan


def percentile(values: Samples, p: float) -> float:
    """``DescriptiveStatistics.percentile``: the R-7 estimate; NaN if empty."""
    return float(np.percentile(values, p)) if len(values) else math.nan


def mean_ratio(control: Samples, experiment: Samples) -> float:
    """``EffectSizes.meanRatio``: ``mean(experiment) / mean(control)``; NaN if a mean is 0."""
    control_mean, experiment_mean = mean(control), mean(experiment)
    if control_mean == 0.0 or experiment_mean == 0.0:
        return math.nan
    return experiment_mean / control_mean


def cohen_d(control: Samples, experiment: Samples) -> float:
    """Cohen's d with the pooled sample standard deviation (``EffectSizes.cohenD``).

    Symmetric (the absolute difference of the means). NetflixACAJudge does not use it.
    """
    c, e = summary(control), summary(experiment)
    pooled = math.sqrt(
        ((e.count - 1) * e.std**2 + (c.count - 1) * c.std**2) / (c.count + e.count - 2)
    )
    return abs(e.mean - c.mean) / pooled


def cles(control: Samples, experiment: Samples) -> float:
    """The common-language effect size: the chance that an experiment value beats a control value.

    Vargha and Delaney's A from the rank sum of the experiment (``EffectSizes.cles``; A. Vargha
    and H. D. Delaney, J. Educ. Behav. Stat. 25(2):101-132, 2000): 0.5 is no effect, 1.0 means
    every experiment value is higher.

    Kayenta ranks both samples (average ranks for ties) and computes
    ``(2 * r1 - m * (m + 1)) / (2 * n * m)`` from the experiment's rank sum ``r1``; ``2 * r1 -
    m * (m + 1)`` is twice Mann-Whitney's U, an exact integer, so ``U / (n * m)`` is the same
    double. U comes from the sorted-sample counting the interval uses (a test checks it against
    ``scipy.stats.rankdata``).
    """
    return RankSumShift(experiment, control).u_statistic() / (len(control) * len(experiment))
