"""Sloth SLO plugins that have a built-in equivalent in opsplane.

Sloth runs a chain of Go plugins per SLO (``internal/app/generate``): group plugins, then SLO
plugins, sorted by ``priority``; those below 0 run before the default generators, the others
after. opsplane has no plugin runtime, but the plugins Sloth ships are understood by id:

- the core generators and validators (``sloth.dev/core/*``, ``validate_victoria_metrics``) are
  what opsplane always does;
- ``sloth.dev/core/debug/v1`` only logs, so it is a no-op;
- ``sloth.dev/contrib/info_labels/v1`` adds labels to ``sloth_slo_info``;
- ``sloth.dev/contrib/rule_intervals/v1`` sets the rule groups' ``interval``;
- ``sloth.dev/contrib/validate_victoria_metrics/v1`` marks the queries as MetricsQL, so they
  are not checked as PromQL.

Any other id is reported as a problem rather than silently ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import Field

from opsplane.domain.duration import parse_duration
from opsplane.domain.slo import RuleIntervals
from opsplane.errors import Problem
from opsplane.spec.documents import Document
from opsplane.spec.edge import LabelMap, Lenient

CORE_GENERATORS = (
    "sloth.dev/core/sli_rules/v1",
    "sloth.dev/core/metadata_rules/v1",
    "sloth.dev/core/alert_rules/v1",
)
VICTORIA_METRICS = "sloth.dev/contrib/validate_victoria_metrics/v1"
NO_OPS = {
    *CORE_GENERATORS,
    "sloth.dev/core/validate/v1",
    "sloth.dev/core/debug/v1",
    "sloth.dev/core/noop/v1",
    VICTORIA_METRICS,
}
INFO_LABELS = "sloth.dev/contrib/info_labels/v1"
RULE_INTERVALS = "sloth.dev/contrib/rule_intervals/v1"


class PluginRef(Lenient):
    """One entry of a plugin chain."""

    id: str = ""
    config: dict[str, Any] | None = None
    priority: int = 0


class PluginChain(Lenient):
    """``slo_plugins`` / ``sloPlugins`` (group) or ``plugins`` (SLO)."""

    overridePrevious: bool = False  # noqa: N815 - Sloth's field name
    chain: list[PluginRef] = Field(default_factory=list)


class _InfoLabels(Lenient):
    labels: LabelMap = Field(default_factory=dict)
    metricName: str = "sloth_slo_info"  # noqa: N815


class _Intervals(Lenient):
    default: str = ""
    sliError: str = ""  # noqa: N815
    metadata: str = ""
    alert: str = ""


@dataclass(slots=True)
class PluginEffects:
    """What a plugin chain changes about one SLO's rules."""

    info_labels: dict[str, str] = field(default_factory=dict)
    intervals: RuleIntervals = field(default_factory=RuleIntervals)
    metricsql: bool = False
    problems: list[Problem] = field(default_factory=list)


Path = tuple[str | int, ...]


def plugin_effects(
    doc: Document, group_at: Path, group: PluginChain, slo_at: Path, slo: PluginChain
) -> PluginEffects:
    """Info labels, rule intervals and query dialect the chains ask for, and problems.

    ``group_at`` and ``slo_at`` are where the two chains are written, so each problem names
    its chain entry (``slo_plugins.chain[1]``).
    """
    own = [((*slo_at, "chain", j), r) for j, r in enumerate(slo.chain)]
    inherited = [((*group_at, "chain", j), r) for j, r in enumerate(group.chain)]
    placed = own if slo.overridePrevious else [*inherited, *own]
    refs = [r for _, r in placed]
    problems: list[Problem] = []
    if (slo.overridePrevious or group.overridePrevious) and refs:
        missing = [g for g in CORE_GENERATORS if g not in {r.id for r in refs}]
        if missing:
            msg = f"plugin chain overrides the defaults without {', '.join(missing)}"
            problems.append(doc.problem(msg, *(slo_at if slo.overridePrevious else group_at)))
    labels: dict[str, str] = {}
    intervals = RuleIntervals()
    for at, ref in sorted(placed, key=lambda pr: pr[1].priority):
        if ref.id == INFO_LABELS:
            labels, found = _info_labels(doc, at, ref, labels)
        elif ref.id == RULE_INTERVALS:
            intervals, found = _intervals(doc, at, ref, intervals)
        elif ref.id in NO_OPS:
            found = []
        else:
            found = [doc.problem(f"SLO plugin {ref.id!r} is not supported", *at)]
        problems += found
    metricsql = VICTORIA_METRICS in {r.id for r in refs}
    return PluginEffects(labels, intervals, metricsql, problems)


def _info_labels(
    doc: Document, at: tuple[str | int, ...], ref: PluginRef, labels: dict[str, str]
) -> tuple[dict[str, str], list[Problem]]:
    cfg = _InfoLabels.model_validate(ref.config or {})
    if not cfg.labels:
        return labels, [doc.problem(f"{INFO_LABELS}: at least one label is required", *at)]
    if cfg.metricName != "sloth_slo_info":
        return labels, [doc.problem(f"{INFO_LABELS}: only sloth_slo_info is supported", *at)]
    # Plugins below priority 0 run before the metadata generator, so their labels are lost.
    return (labels if ref.priority < 0 else {**labels, **cfg.labels}), []


def _intervals(
    doc: Document, at: tuple[str | int, ...], ref: PluginRef, current: RuleIntervals
) -> tuple[RuleIntervals, list[Problem]]:
    raw = (ref.config or {}).get("interval", {})
    cfg = _Intervals.model_validate(raw if isinstance(raw, dict) else {})
    if not cfg.default:
        return current, [
            doc.problem(f"{RULE_INTERVALS}: at least default interval is required", *at)
        ]
    try:
        default = parse_duration(cfg.default)
        sli, meta, alert = (
            parse_duration(v) if v else default for v in (cfg.sliError, cfg.metadata, cfg.alert)
        )
    except ValueError as exc:
        return current, [doc.problem(f"{RULE_INTERVALS}: {exc}", *at)]
    return RuleIntervals(sli, meta, alert), []
