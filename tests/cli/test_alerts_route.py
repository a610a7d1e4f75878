"""``opsplane alerts route`` prints what ``amtool config routes test`` prints (DESIGN.md).

The command runs as a real process for the contract (output, exit codes, one line per
problem, no traceback). The comparison with ``amtool`` (Debian's ``prometheus-alertmanager``)
runs the command in-process through Typer's runner on 200 seeded random configurations with
three alerts each, and ``amtool`` once per alert; ``amtool`` takes one label set per call.
Without ``amtool`` those tests skip locally and fail under ``CI``.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from opsplane.cli.main import app
from opsplane.errors import SpecError
from opsplane.spec.alertmanager_config import load_alertmanager_config
from tests.domain.routing.generators import random_config, random_labels

REPO = Path(__file__).resolve().parents[2]
ROUTING = """\
route:
  receiver: default
  group_by: [alertname]
  routes:
    - matchers: ['severity="page"']
      receiver: pager
      continue: true
    - match: {team: db}
      receiver: db
      routes:
        - match_re: {env: prod|production}
          receiver: db-prod
    - matchers: ['{team=~"web|api", env!="dev"}']
      receiver: web
    - matchers: [team="db"]
      receiver: shadowed
    - matchers: ['severity="page"']
      receiver: pager
      continue: true
receivers: [{name: default}, {name: pager}, {name: db}, {name: db-prod}, {name: web},
            {name: shadowed}]
