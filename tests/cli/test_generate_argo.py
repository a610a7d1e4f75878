"""``opsplane generate argo PATH... -o DIR``: one Rollout file per service with a delivery."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.cli.test_cli import SPEC_PROBLEM_LINE, assert_no_traceback, opsplane, service, write_yaml

GATED = {"steps": [10, 100], "analysis": {"interval": "2m", "metrics": ["availability"]}}


def test_it_writes_a_rollout_and_template_per_service_and_skips_the_rest(tmp_path: Path) -> None:
    specs = tmp_path / "specs"
    specs.mkdir()
    write_yaml(specs / "checkout.yaml", {**service("checkout", 99.9), "delivery": GATED})
    write_yaml(specs / "search.yaml", service("search", 99.5))
    run = opsplane("generate", "argo", specs, "-o", tmp_path / "out")
    assert_no_traceback(run)
    assert run.returncode == 0, run.stderr
    assert "warning: search: no delivery section, no rollout generated" in run.stderr
    written = sorted(p.relative_to(tmp_path / "out") for p in (tmp_path / "out").rglob("*.yaml"))
    assert written == [Path("default/checkout-rollout.yaml")]
    docs = list(yaml.safe_load_all((tmp_path / "out" / written[0]).read_text()))
    assert [(d["apiVersion"], d["kind"], d["metadata"]["name"]) for d in docs] == [
        ("argoproj.io/v1alpha1", "AnalysisTemplate", "checkout-slos"),
        ("argoproj.io/v1alpha1", "Rollout", "checkout"),
    ]
    assert docs[0]["spec"]["metrics"][0]["provider"]["prometheus"]["query"].count("[2m]") == 3


def test_an_invalid_delivery_prints_its_problems_and_writes_nothing(tmp_path: Path) -> None:
    bad = {"steps": [0], "analysis": {"metrics": ["latency"]}}
    path = write_yaml(tmp_path / "checkout.yaml", {**service("checkout", 99.9), "delivery": bad})
    run = opsplane("generate", "argo", path, "-o", tmp_path / "out")
    assert_no_traceback(run)
    assert run.returncode == 1
    lines = run.stderr.strip().splitlines()
    assert [SPEC_PROBLEM_LINE.match(line)["path"] for line in lines] == [  # type: ignore[index]
        "delivery.steps",
        "delivery.analysis.metrics[0]",
    ]
    assert not (tmp_path / "out").exists()


def test_validate_reports_delivery_problems_too(tmp_path: Path) -> None:
    spec = tmp_path / "shop.yaml"
    spec.write_text(
        "apiVersion: opsplane/v1\nkind: Service\nmetadata: {name: shop}\n"
        "slos:\n  - name: availability\n    objective: 99.9\n"
        "    sli: {events: {error_query: 'sum(rate(e[{{.window}}]))', "
        "total_query: 'sum(rate(t[{{.window}}]))'}}\n"
        "delivery: {strategy: canary, analysis: {metrics: [availability, nope]}}\n"
    )
    run = opsplane("validate", spec)
    assert run.returncode == 1
    assert run.stderr.strip() == (
        f"{spec}:delivery.analysis.metrics[1]: no SLO named 'nope' in this service "
        "(it has availability)"
    )
