"""``opsplane cost``: run, export-focus and reconcile, as DESIGN.md and docs/cost.md promise.

Error paths run the console script as a real process (exit codes, one line per problem on
stderr, never a traceback); the rest run in-process through Typer's runner.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from opsplane.cli.main import app

REPO = Path(__file__).resolve().parents[2]
RUN: dict[str, Any] = {
    "run_id": "r-1",
    "service": "checkout",
    "namespace": "payments",
    "actions": 1200,
    "compute": [{"capability": "build", "seconds": 42.5, "rate_per_second": "0.000016"}],
    "llm": [{"model": "gpt-4o-mini", "input_tokens": 12000, "output_tokens": 800}],
    "api_fees": [{"name": "search", "usd": "0.002"}],
}
BREAKDOWN = {"actions": "0.012", "compute": "0.00068", "llm": "0.00228", "api_fees": "0.002"}


def opsplane(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """The console script as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "opsplane", *map(str, args)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def invoke(*args: str | Path) -> str:
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.stdout


def write(tmp_path: Path, data: object, name: str = "RUN.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_run_json_is_designs_document_plus_the_versioned_batch(tmp_path: Path) -> None:
    doc = json.loads(invoke("cost", "run", write(tmp_path, RUN), "--json"))
    assert doc == {
        "version": 1,
        "run_id": "r-1",
        "currency": "USD",
        "breakdown": BREAKDOWN,
        "total": "0.01696",
        "runs": [
            {
                "id": "r-1",
                "service": "checkout",
                "namespace": "payments",
                "breakdown": BREAKDOWN,
                "total": "0.01696",
            }
        ],
        "price_source": "litellm 1.110.2 (packaged)",
    }


def test_a_batch_totals_every_run(tmp_path: Path) -> None:
    second = {**RUN, "run_id": "r-2", "actions": 0}
    doc = json.loads(invoke("cost", "run", write(tmp_path, {"runs": [RUN, second]}), "--json"))
    assert "run_id" not in doc
    assert [(r["id"], r["total"]) for r in doc["runs"]] == [("r-1", "0.01696"), ("r-2", "0.00496")]
    assert doc["total"] == "0.02192"
    assert doc["breakdown"]["actions"] == "0.012"


def test_run_prints_a_table_of_the_breakdown(tmp_path: Path) -> None:
    out = invoke("cost", "run", write(tmp_path, RUN))
    for component, amount in BREAKDOWN.items():
        assert any(component in line and amount in line for line in out.splitlines()), out
    assert "0.01696" in out


def test_a_batch_table_has_a_row_per_run_and_the_total(tmp_path: Path) -> None:
    out = invoke("cost", "run", write(tmp_path, [RUN, {**RUN, "run_id": "r-2"}]))
    assert "r-2" in out
    assert "total (2 runs)" in out
    assert "0.03392" in out


def test_prices_and_rates_options(tmp_path: Path) -> None:
    prices = write(
        tmp_path,
        {"gpt-4o-mini": {"input_cost_per_token": 1e-6, "output_cost_per_token": 0}},
        "p.json",
    )
    rates = tmp_path / "rates.yaml"
    rates.write_text("action_price: 0.000025\n")
    doc = json.loads(
        invoke("cost", "run", write(tmp_path, RUN), "--prices", prices, "--rates", rates, "--json")
    )
    assert (doc["breakdown"]["llm"], doc["breakdown"]["actions"]) == ("0.012", "0.03")
    doc = json.loads(invoke("cost", "run", write(tmp_path, RUN), "--action-price", "0", "--json"))
    assert doc["breakdown"]["actions"] == "0"


def test_an_invalid_run_prints_one_line_per_problem_and_exits_1(tmp_path: Path) -> None:
    bad = {
        **RUN,
        "actions": -1,
        "compute": [{"capability": "gpu", "seconds": 1}],
        "llm": [{"model": "gpt-4o-mimi", "input_tokens": 1}],
    }
    result = opsplane("cost", "run", write(tmp_path, [bad, {"run_id": "x"}]), "--json")
    assert result.returncode == 1
    assert result.stdout == ""
    name = tmp_path / "RUN.json"
    assert result.stderr.splitlines() == [
        f"{name}:[0].actions: must not be negative (got -1)",
        f"{name}:[0].compute[0].capability: no rate for capability 'gpu' (known: cpu); "
        "give rate_per_second or add it to the rate table",
        f"{name}:[0].llm[0].model: unknown model 'gpt-4o-mimi': not in the price map "
        "(litellm 1.110.2 (packaged)); did you mean 'gpt-4o-mini'?",
        f"{name}:[1].service: is required",
        f"{name}:[1].namespace: is required",
        f"{name}:[1].actions: is required",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["cost", "run", "RUN.json", "--action-price", "cheap"],
            "opsplane: --action-price: not a decimal number: 'cheap'",
        ),
        (["cost", "run"], "Missing argument"),
        (["cost", "run", "RUN.json", "--bogus"], "No such option"),
    ],
    ids=["a bad --action-price", "no RUN.json", "an unknown option"],
)
def test_usage_errors_exit_2_without_a_traceback(
    tmp_path: Path, args: list[str], message: str
) -> None:
    write(tmp_path, RUN)
    result = opsplane(*[str(tmp_path / a) if a == "RUN.json" else a for a in args])
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_missing_file_exits_1(tmp_path: Path) -> None:
    result = opsplane("cost", "run", tmp_path / "none.json")
    assert (result.returncode, result.stderr) == (1, f"{tmp_path / 'none.json'}: no such file\n")


