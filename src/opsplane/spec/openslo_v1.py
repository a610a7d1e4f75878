"""OpenSLO ``openslo/v1`` (placeholder until the OpenSLO parser lands)."""

from __future__ import annotations

from opsplane.errors import Problem
from opsplane.spec.documents import Document
from opsplane.spec.parsed import Parsed


def parse_openslo_v1(docs: list[Document]) -> tuple[list[Parsed], list[Problem]]:
    """Resolve OpenSLO v1 objects across documents into services."""
    return [], [d.problem("openslo/v1 is not supported yet") for d in docs]
