"""Rollouts as JSON: one shape for ``opsplane rollout status|list --json`` and the API.

The shape is documented in ``docs/cli-json.md`` (version 1): fields are added freely, never
renamed or removed. Instants are RFC 3339, durations seconds, names snake_case. The stored
document (:mod:`opsplane.domain.rollout_codec`) is a different, internal shape.
"""

from __future__ import annotations

from typing import Any, Final

from opsplane.domain.analysis import AnalysisRun, Measurement, MetricResult
from opsplane.domain.rollout import (
    Analyze,
    CanaryStrategy,
    Command,
    CorrelateIncidents,
    Pause,
    RecordEvent,
    Rollout,
    ScaleDown,
    ScaleDownOld,
    SetWeight,
    SetWeights,
    Step,
)
from opsplane.render.incidents import optional_time
from opsplane.render.status import rfc3339

VERSION: Final = 1


def rollout_json(rollout: Rollout, *, waiting_for_controller: bool) -> dict[str, Any]:
    """One rollout: where it is, the split it wants, its analysis and what is left to do.

    Args:
        rollout: The stored state.
        waiting_for_controller: Whether only a coordinator can move it on now (it has pending
            commands, or it was just started or promoted; see
            :func:`opsplane.app.rollout.waits_for_controller`).
    """
    steps = rollout.steps
    current = steps[rollout.step_index] if rollout.step_index < len(steps) else None
    return {
        "id": rollout.id,
        "service": rollout.service,
        "version": rollout.version,
        "stable_version": rollout.stable_version,
        "author": rollout.author,
        "strategy": "canary" if isinstance(rollout.strategy, CanaryStrategy) else "blue-green",
        "phase": rollout.phase,
        "message": rollout.message,
        "active": not rollout.terminal or bool(rollout.pending),
        "step": {
            "index": rollout.step_index,
            "count": len(steps),
            "current": None if current is None else step_json(current),
        },
        "canary_weight": rollout.weight,
        "weights": rollout.weights,
        "backends": {"stable": rollout.stable_backend, "canary": rollout.canary_backend},
        "analysis": None if rollout.analysis is None else analysis_json(rollout.analysis),
        "pause_until": optional_time(rollout.pause_until),
        "pending": [command_json(c) for c in rollout.pending],
        "waiting_for_controller": waiting_for_controller,
        "started_at": rfc3339(rollout.started_at),
        "updated_at": rfc3339(rollout.updated_at),
        "revision": rollout.revision,
    }


def step_json(step: Step) -> dict[str, Any]:
    """``{"kind": "set_weight", "weight": 25}``, ``pause``, ``analysis`` or ``scale_down``."""
    match step:
        case SetWeight(percent):
            return {"kind": "set_weight", "weight": percent}
        case Pause(duration):
            return {"kind": "pause", "seconds": None if duration is None else duration / 1000}
        case Analyze(metrics):
            return {"kind": "analysis", "metrics": [m.name for m in metrics]}
        case ScaleDownOld(delay):
            return {"kind": "scale_down", "delay_seconds": delay / 1000}


def command_json(command: Command) -> dict[str, Any]:
    """A command a coordinator has yet to carry out."""
    match command:
        case SetWeights(weights):
            return {"kind": "set_weights", "weights": dict(weights)}
        case RecordEvent(version, started_at, finished_at):
            return {
                "kind": "record_event",
                "version": version,
                "started_at": rfc3339(started_at),
                "finished_at": rfc3339(finished_at),
            }
        case CorrelateIncidents(detail, at):
            return {"kind": "correlate_incidents", "detail": detail, "at": rfc3339(at)}
        case ScaleDown(backend):
            return {"kind": "scale_down", "backend": backend}


def analysis_json(run: AnalysisRun) -> dict[str, Any]:
    """The current step's analysis: its phase and each metric's counts and last measurement."""
    return {
        "phase": run.phase,
        "message": run.message,
        "started_at": rfc3339(run.started_at),
        "metrics": [_metric_json(result) for result in run.results],
    }


def _metric_json(result: MetricResult) -> dict[str, Any]:
    return {
        "name": result.name,
        "phase": result.phase,
        "message": result.message,
        "count": result.count,
        "successful": result.successful,
        "failed": result.failed,
        "inconclusive": result.inconclusive,
        "error": result.error,
        "consecutive_error": result.consecutive_error,
        "last": _measurement_json(result.last_measurement),
    }


def _measurement_json(measurement: Measurement | None) -> dict[str, Any] | None:
    if measurement is None:
        return None
    at = measurement.finished_at if measurement.finished_at is not None else measurement.started_at
    return {
        "phase": measurement.phase,
        "value": measurement.value,
        "message": measurement.message,
        "at": rfc3339(at),
    }


def rollouts_document(rollouts: list[dict[str, Any]]) -> dict[str, Any]:
    """``opsplane rollout list --json``: ``{"version": 1, "rollouts": [...]}``."""
    return {"version": VERSION, "rollouts": rollouts}


def rollout_document(rollout: dict[str, Any]) -> dict[str, Any]:
    """``opsplane rollout status --json``: ``{"version": 1, "rollout": {...}}``."""
    return {"version": VERSION, "rollout": rollout}
