"""The ``opsplane`` command line, run as a real process (DESIGN.md, "The command line").

Every test starts ``python -m opsplane`` in the repository root, so the promise "one line per
problem, a non-zero exit, never a traceback" is checked end to end: argument parsing, the
error handler and the exit code. Exit codes: 0 success, 1 invalid input (spec problems),
2 usage errors (bad options, unknown commands).
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opsplane.app.generate import validate
from opsplane.spec.opsplane_v1 import json_schema
from tests.conftest import shared_path
from tests.render.test_sloth_compat import expected_documents

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
PROBLEM_LINE = re.compile(r"^[^:\n]+:[^:\n]*: .+$")
SPEC_PROBLEM_LINE = re.compile(r"^(?P<file>[^:\n]+):(?P<path>[^:\n]*): (?P<message>.+)$")


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
    assert "Traceback" not in run.stderr
    assert "Traceback" not in run.stdout
    assert "internal error" not in run.stderr


def rate(selector: str) -> str:
    """A request-rate query over ``{{.window}}``."""
    return "sum(rate(http_requests_total{" + selector + "}[{{.window}}]))"


def service(name: str, objective: float, period: str = "30d") -> dict[str, Any]:
    """A valid opsplane/v1 service with one events SLO."""
    return {
        "apiVersion": "opsplane/v1",
        "kind": "Service",
        "metadata": {"name": name},
        "slos": [
            {
                "name": "availability",
                "objective": objective,
                "period": period,
                "sli": {
                    "events": {
                        "error_query": rate(f'job="{name}",code=~"5.."'),
                        "total_query": rate(f'job="{name}"'),
                    }
                },
            }
        ],
    }


def write_yaml(path: Path, *docs: Any) -> Path:
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False), encoding="utf-8")
    return path


def documents(text: str) -> list[Any]:
    return [d for d in yaml.safe_load_all(text) if d is not None]


def group_names(text: str) -> list[str]:
    return [g["name"] for doc in documents(text) for g in doc["groups"]]


# --- validate ----------------------------------------------------------------------------


def test_validate_counts_the_services_and_slos_of_valid_specs() -> None:
    run = opsplane("validate", "examples")
    assert (run.returncode, run.stdout, run.stderr) == (0, "valid: 3 services, 4 SLOs\n", "")


BROKEN = {
    "a.yaml": """\
apiVersion: opsplane/v1
kind: Service
metadata: {name: Checkout, team: payments}
slos:
  - name: availability
    sli:
      events:
        error_query: sum(rate(errors[{{.window}}]))
        total_query: sum(rate(requests[{{.window}}]))
""",
    "b.yaml": """\
version: prometheus/v1
service: search
slos:
  - name: availability
    objective: 101
    labels: {search-tier: "1"}
    sli:
      events:
        error_query: sum(rate(errors[5m]))
        total_query: sum(rate(requests[{{.window}}]))
    alerting: {page_alert: {disable: true}, ticket_alert: {disable: true}}
  - name: latency
    objective: 99
    sli: {}
""",
    "c.yaml": """\
