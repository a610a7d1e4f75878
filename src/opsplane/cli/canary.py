"""``opsplane canary judge``: Kayenta's NetflixACAJudge on two samples files.

``opsplane canary judge --config CANARY.json --control FILE --experiment FILE [--json]``
reads a Kayenta canary configuration and the baseline (control) and canary (experiment)
samples, prints one row per metric (classification, reason, groups) and the score and verdict,
or the versioned JSON of ``docs/canary.md`` with ``--json``.

Exit codes (DESIGN.md, "JSON that the CLI reads and writes"): 0 pass, 10 marginal, 11 fail, so
that a pipeline can gate on the verdict; 1 invalid input (one ``FILE:PATH: message`` line per
problem); 2 usage errors.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from opsplane.domain.canary import Judgement, Verdict

app = typer.Typer(help="Canary analysis, compatible with Kayenta.", no_args_is_help=True)

EXIT_CODES: dict[Verdict, int] = {"pass": 0, "marginal": 10, "fail": 11}
"""The exit code of each verdict (DESIGN.md)."""


@app.command("judge")
def judge(
    config: Annotated[Path, typer.Option("--config", help="Kayenta canary configuration (JSON).")],
    control: Annotated[
        Path, typer.Option("--control", help="Baseline samples: JSON or CSV (docs/canary.md).")
    ],
    experiment: Annotated[
        Path, typer.Option("--experiment", help="Canary samples: JSON or CSV (docs/canary.md).")
    ],
    as_json: Annotated[
        bool, typer.Option("--json", help="Versioned JSON (docs/canary.md).")
    ] = False,
    pass_threshold: Annotated[
        float | None,
        typer.Option(
            "--pass-threshold", min=0, max=100, help="Overrides scoreThresholds.pass (0-100)."
        ),
    ] = None,
    marginal_threshold: Annotated[
        float | None,
        typer.Option(
            "--marginal-threshold",
            min=0,
            max=100,
            help="Overrides scoreThresholds.marginal (0-100).",
        ),
    ] = None,
) -> None:
    """Judge a canary against its baseline; exit 0 pass, 10 marginal, 11 fail."""
    # scipy.stats takes ~1.5 s to import: only this command pays for it, not the whole CLI
    from opsplane.app.canary import judge_files  # noqa: PLC0415
    from opsplane.render.canary import judgement_document  # noqa: PLC0415

    judgement = judge_files(
        config,
        control,
        experiment,
        pass_threshold=pass_threshold,
        marginal_threshold=marginal_threshold,
    )
    if as_json:
        sys.stdout.write(json.dumps(judgement_document(judgement), indent=2) + "\n")
    else:
        console = Console()
        if not console.is_terminal:
            console.width = 160  # pipes and logs: room for the reasons
        console.print(metrics_table(judgement))
        console.print(summary_line(judgement), highlight=False)
    raise typer.Exit(EXIT_CODES[judgement.verdict])


def metrics_table(judgement: Judgement) -> Table:
    """One row per metric: name, classification (critical, muted), reason, groups."""
    table = Table(title="Canary judgement")
    table.add_column("metric", no_wrap=True)
    table.add_column("classification", no_wrap=True)
    table.add_column("reason")
    table.add_column("groups")
    for m in judgement.metrics:
        label = m.label + (" (critical)" if m.critical else "") + (" (muted)" if m.muted else "")
        table.add_row(m.name, label, m.classification.reason, ", ".join(m.groups) or "-")
    return table


def summary_line(judgement: Judgement) -> str:
    """``score 66.67: marginal (pass >= 75, marginal >= 50)`` and the reason for a score of 0."""
    t = judgement.thresholds
    line = (
        f"score {judgement.score:g}: {judgement.verdict} "
        f"(pass >= {t.pass_:g}, marginal >= {t.marginal:g})"
    )
    return f"{line}\n{judgement.reason}" if judgement.reason else line
