"""Custom alert-window catalogs in Sloth's ``AlertWindows`` format (``--windows DIR``)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pydantic import Field

from opsplane.domain.duration import parse_duration
from opsplane.domain.windows import DEFAULT_CATALOGS, AlertWindow, AlertWindows
from opsplane.errors import Problem
from opsplane.spec.documents import Document, expand_paths, read_documents
from opsplane.spec.edge import Strict, parse_model
from opsplane.spec.opsplane_v1 import TierWindowsSpec
from opsplane.types import Millis


class _CatalogSpec(Strict):
    sloPeriod: str  # noqa: N815 - Sloth's field names
    page: TierWindowsSpec
    ticket: TierWindowsSpec


class AlertWindowsDoc(Strict):
    """``apiVersion: sloth.slok.dev/v1``, ``kind: AlertWindows``."""

    apiVersion: str  # noqa: N815
    kind: str
    spec: _CatalogSpec
    metadata: dict[str, object] = Field(default_factory=dict)


def load_catalogs(
    paths: Sequence[str | Path], *, keep_defaults: bool = True
) -> tuple[dict[Millis, AlertWindows], list[Problem]]:
    """Every catalog under ``paths``, keyed by period.

    With ``keep_defaults`` they overlay the built-in 30d and 28d catalogs; without it they
    replace them, as Sloth's ``--slo-period-windows-path`` does.
    """
    files, problems = expand_paths(paths)
    catalogs = dict(DEFAULT_CATALOGS) if keep_defaults else {}
    for file in files:
        docs, read_problems = read_documents(file)
        problems += read_problems
        for doc in docs:
            catalog, found = _catalog(doc)
            problems += found
            if catalog is not None:
                catalogs[catalog.period] = catalog
    return catalogs, problems


def _catalog(doc: Document) -> tuple[AlertWindows | None, list[Problem]]:
    spec, problems = parse_model(AlertWindowsDoc, doc, doc.data)
    if spec is None:
        return None, problems
    if (spec.apiVersion, spec.kind) != ("sloth.slok.dev/v1", "AlertWindows"):
        return None, [doc.problem("expected apiVersion sloth.slok.dev/v1, kind AlertWindows")]
    try:
        period = parse_duration(spec.spec.sloPeriod)
        conds = [
            AlertWindow(
                w.errorBudgetPercent, parse_duration(w.shortWindow), parse_duration(w.longWindow)
            )
            for tier in (spec.spec.page, spec.spec.ticket)
            for w in (tier.quick, tier.slow)
        ]
    except ValueError as exc:
        return None, [doc.problem(str(exc), "spec")]
    return AlertWindows(period, *conds), []