apiVersion: example.com/v1
kind: Widget
---
just a string
---
version: prometheus/v2
service: x
""",
}
BROKEN_LINES = [
    "a.yaml:metadata.name: invalid name 'Checkout': use 2 to 63 lowercase letters, digits or "
    "'-', starting and ending with a letter or digit",
    "a.yaml:metadata.team: unknown field",
    "a.yaml:slos[0].objective: is required",
    "b.yaml:slos[0].objective: objective must be > 0 and <= 100, got 101",
    "b.yaml:slos[0].labels: invalid label name 'search-tier'",
    "b.yaml:slos[0].sli: error query must contain the {{.window}} variable",
    "b.yaml:slos[1].sli: at least one SLI type is required (events or raw)",
    "c.yaml:doc[0]: unknown spec format (apiVersion 'example.com/v1' kind 'Widget'); supported: "
    "opsplane/v1 Service, Sloth prometheus/v1, sloth.slok.dev/v1 PrometheusServiceLevel, "
    "openslo/v1 and openslo/v1alpha",
    "c.yaml:doc[1]: expected a mapping, got str",
    "c.yaml:doc[2].version: unsupported version 'prometheus/v2'",
]


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    """A directory of three broken spec files with several problems each."""
    specs = tmp_path / "specs"
    specs.mkdir()
    for name, text in BROKEN.items():
        (specs / name).write_text(text, encoding="utf-8")
    return specs


def test_validate_prints_one_line_per_problem_of_every_file(broken: Path) -> None:
    run = opsplane("validate", broken)
    assert run.returncode == 1
    assert_no_traceback(run)
    assert run.stdout == ""
    printed = run.stderr.splitlines()
    assert all(PROBLEM_LINE.match(line) for line in printed), printed
    assert sorted(printed) == sorted(f"{broken}/{line}" for line in BROKEN_LINES)


def test_generate_from_broken_specs_prints_the_problems_and_writes_nothing(
    broken: Path, tmp_path: Path
) -> None:
    out = tmp_path / "rules"
    run = opsplane("generate", "prometheus", broken, "-o", out)
    assert run.returncode == 1
    assert_no_traceback(run)
    assert sorted(run.stderr.splitlines()) == sorted(f"{broken}/{line}" for line in BROKEN_LINES)
    assert not out.exists()


@pytest.mark.parametrize(
    "command",
    [
        pytest.param(["validate"], id="validate says a missing path does not exist"),
        pytest.param(["generate", "prometheus"], id="generate prometheus says so too"),
        pytest.param(["generate", "grafana", "-o", "unused"], id="generate grafana says so too"),
    ],
)
def test_a_missing_path_is_reported_without_a_traceback(tmp_path: Path, command: list[str]) -> None:
    missing = tmp_path / "nowhere.yaml"
    run = opsplane(*command, missing)
    assert (run.returncode, run.stderr) == (1, f"{missing}: no such file or directory\n")
    assert not (REPO / "unused").exists()


def test_invalid_yaml_is_reported_with_its_line(tmp_path: Path) -> None:
    spec = tmp_path / "broken.yaml"
    spec.write_text("version: prometheus/v1\nslos: [1, 2\nservice: x\n", encoding="utf-8")
    run = opsplane("validate", spec)
    assert run.returncode == 1
    assert_no_traceback(run)
    (line,) = run.stderr.splitlines()
    assert re.fullmatch(rf"{re.escape(str(spec))}:line 3: invalid YAML: .+", line), line


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(bytes(range(256)) * 4, id="random bytes are unreadable, not a crash"),
        pytest.param(b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 64, id="an ELF header is not YAML"),
        pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", id="a PNG header is not YAML"),
    ],
)
def test_a_binary_file_is_reported_without_a_traceback(tmp_path: Path, content: bytes) -> None:
    garbage = tmp_path / "garbage.yaml"
    garbage.write_bytes(content)
    run = opsplane("validate", garbage)
    assert run.returncode == 1
    assert_no_traceback(run)
    (line,) = run.stderr.splitlines()
    assert line.startswith(f"{garbage}")
    assert PROBLEM_LINE.match(line)


def test_a_key_with_a_newline_still_gives_one_line(tmp_path: Path) -> None:
    spec = service("checkout", 99.9)
    spec["metadata"]["team\nname"] = "payments"
    run = opsplane("validate", write_yaml(tmp_path / "checkout.yaml", spec))
    assert run.returncode == 1
    assert run.stderr.splitlines() == [
        f'{tmp_path}/checkout.yaml:metadata["team\\nname"]: unknown field'
    ]


# --- usage errors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "says"),
    [
        pytest.param(
            ["generate", "prometheus", "examples", "-l", "team"],
            "opsplane: invalid label 'team': use -l name=value with a Prometheus label name\n",
            id="a label without '=' is a usage error",
        ),
        pytest.param(
            ["generate", "prometheus", "examples", "-l", "1team=x"],
            "opsplane: invalid label '1team=x': use -l name=value with a Prometheus label name\n",
            id="a label name Prometheus refuses is a usage error",
        ),
        pytest.param(
            ["generate", "prometheus", "examples", "--period", "3x"],
            "opsplane: --period: invalid duration '3x': "
            "use Prometheus units such as 5m, 1h, 30d or 4w\n",
            id="a --period that is no duration is a usage error",
        ),
        pytest.param(
            ["generate", "grafana", "examples", "-o", "unused", "--period", "a month"],
            "opsplane: --period: invalid duration 'a month': "
            "use Prometheus units such as 5m, 1h, 30d or 4w\n",
            id="grafana's --period is checked the same way",
        ),
        pytest.param(
            ["generate", "prometheus", "examples", "--format", "bogus"],
            "opsplane: --format must be plain, k8s or auto, not 'bogus'\n",
            id="an unknown --format is a usage error",
        ),
        pytest.param(["frobnicate"], None, id="an unknown command is a usage error"),
        pytest.param(["generate", "terraform"], None, id="an unknown generator is a usage error"),
        pytest.param(["validate"], None, id="validate without a path is a usage error"),
    ],
)
def test_a_usage_error_exits_2(args: list[str], says: str | None) -> None:
    run = opsplane(*args)
    assert run.returncode == 2
    assert_no_traceback(run)
    assert run.stdout == ""
    if says is not None:
        assert run.stderr == says
    assert not (REPO / "unused").exists()


# --- generate prometheus -----------------------------------------------------------------


def test_rules_go_to_stdout_without_out() -> None:
    run = opsplane("generate", "prometheus", "examples")
    assert (run.returncode, run.stderr) == (0, "")
    docs = documents(run.stdout)
    assert len(docs) == 3
    names = group_names(run.stdout)
    for slo in ("checkout-availability", "checkout-latency-p99", "search-requests-availability"):
        assert f"opsplane-slo-alerts-{slo}" in names


def test_an_out_directory_gets_one_rule_file_per_service(tmp_path: Path) -> None:
    out = tmp_path / "out"
    run = opsplane("generate", "prometheus", "examples", "-o", out)
    assert run.returncode == 0, run.stderr
    assert run.stdout == ""
    assert run.stderr == f"wrote 3 rule files to {out}/\n"
    files = sorted(p.name for p in out.iterdir())
    assert files == ["catalog.rules.yaml", "checkout.rules.yaml", "search.rules.yaml"]
    for name in ("catalog", "checkout", "search"):
        (doc,) = documents((out / f"{name}.rules.yaml").read_text(encoding="utf-8"))
        assert all(f"-{name}-" in g["name"] for g in doc["groups"])


def test_an_out_yaml_file_gets_one_document_per_service(tmp_path: Path) -> None:
    out = tmp_path / "all.yaml"
    run = opsplane("generate", "prometheus", "examples", "-o", out)
    assert run.returncode == 0, run.stderr
    assert run.stderr == f"wrote 3 rule documents to {out}\n"
    assert [len(d["groups"]) > 0 for d in documents(out.read_text(encoding="utf-8"))] == [
        True,
        True,
        True,
    ]


@pytest.mark.parametrize(
    ("spec", "args", "expected"),
    [
        pytest.param("in-base.yaml", [], "out-base.yaml.tpl", id="the base case matches Sloth"),
        pytest.param(
            "in-base.yaml",
            ["--disable-alerts"],
            "out-base-no-alerts.yaml.tpl",
            id="--disable-alerts leaves out the alert groups as Sloth does",
        ),
        pytest.param(
            "in-base.yaml",
            ["--disable-recordings"],
            "out-base-no-recordings.yaml.tpl",
            id="--disable-recordings leaves out the recording groups as Sloth does",
        ),
        pytest.param(
            "in-base.yaml",
            ["-l", "exk1=exv1", "--label", "exk2=exv2"],
            "out-base-extra-labels.yaml.tpl",
            id="-l adds labels to recording rules as Sloth does",
        ),
        pytest.param(
            "in-base.yaml",
            ["--period", "28d"],
            "out-base-28d.yaml.tpl",
            id="--period 28d matches Sloth's --default-slo-period 28d",
        ),
        pytest.param(
            "in-base-k8s.yaml",
            [],
            "out-base-k8s.yaml.tpl",
            id="a PrometheusServiceLevel becomes a PrometheusRule as in Sloth",
        ),
    ],
)
def test_sloth_compat_output_equals_sloths(spec: str, args: list[str], expected: str) -> None:
    generate = shared_path("conformance", "sloth", "generate")
    run = opsplane("generate", "prometheus", "--sloth-compat", *args, generate / spec)
    assert (run.returncode, run.stderr) == (0, "")
    assert documents(run.stdout) != []
    assert parsed_like_sloth(run.stdout) == expected_documents(generate / expected)


def parsed_like_sloth(text: str) -> list[Any]:
    """Our output, read the way the Sloth golden files are read (``sloth_version`` dropped)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "out.yaml"
        path.write_text(text, encoding="utf-8")
        return expected_documents(path)


