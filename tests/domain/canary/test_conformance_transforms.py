"""Outlier detectors, NaN handling and statistics agree with Kayenta's ``DetectorSuite``,
``TransformSuite`` and ``StatisticSuite`` (``detector_transform_cases.json``,
``statistics_cases.json``).
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest

from opsplane.domain.canary.stats import cles, cohen_d, mean_ratio, percentile, summary
from opsplane.domain.canary.transforms import (
    add_gaussian_noise,
    iqr_outliers,
    ksigma_outliers,
    remove_nans,
    remove_outliers,
    replace_nans,
)
from opsplane.domain.canary.types import Mask, Samples
from tests.domain.canary.vectors import load, require, same, samples

DETECTORS = load("detector_transform_cases.json")
STATISTICS = load("statistics_cases.json")
DETECTOR_CASES: list[dict[str, Any]] = DETECTORS.get("detector_cases", [])
TRANSFORM_CASES: list[dict[str, Any]] = DETECTORS.get("transform_cases", [])
SUMMARY_CASES: list[dict[str, Any]] = STATISTICS.get("summary_cases", [])
PERCENTILE_CASES: list[dict[str, Any]] = STATISTICS.get("percentile_cases", [])
EFFECT_CASES: list[dict[str, Any]] = STATISTICS.get("effect_size_cases", [])


def test_every_detector_transform_and_statistics_vector_is_collected() -> None:
    require("detector_transform_cases.json")
    require("statistics_cases.json")
    assert (len(DETECTOR_CASES), len(TRANSFORM_CASES)) == (6, 6)
    assert (len(SUMMARY_CASES), len(PERCENTILE_CASES), len(EFFECT_CASES)) == (3, 5, 9)


def detect(case: dict[str, Any], data: Samples) -> Mask:
    params = case["params"]
    if case["detector"] == "KSigma":
        return ksigma_outliers(data, params["k"])
    return iqr_outliers(data, params["factor"], reduce_sensitivity=params["reduceSensitivity"])


@pytest.mark.parametrize("case", DETECTOR_CASES, ids=lambda c: c["name"])
def test_outlier_detection_agrees_with_kayenta(case: dict[str, Any]) -> None:
    assert detect(case, samples(case["data"])).tolist() == case["expected_outlier"]


def transform(op: str, data: Samples) -> Samples:
    """Run a transform named as in the vector file."""
    if op == "removeNaNs":
        return remove_nans(data)
    if op.startswith("replaceNaNs"):
        return replace_nans(data, float(re.findall(r"value=([\d.]+)", op)[0]))
    if op.startswith("removeOutliers(IQR"):
        return remove_outliers(data, iqr_outliers(data, 1.5, reduce_sensitivity=False))
    return remove_outliers(data, ksigma_outliers(data, 3.0))


@pytest.mark.parametrize(
    "case", [c for c in TRANSFORM_CASES if "Noise" not in c["name"]], ids=lambda c: c["name"]
)
def test_transforms_agree_with_kayenta(case: dict[str, Any]) -> None:
    assert transform(case["op"], samples(case["data"])).tolist() == case["expected"]


@pytest.mark.parametrize(
    "case", [c for c in TRANSFORM_CASES if "Noise" in c["name"]], ids=lambda c: c["name"]
)
def test_gaussian_noise_has_the_asked_mean_and_spread(case: dict[str, Any]) -> None:
    """Upstream draws 5 values from the JVM's Random (seed 12345), so the vector only holds a
    property; with another generator 5 draws say little, so the spread is checked on 10,000."""
    expected = case["expected"]
    rng = np.random.default_rng(12345)
    assert len(add_gaussian_noise(samples(case["data"]), 1.0, rng, mean=1.0)) == expected["length"]
    noisy = add_gaussian_noise(np.zeros(10_000), 1.0, rng, mean=1.0)
    assert float(np.mean(noisy)) == pytest.approx(expected["mean_approx"], abs=expected["mean_tol"])
    std = float(np.std(noisy, ddof=1))
    assert std == pytest.approx(expected["sample_stdev_approx"], abs=expected["stdev_tol"])


@pytest.mark.parametrize("case", SUMMARY_CASES, ids=lambda c: c["name"])
def test_summary_statistics_agree_with_kayenta(case: dict[str, Any]) -> None:
    stats, expected = summary(samples(case["data"])), case["expected"]
    assert (stats.min, stats.max, stats.mean, stats.count) == (
        expected["min"],
        expected["max"],
        expected["mean"],
        expected["count"],
    )
    assert stats.std == pytest.approx(expected["std"], abs=expected.get("std_tol", 0.0))


@pytest.mark.parametrize("case", PERCENTILE_CASES, ids=lambda c: c["name"])
def test_percentiles_are_r7_estimates(case: dict[str, Any]) -> None:
    data = samples(case["data"])
    for point in case["expected"]:
        assert percentile(data, point["p"]) == pytest.approx(
            point["value"], abs=point.get("tol", 1e-9)
        )


def effect(case: dict[str, Any]) -> float:
    if case["measure"] == "cohenD":
        return cohen_d(samples(case["b"]), samples(case["a"]))
    control, experiment = samples(case["control"]), samples(case["experiment"])
    if case["measure"] == "cles":
        return cles(control, experiment)
    return mean_ratio(control, experiment)


@pytest.mark.parametrize("case", EFFECT_CASES, ids=lambda c: f"{c['name']}: {c['expected']}")
def test_effect_sizes_agree_with_kayenta(case: dict[str, Any]) -> None:
    assert same(effect(case), case["expected"], case.get("tol", 1e-12))
