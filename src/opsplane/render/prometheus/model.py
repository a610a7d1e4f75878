"""Options and results of rule rendering, shared by the Sloth-compatible and native renderers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from opsplane import __version__
from opsplane.domain.duration import DAY, format_duration
from opsplane.domain.slo import SLO, Origin
from opsplane.domain.windows import DEFAULT_CATALOGS, AlertWindows
from opsplane.types import Labels, Millis

Rule = dict[str, Any]
Group = dict[str, Any]
OutputFormat = Literal["auto", "plain", "k8s"]


@dataclass(frozen=True, slots=True)
class RuleOptions:
    """How to render rules; mirrors ``opsplane generate prometheus`` flags.

    Attributes:
        sloth_compat: Reproduce Sloth's output exactly (period SLI averaged from 5m ratios).
        default_period: The period of SLOs whose spec names none (``--period``).
        extra_labels: Added to every recording rule (``-l k=v``), not to alert labels.
        disable_alerts: Leave out alert rules.
        disable_recordings: Leave out recording rules.
        output: ``k8s`` wraps groups in a ``PrometheusRule``; ``auto`` does so for inputs that
            were Kubernetes objects, as Sloth does.
        catalogs: Alert-window catalogs by period (Sloth's ``--slo-period-windows-path``).
        version: Written in the header and in ``sloth_version``.
    """

    sloth_compat: bool = False
    default_period: Millis = 30 * DAY
    extra_labels: Labels = field(default_factory=dict)
    disable_alerts: bool = False
    disable_recordings: bool = False
    output: OutputFormat = "auto"
    catalogs: Mapping[Millis, AlertWindows] = field(default_factory=lambda: dict(DEFAULT_CATALOGS))
    version: str = f"opsplane-{__version__}"

    def period(self, slo: SLO) -> Millis:
        """The SLO's own period, else the default one."""
        return slo.period.length if slo.period else self.default_period


@dataclass(frozen=True, slots=True)
class RuleDocument:
    """One output YAML document: a rule file, or a ``PrometheusRule`` object."""

    origin: Origin
    service: str
    content: dict[str, Any]


@dataclass(slots=True)
class RenderResult:
    """Rendered documents plus warnings for the person running the generator."""

    documents: list[RuleDocument] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def rule_group(prefix: str, slo: SLO, rules: list[Rule], interval: Millis | None = None) -> Group:
    """A rule group named ``<prefix><slo id>``, with an ``interval`` when one is set."""
    group: Group = {"name": prefix + slo.id}
    if interval is not None:
        group["interval"] = format_duration(interval)
    group["rules"] = rules
    return group