@pytest.mark.parametrize(
    ("flag", "kept"),
    [
        pytest.param("--disable-alerts", {"sli-recordings", "meta-recordings"}, id="no alerts"),
        pytest.param("--disable-recordings", {"alerts"}, id="no recordings"),
    ],
)
def test_native_rules_can_leave_out_alerts_or_recordings(flag: str, kept: set[str]) -> None:
    run = opsplane("generate", "prometheus", flag, "examples/checkout.yaml")
    assert (run.returncode, run.stderr) == (0, "")
    names = group_names(run.stdout)
    assert {n.removeprefix("opsplane-slo-").split("-checkout-")[0] for n in names} == kept
    rules = [r for doc in documents(run.stdout) for g in doc["groups"] for r in g["rules"]]
    kinds = {"alert" if "alert" in r else "record" for r in rules}
    assert kinds == ({"alert"} if flag == "--disable-recordings" else {"record"})


def test_format_k8s_wraps_the_same_groups_in_a_prometheus_rule() -> None:
    plain = opsplane("generate", "prometheus", "--format", "plain", "examples/search.yaml")
    k8s = opsplane("generate", "prometheus", "--format", "k8s", "examples/search.yaml")
    assert (plain.returncode, k8s.returncode) == (0, 0)
    (rule,) = documents(k8s.stdout)
    assert (rule["apiVersion"], rule["kind"]) == ("monitoring.coreos.com/v1", "PrometheusRule")
    assert rule["metadata"]["name"] == "search"
    (doc,) = documents(plain.stdout)
    assert rule["spec"]["groups"] == doc["groups"]


