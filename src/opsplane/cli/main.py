"""The ``opsplane`` command line (the contract is in DESIGN.md and docs/).

Errors never print a traceback: an :class:`~opsplane.errors.OpsplaneError` prints one line per
problem on stderr and exits with its code; anything unexpected prints one line and exits 70.
"""

from __future__ import annotations

import sys

import typer

import opsplane.cli.cost as cost_cli
from opsplane.cli import alerts, canary, generate, incidents, server, slo, validate
from opsplane.cli import rollout as rollout_cli
from opsplane.cli.output import print_error
from opsplane.errors import OpsplaneError

app = typer.Typer(
    name="opsplane",
    help="Day-2 operations control plane: SLO rules, dashboards, alerts, rollouts and cost.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.command("validate")(validate.validate)
app.command("schema")(validate.schema)
app.add_typer(generate.app, name="generate")
app.add_typer(slo.slo_app, name="slo")
app.add_typer(slo.ingest_app, name="ingest")
app.add_typer(alerts.app, name="alerts")
app.add_typer(cost_cli.app, name="cost")
app.add_typer(canary.app, name="canary")
app.add_typer(incidents.silence_app, name="silence")
app.add_typer(incidents.incident_app, name="incident")
app.add_typer(incidents.deployment_app, name="deployment")
app.add_typer(rollout_cli.app, name="rollout")
app.command("serve")(server.serve)
app.command("demo")(server.demo)
app.add_typer(server.token_app, name="token")

EX_SOFTWARE = 70  # sysexits.h: internal software error


def main() -> None:
    """Entry point of the console script.

    Click handles usage errors itself (exit 2, as DESIGN.md promises); our own errors and any
    surprise are turned into one-line messages here.
    """
    try:
        app()
    except OpsplaneError as exc:
        print_error(exc)
        sys.exit(exc.exit_code)
    except Exception as exc:  # the promise is "never a traceback"
        sys.stderr.write(f"opsplane: internal error: {type(exc).__name__}: {exc}\n")
        sys.exit(EX_SOFTWARE)
