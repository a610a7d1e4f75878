"""The Argo Rollouts conformance vectors in ``../shared/conformance/argo-rollouts``.

Cases are read at collection time so each becomes its own test; when the shared directory is
absent the lists are empty and each module's "all cases are collected" test skips with a clear
message (through :func:`tests.conftest.shared_path`).
"""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import SHARED, shared_path

ARGO_ROLLOUTS = SHARED / "conformance" / "argo-rollouts"


def load(name: str) -> dict[str, Any]:
    """One vector file, or ``{}`` when the shared data is absent."""
    path = ARGO_ROLLOUTS / name
    if not path.exists():
        return {}
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def require(name: str) -> None:
    """Skip (clearly) when the vector file is absent."""
    shared_path("conformance", "argo-rollouts", name)
