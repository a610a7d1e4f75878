"""Per-metric classifiers: Mann-Whitney (what the judge uses) and mean inequality.

Ports of Kayenta's ``classifiers/metric/MannWhitneyClassifier.scala`` and
``MeanInequalityClassifier.scala``. Both take the control (baseline) and experiment (canary)
samples after NaN and outlier handling, and return a :class:`Classification`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from opsplane.domain.canary import reasons
from opsplane.domain.canary.mannwhitney import mann_whitney_u_test
from opsplane.domain.canary.model import (
    Classification,
    Direction,
    EffectSize,
    Label,
    NanStrategy,
    ShiftTest,
)
from opsplane.domain.canary.stats import cles, mean, mean_ratio
from opsplane.domain.canary.transforms import add_gaussian_noise
from opsplane.domain.canary.types import Samples

NOISE_SCALE = 1e-5
"""``MannWhitneyClassifier.addGaussianNoise``: noise stdev = the constant value x 1e-5."""

NOISE_SEED = 0
"""Seed of the noise added to two constant samples. Kayenta's ``RandomUtils`` is unseeded; a
fixed seed keeps a judgement reproducible (the outcome does not depend on the draw)."""


def _no_data(
    name: str, nan_strategy: NanStrategy, critical: bool, data_required: bool, deviation: float
) -> Classification:
    """The start of both classifiers' ``classify``: an empty control or experiment sample.

    With NaN strategy ``replace`` Kayenta calls it a Pass; else ``Nodata`` (critical when the
    metric is), or ``NodataFailMetric`` when the metric must have data but is not critical.
    """
    if nan_strategy == "replace":
        return Classification("Pass", reasons.no_data_replaced(name))
    if data_required and not critical:
        return Classification("NodataFailMetric", reasons.no_data(name, required=True))
    return Classification("Nodata", reasons.no_data(name), deviation, critical=critical)


@dataclass(frozen=True, slots=True)
class _Comparison:
    label: Label
    test: ShiftTest
    deviation: float
    effect_size: float


@dataclass(frozen=True, slots=True)
class MannWhitneyClassifier:
    """Classify by the Mann-Whitney interval of the shift, then by the size of the effect.

    The experiment is High when the whole ``conf_level`` interval of the shift lies above
    ``tolerance x |estimate|`` and the effect size reaches ``allowed_increase``; Low when it lies
    below ``-tolerance x |estimate|`` and the effect size is at most ``allowed_decrease``. An
    undefined effect size (a mean of 0) skips the effect-size check. The constructor defaults are
    the Scala class's; NetflixACAJudge uses ``tolerance=0.25, conf_level=0.98``.
    """

    tolerance: float = 0.25
    conf_level: float = 0.95
    effect_size: EffectSize = field(default_factory=EffectSize)
    seed: int = NOISE_SEED

    def classify(
        self,
        control: Samples,
        experiment: Samples,
        direction: Direction = "either",
        nan_strategy: NanStrategy = "remove",
        *,
        critical: bool = False,
        data_required: bool = False,
        name: str = "metric",
    ) -> Classification:
        """``MannWhitneyClassifier.classify``.

        Raises:
            AllTiedError: every observation is the same after the noise (the judge reports
                the metric as ``Error``).
        """
        if len(experiment) == 0 or len(control) == 0:
            return _no_data(name, nan_strategy, critical, data_required, 1.0)
        experiment, control = np.sort(experiment), np.sort(control)
        if np.array_equal(experiment, control):
            return Classification("Pass", reasons.identical())
        if experiment[0] == experiment[-1] == control[0] == control[-1]:
            return Classification("Pass", reasons.one_value(float(experiment[0])))
        comparison = self._compare(control, experiment, direction)
        return self._with_criticality(comparison, critical=critical, name=name, direction=direction)

    def _compare(self, control: Samples, experiment: Samples, direction: Direction) -> _Comparison:
        """``MannWhitneyClassifier.compare``: the test, the bounds and the effect size."""
        if experiment[0] == experiment[-1] and control[0] == control[-1]:  # both sorted
            # both samples constant: ranks would all tie, so Kayenta jitters them
            rng = np.random.default_rng(self.seed)
            experiment = add_gaussian_noise(experiment, experiment[0] * NOISE_SCALE, rng)
            control = add_gaussian_noise(control, control[0] * NOISE_SCALE, rng)
        test = mann_whitney_u_test(experiment, control, self.conf_level)
        bound = self.tolerance * abs(test.estimate)  # calculateBounds: a share of the estimate
        effect = self._effect(control, experiment)
        high = (
            direction in ("increase", "either")
            and test.ci_lower > bound
            and (math.isnan(effect) or effect >= self.effect_size.allowed_increase)
        )
        low = (
            direction in ("decrease", "either")
            and test.ci_upper < -bound
            and (math.isnan(effect) or effect <= self.effect_size.allowed_decrease)
        )
        label: Label = "High" if high else "Low" if low else "Pass"
        return _Comparison(label, test, mean_ratio(control, experiment), effect)

    def _effect(self, control: Samples, experiment: Samples) -> float:
        """``calculateEffectSize``: CLES or the mean ratio."""
        if self.effect_size.measure == "cles":
            return cles(control, experiment)
        return mean_ratio(control, experiment)

    def _with_criticality(
        self, c: _Comparison, *, critical: bool, name: str, direction: Direction
    ) -> Classification:
        """The end of ``classify``: a critical metric fails the run when its effect reaches the
        critical threshold (or cannot be computed)."""
        thresholds = self.effect_size
        undefined = math.isnan(c.effect_size)
        fails_run = critical and (
            (c.label == "High" and (undefined or c.effect_size >= thresholds.critical_increase))
            or (c.label == "Low" and (undefined or c.effect_size <= thresholds.critical_decrease))
        )
        reason = reasons.compared(
            name,
            c.label,
            c.test,
            tolerance=self.tolerance,
            conf_level=self.conf_level,
            effect=c.effect_size,
            thresholds=thresholds,
            critical=fails_run,
            direction=direction,
        )
        return Classification(
            c.label, reason, c.deviation, critical=fails_run, effect_size=c.effect_size, test=c.test
        )


@dataclass(frozen=True, slots=True)
class MeanInequalityClassifier:
    """High when the experiment's mean is greater, Low when it is smaller (no statistics).

    Kayenta keeps it for benchmarking (``MeanInequalityClassifier.scala``); the judge does not
    use it.
    """

    def classify(
        self,
        control: Samples,
        experiment: Samples,
        direction: Direction = "either",
        nan_strategy: NanStrategy = "remove",
        *,
        critical: bool = False,
        data_required: bool = False,
        name: str = "metric",
    ) -> Classification:
        """``MeanInequalityClassifier.classify``."""
        if len(experiment) == 0 or len(control) == 0:
            return _no_data(name, nan_strategy, critical, data_required, 0.0)
        e, c = mean(experiment), mean(control)
        ratio = e / c if c else math.nan
        if direction in ("increase", "either") and e > c:
            reason = "The Canary mean was greater than the Baseline mean"
            return Classification("High", reason, ratio, critical=critical)
        if direction in ("decrease", "either") and e < c:
            reason = "The Canary mean was less than the Baseline mean"
            return Classification("Low", reason, ratio, critical=critical)
        return Classification("Pass", "The Canary and Baseline means do not differ that way")
