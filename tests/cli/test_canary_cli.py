"""``opsplane canary judge``, run as a real process (DESIGN.md, "The command line").

Exit codes: 0 pass, 10 marginal, 11 fail (so that a pipeline can gate on the verdict), 1 invalid
input (one ``FILE:PATH: message`` line per problem, never a traceback), 2 usage errors.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.domain.canary.vectors import require

REPO = Path(__file__).resolve().parents[2]
PROBLEM_LINE = re.compile(r"^[^:\n]+:[^:\n]*: .+$")
BASELINE = [10.0, 10.4, 9.8, 10.1, 9.9, 10.2, 10.0, 9.7, 10.3, 10.1, 9.9, 10.0]
SLOWER = [v * 3 for v in BASELINE]


def opsplane(*args: str | Path, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    """Run the console script the way a user does, and capture everything it says."""
    return subprocess.run(
        [sys.executable, "-m", "opsplane", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def assert_no_traceback(run: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in run.stderr + run.stdout
    assert "internal error" not in run.stderr


def write(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def canary_config(metrics: list[str], **classifier: Any) -> dict[str, Any]:
    """A config with one group holding ``metrics``, thresholds 80/50 unless given."""
    return {
        "name": "checkout",
        "judge": {"name": "NetflixACAJudge-v1.0", "judgeConfigurations": {}},
        "metrics": [
            {
                "name": name,
                "query": {"type": "prometheus", "metricName": name},
                "groups": ["service"],
                "analysisConfigurations": {"canary": {"direction": "increase"}},
            }
            for name in metrics
        ],
        "classifier": {
            "groupWeights": {"service": 100},
            "scoreThresholds": {"pass": 80, "marginal": 50},
            **classifier,
        },
    }


def judge(
    tmp_path: Path, slower: int, *extra: str, of: int = 4
) -> subprocess.CompletedProcess[str]:
    """Judge ``of`` metrics of which the first ``slower`` tripled in the canary."""
    names = [f"latency {i}" for i in range(of)]
    config = write(tmp_path / "canary.json", canary_config(names))
    control = write(tmp_path / "control.json", dict.fromkeys(names, BASELINE))
    experiment = write(
        tmp_path / "experiment.json",
        {n: SLOWER if i < slower else BASELINE[::-1] for i, n in enumerate(names)},
    )
    return opsplane(
        "canary",
        "judge",
        "--config",
        config,
        "--control",
        control,
        "--experiment",
        experiment,
        *extra,
    )


@pytest.mark.parametrize(
    ("slower", "code", "summary"),
    [
        pytest.param(
            0, 0, "score 100: pass (pass >= 80, marginal >= 50)", id="all alike: pass, exit 0"
        ),
        pytest.param(
            1,
            10,
            "score 75: marginal (pass >= 80, marginal >= 50)",
            id="1 of 4 High: marginal, exit 10",
        ),
        pytest.param(
            3, 11, "score 25: fail (pass >= 80, marginal >= 50)", id="3 of 4 High: fail, exit 11"
        ),
    ],
)
def test_the_exit_code_is_the_verdict(tmp_path: Path, slower: int, code: int, summary: str) -> None:
    run = judge(tmp_path, slower)
    assert_no_traceback(run)
    assert run.returncode == code, run.stderr
    assert summary in run.stdout
    assert "latency 0" in run.stdout
    assert ("High" in run.stdout) is (slower > 0)


def test_json_output_is_versioned_and_has_designs_fields(tmp_path: Path) -> None:
    run = judge(tmp_path, 1, "--json")
    assert run.returncode == 10
    doc = json.loads(run.stdout)
    assert (doc["version"], doc["score"], doc["verdict"]) == (1, 75.0, "marginal")
    assert doc["thresholds"] == {"pass": 80.0, "marginal": 50.0}
    assert doc["groups"]["service"] == {
        "score": 75.0,
        "weight": 100.0,
        "no_data": False,
        "metrics": 4,
        "labels": {"High": 1, "Pass": 3},
    }
    first = doc["metrics"][0]
    assert {"name", "classification", "critical", "reason"} <= first.keys()
    assert (first["name"], first["classification"], first["critical"]) == (
        "latency 0",
        "High",
        False,
    )
    assert first["reason"].startswith("latency 0 was classified as High")
    assert first["ratio"] == pytest.approx(3.0)
    assert first["ci"][0] > 0
    assert first["control"]["count"] == len(BASELINE)


def test_threshold_options_override_the_config(tmp_path: Path) -> None:
    run = judge(tmp_path, 1, "--pass-threshold", "70", "--marginal-threshold", "60")
    assert run.returncode == 0
    assert "score 75: pass (pass >= 70, marginal >= 60)" in run.stdout


def test_csv_samples_and_kayentas_example_config(tmp_path: Path) -> None:
    config = require("example_canary_config_muted_metric.json")
    rows = ["metric,value"] + [f"Successful metric,{v}" for v in BASELINE]
    control = tmp_path / "control.csv"
    control.write_text("\n".join([*rows, *(f"Failing metric,{v}" for v in BASELINE)]) + "\n")
    experiment = tmp_path / "experiment.csv"
    experiment.write_text(
        "Successful metric,Failing metric\n" + "".join(f"{v},1000\n" for v in BASELINE)
    )
    run = opsplane(
        "canary",
        "judge",
        "--config",
        config,
        "--control",
        control,
        "--experiment",
        experiment,
        "--json",
    )
    assert run.returncode == 0, run.stderr
    doc = json.loads(run.stdout)
    labels = {m["name"]: (m["classification"], m["critical"], m["muted"]) for m in doc["metrics"]}
    assert labels == {
        "Failing metric": ("High", True, True),
        "Successful metric": ("Pass", False, False),
    }
    assert (doc["score"], doc["verdict"]) == (100.0, "pass")


def test_invalid_input_prints_every_problem_of_every_file(tmp_path: Path) -> None:
    config = canary_config(["p99"])
    config["metrics"][0]["analysisConfigurations"]["canary"]["direction"] = "up"
    write(tmp_path / "canary.json", config)
    write(tmp_path / "control.json", {"p99": [1, "x"]})
    write(tmp_path / "experiment.json", {"p98": [1]})
    run = opsplane(
        "canary", "judge", "--config", "canary.json", "--control", "control.json",
        "--experiment", "experiment.json", cwd=tmp_path,
    )  # fmt: skip
    assert_no_traceback(run)
    assert run.returncode == 1
    lines = run.stderr.splitlines()
    assert all(PROBLEM_LINE.match(line) for line in lines), lines
    assert lines == [
        "canary.json:metrics[0].analysisConfigurations.canary.direction: "
        "Input should be 'increase', 'decrease' or 'either'",
        "control.json:p99[1]: 'x' is not a number (null or \"NaN\" for a missing sample)",
    ]
    assert run.stdout == ""


def test_a_samples_metric_the_config_lacks_is_a_problem(tmp_path: Path) -> None:
    write(tmp_path / "canary.json", canary_config(["p99"]))
    write(tmp_path / "control.json", {"p99": [1, 2]})
    write(tmp_path / "experiment.json", {"p99": [1, 2], "p98": [1]})
    run = opsplane(
        "canary", "judge", "--config", "canary.json", "--control", "control.json",
        "--experiment", "experiment.json", cwd=tmp_path,
    )  # fmt: skip
    assert run.returncode == 1
    assert run.stderr == "experiment.json:p98: no metric of this name in canary.json\n"


def test_thresholds_are_required_from_config_or_options(tmp_path: Path) -> None:
    config = canary_config(["p99"])
    del config["classifier"]["scoreThresholds"]
    write(tmp_path / "canary.json", config)
    write(tmp_path / "s.json", {"p99": BASELINE})
    args = [
        "canary",
        "judge",
        "--config",
        "canary.json",
        "--control",
        "s.json",
        "--experiment",
        "s.json",
    ]
    run = opsplane(*args, cwd=tmp_path)
    assert run.returncode == 1
    assert run.stderr == (
        "canary.json:classifier.scoreThresholds: is required unless --pass-threshold and "
        "--marginal-threshold are given\n"
    )
    run = opsplane(*args, "--pass-threshold", "90", "--marginal-threshold", "50", cwd=tmp_path)
    assert run.returncode == 0
    assert "The Canary and Baseline data are identical" in run.stdout


def test_a_missing_file_is_invalid_input(tmp_path: Path) -> None:
    write(tmp_path / "canary.json", canary_config(["p99"]))
    run = opsplane(
        "canary", "judge", "--config", "canary.json", "--control", "nope.json",
        "--experiment", "nope.csv", cwd=tmp_path,
    )  # fmt: skip
    assert_no_traceback(run)
    assert run.returncode == 1
    assert [line.split(":")[0] for line in run.stderr.splitlines()] == ["nope.json", "nope.csv"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ["--control", "a.json", "--experiment", "b.json"], "--config", id="no --config"
        ),
        pytest.param(
            [
                "--config",
                "c.json",
                "--control",
                "a",
                "--experiment",
                "b",
                "--pass-threshold",
                "150",
            ],
            "--pass-threshold",
            id="a threshold above 100",
        ),
    ],
)
def test_usage_errors_exit_2(args: list[str], message: str) -> None:
    run = opsplane("canary", "judge", *args)
    assert_no_traceback(run)
    assert run.returncode == 2
    assert message in run.stderr


def test_contradicting_thresholds_are_a_usage_error(tmp_path: Path) -> None:
    run = judge(tmp_path, 0, "--marginal-threshold", "90")
    assert run.returncode == 2
    assert run.stderr == (
        f"opsplane: the marginal threshold 90 is above the pass threshold 80 "
        f"({tmp_path / 'canary.json'} with the options given)\n"
    )
