"""Read the numbers back out of generated alert rules and evaluate them as PromQL would.

This is an independent reading of the rule text of ``render/prometheus/native.py``: the windows
come from the metric names (``slo:sli_error:ratio_rate1h``) and the factors, budgets and
thresholds from the printed Go floats, so a test can check that
:mod:`opsplane.domain.alerting_rules` decides exactly what Prometheus would decide on the same
floats.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from opsplane.domain.alerting_rules import divide
from opsplane.domain.duration import parse_duration
from opsplane.types import Millis

_PAIR = re.compile(r"max\(slo:sli_error:ratio_rate(\w+)\{[^}]*\} > \((\S+) \* (\S+)\)\)")
_ABSENT = re.compile(r"^absent\(slo:sli_error:ratio_rate(\w+)\{[^}]*\}\)\n$")
_COMPARISON = re.compile(
    r"^max\(slo:sli_error:ratio_rate(\w+)\{[^}]*\}\) without \(sloth_window\) "
    r"/ (\S+) (<|<=|>|>=) (\S+)\n$"
)
_OPS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


@dataclass(frozen=True)
class Threshold:
    """``ratio_<window> > (factor * budget)``, with the floats as printed."""

    window: Millis
    factor: float
    budget: float


def burn_pairs(expr: str) -> list[list[Threshold]]:
    """The ``(a and b) or (c and d)`` structure of a tier expression, as thresholds."""
    groups = []
    for part in expr.split("\nor\n"):
        found = _PAIR.findall(part)
        assert found, f"no burn comparison in {part!r}"
        groups.append([Threshold(parse_duration(w), float(f), float(b)) for w, f, b in found])
    return groups


def rule_holds(rule: Mapping[str, Any], ratios: Mapping[Millis, float | None]) -> bool:
    """Whether the rule's expression returns a sample, evaluated from its own text."""
    expr = str(rule["expr"])
    if (absent := _ABSENT.match(expr)) is not None:
        return ratios.get(parse_duration(absent.group(1))) is None
    if (cmp := _COMPARISON.match(expr)) is not None:
        window, budget, op, threshold = cmp.groups()
        ratio = ratios.get(parse_duration(window))
        return ratio is not None and _OPS[op](divide(ratio, float(budget)), float(threshold))
    return any(
        all(_over(ratios.get(t.window), t.factor * t.budget) for t in group)
        for group in burn_pairs(expr)
    )


def _over(ratio: float | None, threshold: float) -> bool:
    return ratio is not None and ratio > threshold


def rule_windows(rule: Mapping[str, Any]) -> set[Millis]:
    """Every window whose ratio the rule reads."""
    names = re.findall(r"slo:sli_error:ratio_rate(\w+)\{", str(rule["expr"]))
    return {parse_duration(n) for n in names}