"""

CASES = [
    # (sentence, labels, amtool's output)
    ("no label matches: the root receiver", [], "default"),
    ("an unrelated label: the root receiver", ["alertname=Down"], "default"),
    ("a child route", ["team=db"], "db"),
    ("the deepest match", ["team=db", "env=production"], "db-prod"),
    ("a match_re value is anchored", ["team=db", "env=preprod"], "db"),
    ("continue, then a sibling", ["severity=page", "team=db"], "pager,db"),
    ("a receiver reached twice is printed twice", ["severity=page"], "pager,pager"),
    ("a braced matchers line", ["team=api", "env=prod"], "web"),
    ("a quoted value", ['team="web"'], "web"),
    ("the last of a repeated label wins", ["team=web", "team=db"], "db"),
]


@pytest.fixture(scope="session")
def amtool() -> str:
    """The amtool binary (Debian package ``prometheus-alertmanager``), or skip."""
    found = shutil.which("amtool")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("amtool is required in CI: .ci/run installs prometheus-alertmanager")
        pytest.skip("amtool not installed (apt-get install prometheus-alertmanager)")
    return found


@pytest.fixture
def routing(tmp_path: Path) -> Path:
    path = tmp_path / "routing.yaml"
    path.write_text(ROUTING, encoding="utf-8")
    return path


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


def amtool_test(binary: str, config: Path, labels: Sequence[str]) -> str:
    run = subprocess.run(
        [binary, "config", "routes", "test", f"--config.file={config}", *labels],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert run.returncode == 0, f"amtool failed on {config}: {run.stderr}"
    return run.stdout


def in_process(config: Path, labels: Sequence[str]) -> str:
    result = CliRunner().invoke(app, ["alerts", "route", "--config", str(config), *labels])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_a_user_sees_the_receivers_on_one_line(routing: Path) -> None:
    run = opsplane("alerts", "route", "--config", routing, "severity=page", "team=db")
    assert (run.returncode, run.stdout, run.stderr) == (0, "pager,db\n", "")


@pytest.mark.parametrize(("sentence", "labels", "expected"), CASES, ids=[c[0] for c in CASES])
def test_prints_the_receivers_in_routing_order(
    routing: Path, sentence: str, labels: list[str], expected: str
) -> None:
    assert in_process(routing, labels) == expected + "\n", sentence


def test_the_documented_cases_are_what_amtool_prints(amtool: str, routing: Path) -> None:
    for sentence, labels, expected in CASES:
        assert amtool_test(amtool, routing, labels) == expected + "\n", sentence


def test_config_file_is_an_alias_as_in_amtool(routing: Path) -> None:
    result = CliRunner().invoke(app, ["alerts", "route", f"--config.file={routing}", "team=db"])
    assert (result.exit_code, result.stdout) == (0, "db\n")


def test_verify_receivers_fails_on_a_different_result(routing: Path) -> None:
    args = ["alerts", "route", "--config", str(routing), "team=db", "--verify.receivers"]
    ok = CliRunner().invoke(app, [*args, "db"])
    assert (ok.exit_code, ok.stdout) == (0, "db\n")
    bad = CliRunner().invoke(app, [*args, "x"])
    expected = "db\nWARNING: Expected receivers did not match resolved receivers.\n"
    assert (bad.exit_code, bad.stdout) == (1, expected)


BAD_LABELS = [
    ("team", "bad matcher format: team"),
    ("team!=db", "labels must be specified as key=value pairs"),
    ("team=~d.*", "labels must be specified as key=value pairs"),
    ("{team=db}", "bad matcher format: {team=db}"),
    ('team="db', "unescaped double quote"),
]


def test_a_bad_label_is_a_usage_error(routing: Path) -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:  # each run starts a Python process
        runs = list(
            pool.map(lambda b: opsplane("alerts", "route", "--config", routing, b[0]), BAD_LABELS)
        )
    for (label, reason), run in zip(BAD_LABELS, runs, strict=True):
        assert run.returncode == 2, label
        assert run.stdout == ""
        assert run.stderr.startswith(f"opsplane: invalid label {label!r}: ")
        assert reason in run.stderr
        assert len(run.stderr.splitlines()) == 1


def test_config_is_required() -> None:
    result = CliRunner().invoke(app, ["alerts", "route", "team=db"])
    assert result.exit_code == 2


INVALID = [
    # (sentence, config, a problem line it prints)
    (
        "an undefined receiver",
        {"route": {"receiver": "a", "routes": [{"receiver": "b"}]}, "receivers": [{"name": "a"}]},
        'route.routes[0].receiver: undefined receiver "b" used in route',
    ),
    (
        "a root without a receiver",
        {"route": {"group_by": ["x"]}, "receivers": [{"name": "a"}]},
        "route.receiver: root route must specify a default receiver",
    ),
    (
        "matchers on the root",
        {"route": {"receiver": "a", "matchers": ["x=y"]}, "receivers": [{"name": "a"}]},
        "route: root route must not have any matchers",
    ),
    (
        "continue on the root",
        {"route": {"receiver": "a", "continue": True}, "receivers": [{"name": "a"}]},
        "route.continue: cannot have continue in root route",
    ),
    (
        "a duplicate receiver",
        {"route": {"receiver": "a"}, "receivers": [{"name": "a"}, {"name": "a"}]},
        'receivers[1].name: notification config name "a" is not unique',
    ),
    (
        "an undefined time interval",
        {
            "route": {"receiver": "a", "routes": [{"mute_time_intervals": ["nights"]}]},
            "receivers": [{"name": "a"}],
        },
        'route.routes[0].mute_time_intervals[0]: undefined time interval "nights" used in route',
    ),
    (
        "'...' mixed with labels",
        {"route": {"receiver": "a", "group_by": ["...", "x"]}, "receivers": [{"name": "a"}]},
        "route.group_by: cannot have wildcard group_by (`...`) and other labels at the same time",
    ),
    (
        "a bad duration",
        {"route": {"receiver": "a", "group_wait": "5x"}, "receivers": [{"name": "a"}]},
        'route.group_wait: not a valid duration string: "5x"',
    ),
    (
        "a zero repeat interval",
        {"route": {"receiver": "a", "repeat_interval": "0s"}, "receivers": [{"name": "a"}]},
        "route.repeat_interval: repeat_interval cannot be zero",
    ),
    (
        "a bad matchers line",
        {"route": {"receiver": "a", "routes": [{"matchers": ["x"]}]}, "receivers": [{"name": "a"}]},
        "route.routes[0].matchers[0]: bad matcher format: x",
    ),
    (
        "a bad regex",
        {
            "route": {"receiver": "a", "routes": [{"match_re": {"x": "("}}]},
            "receivers": [{"name": "a"}],
        },
        "route.routes[0].match_re.x: error parsing regexp: missing closing ): `^(?:()$`",
    ),
    (
        "an unknown key",
        {"route": {"receiver": "a", "recevier": "b"}, "receivers": [{"name": "a"}]},
        "route.recevier: unknown field",
    ),
    (
        "no route",
        {"receivers": [{"name": "a"}]},
        "route: no route provided in config",
    ),
    (
        "a bad weekday",
        {
            "route": {"receiver": "a"},
            "receivers": [{"name": "a"}],
            "time_intervals": [{"name": "t", "time_intervals": [{"weekdays": ["funday"]}]}],
        },
        "time_intervals[0].time_intervals[0].weekdays[0]: funday is not a valid weekday",
    ),
]


@pytest.mark.parametrize(("sentence", "config", "line"), INVALID, ids=[i[0] for i in INVALID])
def test_an_invalid_config_is_one_problem_per_finding(
    tmp_path: Path, sentence: str, config: dict[str, Any], line: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    with pytest.raises(SpecError) as caught:
        load_alertmanager_config(path)
    assert f"{path}:{line}" in [str(p) for p in caught.value.problems], sentence


@pytest.mark.parametrize(("sentence", "config", "line"), INVALID, ids=[i[0] for i in INVALID])
def test_amtool_rejects_the_same_configs(
    amtool: str, tmp_path: Path, sentence: str, config: dict[str, Any], line: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    run = subprocess.run(
        [amtool, "check-config", str(path)], capture_output=True, text=True, check=False
    )
    assert run.returncode != 0, f"amtool accepts {sentence}: {run.stdout}"


def test_an_invalid_config_prints_every_problem_and_exits_1(tmp_path: Path) -> None:
    config = {
        "route": {"routes": [{"receiver": "x", "group_interval": "0s"}]},
        "receivers": [{"name": "a"}, {}],
    }
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    run = opsplane("alerts", "route", "--config", path)
    assert (run.returncode, run.stdout) == (1, "")
    assert "Traceback" not in run.stderr
    assert sorted(run.stderr.splitlines()) == sorted(
        f"{path}:{line}"
        for line in (
            "receivers[1].name: missing name in receiver",
            "route.routes[0].group_interval: group_interval cannot be zero",
            "route.receiver: root route must specify a default receiver",
            'route.routes[0].receiver: undefined receiver "x" used in route',
        )
    )


# --- randomized comparison with amtool -------------------------------------------------------


def test_randomized_configs_route_exactly_as_amtool(amtool: str, tmp_path: Path) -> None:
    started = time.monotonic()
    rng = random.Random(20260805)
    runs: list[tuple[Path, list[str]]] = []
    for i in range(200):
        config, used = random_config(rng)
        path = tmp_path / f"config-{i:03d}.yaml"
        path.write_text(yaml.safe_dump(config), encoding="utf-8")
        runs.extend((path, random_labels(rng, used)) for _ in range(3))
    with ThreadPoolExecutor(max_workers=4) as pool:
        expected = list(pool.map(lambda run: amtool_test(amtool, *run), runs))
    mismatches = [
        (path.name, labels, want, got)
        for (path, labels), want in zip(runs, expected, strict=True)
        if (got := in_process(path, labels)) != want
    ]
    assert len(runs) == 600
    assert mismatches == []
    assert len({e for e in expected if "," in e}) > 10  # continue was exercised
    assert time.monotonic() - started < 60


# Matchers lines where parsers and regex engines differ in corner cases: the classic parser's
# quirks (a trailing brace kept, a lone backslash, single quotes kept), Go-only regex syntax.
QUIRKY_LINES = [
    "a=b}",
    "{a=b}}",
    r'a=~"x\\.y"',
    r"a=~x\.y",
    '{a="b,c"}',
    r'a="b\nc"',
    "a=b\\",
    "a=",
    'a!=""',
    'a!~".+"',
    'a=~"[[:alpha:]]+"',
    r'a=~"\\d+"',
    'a=~"(?i)AB"',
    'a =~ "b|c" , b="x"',
    "a='b'",
    "a=`b`",
    'a=~"b{,2}"',
    r'a=~"\\w+"',
    'a=~"[^b]"',
    r'a=~".*\\bc"',
    'a=~"ab|"',
    'a=~"(a)|(b)"',
    r'a=~"\\x61"',
    'a=~"a{2}"',
]
QUIRKY_LABELS = [
    [],
    ["a=b}"],
    ["a=x.y"],
    ["a=xzy"],
    ["a=b,c"],
    ["a=AB"],
    ["a=ab"],
    ["a=123"],
    ["a=c", "b=x"],
    ["a=b{,2}"],
    ["a='b'"],
    ["a=é"],
    ['a="b\\\\"'],
]


def test_quirky_matchers_lines_route_exactly_as_amtool(amtool: str, tmp_path: Path) -> None:
    runs: list[tuple[Path, list[str]]] = []
    for i, line in enumerate(QUIRKY_LINES):
        config = {
            "route": {"receiver": "root", "routes": [{"matchers": [line], "receiver": "hit"}]},
            "receivers": [{"name": "root"}, {"name": "hit"}],
        }
        path = tmp_path / f"quirky-{i:02d}.yaml"
        path.write_text(yaml.safe_dump(config), encoding="utf-8")
        runs.extend((path, labels) for labels in QUIRKY_LABELS)
    with ThreadPoolExecutor(max_workers=4) as pool:
        expected = list(pool.map(lambda run: amtool_test(amtool, *run), runs))
    got = [in_process(path, labels) for path, labels in runs]
    mismatches = [
        (path.read_text(), labels, want, have)
        for (path, labels), want, have in zip(runs, expected, got, strict=True)
        if want != have
    ]
    assert mismatches == []
    assert expected.count("hit\n") > 20
