"""Use cases: validate specs, and generate Prometheus rules and Grafana dashboards from them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from opsplane.domain.slo import Service, with_severities
from opsplane.domain.windows import catalog_for
from opsplane.errors import Problem, SpecError
from opsplane.render.grafana import GrafanaOutput, render_dashboards
from opsplane.render.prometheus import RenderResult, RuleOptions, render_rules, unsupported_period
from opsplane.spec import LoadResult, load_paths
from opsplane.spec.windows_catalog import load_catalogs
from opsplane.types import AlertTier, Severity


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


def load_services(
    paths: Sequence[str | Path],
    *,
    allow_duplicates: bool = False,
    severities: Mapping[AlertTier, Severity] | None = None,
) -> list[Service]:
    """The services under ``paths``, with ``severities`` as the tiers' default severities.

    Raises:
        SpecError: any spec is invalid (nothing is generated from a partly valid set).
    """
    services = _load(paths, allow_duplicates=allow_duplicates).services
    return with_severities(services, severities) if severities else services


def _load(paths: Sequence[str | Path], *, allow_duplicates: bool = False) -> LoadResult:
    loaded = load_paths(paths, allow_duplicates=allow_duplicates)
    if loaded.problems:
        raise SpecError(loaded.problems)
    return loaded


def _period_problems(loaded: LoadResult, opts: RuleOptions) -> list[Problem]:
    """In Sloth mode, SLOs whose period has no alert-window catalog, at their place."""
    if not opts.sloth_compat:
        return []
    return [
        unsupported_period(p.doc.file, p.doc.path(*p.slo_paths[i]), opts.period(slo))
        for p in loaded.parsed
        for i, slo in enumerate(p.service.slos)
        if catalog_for(slo.windows, opts.period(slo), opts.catalogs, derive=False) is None
    ]


def generate_prometheus(
    paths: Sequence[str | Path],
    opts: RuleOptions,
    windows: Sequence[str | Path] = (),
    severities: Mapping[AlertTier, Severity] | None = None,
) -> RenderResult:
    """Rules for every service under ``paths``.

    ``windows`` adds alert-window catalogs; ``severities`` maps alert tiers to severities where
    a spec names none (:func:`~opsplane.domain.slo.with_severities`).
    """
    if windows:
        # Sloth replaces its built-in catalogs with a custom directory; opsplane's own mode
        # keeps the built-in ones for periods the directory does not cover.
        catalogs, problems = load_catalogs(windows, keep_defaults=not opts.sloth_compat)
        if problems:
            raise SpecError(problems)
        opts = replace(opts, catalogs=catalogs)
    loaded = _load(paths)
    if problems := _period_problems(loaded, opts):
        raise SpecError(problems)
    services = with_severities(loaded.services, severities) if severities else loaded.services
    return render_rules(services, opts)


def generate_grafana(
    paths: Sequence[str | Path], opts: RuleOptions, windows: Sequence[str | Path] = ()
) -> GrafanaOutput:
    """Golden-signal and SLO dashboards for every service under ``paths``.

    ``windows`` are the same alert-window catalogs the rules were generated with, so burn-rate
    thresholds on the dashboards match the alerts.
    """
    catalogs = opts.catalogs
    if windows:
        catalogs, problems = load_catalogs(windows)
        if problems:
            raise SpecError(problems)
    return render_dashboards(
        load_services(paths), default_period=opts.default_period, catalogs=catalogs
    )