def test_export_focus_writes_one_row_per_priced_line(tmp_path: Path) -> None:
    runs = write(tmp_path, {**RUN, "started_at": "2026-03-02T09:30:00Z"})
    lines = invoke("cost", "export-focus", runs).splitlines()
    assert lines[0].startswith("AvailabilityZone,BilledCost,")
    assert lines[0].endswith(",x_RunId,x_Namespace,x_Component,x_PriceSource")
    assert len(lines) == 6
    out = tmp_path / "focus" / "costs.csv"
    result = CliRunner().invoke(app, ["cost", "export-focus", str(runs), "-o", str(out)])
    assert result.exit_code == 0
    assert out.read_text().splitlines() == lines


def test_export_focus_needs_a_start_per_run(tmp_path: Path) -> None:
    result = opsplane("cost", "export-focus", write(tmp_path, RUN))
    assert result.returncode == 1
    assert result.stderr.endswith(
        "RUN.json:[0].started_at: is required to export FOCUS rows (the charge period)\n"
    )


def test_reconcile_our_own_export_has_no_error(tmp_path: Path) -> None:
    runs = write(tmp_path, [{**RUN, "started_at": "2026-03-02T09:30:00Z"}])
    billed = tmp_path / "billed.csv"
    billed.write_text(invoke("cost", "export-focus", runs))
    doc = json.loads(invoke("cost", "reconcile", "--billed", billed, "--runs", runs, "--json"))
    [service] = doc["services"]
    assert (doc["version"], service["service"], service["error"]) == (1, "checkout", 0.0)
    assert service["estimated"] == service["billed"] == "0.01696"
    assert service["explanation"].endswith("every SKU matches")
    table = invoke("cost", "reconcile", "--billed", billed, "--runs", runs)
    assert "checkout" in table
    assert "+0.0%" in table


def test_reconcile_reports_a_bad_billed_file_and_exits_1(tmp_path: Path) -> None:
    billed = tmp_path / "billed.csv"
    billed.write_text("BilledCost\n1\n")
    result = opsplane("cost", "reconcile", "--billed", billed, "--runs", write(tmp_path, RUN))
    assert result.returncode == 1
    assert f"{billed}: missing FOCUS column BillingCurrency" in result.stderr.splitlines()
