"""A :class:`~opsplane.domain.rollout.Rollout` as plain JSON data and back, for durable stores.

The document carries ``"version": 1``; fields are added freely, never renamed. Steps are
spelled as in an Argo Rollouts manifest (``{"setWeight": 25}``, ``{"pause": {"duration": ...}}``,
``{"analysis": {"metrics": [...]}}``), with durations in milliseconds. Unions are tagged by their
one key, so reading never guesses.

Added in 0.1.0.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import Any, Final

from opsplane.domain.analysis import AnalysisMetric, AnalysisRun, Measurement, MetricResult
from opsplane.domain.rollout import (
    Analyze,
    BlueGreenStrategy,
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
    Strategy,
)

VERSION: Final = 1
Json = dict[str, Any]


def rollout_to_json(rollout: Rollout) -> Json:
    """The rollout as JSON-ready data."""
    return {
        "version": VERSION,
        "id": rollout.id,
        "service": rollout.service,
        "rolloutVersion": rollout.version,
        "stableVersion": rollout.stable_version,
        "strategy": _strategy_to_json(rollout.strategy),
        "startedAt": rollout.started_at,
        "stableBackend": rollout.stable_backend,
        "canaryBackend": rollout.canary_backend,
        "phase": rollout.phase,
        "stepIndex": rollout.step_index,
        "weight": rollout.weight,
        "analysis": None if rollout.analysis is None else _run_to_json(rollout.analysis),
        "pauseUntil": rollout.pause_until,
        "promoteFull": rollout.promote_full,
        "message": rollout.message,
        "updatedAt": rollout.updated_at,
        "revision": rollout.revision,
        "pending": [_command_to_json(c) for c in rollout.pending],
        "author": rollout.author,
    }


def rollout_from_json(data: Mapping[str, Any]) -> Rollout:
    """The inverse of :func:`rollout_to_json`.

    Raises:
        ValueError: the document is of an unknown version or malformed.
    """
    if data.get("version") != VERSION:
        raise ValueError(f"unknown rollout document version {data.get('version')!r}")
    try:
        analysis = data["analysis"]
        return Rollout(
            id=data["id"],
            service=data["service"],
            version=data["rolloutVersion"],
            stable_version=data["stableVersion"],
            strategy=_strategy_from_json(data["strategy"]),
            started_at=data["startedAt"],
            stable_backend=data["stableBackend"],
            canary_backend=data["canaryBackend"],
            phase=data["phase"],
            step_index=data["stepIndex"],
            weight=data["weight"],
            analysis=None if analysis is None else _run_from_json(analysis),
            pause_until=data["pauseUntil"],
            promote_full=data["promoteFull"],
            message=data["message"],
            updated_at=data["updatedAt"],
            revision=data["revision"],
            pending=tuple(_command_from_json(c) for c in data["pending"]),
            author=data["author"],
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"malformed rollout document: {exc!r}") from exc


def step_to_json(step: Step) -> Json:
    """One step, spelled as in an Argo ``Rollout`` (durations in ms)."""
    match step:
        case SetWeight(percent):
            return {"setWeight": percent}
        case Pause(duration):
            return {"pause": {} if duration is None else {"duration": duration}}
        case Analyze(metrics):
            return {"analysis": {"metrics": [_flat(m) for m in metrics]}}
        case ScaleDownOld(delay):
            return {"scaleDown": {"delay": delay}}


def step_from_json(data: Mapping[str, Any]) -> Step:
    """The inverse of :func:`step_to_json`."""
    (kind, value), *_ = data.items()
    match kind:
        case "setWeight":
            return SetWeight(value)
        case "pause":
            return Pause(value.get("duration"))
        case "analysis":
            return Analyze(tuple(AnalysisMetric(**m) for m in value["metrics"]))
        case "scaleDown":
            return ScaleDownOld(value["delay"])
    raise ValueError(f"unknown step {kind!r}")


def _strategy_to_json(strategy: Strategy) -> Json:
    if isinstance(strategy, CanaryStrategy):
        return {"canary": {"steps": [step_to_json(s) for s in strategy.steps]}}
    flat = _flat(strategy)
    for key in ("pre_promotion", "post_promotion"):
        flat[key] = [_flat(m) for m in getattr(strategy, key)]
    return {"blueGreen": flat}


def _strategy_from_json(data: Mapping[str, Any]) -> Strategy:
    if "canary" in data:
        return CanaryStrategy(tuple(step_from_json(s) for s in data["canary"]["steps"]))
    raw = dict(data["blueGreen"])
    for key in ("pre_promotion", "post_promotion"):
        raw[key] = tuple(AnalysisMetric(**m) for m in raw[key])
    return BlueGreenStrategy(**raw)


def _run_to_json(run: AnalysisRun) -> Json:
    return {
        "metrics": [_flat(m) for m in run.metrics],
        "results": [
            {**_flat(r), "measurements": [_flat(m) for m in r.measurements]} for r in run.results
        ],
        "startedAt": run.started_at,
        "phase": run.phase,
        "message": run.message,
        "terminate": run.terminate,
    }


def _run_from_json(data: Mapping[str, Any]) -> AnalysisRun:
    results = tuple(
        MetricResult(
            **{
                **r,
                "measurements": tuple(Measurement(**m) for m in r["measurements"]),
            }
        )
        for r in data["results"]
    )
    return AnalysisRun(
        metrics=tuple(AnalysisMetric(**m) for m in data["metrics"]),
        results=results,
        started_at=data["startedAt"],
        phase=data["phase"],
        message=data["message"],
        terminate=data["terminate"],
    )


def _command_to_json(command: Command) -> Json:
    match command:
        case SetWeights(weights):
            return {"setWeights": [[backend, percent] for backend, percent in weights]}
        case RecordEvent():
            return {"recordEvent": _flat(command)}
        case CorrelateIncidents():
            return {"correlateIncidents": _flat(command)}
        case ScaleDown(backend):
            return {"scaleDown": backend}


def _command_from_json(data: Mapping[str, Any]) -> Command:
    (kind, value), *_ = data.items()
    match kind:
        case "setWeights":
            return SetWeights(tuple((str(b), int(p)) for b, p in value))
        case "recordEvent":
            return RecordEvent(**value)
        case "correlateIncidents":
            return CorrelateIncidents(**value)
        case "scaleDown":
            return ScaleDown(value)
    raise ValueError(f"unknown command {kind!r}")


def _flat(value: object) -> Json:
    """A dataclass of scalars as a dict of its fields (names as in Python)."""
    return {f.name: getattr(value, f.name) for f in fields(value)}  # type: ignore[arg-type]
