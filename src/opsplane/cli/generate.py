"""``opsplane generate prometheus|grafana|argo``."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Annotated

import typer

from opsplane.adapters.files import write_json, write_text
from opsplane.app.argo import generate_argo
from opsplane.app.generate import generate_grafana, generate_prometheus
from opsplane.cli.output import print_warnings
from opsplane.domain.duration import parse_duration
from opsplane.errors import UsageError
from opsplane.render.prometheus import RenderResult, RuleOptions, to_yaml
from opsplane.render.prometheus.model import OutputFormat
from opsplane.render.yamltext import dump
from opsplane.types import AlertTier, Severity

app = typer.Typer(
    help="Generate Prometheus rules, Grafana dashboards or Argo Rollouts manifests from specs.",
    no_args_is_help=True,
)

Paths = Annotated[list[Path], typer.Argument(help="Spec files or directories.", show_default=False)]
LABEL_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


def _labels(pairs: list[str]) -> dict[str, str]:
    labels = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not LABEL_RE.match(key):
            msg = f"invalid label {pair!r}: use -l name=value with a Prometheus label name"
            raise UsageError(msg)
        labels[key] = value
    return labels


SEVERITIES: tuple[Severity, ...] = ("P0", "P1", "P2", "P3")
TIERS: tuple[AlertTier, ...] = ("page", "ticket")
SeverityOption = Annotated[
    list[str] | None,
    typer.Option(
        "--severity",
        help="TIER=P0..P3: the severity of an alert tier where the spec names none "
        "(default page=P1, ticket=P3; repeatable).",
        show_default=False,
    ),
]


def parse_severities(pairs: list[str] | None) -> dict[AlertTier, Severity]:
    """``--severity page=P0 --severity ticket=P2`` as a mapping; a bad pair is a usage error."""
    mapping: dict[AlertTier, Severity] = {}
    for pair in pairs or []:
        tier, _, severity = pair.partition("=")
        found_tier = next((t for t in TIERS if t == tier), None)
        found = next((s for s in SEVERITIES if s == severity), None)
        if found_tier is None or found is None:
            msg = f"--severity {pair!r}: use page=P0..P3 or ticket=P0..P3"
            raise UsageError(msg)
        mapping[found_tier] = found
    return mapping


def parse_period(text: str) -> int:
    """A ``--period`` value; a bad one is a usage error."""
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise UsageError(f"--period: {exc}") from exc


@app.command("prometheus")
def prometheus(
    paths: Paths,
    out: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--out",
            help="A .yaml file, or a directory for one file per service. Default: stdout.",
        ),
    ] = None,
    sloth_compat: Annotated[
        bool, typer.Option("--sloth-compat", help="Reproduce Sloth's output exactly.")
    ] = False,
    period: Annotated[
        str,
        typer.Option("--period", "--default-slo-period", help="Period of SLOs that set none."),
    ] = "30d",
    label: Annotated[
        list[str] | None,
        typer.Option(
            "-l",
            "--label",
            "--extra-labels",
            help="k=v added to every recording rule (repeatable).",
        ),
    ] = None,
    disable_alerts: Annotated[bool, typer.Option("--disable-alerts")] = False,
    disable_recordings: Annotated[bool, typer.Option("--disable-recordings")] = False,
    output_format: Annotated[
        str,
        typer.Option(
            "--format", help="plain | k8s (PrometheusRule) | auto (k8s for Kubernetes inputs)."
        ),
    ] = "auto",
    windows: Annotated[
        list[Path] | None,
        typer.Option(
            "--windows",
            "--slo-period-windows-path",
            help="Directory or file of Sloth AlertWindows catalogs.",
        ),
    ] = None,
    severity: SeverityOption = None,
) -> None:
    """Prometheus recording and alerting rules for every SLO."""
    if output_format not in ("auto", "plain", "k8s"):
        raise UsageError(f"--format must be plain, k8s or auto, not {output_format!r}")
    fmt: OutputFormat = output_format  # type: ignore[assignment]
    opts = RuleOptions(
        sloth_compat=sloth_compat,
        default_period=parse_period(period),
        extra_labels=_labels(label or []),
        disable_alerts=disable_alerts,
        disable_recordings=disable_recordings,
        output=fmt,
    )
    result = generate_prometheus(paths, opts, windows or [], parse_severities(severity))
    print_warnings(result.warnings)
    _write_rules(result, opts, out)


def _write_rules(result: RenderResult, opts: RuleOptions, out: Path | None) -> None:
    if out is None:
        sys.stdout.write(to_yaml(result.documents, opts))
        return
    if out.suffix in (".yaml", ".yml"):
        write_text(out, to_yaml(result.documents, opts))
        typer.echo(f"wrote {len(result.documents)} rule documents to {out}", err=True)
        return
    used: set[str] = set()
    for doc in result.documents:
        name = doc.service
        while name in used:
            name = f"{name}-{doc.origin.index}"
        used.add(name)
        write_text(out / f"{name}.rules.yaml", to_yaml([doc], opts))
    typer.echo(f"wrote {len(result.documents)} rule files to {out}/", err=True)


@app.command("grafana")
def grafana(
    paths: Paths,
    out: Annotated[Path, typer.Option("-o", "--out", help="Output directory.")],
    period: Annotated[str, typer.Option("--period", help="Period of SLOs that set none.")] = "30d",
    windows: Annotated[
        list[Path] | None,
        typer.Option("--windows", help="The AlertWindows catalogs the rules were made with."),
    ] = None,
) -> None:
    """A golden-signal and an SLO dashboard per service, one folder per namespace."""
    opts = RuleOptions(default_period=parse_period(period))
    output = generate_grafana(paths, opts, windows or [])
    for dash in output.dashboards:
        write_json(out / dash.filename, dash.model)
    write_json(out / "folders.json", output.folders)
    typer.echo(f"wrote {len(output.dashboards)} dashboards and folders.json to {out}/", err=True)


@app.command("argo")
def argo(
    paths: Paths,
    out: Annotated[Path, typer.Option("-o", "--out", help="Output directory.")],
    prometheus: Annotated[
        str,
        typer.Option(
            "--prometheus-address",
            help="Default of the AnalysisTemplates' prometheus-address argument.",
        ),
    ] = "http://prometheus.monitoring.svc:9090",
) -> None:
    """An Argo Rollouts Rollout and AnalysisTemplate per service with a delivery section."""
    output = generate_argo(paths, prometheus=prometheus)
    print_warnings(output.warnings)
    for file in output.files:
        write_text(out / file.filename, "---\n".join(dump(m) for m in file.manifests))
    typer.echo(f"wrote {len(output.files)} rollout files to {out}/", err=True)