def test_a_7d_slo_needs_a_windows_catalog_in_sloth_compat_mode(tmp_path: Path) -> None:
    spec = write_yaml(tmp_path / "weekly.yaml", service("weekly", 99, period="7d"))
    run = opsplane("generate", "prometheus", "--sloth-compat", spec)
    assert run.returncode == 1
    assert_no_traceback(run)
    assert run.stdout == ""
    (line,) = run.stderr.splitlines()
    assert line.startswith(f"{spec}:")
    assert "1w SLO period has no alert-window catalog" in line
    assert "--windows" in line


def test_a_7d_slo_uses_the_windows_catalog_given(tmp_path: Path) -> None:
    catalogs = shared_path("conformance", "sloth", "generate", "windows")
    spec = write_yaml(tmp_path / "weekly.yaml", service("weekly", 99, period="7d"))
    run = opsplane("generate", "prometheus", "--sloth-compat", "--windows", catalogs, spec)
    assert (run.returncode, run.stderr) == (0, "")
    records = [
        r.get("record") for doc in documents(run.stdout) for g in doc["groups"] for r in g["rules"]
    ]
    assert "slo:sli_error:ratio_rate1w" in records
    # generate/windows/7d.yaml pages when 8 % of a week's budget burns in 1h: 8 x 168h / 100.
    assert "(13.44 * 0.01)" in run.stdout


def test_a_tier_that_can_never_fire_is_a_warning_on_stderr(tmp_path: Path) -> None:
    # A 90 % objective leaves a 10 % budget; the 14.4x page needs an error ratio of 1.44.
    spec = write_yaml(tmp_path / "lenient.yaml", service("lenient", 90))
    run = opsplane("generate", "prometheus", spec)
    assert run.returncode == 0
    assert run.stderr.splitlines() == [
        "warning: lenient-availability: page condition 1h/5m needs a burn rate of 14.4x, an "
        "error ratio of 1.44 > 1 on a 90% objective; it can never fire and is left out"
    ]
    assert "warning" not in run.stdout
    assert "14.4 *" not in run.stdout
    assert "(6 * 0.1)" in run.stdout, "the slow page condition can fire and stays"
    assert "opsplane-slo-alerts-lenient-availability" in group_names(run.stdout)


# --- generate grafana, schema ------------------------------------------------------------


def test_grafana_writes_dashboards_per_namespace_and_the_folders(tmp_path: Path) -> None:
    out = tmp_path / "dashboards"
    run = opsplane("generate", "grafana", "examples", "-o", out)
    assert run.returncode == 0
    assert run.stderr == f"wrote 6 dashboards and folders.json to {out}/\n"
    written = sorted(str(p.relative_to(out)) for p in out.rglob("*.json"))
    assert written == [
        "default/catalog-golden.json",
        "default/catalog-slo.json",
        "default/search-golden.json",
        "default/search-slo.json",
        "folders.json",
        "payments/checkout-golden.json",
        "payments/checkout-slo.json",
    ]
    folders = json.loads((out / "folders.json").read_text(encoding="utf-8"))
    assert folders["version"] == 1
    listed = {(f["title"], uid) for f in folders["folders"] for uid in f["dashboards"]}
    on_disk = {
        (p.parent.name, json.loads(p.read_text(encoding="utf-8"))["uid"])
        for p in out.glob("*/*.json")
    }
    assert listed == on_disk


def test_schema_prints_the_json_schema_of_opsplane_v1() -> None:
    run = opsplane("schema")
    assert (run.returncode, run.stderr) == (0, "")
    assert json.loads(run.stdout) == json.loads(json_schema())
    assert json.loads(run.stdout)["title"] == "ServiceSpec"


# --- no input makes it crash --------------------------------------------------------------

