"""Alert-window catalogs, plugin chain paths and unwritable outputs, end to end."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from opsplane.app.generate import generate_grafana, generate_prometheus
from opsplane.errors import SpecError
from opsplane.render.prometheus import RuleOptions
from opsplane.spec import load_paths
from tests.cli.test_cli import assert_no_traceback, opsplane, service
from tests.cli.test_cli import write_yaml as _write_yaml
from tests.conftest import shared_path


def write_yaml(path: Path, *docs: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    return _write_yaml(path, *docs)


CATALOG_7D = {
    "apiVersion": "sloth.slok.dev/v1",
    "kind": "AlertWindows",
    "spec": {
        "sloPeriod": "7d",
        "page": {
            "quick": {"errorBudgetPercent": 8, "shortWindow": "5m", "longWindow": "1h"},
            "slow": {"errorBudgetPercent": 12.5, "shortWindow": "30m", "longWindow": "6h"},
        },
        "ticket": {
            "quick": {"errorBudgetPercent": 20, "shortWindow": "2h", "longWindow": "1d"},
            "slow": {"errorBudgetPercent": 42, "shortWindow": "6h", "longWindow": "3d"},
        },
    },
}


def test_sloth_mode_replaces_the_built_in_catalogs_with_a_windows_directory(tmp_path: Path) -> None:
    """Sloth's --slo-period-windows-path drops the embedded 30d catalog; so does compat mode."""
    spec = write_yaml(tmp_path / "specs" / "shop.yaml", service("shop", 99.9, "30d"))
    windows = write_yaml(tmp_path / "windows" / "7d.yaml", CATALOG_7D).parent
    compat = RuleOptions(sloth_compat=True)
    try:
        generate_prometheus([spec], compat, [windows])
    except SpecError as exc:
        (problem,) = exc.problems
        assert problem.path == "slos[0]"
        assert "the 30d SLO period has no alert-window catalog" in problem.message
    else:
        raise AssertionError("expected the 30d period to be refused in Sloth mode")
    native = generate_prometheus([spec], RuleOptions(), [windows])
    assert len(native.documents) == 1


def test_dashboards_draw_the_burn_factors_of_the_catalog_the_rules_used(tmp_path: Path) -> None:
    spec = write_yaml(tmp_path / "shop.yaml", service("shop", 99.9, "7d"))
    windows = write_yaml(tmp_path / "windows" / "7d.yaml", CATALOG_7D).parent
    derived = json.dumps(generate_grafana([spec], RuleOptions()).dashboards[1].model)
    custom = json.dumps(generate_grafana([spec], RuleOptions(), [windows]).dashboards[1].model)
    # 8 % of a 7d budget in 1h is a 13.44x burn; the Workbook's 2 % gives 3.36x.
    assert "13.44" in custom
    assert "13.44" not in derived
    assert "3.36" in derived


def test_each_unsupported_plugin_is_reported_once_at_its_chain_entry() -> None:
    path = shared_path("conformance", "sloth", "generate", "in-slo-plugin.yaml")
    paths = [p.path for p in load_paths([path]).problems]
    assert len(paths) == len(set(paths))
    assert "slo_plugins.chain[0]" in paths
    assert "slos[0].plugins.chain[0]" in paths


def test_an_unwritable_output_is_one_line_and_exit_1(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    run = opsplane("generate", "prometheus", "examples", "-o", blocker / "rules")
    assert run.returncode == 1
    assert_no_traceback(run)
    assert run.stderr.splitlines() == [
        f"opsplane: cannot write {blocker}/rules/checkout.rules.yaml: Not a directory"
    ]


def test_numeric_label_values_in_sloth_specs_are_read_as_text(tmp_path: Path) -> None:
    spec = {
        "version": "prometheus/v1",
        "service": "shop",
        "labels": {"tier": 1, "critical": True, "ratio": 0.2},
        "slos": [
            {
                "name": "availability",
                "objective": 99.9,
                "sli": {"raw": {"error_ratio_query": "sum(rate(e[{{.window}}]))"}},
                "alerting": {"page_alert": {"disable": True}, "ticket_alert": {"disable": True}},
            }
        ],
    }
    path = tmp_path / "shop.yaml"
    path.write_text(yaml.safe_dump(spec))
    (svc,) = load_paths([path]).services
    assert dict(svc.slos[0].labels) == {"tier": "1", "critical": "true", "ratio": "0.2"}


def test_sloth_flag_names_work_as_aliases() -> None:
    sloth = shared_path("conformance", "sloth", "generate")
    run = opsplane(
        "generate", "prometheus", "--sloth-compat", "--default-slo-period", "7d",
        "--slo-period-windows-path", sloth / "windows", "--extra-labels", "team=shop",
        sloth / "in-base.yaml",
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    (doc,) = [d for d in yaml.safe_load_all(run.stdout) if d]
    period_rule = doc["groups"][0]["rules"][-1]
    assert period_rule["record"] == "slo:sli_error:ratio_rate1w"
    assert period_rule["labels"]["team"] == "shop"
    run = opsplane("validate", "--ignore-slo-duplicates", sloth.parent / "validate" / "good")
    assert (run.returncode, run.stdout) == (0, "valid: 9 services, 17 SLOs\n")
