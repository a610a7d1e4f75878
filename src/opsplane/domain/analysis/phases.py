"""Analysis phases and which of two is worse (Argo Rollouts ``AnalysisPhase``).

Source: ``pkg/apis/rollouts/v1alpha1/analysis_types.go`` (the phases, ``Completed()``) and
``utils/analysis/helpers.go`` (``analysisStatusOrder``, ``IsWorse``, ``Worst``).
"""

from __future__ import annotations

from typing import Final, Literal, TypeAlias

AnalysisPhase: TypeAlias = Literal[
    "Pending", "Running", "Successful", "Failed", "Error", "Inconclusive"
]
"""The phase of a measurement, a metric or a whole analysis run."""

MeasurementPhase: TypeAlias = Literal["Successful", "Failed", "Inconclusive", "Error"]
"""The phase of a finished measurement (providers here answer synchronously)."""

COMPLETED: Final[frozenset[AnalysisPhase]] = frozenset(
    {"Successful", "Failed", "Error", "Inconclusive"}
)
"""``AnalysisPhase.Completed()``: the phases a metric or run never leaves."""

TERMINAL_FAILURES: Final[frozenset[AnalysisPhase]] = frozenset({"Failed", "Error", "Inconclusive"})
"""A (non dry-run) metric in one of these ends the run early (``IsTerminating``)."""

ORDER: Final[tuple[AnalysisPhase, ...]] = (
    "Successful",
    "Running",
    "Pending",
    "Inconclusive",
    "Error",
    "Failed",
)
"""``analysisStatusOrder``: best to worst, so Failed > Error > Inconclusive."""


def is_completed(phase: AnalysisPhase) -> bool:
    """Whether ``phase`` is final (``AnalysisPhase.Completed()``)."""
    return phase in COMPLETED


def is_worse(current: AnalysisPhase, new: AnalysisPhase) -> bool:
    """Whether ``new`` is strictly worse than ``current`` (``IsWorse``)."""
    return ORDER.index(new) > ORDER.index(current)


def worst(left: AnalysisPhase, right: AnalysisPhase) -> AnalysisPhase:
    """The worse of two phases; ``left`` on a tie (``Worst``)."""
    return right if is_worse(left, right) else left
