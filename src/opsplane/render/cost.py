"""Cost results as versioned JSON documents (``docs/cost.md``); money is decimal text."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from opsplane.domain.cost.model import COMPONENTS, Breakdown, PricedRun
from opsplane.domain.cost.money import money_text
from opsplane.domain.cost.reconcile import Reconciliation, ServiceReconciliation

VERSION: Final = 1


def breakdown_document(breakdown: Breakdown) -> dict[str, str]:
    """``{"actions": "0.012", "compute": ..., "llm": ..., "api_fees": ...}``."""
    return {c: money_text(breakdown.component(c)) for c in COMPONENTS}


def runs_document(
    priced: Sequence[PricedRun], currency: str, *, single: bool, source: str = ""
) -> dict[str, Any]:
    """``opsplane cost run --json``: every run, and the batch's breakdown and total.

    A file with one run object also gets DESIGN.md's top-level ``run_id``; ``breakdown`` and
    ``total`` are then that run's.
    """
    total = Breakdown(currency)
    for p in priced:
        total = total + Breakdown.of(
            p.breakdown.currency, [p.breakdown.component(c) for c in COMPONENTS]
        )
    doc: dict[str, Any] = {"version": VERSION}
    if single and priced:
        doc["run_id"] = priced[0].run.run_id
    doc |= {
        "currency": currency,
        "breakdown": breakdown_document(total),
        "total": money_text(total.total),
        "runs": [
            {
                "id": p.run.run_id,
                "service": p.run.service,
                "namespace": p.run.namespace,
                "breakdown": breakdown_document(p.breakdown),
                "total": money_text(p.breakdown.total),
            }
            for p in priced
        ],
    }
    if source:
        doc["price_source"] = source
    return doc


def reconciliation_document(report: Reconciliation) -> dict[str, Any]:
    """``opsplane cost reconcile --json``."""
    return {
        "version": VERSION,
        "currency": report.currency,
        "services": [_service(s) for s in report.services],
        "unallocated": money_text(report.unallocated),
        "other_currency_rows": report.other_currency_rows,
    }


def _service(s: ServiceReconciliation) -> dict[str, Any]:
    return {
        "service": s.service,
        "estimated": money_text(s.estimated),
        "billed": money_text(s.billed),
        "difference": money_text(s.difference),
        "error": s.error,
        "components": {
            c: {"estimated": money_text(e), "billed": money_text(b)}
            for c, (e, b) in s.components.items()
        },
        "skus": [
            {
                "component": d.component,
                "sku": d.sku,
                "estimated": money_text(d.estimated),
                "billed": money_text(d.billed),
                "difference": money_text(d.difference),
                "cause": d.cause(),
            }
            for d in s.skus
        ],
        "explanation": s.explanation(),
    }
