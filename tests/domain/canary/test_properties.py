"""Properties of the judge that hold for any samples (Hypothesis)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy.stats import rankdata

from opsplane.domain.canary import (
    AllTiedError,
    Classification,
    Direction,
    Label,
    MannWhitneyClassifier,
    MetricResult,
    RankSumShift,
    Samples,
    score,
)
from opsplane.domain.canary.stats import cles
from opsplane.domain.canary.zeroin import TOLERANCE

# Small integers scaled by a quarter make ties (within and across samples) common.
VALUES = st.integers(0, 40).map(lambda v: v / 4) | st.floats(0.001, 100, allow_subnormal=False)
SAMPLE = st.lists(VALUES, min_size=1, max_size=25).map(lambda v: np.array(v, dtype=np.float64))
MIRROR: dict[Label, Label] = {"High": "Low", "Low": "High"}


def reference_diff(mu: float, quantile: float, x: Samples, y: Samples) -> float | None:
    """``MannWhitney.wilcoxonDiff`` as Kayenta writes it: rank everything again (``None`` where
    Kayenta throws because every observation is tied)."""
    nx, ny = len(x), len(y)
    ranks = rankdata(np.concatenate((x - mu, y)))
    _, ties = np.unique(ranks, return_counts=True)
    dz = float(np.sum(ranks[:nx])) - nx * (nx + 1) / 2 - nx * ny / 2
    correction = 0.0 if dz == 0 else math.copysign(0.5, dz)
    tie_sum = float(np.sum(ties.astype(np.float64) ** 3 - ties))
    sigma = math.sqrt((nx * ny / 12) * ((nx + ny + 1) - tie_sum / ((nx + ny) * (nx + ny - 1))))
    if sigma == 0:
        return None
    return (dz - correction) / sigma - quantile


@settings(max_examples=300, deadline=None)
@given(x=SAMPLE, y=SAMPLE, data=st.data())
def test_the_counting_root_function_equals_reranking(
    x: Samples, y: Samples, data: st.DataObject
) -> None:
    """The fast ``diff`` (sorted samples + searchsorted) is Kayenta's re-ranking, bit for bit,
    also at shifts that make experiment and control values tie."""
    mu = data.draw(st.sampled_from([0.0, float(x[0] - y[0]), float(x[-1] - y[0]) / 2, 0.25]))
    quantile = data.draw(st.sampled_from([0.0, 2.3263478740408408, -1.959963984540054]))
    expected = reference_diff(mu, quantile, x, y)
    if expected is None:
        with pytest.raises(AllTiedError):
            RankSumShift(x, y).diff(mu, quantile)
    else:
        assert RankSumShift(x, y).diff(mu, quantile) == expected


@given(experiment=SAMPLE, control=SAMPLE)
def test_cles_equals_kayentas_rank_formula(experiment: Samples, control: Samples) -> None:
    """``EffectSizes.cles`` from average ranks, bit for bit (U is counted, not ranked)."""
    m, n = len(experiment), len(control)
    r1 = float(np.sum(rankdata(np.concatenate((experiment, control)))[:m]))
    assert cles(control, experiment) == (2 * r1 - m * (m + 1)) / (2 * n * m)


@settings(deadline=None)
@given(x=SAMPLE, data=st.data())
def test_identical_samples_always_pass(x: Samples, data: st.DataObject) -> None:
    """The same values in any order are ``identical`` (``MannWhitneyClassifier.classify``)."""
    shuffled = data.draw(st.permutations(x.tolist()))
    direction = data.draw(st.sampled_from(["increase", "decrease", "either"]))
    result = MannWhitneyClassifier(0.25, 0.98).classify(x, np.array(shuffled), direction)
    assert result.label == "Pass"
    assert not result.critical


def classify(control: Samples, experiment: Samples, direction: Direction) -> Classification | None:
    """The judge's classifier; ``None`` where Kayenta reports Error (every observation tied at
    an end of the search range, e.g. one value on each side)."""
    try:
        return MannWhitneyClassifier(0.25, 0.98).classify(control, experiment, direction)
    except AllTiedError:
        return None


def decided_clearly(forward: Classification | None, backward: Classification | None) -> bool:
    """Both ways round tested, and neither decision near the line.

    Near the line means within the root finder's tolerance (1e-4, x10) of a bound, or of a
    mean ratio of 1; and the bound itself is uncertain: the estimate is a root of a step
    function that is flat at 0 around the median difference, and R and Kayenta return wherever
    the root finder lands on that flat, which differs when the samples are swapped. So the
    interval's ends must clear the bound computed from either run's estimate.
    """
    if forward is None or backward is None:
        return False
    if forward.test is None or backward.test is None:
        return forward.test is None and backward.test is None
    estimates = (abs(forward.test.estimate), abs(backward.test.estimate))
    low, high = 0.25 * min(estimates) - 10 * TOLERANCE, 0.25 * max(estimates) + 10 * TOLERANCE
    ends = (
        forward.test.ci_lower,
        -forward.test.ci_upper,
        backward.test.ci_lower,
        -backward.test.ci_upper,
    )
    return all(not low <= end <= high for end in ends) and abs(forward.effect_size - 1) > 1e-9


@settings(max_examples=300, deadline=None)  # ~1 ms each, but a loaded machine trips 200 ms
@given(control=SAMPLE, experiment=SAMPLE)
def test_swapping_control_and_experiment_mirrors_the_direction(
    control: Samples, experiment: Samples
) -> None:
    """What is High one way round is Low the other, and a Pass stays a Pass.

    Borderline samples are left out (see :func:`decided_clearly`): the root finder does not
    take mirrored steps on the mirrored problem. So are samples that Kayenta cannot test at all
    (Error).
    """
    forward = classify(control, experiment, "either")
    backward = classify(experiment, control, "either")
    assume(decided_clearly(forward, backward))
    assert forward is not None
    assert backward is not None
    assert backward.label == MIRROR.get(forward.label, forward.label)
    if forward.label in MIRROR:
        only_other_way = "decrease" if forward.label == "High" else "increase"
        one_way = classify(control, experiment, only_other_way)
        assert one_way is not None
        assert one_way.label == "Pass"


LABELS = st.sampled_from(["Pass", "High", "Low", "Nodata", "NodataFailMetric", "Error"])
RESULT = st.builds(
    lambda label, groups, critical, muted: MetricResult(
        "m", tuple(groups), Classification(label, "r", critical=critical), muted=muted
    ),
    LABELS,
    st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=2, unique=True),
    st.booleans(),
    st.booleans(),
)


@given(results=st.lists(RESULT, max_size=12), weights=st.sampled_from([{}, {"a": 60.0, "b": 40.0}]))
def test_scores_stay_between_0_and_100_and_ignore_muted_metrics(
    results: list[MetricResult], weights: dict[str, float]
) -> None:
    scored = score(results, weights)
    assert 0.0 <= scored.score <= 100.0
    assert score([r for r in results if not r.muted], weights).score == scored.score
