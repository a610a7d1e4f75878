"""``opsplane rollout start|promote|abort|status|list``: progressive delivery by hand.

Modelled on the Argo Rollouts kubectl plugin: these commands act on the state database
(``--db``) only and record the operator's intent (a new rollout, a promote, an abort with its
rollback pending). The coordinator that ``opsplane serve`` runs on the same database takes the
steps, measures the analyses and moves the traffic; ``status`` says when a rollout waits for it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from opsplane.app.rollout import RolloutRequest, waits_for_controller
from opsplane.app.rollout_control import (
    RolloutControl,
    strategy_from_catalog,
    strategy_from_paths,
)
from opsplane.cli.slo import DEFAULT_DB, DbOption
from opsplane.domain.rollout import Rollout
from opsplane.errors import NotFoundError
from opsplane.render.rollout import rollout_document, rollout_json, rollouts_document

app = typer.Typer(
    help="Progressive delivery: start, promote, abort and watch rollouts.", no_args_is_help=True
)
JsonOption = Annotated[
    bool, typer.Option("--json", help="JSON (docs/cli-json.md) instead of text.")
]
IdArgument = Annotated[str, typer.Argument(help="The rollout's id (see `opsplane rollout list`).")]


if TYPE_CHECKING:
    from opsplane.adapters.sql.rollouts import SqlRollouts
    from opsplane.ports import Clock


@contextmanager
def _rollouts(db: str) -> Iterator[SqlRollouts]:
    """The state DB's rollouts (imported here: SQLAlchemy is slow to import for ``--help``)."""
    from opsplane.adapters.sql.rollouts import SqlRollouts  # noqa: PLC0415

    with SqlRollouts.open(db) as rollouts:
        yield rollouts


def _control(rollouts: SqlRollouts) -> RolloutControl:
    from opsplane.cli.wiring import SystemClock  # noqa: PLC0415

    clock: Clock = SystemClock()
    return RolloutControl(rollouts, clock)


def _view(rollout: Rollout) -> dict[str, Any]:
    return rollout_json(rollout, waiting_for_controller=waits_for_controller(rollout))


