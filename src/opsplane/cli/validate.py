"""``opsplane validate`` and ``opsplane schema``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from opsplane.app.generate import validate as validate_specs
from opsplane.errors import SpecError
from opsplane.spec.opsplane_v1 import json_schema

Paths = Annotated[list[Path], typer.Argument(help="Spec files or directories.", show_default=False)]


def validate(
    paths: Paths,
    allow_duplicates: Annotated[
        bool,
        typer.Option(
            "--allow-duplicates",
            "--ignore-slo-duplicates",
            help="Do not fail on duplicate SLO ids.",
        ),
    ] = False,
) -> None:
    """Check specs; print every problem as FILE:PATH: message and exit 1 if there is any."""
    result = validate_specs(paths, allow_duplicates=allow_duplicates)
    if result.problems:
        raise SpecError(result.problems)
    typer.echo(f"valid: {len(result.services)} services, {result.slo_count} SLOs")


def schema() -> None:
    """Print the JSON Schema of the opsplane/v1 Service spec."""
    typer.echo(json_schema())
