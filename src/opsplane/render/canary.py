"""A canary judgement as the versioned JSON of ``opsplane canary judge --json``.

Version 1 (``docs/canary.md`` documents every field). Fields may be added, never renamed or
removed. JSON has no NaN: an undefined number (a mean ratio with a zero mean) is ``null``.
"""

from __future__ import annotations

import math
from typing import Any

from opsplane.domain.canary import Judgement, MetricResult, Summary

VERSION = 1


def number(value: float | None) -> float | None:
    """``None`` for a missing or undefined number."""
    return None if value is None or math.isnan(value) else value


def judgement_document(judgement: Judgement) -> dict[str, Any]:
    """The whole ``--json`` document."""
    return {
        "version": VERSION,
        "score": judgement.score,
        "verdict": judgement.verdict,
        "reason": judgement.reason,
        "thresholds": {
            "pass": judgement.thresholds.pass_,
            "marginal": judgement.thresholds.marginal,
        },
        "groups": {
            g.name: {
                "score": g.score,
                "weight": judgement.weights.get(g.name, 0.0),
                "no_data": g.no_data,
                "metrics": g.num_metrics,
                "labels": dict(g.label_counts),
            }
            for g in judgement.groups
        },
        "metrics": [metric_entry(m) for m in judgement.metrics],
    }


def metric_entry(result: MetricResult) -> dict[str, Any]:
    """One metric: the DESIGN.md fields (name, classification, critical, reason) and details."""
    c = result.classification
    return {
        "name": result.name,
        "classification": c.label,
        "critical": c.critical,
        "reason": c.reason,
        "groups": list(result.groups),
        "muted": result.muted,
        "ratio": number(c.deviation),
        "effect_size": number(c.effect_size),
        "ci": None if c.test is None else [c.test.ci_lower, c.test.ci_upper],
        "estimate": None if c.test is None else c.test.estimate,
        "control": stats_entry(result.control),
        "experiment": stats_entry(result.experiment),
    }


def stats_entry(stats: Summary | None) -> dict[str, Any] | None:
    """Descriptive statistics after NaN and outlier handling (Kayenta's ``stats`` metadata)."""
    if stats is None:
        return None
    return {
        "count": stats.count,
        "mean": stats.mean,
        "min": stats.min,
        "max": stats.max,
        "std": stats.std,
    }
