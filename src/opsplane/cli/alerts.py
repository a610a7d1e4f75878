"""``opsplane alerts route``: where an alert goes, exactly as ``amtool`` says.

``opsplane alerts route --config ROUTING.yaml k=v...`` prints what
``amtool config routes test --config.file ROUTING.yaml k=v...`` prints (Alertmanager's
``cli/test_routing.go``): the receiver of every matched route, in routing-tree order, joined by
commas on one line. A receiver reached through two routes is printed twice; an alert that no
child route matches goes to the root's receiver.

Labels are read like amtool's: each argument is one matcher that must use ``=``
(``severity=page``, ``severity="page"``), read by the classic parser as amtool 0.25 does, or by
the UTF-8 parser when the classic one fails (``"team name"=db``); a later label replaces an
earlier one of the same name.
A malformed label is a usage error (exit 2); an invalid configuration prints one line per problem
and exits 1. With ``--verify.receivers``, a different result prints amtool's warning and exits 1.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from opsplane.domain.routing import parse_matcher
from opsplane.errors import UsageError
from opsplane.spec.alertmanager_config import load_alertmanager_config

app = typer.Typer(help="Alert routing, compatible with Alertmanager.", no_args_is_help=True)

MISMATCH_WARNING = "WARNING: Expected receivers did not match resolved receivers."
"""What ``amtool config routes test --verify.receivers`` prints on a mismatch."""


def parse_label_args(args: list[str]) -> dict[str, str]:
    """``parseLabels`` in amtool's ``cli/utils.go``: ``name=value`` arguments as a label set.

    Raises:
        UsageError: an argument is not a matcher, or not an equality matcher.
    """
    labels: dict[str, str] = {}
    for arg in args:
        try:  # amtool 0.25's own parser first: it reads ``a=b}`` as the value ``b}``
            matcher = parse_matcher(arg, "classic")
        except ValueError as exc:
            try:  # then Alertmanager >= 0.27's, for UTF-8 names: ``"team name"=db``
                matcher = parse_matcher(arg, "utf8")
            except ValueError:
                raise UsageError(f"invalid label {arg!r}: {exc}; use name=value") from exc
        if matcher.type != "=":
            msg = f"invalid label {arg!r}: labels must be specified as key=value pairs"
            raise UsageError(msg)
        labels[matcher.name] = matcher.value
    return labels


@app.command("route")
def route(
    config: Annotated[
        Path,
        typer.Option(
            "--config", "--config.file", help="Alertmanager configuration file.", show_default=False
        ),
    ],
    labels: Annotated[
        list[str] | None,
        typer.Argument(help="The alert's labels.", metavar="NAME=VALUE...", show_default=False),
    ] = None,
    verify: Annotated[
        str,
        typer.Option(
            "--verify.receivers",
            "--verify-receivers",
            help="Fail (exit 1) unless the result is exactly this, e.g. 'team-a,pager'.",
        ),
    ] = "",
) -> None:
    """Print the receivers an alert with these labels is routed to (amtool's format)."""
    alert = parse_label_args(labels or [])
    routing = load_alertmanager_config(config)
    receivers = ",".join(routing.receivers_for(alert))
    typer.echo(receivers)
    if verify and verify != receivers:
        typer.echo(MISMATCH_WARNING)
        raise typer.Exit(1)
