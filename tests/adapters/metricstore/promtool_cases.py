"""Random counter series and ``promtool test rules`` files that check PromQL results exactly.

promtool (2.42, ``cmd/promtool/unittest.go``) compares ``exp_samples`` with
``reflect.DeepEqual`` on float64s, so the expected values written here (Python ``repr``, which
round-trips) must be bit-identical to what Prometheus computes. Two details of the test runner
shape these files:

- Input samples are loaded lazily, only up to the last multiple of ``evaluation_interval``
  (1m) that is not after the largest ``eval_time`` of the group. Every group therefore gets
  an extra ``vector(1)`` check at the next whole minute, so all samples up to the real
  evaluation time are loaded.
- NaN never equals NaN, so a NaN expectation is checked as ``(expr) != bool (expr)`` == 1.
"""

from __future__ import annotations

import math
import random
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

PROMTOOL_TIMEOUT_S = 120
MINUTE = 60_000


@dataclass(frozen=True)
class Series:
    """One input series: ``values[i]`` at ``i * interval_ms``; ``None`` is a missing sample."""

    selector: str  # promtool series notation, e.g. 'x{a="1"}'
    interval_ms: int
    values: tuple[float | None, ...]

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """Timestamps (ms) and values of the present samples."""
        ts = [i * self.interval_ms for i, v in enumerate(self.values) if v is not None]
        vs = [v for v in self.values if v is not None]
        return np.asarray(ts, np.int64), np.asarray(vs, np.float64)

    def promtool_values(self) -> str:
        return " ".join("_" if v is None else repr(v) for v in self.values)


@dataclass
class Case:
    """One expression evaluated at one time over some series, and its expected result."""

    series: list[Series]
    expr: str
    at_ms: int
    expected: float | None
    labels: str = "{}"
    notes: dict[str, Any] = field(default_factory=dict)


def random_counter(rng: random.Random, n: int, *, gaps: float, resets: float) -> list[float | None]:
    """``n`` slots of a counter with missing samples, counter resets and flat stretches."""
    value = rng.choice([0.0, float(rng.randint(0, 1000)), rng.uniform(0, 1e6)])
    out: list[float | None] = []
    for _ in range(n):
        if rng.random() < gaps:
            out.append(None)
            continue
        if rng.random() < resets:
            value = rng.choice([0.0, rng.uniform(0, value / 2 + 1)])
        else:
            value += rng.choice([0.0, float(rng.randint(0, 20)), rng.uniform(0, 50)])
        out.append(value)
    return out


def _float(dumper: yaml.SafeDumper, x: float) -> yaml.ScalarNode:
    if math.isnan(x):
        text = ".nan"
    elif math.isinf(x):
        text = ".inf" if x > 0 else "-.inf"
    else:
        text = repr(x)
    return dumper.represent_scalar("tag:yaml.org,2002:float", text)


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(float, _float)


def _group(case: Case) -> dict[str, Any]:
    expr, expected = case.expr, case.expected
    if expected is not None and math.isnan(expected):
        expr, expected = f"({expr}) != bool ({expr})", 1.0
    samples = [] if expected is None else [{"labels": case.labels, "value": expected}]
    pad = -(-max(case.at_ms, 1) // MINUTE) * MINUTE
    return {
        "interval": f"{case.series[0].interval_ms}ms",
        "input_series": [
            {"series": s.selector, "values": s.promtool_values()} for s in case.series
        ],
        "promql_expr_test": [
            {"expr": expr, "eval_time": f"{case.at_ms}ms", "exp_samples": samples},
            {
                "expr": "vector(1)",
                "eval_time": f"{pad}ms",
                "exp_samples": [{"labels": "{}", "value": 1.0}],
            },
        ],
    }


def check_with_promtool(promtool: str, directory: Path, cases: list[Case]) -> None:
    """Write all cases into one promtool test file and fail with promtool's report."""
    path = directory / "cases.yaml"
    doc = {"evaluation_interval": "1m", "tests": [_group(c) for c in cases]}
    path.write_text(yaml.dump(doc, Dumper=_Dumper, sort_keys=False, width=1 << 16))
    proc = subprocess.run(
        [promtool, "test", "rules", str(path)],
        capture_output=True,
        text=True,
        timeout=PROMTOOL_TIMEOUT_S,
        check=False,
    )
    assert proc.returncode == 0, f"promtool disagrees:\n{proc.stdout[-6000:]}\n{proc.stderr}"
