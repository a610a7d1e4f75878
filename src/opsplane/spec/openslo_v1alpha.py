"""OpenSLO ``openslo/v1alpha`` (placeholder until the OpenSLO parser lands)."""

from __future__ import annotations

from opsplane.errors import Problem
from opsplane.spec.documents import Document
from opsplane.spec.parsed import Parsed


def parse_openslo_v1alpha(doc: Document) -> tuple[list[Parsed], list[Problem]]:
    """One v1alpha SLO document as one service."""
    return [], [doc.problem("openslo/v1alpha is not supported yet")]
