"""Use cases: validate specs, and generate Prometheus rules and Grafana dashboards from them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from opsplane.domain.slo import Service
from opsplane.errors import Problem, SpecError
from opsplane.render.grafana import GrafanaOutput, render_dashboards
from opsplane.render.prometheus import RenderResult, RuleOptions, render_rules
from opsplane.spec import load_paths
from opsplane.spec.windows_catalog import load_catalogs


@dataclass(frozen=True, slots=True)
class Validation:
    """What ``validate`` found: every problem, and what was valid."""

    problems: list[Problem]
    services: list[Service] = field(default_factory=list)

    @property
    def slo_count(self) -> int:
        """How many SLOs the valid services hold."""
        return sum(len(s.slos) for s in self.services)


def validate(paths: Sequence[str | Path], *, allow_duplicates: bool = False) -> Validation:
    """Load every spec under ``paths`` and report every problem."""
    loaded = load_paths(paths, allow_duplicates=allow_duplicates)
    return Validation(loaded.problems, loaded.services)


def load_services(paths: Sequence[str | Path], *, allow_duplicates: bool = False) -> list[Service]:
    """The services under ``paths``.

    Raises:
        SpecError: any spec is invalid (nothing is generated from a partly valid set).
    """
    loaded = load_paths(paths, allow_duplicates=allow_duplicates)
    if loaded.problems:
        raise SpecError(loaded.problems)
    return loaded.services


def generate_prometheus(
    paths: Sequence[str | Path], opts: RuleOptions, windows: Sequence[str | Path] = ()
) -> RenderResult:
    """Rules for every service under ``paths``; ``windows`` adds alert-window catalogs."""
    if windows:
        catalogs, problems = load_catalogs(windows)
        if problems:
            raise SpecError(problems)
        opts = replace(opts, catalogs=catalogs)
    return render_rules(load_services(paths), opts)


def generate_grafana(paths: Sequence[str | Path], opts: RuleOptions) -> GrafanaOutput:
    """Golden-signal and SLO dashboards for every service under ``paths``."""
    return render_dashboards(load_services(paths), default_period=opts.default_period)
