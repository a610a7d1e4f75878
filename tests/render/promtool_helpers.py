"""Write and run ``promtool`` rule files and rule unit tests from rendered documents.

promtool wants one rule file per YAML document and a test file that names them
(https://prometheus.io/docs/prometheus/latest/configuration/unit_testing_rules/). These helpers
keep the test modules to the scenarios themselves: counters described as per-minute increases,
expected alerts built from the rendered rule, and one runner that shows promtool's report.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from opsplane.domain.slo import Service
from opsplane.render.prometheus import RuleOptions, render_rules, to_yaml

# Each promtool run of these tests takes a few seconds; a hang must not stall the suite.
PROMTOOL_TIMEOUT_S = 30
_LABEL_TEMPLATE = re.compile(r"{{ *\$labels\.(\w+) *}}")


def counter(*phases: tuple[int, float]) -> str:
    """A counter that starts at 0 and grows by ``per_minute`` for ``minutes``, phase by phase.

    Written in promtool's expanding notation (``a+bxn`` is ``a, a+b, ..., a+n*b``), one value a
    minute: ``counter((2, 0), (3, 50))`` is ``0 0+0x1 50+50x2``, i.e. 0 0 0 50 100 150.
    """
    parts, value = ["0"], 0.0
    for minutes, per_minute in phases:
        start = value + per_minute
        parts.append(f"{_num(start)}+{_num(per_minute)}x{minutes - 1}")
        value += per_minute * minutes
    return " ".join(parts)


def _num(x: float) -> str:
    return str(int(x)) if x == int(x) else repr(x)


def write_rule_files(services: Sequence[Service], opts: RuleOptions, directory: Path) -> list[Path]:
    """Render ``services`` and write each document to its own rule file (``rules-<i>.yaml``)."""
    documents = render_rules(services, opts).documents
    paths = []
    for i, doc in enumerate(documents):
        path = directory / f"rules-{i}.yaml"
        path.write_text(to_yaml([doc], opts))
        paths.append(path)
    return paths


def expected_alert(rule_file: Path, alertname: str, labels: Mapping[str, str]) -> dict[str, Any]:
    """One promtool ``exp_alerts`` entry: every label of the alert, and its expanded annotations.

    promtool compares both exactly (an omitted ``exp_annotations`` means "no annotations"), so
    the annotations are those of the rule named ``alertname`` whose ``sloth_severity`` label is
    ``labels["sloth_severity"]``, with ``{{$labels.x}}`` filled in from ``labels``.
    """
    rule = _alert_rule(rule_file, alertname, labels["sloth_severity"])
    annotations = expand_labels(rule.get("annotations", {}), labels)
    return {"exp_labels": dict(labels), "exp_annotations": annotations}


def _alert_rule(rule_file: Path, alertname: str, sloth_severity: str) -> dict[str, Any]:
    content = yaml.safe_load(rule_file.read_text())
    for group in content["groups"]:
        for rule in group["rules"]:
            labels = rule.get("labels", {})
            if rule.get("alert") == alertname and labels.get("sloth_severity") == sloth_severity:
                return dict(rule)
    raise AssertionError(
        f"{rule_file} has no {alertname} alert with sloth_severity={sloth_severity}"
    )


def expand_labels(annotations: Mapping[str, str], labels: Mapping[str, str]) -> dict[str, str]:
    """Annotations with ``{{$labels.x}}`` replaced, as Prometheus expands them on firing alerts.

    Only ``$labels`` references are supported; anything else in a template is left as it is and
    shows up as a mismatch in promtool's report.
    """
    return {k: _LABEL_TEMPLATE.sub(lambda m: labels[m.group(1)], v) for k, v in annotations.items()}


def group_names(rule_file: Path) -> list[str]:
    """The rule groups of a rule file, in file order."""
    return [g["name"] for g in yaml.safe_load(rule_file.read_text())["groups"]]


def write_unit_test(
    path: Path,
    rule_files: Sequence[Path],
    series: Mapping[str, str],
    alert_tests: Sequence[Mapping[str, Any]],
    expr_tests: Sequence[Mapping[str, Any]] = (),
) -> Path:
    """A promtool test file: one test group, 1m samples and 1m rule evaluation.

    Without ``group_eval_order`` promtool evaluates rule groups in Go map order, i.e. at random,
    so an alert group would sometimes read the recordings of the previous minute and alerts on an
    exact edge would flap by one evaluation. The groups are evaluated in file order instead:
    recordings first, then alerts, all at the same timestamp.
    """
    group: dict[str, Any] = {
        "interval": "1m",
        "input_series": [{"series": s, "values": v} for s, v in series.items()],
        "alert_rule_test": list(alert_tests),
    }
    if expr_tests:
        group["promql_expr_test"] = list(expr_tests)
    test = {
        "rule_files": [str(p.resolve()) for p in rule_files],
        "evaluation_interval": "1m",
        "group_eval_order": [g for p in rule_files for g in group_names(p)],
        "tests": [group],
    }
    path.write_text(yaml.safe_dump(test, sort_keys=False, width=200))
    return path


def run_promtool(promtool: str, *args: str | Path) -> None:
    """Run ``promtool args...`` and fail with its whole report unless it exits 0."""
    proc = subprocess.run(
        [promtool, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=PROMTOOL_TIMEOUT_S,
        check=False,
    )
    assert proc.returncode == 0, (
        f"promtool {' '.join(map(str, args))} exited {proc.returncode}\n"
        f"--- stdout ---\n{proc.stdout}\n--- stderr ---\n{proc.stderr}"
    )
