"""Use case: Argo Rollouts manifests for every service whose spec has a ``delivery:`` section.

Used by ``opsplane generate argo``. Services without a delivery policy (and inputs such as
Sloth or OpenSLO, which have none) are skipped and named in a warning.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from opsplane.errors import SpecError
from opsplane.render.argo import DEFAULT_PROMETHEUS, ArgoFile, argo_manifests
from opsplane.spec import load_paths
from opsplane.spec.delivery import deliveries


@dataclass(frozen=True, slots=True)
class ArgoOutput:
    """The files to write, and what the user should know."""

    files: list[ArgoFile]
    warnings: list[str] = field(default_factory=list)


def generate_argo(
    paths: Sequence[str | Path], *, prometheus: str = DEFAULT_PROMETHEUS
) -> ArgoOutput:
    """A ``Rollout`` (and ``AnalysisTemplate``) per service with a delivery policy.

    Raises:
        SpecError: a spec or a delivery section is invalid (nothing is generated then).
    """
    loaded = load_paths(paths)
    found, problems = deliveries(loaded)
    if loaded.problems or problems:
        raise SpecError(sorted(dict.fromkeys(loaded.problems + problems), key=lambda p: p.file))
    with_policy = {parsed.service.name for parsed, _ in found}
    skipped = sorted(s.name for s in loaded.services if s.name not in with_policy)
    warnings = [f"{name}: no delivery section, no rollout generated" for name in skipped]
    files = [
        argo_manifests(parsed.service, policy, prometheus=prometheus) for parsed, policy in found
    ]
    return ArgoOutput(files, warnings)
