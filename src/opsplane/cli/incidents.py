"""``opsplane silence``, ``opsplane incident`` and ``opsplane deployment``: on-call by hand.

``silence add|expire|query`` follow ``amtool silence``: matchers as arguments (a bare first
argument is the ``alertname``), ``--duration`` or ``--end``, ``--comment`` and ``--author``.
``incident list|show|ack|resolve`` act on the incidents pages open, and ``list`` reports MTTA and
MTTR. ``deployment record|list`` keep the deployments that remediation summaries and incident
correlation read. Everything acts on the state database (``--db``), so a running
``slo run --alerting`` sees the change at its next flush.
"""

from __future__ import annotations

import importlib
import json
import sys
from types import ModuleType
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from opsplane.app import oncall
from opsplane.cli.generate import parse_period
from opsplane.cli.slo import DEFAULT_DB, DbOption, parse_at
from opsplane.domain import incidents as inc
from opsplane.domain.duration import format_duration
from opsplane.domain.routing import parse_matcher
from opsplane.domain.routing.matchers import Matcher
from opsplane.domain.routing.silences import SilenceState
from opsplane.errors import UsageError
from opsplane.ports import Clock
from opsplane.render.incidents import incident_json
from opsplane.render.status import rfc3339

silence_app = typer.Typer(help="Silence alerts (like amtool silence).", no_args_is_help=True)
incident_app = typer.Typer(help="Incidents opened by pages.", no_args_is_help=True)
deployment_app = typer.Typer(help="Record and list deployments.", no_args_is_help=True)
JsonOption = Annotated[bool, typer.Option("--json", help="JSON instead of a table.")]


def _wiring() -> ModuleType:
    return importlib.import_module("opsplane.cli.wiring")


def _clock() -> Clock:
    clock: Clock = _wiring().SystemClock()
    return clock


def parse_silence_matchers(args: list[str]) -> list[Matcher]:
    """amtool's silence arguments: matchers, a bare first one being the ``alertname``."""
    matchers = []
    for index, arg in enumerate(args):
        text = arg
        if index == 0 and not any(op in arg for op in ("=", "!", "~")):
            text = f"alertname={arg}"
        try:
            matchers.append(parse_matcher(text))
        except ValueError as exc:
            raise UsageError(f"invalid matcher {arg!r}: {exc}") from exc
    return matchers


