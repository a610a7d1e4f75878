"""The evaluator decides the alert states promtool decides, on the promtool scenarios.

``tests/render/test_promtool_scenarios.py`` checks with ``promtool test rules`` which alerts of
the generated rules fire at chosen minutes of a few traffic patterns. Here the same series are
replayed through the embedded evaluator: every minute (promtool's evaluation interval) the
window ratios are computed as the recording rules compute them, with PromQL ``rate()`` from
:mod:`opsplane.domain.promrate`, and :func:`opsplane.domain.evaluator.evaluate` steps the
alerts. The firing alerts must be those promtool expects at every checked minute.

A second test hands the evaluator's own answer for every minute back to promtool: the pending
and firing alerts it predicts must be exactly the ``ALERTS`` series Prometheus writes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from opsplane.domain.alerting_rules import divide
from opsplane.domain.duration import DAY, MINUTE, parse_duration
from opsplane.domain.evaluation import AlertStatus
from opsplane.domain.evaluator import evaluate, evaluation_windows
from opsplane.domain.promrate import rate
from opsplane.domain.slo import SLO
from opsplane.domain.windows import DEFAULT_CATALOGS, AlertWindows, catalog_for
from opsplane.render.prometheus import RuleOptions
from opsplane.spec import load_paths
from opsplane.types import Millis
from tests.render.promtool_helpers import run_promtool, write_rule_files, write_unit_test
from tests.render.test_promtool_scenarios import SCENARIOS, SHOP_SPEC, Scenario

DEFAULT_PERIOD = 30 * DAY
_ITEM = re.compile(r"^(-?[\d.]+)(?:([+-])([\d.]+)x(\d+))?$")


def expand(values: str) -> list[float]:
    """promtool's expanding notation, one value a minute: ``0 1+2x2`` is 0, 1, 3, 5.

    The parser adds the step repeatedly (``promql/parser`` ``series_value ADD ... TIMES``),
    so the floats are those promtool loads.
    """
    out: list[float] = []
    for item in values.split():
        match = _ITEM.match(item)
        assert match is not None, f"unsupported series item {item!r}"
        value, sign, step, times = match.groups()
        current = float(value)
        out.append(current)
        for _ in range(int(times or 0)):
            current += float(step) if sign == "+" else -float(step)
            out.append(current)
    return out


@dataclass(frozen=True)
class Series:
    """One input series: its selector text and 1m samples from minute 0."""

    name: str
    ts: np.ndarray[Any, np.dtype[np.int64]]
    values: np.ndarray[Any, np.dtype[np.float64]]

    def rate(self, at: Millis, window: Millis) -> float | None:
        return rate(self.ts, self.values, at, window)


def load_series(series: Mapping[str, str]) -> list[Series]:
    """The scenario's series, sorted by selector text as Prometheus orders label sets here."""
    loaded = []
    for name, text in sorted(series.items()):
        values = expand(text)
        ts = np.arange(len(values), dtype=np.int64) * MINUTE
        loaded.append(Series(name, ts, np.array(values, dtype=np.float64)))
    return loaded


def summed(series: list[Series], at: Millis, window: Millis) -> float | None:
    """``sum(rate(x[window]))``: no output when no series has a rate; summed in series order."""
    rates = [r for s in series if (r := s.rate(at, window)) is not None]
    if not rates:
        return None
    total = rates[0]
    for r in rates[1:]:
        total += r
    return total


def error_ratio(series: list[Series], at: Millis, window: Millis) -> float | None:
    """The native events SLI: ``((errors) or (0 * (total))) / (total)``; ``None`` when empty."""
    requests = [s for s in series if s.name.startswith('http_requests_total{job="shop"')]
    errors = [s for s in requests if re.search(r'code="5..?"', s.name)]
    total = summed(requests, at, window)
    if total is None:
        return None
    bad = summed(errors, at, window)
    bad = 0 * total if bad is None else bad
    return divide(bad, total)  # PromQL division: 0/0 is NaN


