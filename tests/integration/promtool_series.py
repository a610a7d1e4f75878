"""Scenario samples as a ``promtool test rules`` file, with expected alerts at every minute.

promtool's unit tests place the ``i``-th value of a series at ``i x interval`` from time 0
(https://prometheus.io/docs/prometheus/latest/configuration/unit_testing_rules/). The samples
of a 1-minute scenario are therefore moved to minute indexes (``BASE`` becomes time 0, scrape
jitter is dropped) and written in promtool's expanding notation: ``a+bxn`` for ``n + 1`` values
rising by ``b``, ``_xn`` for ``n`` missing scrapes.

The test file is written as JSON, which is YAML too, because a two-day scenario has tens of
thousands of alert checks and PyYAML would take longer to write them than promtool to run them.
"""

from __future__ import annotations

import json
import subprocess
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from opsplane.domain.duration import MINUTE
from opsplane.ports import Sample
from opsplane.types import Millis
from tests.render.promtool_helpers import expand_labels, group_names

PROMTOOL_TIMEOUT_S = 120
ALERT_GROUP = "opsplane-slo-alerts-"
"""Prefix of the rule group holding an SLO's alerts; the SLO id follows it."""


def on_minutes(samples: Iterable[Sample], start: Millis) -> list[Sample]:
    """The samples moved so that ``start`` is time 0, each on its nearest whole minute."""
    return [
        Sample(s.labels, round((s.timestamp - start) / MINUTE) * MINUTE, s.value) for s in samples
    ]


def series_notation(samples: Iterable[Sample]) -> dict[str, str]:
    """``{series selector: values}`` for promtool's ``input_series``; samples on whole minutes."""
    by_series: dict[tuple[tuple[str, str], ...], dict[int, float]] = defaultdict(dict)
    for s in samples:
        by_series[s.labels][s.timestamp // MINUTE] = s.value
    return {_selector(labels): expand(values) for labels, values in by_series.items()}


def _selector(labels: Sequence[tuple[str, str]]) -> str:
    name = dict(labels)["__name__"]
    pairs = ", ".join(f"{k}={json.dumps(v)}" for k, v in labels if k != "__name__")
    return f"{name}{{{pairs}}}"


def expand(values: Mapping[int, float]) -> str:
    """Values by minute index in expanding notation, ``_`` for minutes without a sample.

    Runs of values that rise by the same whole step become ``a+bxn``; promtool computes
    ``a + i*b`` in float64, exact for the whole numbers used here.
    """
    tokens: list[str] = []
    minute, last = 0, max(values)
    while minute <= last:
        if minute not in values:
            run = next(m for m in range(minute, last + 1) if m in values) - minute
            tokens.append("_" if run == 1 else f"_x{run}")
            minute += run
            continue
        run, step = _rising_run(values, minute, last)
        tokens.append(_num(values[minute]) + (f"+{_num(step)}x{run}" if run else ""))
        minute += run + 1
    return " ".join(tokens)


def _rising_run(values: Mapping[int, float], minute: int, last: int) -> tuple[int, float]:
    """How many values after ``minute`` continue a constant non-negative step, and the step."""
    if minute + 1 > last or minute + 1 not in values:
        return 0, 0.0
    step = values[minute + 1] - values[minute]
    if step < 0:
        return 0, 0.0
    run = 1
    while minute + run + 1 in values and values[minute + run + 1] - values[minute + run] == step:
        run += 1
    return run, step


def _num(x: float) -> str:
    assert x == int(x), f"{x} is not a whole number: promtool's notation would round it"
    return str(int(x))


class AlertTemplates:
    """Expected ``exp_alerts`` entries: the evaluator's labels, the rules' annotations.

    promtool compares every label and every annotation of a firing alert. The labels are the
    three SLO id labels (the expressions' output) plus ``severity`` and ``sloth_severity``,
    taken from the evaluator's alert status so a severity it gets wrong shows up. The
    annotations are the rule's with ``{{$labels.x}}`` expanded, as
    ``promtool_helpers.expected_alert`` builds them, with each rule file read once.
    """

    def __init__(self, rule_files: Sequence[Path]) -> None:
        self._annotations: dict[tuple[str, str, str], Mapping[str, str]] = {}
        for path in rule_files:
            for group in yaml.safe_load(path.read_text())["groups"]:
                slo_id = group["name"].removeprefix(ALERT_GROUP)
                for rule in group["rules"] if group["name"].startswith(ALERT_GROUP) else ():
                    key = (slo_id, rule["alert"], rule["labels"]["sloth_severity"])
                    self._annotations[key] = rule.get("annotations", {})

    def expected(
        self, ids: Mapping[str, str], alertname: str, severity: str, sloth_severity: str
    ) -> dict[str, Any]:
        """The ``exp_alerts`` entry of one firing alert of the SLO with these id labels."""
        labels = {**ids, "severity": severity, "sloth_severity": sloth_severity}
        template = self._annotations[(ids["sloth_id"], alertname, sloth_severity)]
        return {"exp_labels": labels, "exp_annotations": expand_labels(template, labels)}


def write_test_file(
    path: Path,
    rule_files: Sequence[Path],
    series: Mapping[str, str],
    alert_tests: Sequence[Mapping[str, Any]],
    expr_tests: Sequence[Mapping[str, Any]] = (),
) -> Path:
    """A promtool test: 1m samples, 1m evaluation, recordings before alerts (group order)."""
    test = {
        "rule_files": [str(p.resolve()) for p in rule_files],
        "evaluation_interval": "1m",
        "group_eval_order": [g for p in rule_files for g in group_names(p)],
        "tests": [
            {
                "interval": "1m",
                "input_series": [{"series": s, "values": v} for s, v in series.items()],
                "alert_rule_test": list(alert_tests),
                "promql_expr_test": list(expr_tests),
            }
        ],
    }
    path.write_text(json.dumps(test))
    return path


def run_promtool_test(promtool: str, test_file: Path) -> subprocess.CompletedProcess[str]:
    """``promtool test rules FILE``; the caller asserts on the exit code and report."""
    return subprocess.run(
        [promtool, "test", "rules", str(test_file)],
        capture_output=True,
        text=True,
        timeout=PROMTOOL_TIMEOUT_S,
        check=False,
    )
