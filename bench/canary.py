"""Canary judge benchmark: one judgement of 100 metrics x 1,000 samples each (target <= 200 ms).

What is timed is :func:`opsplane.domain.canary.judge` on a Kayenta-style configuration: for each
of the 100 metrics, NaN removal, outlier removal where the metric asks for it (every fifth
metric), summary statistics, the Mann-Whitney 98% interval and estimate of the shift (three
root searches of R's Brent solver over the rank-sum statistic), the effect size, and then the
weighted-sum group score and the verdict. The samples are seeded and shaped like real canary
metrics: log-normal latencies, normal CPU gauges, and Poisson error counts (mostly ties), a
third of them shifted in the canary. The figure is the best of several runs after a warm-up,
as ``timeit`` advises (slower runs measure other processes on the machine); the median is
printed beside it.

Printed beside it, measured in the same run:

- naive: the same interval and estimate computed the plain way, as Kayenta's Scala does, in
  pure Python: every step of the root finder re-sorts and re-ranks the 2,000 values
  (``sorted`` + a loop for average ranks and tie groups), on the first ``--naive`` metrics
  (default 10; all 100 take several seconds), best of 3; its time per metric x 100 is printed
  with the ratio. Its interval and estimate must equal the judge's to the last bit.
- scipy: ``scipy.stats.mannwhitneyu`` on the same 100 pairs, for scale. It computes U and a
  p-value only, without the interval and estimate that the judge needs.

Exits 1 (FAIL) when the judgement takes longer than the target, or the naive port disagrees.

Usage: python bench/canary.py [--metrics N] [--samples N] [--naive N] [--runs N]
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time

import numpy as np
from scipy.stats import mannwhitneyu

from opsplane.domain.canary import (
    CanaryConfig,
    EffectSize,
    MetricConfig,
    ScoreThresholds,
    ShiftTest,
    judge,
    mann_whitney_u_test,
)
from opsplane.domain.canary.mannwhitney import z_quantile
from opsplane.domain.canary.model import CONFIDENCE_LEVEL
from opsplane.domain.canary.zeroin import zeroin

TARGET_MS = 200.0
KINDS = ("latency", "cpu", "errors")


def samples(rng: np.random.Generator, kind: str, n: int, shift: float) -> list[float]:
    """``n`` samples of one kind of metric, moved up by ``shift`` (a fraction)."""
    if kind == "latency":
        values = rng.lognormal(math.log(0.120 * (1 + shift)), 0.35, n)
    elif kind == "cpu":
        values = rng.normal(55 * (1 + shift), 6, n)
    else:
        values = rng.poisson(2.0 * (1 + shift), n).astype(np.float64)
    return values.tolist()


def workload(
    metrics: int, n: int
) -> tuple[CanaryConfig, dict[str, list[float]], dict[str, list[float]]]:
    """A config of ``metrics`` metrics in four groups, with seeded control and experiment."""
    rng = np.random.default_rng(20260101)
    configs, control, experiment = [], {}, {}
    for i in range(metrics):
        kind = KINDS[i % 3]
        name = f"{kind}-{i:03d}"
        configs.append(
            MetricConfig(
                name,
                (f"group-{i % 4}",),
                direction="increase" if kind != "cpu" else "either",
                outlier_strategy="remove" if i % 5 == 0 else "keep",
                critical=i % 10 == 0,
                effect_size=EffectSize.for_measure("meanRatio", allowed_increase=1.05),
            )
        )
        control[name] = samples(rng, kind, n, 0.0)
        experiment[name] = samples(rng, kind, n, 0.3 if i % 3 == 1 else 0.0)
    weights = {"group-0": 40.0, "group-1": 30.0}
    return CanaryConfig(tuple(configs), weights, ScoreThresholds(75, 50)), control, experiment


def naive_diff(mu: float, quantile: float, x: list[float], y: list[float]) -> float:
    """``MannWhitney.wilcoxonDiff`` in pure Python: rank everything again."""
    values = [v - mu for v in x] + y
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    ties = 0
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        ties += (j - i + 1) ** 3 - (j - i + 1)
        i = j + 1
    nx, ny = len(x), len(y)
    dz = sum(ranks[:nx]) - nx * (nx + 1) / 2 - nx * ny / 2
    correction = 0.0 if dz == 0 else math.copysign(0.5, dz)
    sigma = math.sqrt((nx * ny / 12) * ((nx + ny + 1) - ties / ((nx + ny) * (nx + ny - 1))))
    return (dz - correction) / sigma - quantile


def naive_interval(x: list[float], y: list[float], z: float) -> ShiftTest:
    """``MannWhitney.calculateConfidenceInterval`` over :func:`naive_diff`."""
    mu_min, mu_max = min(x) - max(y), max(x) - min(y)

    def root(q: float) -> float:
        f_lower, f_upper = naive_diff(mu_min, q, x, y), naive_diff(mu_max, q, x, y)
        if f_lower <= 0:
            return mu_min
        if f_upper >= 0:
            return mu_max
        return zeroin(mu_min, mu_max, f_lower, f_upper, lambda m: naive_diff(m, q, x, y))

    lower, upper = root(z), root(-z)
    f0, f1 = naive_diff(mu_min, 0.0, x, y), naive_diff(mu_max, 0.0, x, y)
    estimate = zeroin(mu_min, mu_max, f0, f1, lambda m: naive_diff(m, 0.0, x, y))
    return ShiftTest(lower, upper, estimate)


def time_judge(
    config: CanaryConfig,
    control: dict[str, list[float]],
    experiment: dict[str, list[float]],
    runs: int,
) -> tuple[float, float, str]:
    """Best and median milliseconds of ``runs`` judgements (after one warm-up), and the outcome."""
    result = judge(config, control, experiment)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = judge(config, control, experiment)
        times.append((time.perf_counter() - started) * 1000)
    labels = [m.label for m in result.metrics]
    counts = ", ".join(f"{labels.count(lab)} {lab}" for lab in sorted(set(labels)))
    outcome = f"score {result.score:g}, {result.verdict} ({counts})"
    return min(times), statistics.median(times), outcome


def time_naive(
    names: list[str], control: dict[str, list[float]], experiment: dict[str, list[float]]
) -> tuple[float, list[ShiftTest]]:
    """Best milliseconds per metric of 3 naive runs over ``names``, and their results."""
    z = -z_quantile((1 - CONFIDENCE_LEVEL) / 2)
    best, results = math.inf, []
    for _ in range(3):
        started = time.perf_counter()
        results = [naive_interval(experiment[n], control[n], z) for n in names]
        best = min(best, (time.perf_counter() - started) * 1000 / max(len(names), 1))
    return best, results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--metrics", type=int, default=100)
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--naive", type=int, default=10, help="metrics the naive port judges")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    config, control, experiment = workload(args.metrics, args.samples)
    judge_ms, median_ms, outcome = time_judge(config, control, experiment, args.runs)
    names = [m.name for m in config.metrics][: args.naive]
    naive_ms, naive = time_naive(names, control, experiment)
    fast = [
        mann_whitney_u_test(np.array(experiment[n]), np.array(control[n]), CONFIDENCE_LEVEL)
        for n in names
    ]
    agree = naive == fast

    started = time.perf_counter()
    for m in config.metrics:
        mannwhitneyu(experiment[m.name], control[m.name])
    scipy_ms = (time.perf_counter() - started) * 1000

    per_metric = judge_ms / args.metrics
    print(f"canary judge: {args.metrics} metrics x {args.samples:,} samples, {outcome}")
    print(
        f"judge (NetflixACAJudge):  {judge_ms:9.1f} ms  (target <= {TARGET_MS:.0f} ms), "
        f"{per_metric:.2f} ms per metric; median of {args.runs} runs {median_ms:.1f} ms"
    )
    print(
        f"naive pure Python:        {naive_ms * args.metrics:9.1f} ms  "
        f"({naive_ms:.1f} ms per metric on {len(names)} metrics, x {args.metrics}; "
        f"{naive_ms / per_metric:.0f}x slower; same interval and estimate: {agree})"
    )
    print(f"scipy mannwhitneyu:       {scipy_ms:9.1f} ms  (U and p-value only, no interval)")
    ok = judge_ms <= TARGET_MS and agree
    print("PASS" if ok else "FAIL: " + ("above target" if agree else "the naive port disagrees"))
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
