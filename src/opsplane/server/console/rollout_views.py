"""What the console's rollout pages show, from the rollout JSON document (pure).

Every field comes from :func:`opsplane.render.rollout.rollout_json`, the shape of the API and
of ``opsplane rollout status --json``, so the console says what they say. This module only adds
what a page needs on top: a phrase for each step, the split as two bars, the state of each step
(done, current, next) and the analysis' measurements, which the document keeps only the last of.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from opsplane.app.rollout import waits_for_controller
from opsplane.domain.analysis import Measurement
from opsplane.domain.rollout import Rollout
from opsplane.render.rollout import rollout_json, step_json
from opsplane.types import Millis

StepState = Literal["done", "current", "stopped", "next"]


@dataclass(frozen=True, slots=True)
class Split:
    """The traffic split: each backend's name and percentage (they add up to 100)."""

    stable: str
    stable_weight: int
    canary: str
    canary_weight: int


@dataclass(frozen=True, slots=True)
class RolloutRow:
    """One rollout as the pages show it.

    Attributes:
        doc: The API's document of it (``rollout_json``).
        step: Its current step in words (``weight 25%``), or ``done`` past the last one.
        split: Its current weights.
        started_at: When it started, for "5m ago".
        updated_at: When it last changed.
    """

    doc: dict[str, Any]
    step: str
    split: Split
    started_at: Millis
    updated_at: Millis


@dataclass(frozen=True, slots=True)
class StepRow:
    """One step of the detail page's step list (``number`` counts from 1)."""

    number: int
    text: str
    state: StepState


@dataclass(frozen=True, slots=True)
class MeasurementRow:
    """One measurement of an analysis metric, oldest first."""

    metric: str
    phase: str
    value: str
    message: str
    at: Millis


@dataclass(frozen=True, slots=True)
class RolloutsPage:
    """The rollouts page: those in progress, then the most recent that have ended."""

    active: tuple[RolloutRow, ...]
    recent: tuple[RolloutRow, ...]


def document(rollout: Rollout) -> dict[str, Any]:
    """The API's document of ``rollout`` (``GET .../rollouts/{id}``)."""
    return rollout_json(rollout, waiting_for_controller=waits_for_controller(rollout))


def row(rollout: Rollout) -> RolloutRow:
    """One rollout with its document, its step in words and its split."""
    doc = document(rollout)
    current = doc["step"]["current"]
    return RolloutRow(
        doc=doc,
        step="done" if current is None else step_text(current),
        split=split(doc),
        started_at=rollout.started_at,
        updated_at=rollout.updated_at,
    )


def rollouts_page(
    active: Sequence[Rollout], everything: Sequence[Rollout], recent: int
) -> RolloutsPage:
    """The page of the ``active`` rollouts, then at most ``recent`` others of ``everything``.

    Both are newest first, as the store lists them.
    """
    running = {r.id for r in active}
    ended = [r for r in everything if r.id not in running][:recent]
    return RolloutsPage(tuple(row(r) for r in active), tuple(row(r) for r in ended))


def split(doc: dict[str, Any]) -> Split:
    """The split of a rollout document: its backends' names and weights."""
    stable, canary = doc["backends"]["stable"], doc["backends"]["canary"]
    return Split(stable, doc["weights"][stable], canary, doc["weights"][canary])


def step_text(step: dict[str, Any]) -> str:
    """A step of :func:`~opsplane.render.rollout.step_json` in words: ``weight 25%``."""
    match step["kind"]:
        case "set_weight":
            return f"weight {step['weight']}%"
        case "pause":
            seconds = step["seconds"]
            return "pause until promoted" if seconds is None else f"pause {seconds:g}s"
        case "analysis":
            return "analysis of " + ", ".join(step["metrics"])
        case _:  # "scale_down"
            return f"scale the old version down after {step['delay_seconds']:g}s"


def steps(rollout: Rollout) -> tuple[StepRow, ...]:
    """Every step, marked done (passed), current, stopped (where it aborted) or next."""
    here = rollout.step_index
    return tuple(
        StepRow(i + 1, step_text(step_json(step)), _state(i, here, rollout.phase))
        for i, step in enumerate(rollout.steps)
    )


def _state(index: int, here: int, phase: str) -> StepState:
    if index < here or phase == "Completed":
        return "done"
    if index > here:
        return "next"
    return "stopped" if phase == "Aborted" else "current"


def measurements(rollout: Rollout) -> tuple[MeasurementRow, ...]:
    """The current analysis' measurements kept per metric (the document has the last only)."""
    if rollout.analysis is None:
        return ()
    return tuple(
        _measurement(result.name, m)
        for result in rollout.analysis.results
        for m in result.measurements
    )


def _measurement(metric: str, m: Measurement) -> MeasurementRow:
    at = m.finished_at if m.finished_at is not None else m.started_at
    return MeasurementRow(metric, m.phase, m.value, m.message, at)
