"""``--sloth-compat`` reproduces Sloth v0.16's output for every plugin-free case.

The vectors are Sloth's own integration fixtures and documentation examples
(``../shared/conformance/sloth``). Outputs are compared as parsed YAML, ``sloth_version`` aside.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from opsplane.domain.duration import parse_duration
from opsplane.render.prometheus import RuleOptions, render_rules
from opsplane.spec import load_paths
from opsplane.spec.windows_catalog import load_catalogs
from tests.conftest import SHARED, shared_path

SLOTH = SHARED / "conformance" / "sloth"


def _cases() -> list[dict[str, Any]]:
    path = SLOTH / "cases.json"
    if not path.exists():
        return []
    return [
        c
        for c in json.loads(path.read_text())["generate"]
        if "requires" not in c and c["name"] != "invalid-version"
    ]


# Examples whose Sloth plugins have a built-in equivalent (spec/sloth_plugins.py).
BUILT_IN_PLUGIN_EXAMPLES = [
    "slo-plugin-getting-started.yml",
    "slo-plugin-k8s-getting-started.yml",
    "contrib-slo-plugins.yml",
    "victoria-metrics.yml",
]
# Go plugins with no equivalent: reported as problems, never silently ignored.
UNSUPPORTED_PLUGIN_INPUTS = [
    "examples/input/plugin-getting-started.yml",
    "examples/input/plugin-k8s-getting-started.yml",
    "examples/input/contrib-denominator-corrected.yaml",
    "generate/in-sli-plugin.yaml",
    "generate/in-slo-plugin.yaml",
    "generate/in-slo-plugin-k8s.yaml",
]


def _examples() -> list[str]:
    path = SLOTH / "cases.json"
    if not path.exists():
        return []
    verified = json.loads(path.read_text())["examples"]["verified_without_plugins"]
    return [*verified, *BUILT_IN_PLUGIN_EXAMPLES]


def expected_documents(path: Path) -> list[Any]:
    """Parse a Sloth golden file: unwrap Go template escapes, drop ``sloth_version``."""
    text = path.read_text().replace("{{ .version }}", "VERSION")
    text = re.sub(r'{{"(.*?)"}}', r"\1", text)
    return [_drop_version(d) for d in yaml.safe_load_all(text) if d is not None]


def _drop_version(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _drop_version(v) for k, v in node.items() if k != "sloth_version"}
    if isinstance(node, list):
        return [_drop_version(v) for v in node]
    return node


def generate(inputs: list[Path], args: list[str]) -> list[Any]:
    """Run the compat renderer with Sloth CLI flags translated to options."""
    opts: dict[str, Any] = {"sloth_compat": True, "extra_labels": {}}
    it = iter(args)
    for flag in it:
        if flag == "--disable-alerts":
            opts["disable_alerts"] = True
        elif flag == "--disable-recordings":
            opts["disable_recordings"] = True
        elif flag == "-l":
            key, _, value = next(it).partition("=")
            opts["extra_labels"][key] = value
        elif flag == "--default-slo-period":
            opts["default_period"] = parse_duration(next(it))
        elif flag == "--slo-period-windows-path":
            catalogs, problems = load_catalogs([SLOTH / next(it)])
            assert not problems
            opts["catalogs"] = catalogs
    loaded = load_paths(inputs)
    assert loaded.problems == []
    result = render_rules(loaded.services, RuleOptions(**opts))
    return [_drop_version(d.content) for d in result.documents]


@pytest.mark.parametrize("case", _cases(), ids=lambda c: f"sloth generate case {c['name']} matches")
def test_generate_cases_match_sloth(case: dict[str, Any]) -> None:
    shared_path("conformance", "sloth")
    got = generate([SLOTH / case["input"]], case["args"])
    assert got == expected_documents(SLOTH / case["expected"])


@pytest.mark.parametrize("name", _examples(), ids=lambda n: f"sloth example {n} matches")
def test_documentation_examples_match_sloth(name: str) -> None:
    shared_path("conformance", "sloth")
    got = generate([SLOTH / "examples" / "input" / name], ["-l", "cmd=examplesgen.sh"])
    assert got == expected_documents(SLOTH / "examples" / "expected" / name)


def test_all_plugin_free_cases_are_collected() -> None:
    shared_path("conformance", "sloth")
    assert len(_cases()) == 10
    assert len(_examples()) == 10


@pytest.mark.parametrize(
    "name", UNSUPPORTED_PLUGIN_INPUTS, ids=lambda n: f"{n} reports its Go plugin as a problem"
)
def test_plugins_without_equivalent_are_reported(name: str) -> None:
    shared_path("conformance", "sloth")
    problems = load_paths([SLOTH / name]).problems
    assert problems
    assert all("plugin" in p.message for p in problems)
