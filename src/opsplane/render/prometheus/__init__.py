"""Prometheus rules from SLOs: Sloth-compatible or opsplane's own (see ``native``).

``render_rules`` returns data; ``to_yaml`` turns it into the text Sloth would write.
"""

from __future__ import annotations

from collections.abc import Sequence

from opsplane.domain.duration import format_duration
from opsplane.domain.slo import SLO, Service
from opsplane.domain.windows import AlertWindows, catalog_for
from opsplane.errors import Problem, SpecError
from opsplane.render.prometheus import native, sloth_compat
from opsplane.render.prometheus.model import (
    RenderResult,
    RuleDocument,
    RuleOptions,
)
from opsplane.render.prometheus.output import to_yaml, wrap
from opsplane.types import Millis

__all__ = [
    "RenderResult",
    "RuleDocument",
    "RuleOptions",
    "render_rules",
    "to_yaml",
    "unsupported_period",
]


def render_rules(services: Sequence[Service], opts: RuleOptions) -> RenderResult:
    """One rule document per service (per input document, as Sloth does).

    Raises:
        SpecError: an SLO's period has no alert-window catalog in Sloth-compatible mode.
    """
    result = RenderResult()
    problems: list[Problem] = []
    for service in services:
        groups = []
        for slo in service.slos:
            catalog = _catalog(service, slo, opts, problems)
            if catalog is None:
                continue
            if opts.sloth_compat:
                groups += sloth_compat.slo_groups(service, slo, catalog, opts)
            else:
                groups += native.slo_groups(service, slo, catalog, opts, result.warnings)
        if groups:
            result.documents.append(
                RuleDocument(service.origin, service.name, wrap(service, groups, opts))
            )
    if problems:
        raise SpecError(problems)
    return result


def _catalog(
    service: Service, slo: SLO, opts: RuleOptions, problems: list[Problem]
) -> AlertWindows | None:
    """The SLO's alert windows; in Sloth mode a period without a catalog is a problem."""
    period = opts.period(slo)
    catalog = catalog_for(slo.windows, period, opts.catalogs, derive=not opts.sloth_compat)
    if catalog is None:
        problems.append(unsupported_period(service.origin.file, slo.id, period))
    return catalog


def unsupported_period(file: str, path: str, period: Millis) -> Problem:
    """Sloth has no windows for this period and ``--sloth-compat`` must not invent any."""
    return Problem(
        file,
        path,
        f"the {format_duration(period)} SLO period has no alert-window catalog; pass one "
        "with --windows DIR (Sloth AlertWindows format) or drop --sloth-compat to derive "
        "the windows",
    )