def shop_slo(tmp_path: Path) -> tuple[SLO, AlertWindows]:
    path = tmp_path / "shop.yaml"
    path.write_text(SHOP_SPEC)
    loaded = load_paths([path])
    assert loaded.problems == []
    (slo,) = loaded.services[0].slos
    period = slo.period.length if slo.period else DEFAULT_PERIOD
    windows = catalog_for(slo.windows, period, DEFAULT_CATALOGS, derive=True)
    assert windows is not None
    return slo, windows


def replay(
    slo: SLO, windows: AlertWindows, series: list[Series], last_minute: int
) -> Iterator[tuple[int, dict[Millis, float | None], dict[str, AlertStatus]]]:
    """Evaluate at every minute from 0 to ``last_minute``, as promtool's rule manager does."""
    previous: dict[str, AlertStatus] = {}
    for minute in range(last_minute + 1):
        at = minute * MINUTE
        needed = evaluation_windows(slo, windows, DEFAULT_PERIOD, at)
        ratios = {w: error_ratio(series, at, w) for w in needed}
        status, _ = evaluate(slo, windows, DEFAULT_PERIOD, ratios, previous, at=at)
        previous = {a.key: a for a in status.alerts}
        yield minute, ratios, previous


def last_minute(scenario: Scenario) -> int:
    return max([c.minute for c in scenario.checks] + [r.minute for r in scenario.ratios])


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_the_evaluator_fires_what_promtool_fires(tmp_path: Path, scenario: Scenario) -> None:
    slo, windows = shop_slo(tmp_path)
    checks = {c.minute: c.firing for c in scenario.checks}
    expected_ratios = {(r.minute, parse_duration(r.window)): r.value for r in scenario.ratios}
    series = load_series(scenario.series)
    for minute, ratios, alerts in replay(slo, windows, series, last_minute(scenario)):
        for (at_minute, window), value in expected_ratios.items():
            if at_minute == minute:
                ratio = ratios.get(window)
                assert ratio is not None, f"no {window}ms ratio at minute {minute}"
                assert math.floor(ratio * 1e6 + 0.5) == math.floor(value * 1e6 + 0.5)
        if minute in checks:
            firing = {k for k, a in alerts.items() if a.state == "firing"}
            assert firing == checks[minute], f"minute {minute}: {sorted(firing)}"


def alerts_tests(slo: SLO, windows: AlertWindows, scenario: Scenario) -> list[dict[str, Any]]:
    """A promtool expression test per minute: the evaluator's pending and firing alerts."""
    names = {
        "page": ("ShopAvailability", "page"),
        "ticket": ("ShopAvailability", "ticket"),
        "no_data": ("ShopAvailabilityNoData", "no_data"),
    }
    tests = []
    series = load_series(scenario.series)
    for minute, _, alerts in replay(slo, windows, series, last_minute(scenario)):
        samples = [
            {
                "labels": f'{{alertname="{names[key][0]}", alertstate="{a.state}", '
                f'sloth_severity="{names[key][1]}"}}',
                "value": 1,
            }
            for key, a in sorted(alerts.items())
            if a.state in ("pending", "firing")
        ]
        tests.append(
            {
                "expr": "count by (alertname, alertstate, sloth_severity) "
                '(ALERTS{sloth_id="shop-availability"})',
                "eval_time": f"{minute}m",
                "exp_samples": samples,
            }
        )
    return tests


@pytest.mark.promtool
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_promtool_writes_the_alerts_the_evaluator_predicts_at_every_minute(
    promtool: str, tmp_path: Path, scenario: Scenario
) -> None:
    slo, windows = shop_slo(tmp_path)
    loaded = load_paths([tmp_path / "shop.yaml"])
    [rules] = write_rule_files(loaded.services, RuleOptions(output="plain"), tmp_path)
    test_file = write_unit_test(
        tmp_path / "test.yaml",
        [rules],
        scenario.series,
        alert_tests=[],
        expr_tests=alerts_tests(slo, windows, scenario),
    )
    run_promtool(promtool, "test", "rules", test_file)