@silence_app.command("add")
def silence_add(
    matchers: Annotated[list[str], typer.Argument(help="Matchers, e.g. service=shop.")],
    comment: Annotated[str, typer.Option("--comment", "-c", help="Why.")] = "",
    author: Annotated[str, typer.Option("--author", "-a", help="Who.")] = "",
    duration: Annotated[str, typer.Option("--duration", "-d", help="How long.")] = "1h",
    start: Annotated[str | None, typer.Option("--start", help="RFC 3339 start.")] = None,
    end: Annotated[str | None, typer.Option("--end", help="RFC 3339 end.")] = None,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Create a silence and print its id."""
    clock = _clock()
    starts_at = parse_at(start)
    begin = clock.now_ms() if starts_at is None else starts_at
    ends_at = parse_at(end) if end else begin + parse_period(duration)
    assert ends_at is not None
    with _wiring().open_repository("silences", db) as silences:
        silence = oncall.add_silence(
            silences,
            clock,
            matchers=parse_silence_matchers(matchers),
            starts_at=starts_at,
            ends_at=ends_at,
            created_by=author,
            comment=comment,
        )
    typer.echo(silence.id)


@silence_app.command("expire")
def silence_expire(
    ids: Annotated[list[str], typer.Argument(help="Silence ids.")],
    db: DbOption = DEFAULT_DB,
) -> None:
    """End silences now."""
    with _wiring().open_repository("silences", db) as silences:
        oncall.expire_silences(silences, _clock(), ids)


@silence_app.command("query")
def silence_query(
    state: Annotated[
        str | None, typer.Option("--state", help="active, pending or expired.")
    ] = None,
    as_json: JsonOption = False,
    db: DbOption = DEFAULT_DB,
) -> None:
    """List silences, newest first."""
    if state not in (None, "active", "pending", "expired"):
        raise UsageError(f"--state must be active, pending or expired, not {state!r}")
    chosen: SilenceState | None = state  # type: ignore[assignment]
    clock = _clock()
    now = clock.now_ms()
    with _wiring().open_repository("silences", db) as silences:
        found = oncall.list_silences(silences, clock, chosen)
    rows = [
        {
            "id": s.id,
            "matchers": [str(m) for m in s.matchers],
            "state": s.state(now),
            "startsAt": rfc3339(s.starts_at),
            "endsAt": rfc3339(s.ends_at),
            "createdBy": s.created_by,
            "comment": s.comment,
        }
        for s in found
    ]
    _print(rows, as_json, ("id", "matchers", "state", "endsAt", "createdBy", "comment"))


@incident_app.command("list")
def incident_list(
    open_only: Annotated[bool, typer.Option("--open", help="Only unresolved ones.")] = False,
    limit: Annotated[int, typer.Option("--limit", help="At most this many.")] = 50,
    as_json: JsonOption = False,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Incidents, newest first, with MTTA and MTTR over those listed."""
    with _wiring().open_repository("incidents", db) as incidents:
        found = incidents.incidents(unresolved_only=open_only, limit=limit)
    rows = [incident_json(i) for i in found]
    mtta, mttr = inc.mtta(found), inc.mttr(found)
    if as_json:
        summary = {"incidents": rows, "mtta_ms": mtta, "mttr_ms": mttr}
        sys.stdout.write(json.dumps(summary, indent=2) + "\n")
        return
    _print(rows, False, ("id", "state", "severity", "title", "opened_at"))
    typer.echo(f"MTTA {_mean(mtta)}  MTTR {_mean(mttr)}  over {len(found)} incidents")


@incident_app.command("show")
def incident_show(
    incident_id: Annotated[str, typer.Argument(help="The incident id.")],
    as_json: JsonOption = False,
    db: DbOption = DEFAULT_DB,
) -> None:
    """One incident and its timeline."""
    with _wiring().open_repository("incidents", db) as incidents:
        incident = oncall.get_incident(incidents, incident_id)
    row = incident_json(incident)
    if as_json:
        sys.stdout.write(json.dumps(row, indent=2) + "\n")
        return
    typer.echo(f"{incident.id} {incident.state} {incident.severity} {incident.title}")
    for event in row["timeline"]:
        typer.echo(f"  {event['at']} {event['kind']}: {event['detail']}")


@incident_app.command("ack")
def incident_ack(
    incident_id: Annotated[str, typer.Argument(help="The incident id.")],
    by: Annotated[str, typer.Option("--by", help="Who acknowledges.")] = "cli",
    db: DbOption = DEFAULT_DB,
) -> None:
    """Acknowledge an open incident."""
    with _wiring().open_repository("incidents", db) as incidents:
        oncall.acknowledge_incident(incidents, _clock(), incident_id, by)


@incident_app.command("resolve")
def incident_resolve(
    incident_id: Annotated[str, typer.Argument(help="The incident id.")],
    reason: Annotated[str, typer.Option("--reason", help="Why.")] = "resolved by hand",
    db: DbOption = DEFAULT_DB,
) -> None:
    """Resolve an incident by hand."""
    with _wiring().open_repository("incidents", db) as incidents:
        oncall.resolve_incident(incidents, _clock(), incident_id, reason)


@deployment_app.command("record")
def deployment_record(
    service: Annotated[str, typer.Argument(help="The service deployed.")],
    version: Annotated[str, typer.Argument(help="The version deployed.")],
    at: Annotated[str | None, typer.Option("--at", help="RFC 3339 start (default now).")] = None,
    author: Annotated[str, typer.Option("--author", help="Who deployed.")] = "",
    db: DbOption = DEFAULT_DB,
) -> None:
    """Record a deployment (remediation summaries and incidents correlate with it)."""
    with _wiring().open_repository("deployments", db) as deployments:
        oncall.record_deployment(
            deployments,
            _clock(),
            service=service,
            version=version,
            started_at=parse_at(at),
            author=author,
        )


@deployment_app.command("list")
def deployment_list(
    since: Annotated[str, typer.Option("--since", help="How far back.")] = "24h",
    service: Annotated[str | None, typer.Option("--service", help="Only this one.")] = None,
    as_json: JsonOption = False,
    db: DbOption = DEFAULT_DB,
) -> None:
    """Deployments, newest first."""
    with _wiring().open_repository("deployments", db) as deployments:
        found = deployments.deployments(_clock().now_ms() - parse_period(since), service)
    rows = [
        {
            "service": d.service,
            "version": d.version,
            "at": rfc3339(d.started_at),
            "author": d.author,
        }
        for d in found
    ]
    _print(rows, as_json, ("service", "version", "at", "author"))


def _mean(millis: float | None) -> str:
    return "-" if millis is None else format_duration(max(round(millis / 1000), 1) * 1000)


def _print(rows: list[dict[str, Any]], as_json: bool, columns: tuple[str, ...]) -> None:
    if as_json:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    console = Console()
    if not console.is_terminal:
        console.width = 160
    table = Table()
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(_cell(row[c]) for c in columns))
    console.print(table)


def _cell(value: object) -> str:
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return "-" if value is None else str(value)
