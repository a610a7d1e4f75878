"""Why a metric got its classification, in one line.

Kayenta gives a reason only for some outcomes (``"<metric> was classified as High"``, ``"Missing
data for <metric>"``, ``"The Canary and Baseline data are identical"``). opsplane gives one for
every metric, with the numbers that decided it, and keeps Kayenta's words at the start where
Kayenta has a reason.
"""

from __future__ import annotations

import math

from opsplane.domain.canary.model import Direction, EffectSize, Label, ShiftTest


def num(value: float) -> str:
    """A number for people: 6 significant digits, ``NaN`` as ``undefined``."""
    return "undefined" if math.isnan(value) else f"{value:.6g}"


def no_data(name: str, *, required: bool = False) -> str:
    """An empty control or experiment sample (``Missing data for <metric>``)."""
    if required:
        return f"Missing data for {name}, which must have data (mustHaveData)"
    return f"Missing data for {name}"


def no_data_replaced(name: str) -> str:
    """An empty sample with NaN strategy ``replace``, which Kayenta counts as a Pass."""
    return f"Missing data for {name}; counted as Pass because its nanStrategy is replace"


def identical() -> str:
    """Both samples hold the same values."""
    return "The Canary and Baseline data are identical"


def one_value(value: float) -> str:
    """Every sample has the same value."""
    return f"Every Canary and Baseline value is {num(value)}"


def compared(
    name: str,
    label: Label,
    test: ShiftTest,
    *,
    tolerance: float,
    conf_level: float,
    effect: float,
    thresholds: EffectSize,
    critical: bool,
    direction: Direction,
) -> str:
    """The outcome of the Mann-Whitney comparison, with the interval, the bound and the effect."""
    bound = tolerance * abs(test.estimate)
    interval = (
        f"{conf_level:.0%} CI of the shift [{num(test.ci_lower)}, {num(test.ci_upper)}], "
        f"estimate {num(test.estimate)}, bounds +/-{num(bound)}"
    )
    measure = thresholds.measure
    if label == "Pass":
        why = _why_pass(test, bound, effect, thresholds, direction)
        return f"{name} was classified as Pass: {interval}; {measure} {num(effect)}; {why}"
    allowed = thresholds.allowed_increase if label == "High" else thresholds.allowed_decrease
    suffix = " (Critical)" if critical else ""
    effect_text = (
        f"{measure} undefined (a mean is 0), so not checked"
        if math.isnan(effect)
        else f"{measure} {num(effect)} vs allowed {num(allowed)}"
    )
    return f"{name} was classified as {label}{suffix}: {interval}; {effect_text}"


def _why_pass(
    test: ShiftTest, bound: float, effect: float, thresholds: EffectSize, direction: Direction
) -> str:
    """What kept a metric at Pass: no clear shift, the direction, or a small effect."""
    if test.ci_lower > bound:
        if direction == "decrease":
            return "a rise, which direction decrease ignores"
        return f"a rise, but smaller than the allowed increase {num(thresholds.allowed_increase)}"
    if test.ci_upper < -bound:
        if direction == "increase":
            return "a fall, which direction increase ignores"
        return f"a fall, but smaller than the allowed decrease {num(thresholds.allowed_decrease)}"
    return "no shift beyond the bounds at this confidence"