EXAMPLE_DOCS = [
    [d for d in yaml.safe_load_all(p.read_text(encoding="utf-8")) if d is not None]
    for p in sorted(EXAMPLES.glob("*.yaml"))
]
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=12)
    | st.sampled_from(["", "30d", "3x", "{{.window}}", "opsplane/v1", "month", "-1", "P1"])
)
TREES = st.recursive(
    SCALARS,
    lambda kids: (
        st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=8), kids, max_size=4)
    ),
    max_leaves=12,
)


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


@st.composite
def mutated_examples(draw: st.DrawFn) -> bytes:
    """An example spec with a few keys deleted or values replaced by junk."""
    docs = copy.deepcopy(draw(st.sampled_from(EXAMPLE_DOCS)))
    for _ in range(draw(st.integers(1, 4))):
        doc = draw(st.sampled_from(docs))
        places = _paths(doc)
        if not places:
            continue
        *parents, last = draw(st.sampled_from(places))
        node = doc
        for key in parents:
            node = node[key]
        if draw(st.booleans()):
            del node[last]
        else:
            node[last] = draw(SCALARS | TREES)
    return yaml.safe_dump_all(docs, sort_keys=False).encode()


JUNK = st.one_of(
    st.text().map(str.encode),
    st.binary(),
    TREES.map(lambda tree: yaml.safe_dump(tree).encode()),
    mutated_examples(),
)


@pytest.fixture(scope="module")
def junk_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("junk")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(content=JUNK)
def test_validate_turns_any_junk_into_problems_not_exceptions(
    junk_dir: Path, content: bytes
) -> None:
    path = junk_dir / "junk.yaml"
    path.write_bytes(content)
    result = validate([path])
    assert all(p.file == str(path) and p.message for p in result.problems)
    if not result.problems:
        assert result.services, "a file that describes no service is not silently valid"


def _generate(path: Path) -> subprocess.CompletedProcess[str]:
    return opsplane("generate", "prometheus", path)


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batch=st.tuples(JUNK, JUNK, mutated_examples(), mutated_examples(), mutated_examples()))
def test_the_cli_answers_junk_with_exit_0_or_1_and_no_traceback(
    junk_dir: Path, batch: Sequence[bytes]
) -> None:
    # 4 examples x 5 files = 20 processes, run 5 at a time to keep the module fast.
    folder = Path(tempfile.mkdtemp(dir=junk_dir))
    paths = [folder / f"junk-{i}.yaml" for i in range(len(batch))]
    for path, content in zip(paths, batch, strict=True):
        path.write_bytes(content)
    with ThreadPoolExecutor(max_workers=len(paths)) as pool:
        runs = list(pool.map(_generate, paths))
    for path, run in zip(paths, runs, strict=True):
        assert_no_traceback(run)
        expected = 1 if validate([path]).problems else 0
        assert run.returncode == expected, run.stderr
        if expected:
            assert run.stderr
            assert run.stdout == ""
            first = run.stderr.splitlines()[0]
            assert SPEC_PROBLEM_LINE.match(first) or first.startswith(f"{path}: "), first


def test_severity_maps_alert_tiers_in_generated_rules() -> None:
    mapped = opsplane("generate", "prometheus", "examples/", "--severity", "page=P0")
    default = opsplane("generate", "prometheus", "examples/")
    assert mapped.returncode == default.returncode == 0
    pages = [
        rule["labels"]
        for doc in yaml.safe_load_all(mapped.stdout)
        for group in doc["groups"]
        for rule in group["rules"]
        if rule.get("labels", {}).get("sloth_severity") == "page"
    ]
    assert pages, "the examples have page alerts"
    assert "severity: P0" not in default.stdout
    # Where a spec names its page severity, the spec wins; elsewhere the mapping applies.
    assert {labels["severity"] for labels in pages} >= {"P0"}


def test_an_invalid_severity_mapping_is_a_usage_error() -> None:
    run = opsplane("generate", "prometheus", "examples/", "--severity", "page=P9")
    assert run.returncode == 2
    assert run.stderr.strip() == "opsplane: --severity 'page=P9': use page=P0..P3 or ticket=P0..P3"
    assert_no_traceback(run)


def test_a_spec_nested_too_deeply_is_one_problem_not_a_crash(tmp_path: Path) -> None:
    deep = tmp_path / "deep.yaml"
    deep.write_text("a: " + "[" * 20_000 + "]" * 20_000 + "\n")
    run = opsplane("validate", deep)
    assert run.returncode == 1
    assert run.stderr.strip().endswith("invalid YAML: nested too deeply")
    assert_no_traceback(run)