@app.command("start")
def start(
    service: Annotated[str, typer.Argument(help="The service to roll out.")],
    version: Annotated[str, typer.Option("--version", help="The new version.")],
    stable_version: Annotated[
        str, typer.Option("--stable-version", help="The version it replaces.")
    ],
    author: Annotated[str, typer.Option("--author", help="Who starts it.")] = "",
    config: Annotated[
        list[Path] | None,
        typer.Option(
            "--config", help="Spec files or directories with the service (default: the DB's)."
        ),
    ] = None,
    rollout_id: Annotated[
        str | None, typer.Option("--id", help="The rollout's id (default: SERVICE-VERSION-ms).")
    ] = None,
    as_json: JsonOption = False,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Record a new rollout; `opsplane serve`'s coordinator takes its steps."""
    with _rollouts(db) as rollouts:
        if config:
            strategy = strategy_from_paths(config, service)
        else:
            from opsplane.adapters.sql.server import SqlSpecs  # noqa: PLC0415

            strategy = strategy_from_catalog(SqlSpecs(rollouts.engine), service)
        request = RolloutRequest(service, version, stable_version, strategy, author=author)
        rollout = _control(rollouts).start(request, rollout_id)
    _print(rollout, as_json)


@app.command("promote")
def promote(
    rollout_id: IdArgument,
    full: Annotated[
        bool, typer.Option("--full", help="Skip every remaining pause and analysis.")
    ] = False,
    as_json: JsonOption = False,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Skip the current step (a pause or an analysis), or all of them with --full."""
    with _rollouts(db) as rollouts:
        rollout = _control(rollouts).promote(rollout_id, full=full)
    _print(rollout, as_json)


@app.command("abort")
def abort(
    rollout_id: IdArgument,
    reason: Annotated[str, typer.Option("--reason", help="Why (kept in the rollout).")] = "",
    author: Annotated[str, typer.Option("--author", help="Who aborts it.")] = "",
    as_json: JsonOption = False,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Roll back: all traffic to the stable version (applied by the coordinator)."""
    why = reason or (f"aborted by {author}" if author else "aborted by hand")
    with _rollouts(db) as rollouts:
        rollout = _control(rollouts).abort(rollout_id, why)
    _print(rollout, as_json)


@app.command("status")
def status(
    rollout_id: Annotated[
        str | None, typer.Argument(help="The rollout's id; or name the service.")
    ] = None,
    service: Annotated[
        str | None, typer.Option("--service", help="The newest rollout of this service.")
    ] = None,
    as_json: JsonOption = False,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Phase, step, weights, analysis and what waits for the coordinator."""
    if (rollout_id is None) == (service is None):
        raise typer.BadParameter("give a ROLLOUT_ID or --service, not both or neither")
    with _rollouts(db) as rollouts:
        if rollout_id is not None:
            found = rollouts.rollout(rollout_id)
            if found is None:
                raise NotFoundError(f"no rollout {rollout_id!r}")
        else:
            newest = rollouts.rollouts(service=service)
            if not newest:
                raise NotFoundError(f"service {service!r} has no rollout")
            found = newest[0]
    _print(found, as_json)


@app.command("list")
def list_rollouts(
    service: Annotated[str | None, typer.Option("--service", help="Only this service's.")] = None,
    active: Annotated[bool, typer.Option("--active", help="Only those in progress.")] = False,
    as_json: JsonOption = False,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Rollouts, newest first."""
    with _rollouts(db) as rollouts:
        found = rollouts.rollouts(active_only=active, service=service)
    views = [_view(r) for r in found]
    if as_json:
        typer.echo(json.dumps(rollouts_document(views), indent=2))
        return
    for view in views:
        waiting = "  (waiting for the controller)" if view["waiting_for_controller"] else ""
        typer.echo(
            f"{view['id']}  {view['service']}  {view['version']}  {view['phase']}  "
            f"{_weights(view['weights'])}{waiting}"
        )


def _print(rollout: Rollout, as_json: bool) -> None:
    view = _view(rollout)
    if as_json:
        typer.echo(json.dumps(rollout_document(view), indent=2))
    else:
        typer.echo("\n".join(status_lines(view)))


def status_lines(view: dict[str, Any]) -> list[str]:
    """The text of ``status``: one fact per line, as ``kubectl argo rollouts get`` shows."""
    step = view["step"]
    current = step["current"]
    lines = [
        f"Rollout:   {view['id']}",
        f"Service:   {view['service']} {view['version']} (stable {view['stable_version']})",
        f"Strategy:  {view['strategy']}",
        f"Phase:     {view['phase']}" + (f": {view['message']}" if view["message"] else ""),
        f"Step:      {min(step['index'] + 1, step['count'])}/{step['count']}"
        + (f" {_step_text(current)}" if current else " (done)"),
        f"Weights:   {_weights(view['weights'])}",
    ]
    if view["pause_until"]:
        lines.append(f"Paused until: {view['pause_until']}")
    analysis = view["analysis"]
    if analysis is not None:
        lines.append(f"Analysis:  {analysis['phase']}" + _suffix(analysis["message"]))
        for metric in analysis["metrics"]:
            last = metric["last"]
            seen = f", last {last['phase']} {last['value']}" if last else ""
            lines.append(
                f"  {metric['name']}: {metric['phase']} ({metric['successful']} successful, "
                f"{metric['failed']} failed, {metric['error']} errors{seen})"
            )
    lines += [f"Pending:   {_command_text(command)}" for command in view["pending"]]
    if view["waiting_for_controller"]:
        lines.append("Waiting for the controller (the coordinator of `opsplane serve`).")
    return lines


def _weights(weights: dict[str, int]) -> str:
    return ", ".join(f"{backend} {percent}%" for backend, percent in weights.items())


def _suffix(message: str) -> str:
    return f": {message}" if message else ""


def _step_text(step: dict[str, Any]) -> str:
    kind = step["kind"]
    if kind == "set_weight":
        return f"setWeight {step['weight']}"
    if kind == "pause":
        return "pause until promoted" if step["seconds"] is None else f"pause {step['seconds']}s"
    if kind == "analysis":
        return "analysis of " + ", ".join(step["metrics"])
    return f"scale down the old version after {step['delay_seconds']}s"


def _command_text(command: dict[str, Any]) -> str:
    kind = command["kind"]
    if kind == "set_weights":
        return "set weights " + _weights(command["weights"])
    if kind == "record_event":
        return f"record deployment {command['version']!r}"
    if kind == "correlate_incidents":
        return "note the rollback in open incidents"
    return f"scale down {command['backend']}"
