"""Every generated dashboard is one Grafana loads: schema-valid, well laid out, sound PromQL.

The schemas are grafana-foundation-sdk's (``tests/fixtures/grafana``, see its README). They are
used in **strict** mode: without the validator's ``ANY_VALUE_FIXES``, which only relax three
places where the schema generator rejects valid values (matcher options, override values and
object-form variable queries). Our dashboards use none of those, so they need no relaxing.

What the schemas do not check is checked here too: unique panel ids, a ``gridPos`` inside 24
columns with no overlap, unique refIds, a Prometheus datasource on every panel and target,
every ``$variable`` defined, and every expression parsing as PromQL.
"""

from __future__ import annotations

import copy
import importlib.util
import itertools
import re
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import promql_parser
import pytest

from opsplane.domain.duration import DAY, HOUR, MINUTE
from opsplane.domain.slo import (
    Alerting,
    AlertMeta,
    BurnRateCondition,
    GoldenSignals,
    GoodTotalSLI,
    LatencySLI,
    Period,
    RawSLI,
    Service,
    ThresholdSLI,
)
from opsplane.domain.windows import AlertWindow, AlertWindows
from opsplane.render.grafana import DashboardFile, render_dashboards
from opsplane.spec import load_paths
from tests.conftest import REPO
from tests.render.test_grafana import FULL_GOLDEN, GOOD, TOTAL, make_service, make_slo

FIXTURES = REPO / "tests" / "fixtures" / "grafana"
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
# Grafana's global variables that our dashboards may use without defining them.
BUILTIN_VARIABLES = {"__rate_interval", "__interval", "__range", "__all"}
VARIABLE_REF = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$([A-Za-z_]\w*)|\[\[(\w+)\]\]")


def _load_validator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "validate_dashboard", FIXTURES / "validate_dashboard.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


VALIDATOR = _load_validator()


def _edge_cases() -> list[Service]:
    """Services that exercise every branch of the renderer."""
    weekly = AlertWindows(
        7 * DAY,
        AlertWindow(8, 10 * MINUTE, 2 * HOUR),
        AlertWindow(12, 1 * HOUR, 12 * HOUR),
        AlertWindow(20, 4 * HOUR, 2 * DAY),
        AlertWindow(20, 12 * HOUR, 7 * DAY),
    )
    many = tuple(f'up{{job="dep-{i}"}}' for i in range(28))
    return [
        make_service("full", golden=FULL_GOLDEN, runbook="https://rb.example/full"),
        make_service(
            "ratio",
            slos=(
                make_slo(
                    "good",
                    GoodTotalSLI(GOOD, TOTAL),
                    service="ratio",
                    windows=weekly,
                    period=Period(30 * DAY, "month"),
                    runbook="https://rb.example/r",
                ),
                make_slo(
                    "lat",
                    LatencySLI("rpc_seconds", 1.0),
                    service="ratio",
                    period=None,
                    alerting=Alerting(page=AlertMeta(disabled=True)),
                    conditions=(BurnRateCondition("fast", "page", "gte", 10, 90 * MINUTE, 0),),
                ),
            ),
        ),
        make_service(
            "raw",
            slos=(
                make_slo("raw", RawSLI("1 - avg_over_time(up[{{.window}}])"), service="raw"),
                make_slo("queue", ThresholdSLI("max(q)", "lt", 5), service="raw", objective=90),
            ),
            golden=GoldenSignals(saturation="max(x)", dependencies=many),
        ),
        make_service(
            "threshold", slos=(make_slo("q", ThresholdSLI("q", "gte", 1), service="threshold"),)
        ),
        make_service(
            "a-service-whose-name-is-far-too-long-for-a-uid",
            namespace="a-namespace-that-is-long-as-well",
            golden=GoldenSignals(
                requests="sum by (code) (rate(x[{{ .window }}]))",
                errors="rate(y[{{.window}}]) + rate(z[{{.window}}])",
            ),
        ),
        make_service("no-slos", slos=(), namespace="Team Ops/EU"),
    ]


def _dashboards() -> list[DashboardFile]:
    services = [*load_paths([REPO / "examples"]).services, *_edge_cases()]
    return render_dashboards(services).dashboards


DASHBOARDS = _dashboards()
IDS = [d.filename for d in DASHBOARDS]
each_dashboard = pytest.mark.parametrize("dash", DASHBOARDS, ids=IDS)


@pytest.fixture(scope="module")
def strict_registry() -> Any:
    return VALIDATOR.load_registry(FIXTURES / "schemas", strict=True)


def _panels(model: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in model["panels"]:
        yield panel
        yield from panel.get("panels", [])


def _strings(node: Any) -> Iterator[str]:
    if isinstance(node, str):
        yield node
    elif isinstance(node, dict):
        for value in node.values():
            yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)


def _as_promql(expr: str) -> str:
    """Grafana's interval variables become 5m; other variables become a literal value."""
    for var in ("$__rate_interval", "$__interval", "$__range"):
        expr = expr.replace(var, "5m")
    return VARIABLE_REF.sub("literal", expr)


def _all_exprs(model: dict[str, Any]) -> Iterator[str]:
    for panel in _panels(model):
        for target in panel.get("targets", []):
            yield target["expr"]
    for annotation in model["annotations"]["list"]:
        if "expr" in annotation:
            yield annotation["expr"]


# --- the published schema -------------------------------------------------------------------


@each_dashboard
def test_the_dashboard_its_panels_and_its_queries_pass_the_strict_schemas(
    dash: DashboardFile, strict_registry: Any
) -> None:
    assert list(VALIDATOR.validate(dash.model, strict_registry)) == []


def test_every_panel_type_we_render_has_a_schema_and_is_checked() -> None:
    types = {p["type"] for d in DASHBOARDS for p in _panels(d.model)}
    schemas = {p.name.removesuffix(".jsonschema.json") for p in FIXTURES.glob("schemas/*.json")}
    assert types - {"row"} <= schemas
    assert types >= {"timeseries", "stat", "gauge", "heatmap", "text", "row"}


@pytest.mark.parametrize(
    ("where", "breakage"),
    [
        pytest.param("schemaVersion", lambda m: m.pop("schemaVersion"), id="no schemaVersion"),
        pytest.param(
            "panels/1/options",
            lambda m: m["panels"][1]["options"].pop("percentChangeColorMode"),
            id="a stat without a required option",
        ),
        pytest.param(
            "panels/1/targets/0/format",
            lambda m: m["panels"][1]["targets"][0].update(format="graph"),
            id="a query with an unknown format",
        ),
    ],
)
def test_the_strict_validator_does_reject_broken_dashboards(
    where: str, breakage: Any, strict_registry: Any
) -> None:
    slo = next(d for d in DASHBOARDS if d.filename == "payments/checkout-slo.json")
    model = copy.deepcopy(slo.model)
    breakage(model)
    errors = list(VALIDATOR.validate(model, strict_registry))
    assert any(where in f"{path} {message}" for path, message in errors), errors


# --- what the schema does not check ---------------------------------------------------------


@each_dashboard
def test_panel_ids_are_unique(dash: DashboardFile) -> None:
    ids = [p["id"] for p in _panels(dash.model)]
    assert len(ids) == len(set(ids))


@each_dashboard
def test_panels_sit_inside_24_columns_without_overlapping(dash: DashboardFile) -> None:
    boxes = [p["gridPos"] for p in _panels(dash.model)]
    for box in boxes:
        assert box["x"] >= 0
        assert box["x"] + box["w"] <= 24
        assert box["y"] >= 0
    for a, b in itertools.combinations(boxes, 2):
        apart_x = a["x"] + a["w"] <= b["x"] or b["x"] + b["w"] <= a["x"]
        apart_y = a["y"] + a["h"] <= b["y"] or b["y"] + b["h"] <= a["y"]
        assert apart_x or apart_y, (a, b)


@each_dashboard
def test_every_panel_and_target_queries_the_prometheus_datasource_variable(
    dash: DashboardFile,
) -> None:
    for panel in _panels(dash.model):
        assert panel["datasource"] == DATASOURCE
        for target in panel.get("targets", []):
            assert target["datasource"] == DATASOURCE


@each_dashboard
def test_ref_ids_are_unique_within_each_panel(dash: DashboardFile) -> None:
    for panel in _panels(dash.model):
        refs = [t["refId"] for t in panel.get("targets", [])]
        assert len(refs) == len(set(refs))


@each_dashboard
def test_every_variable_used_is_defined(dash: DashboardFile) -> None:
    defined = {v["name"] for v in dash.model["templating"]["list"]} | BUILTIN_VARIABLES
    used = {
        next(g for g in m.groups() if g)
        for text in _strings(dash.model)
        for m in VARIABLE_REF.finditer(text)
    }
    assert "datasource" in used
    assert used <= defined


@each_dashboard
def test_every_expression_is_non_empty_and_parses_as_promql(dash: DashboardFile) -> None:
    found = list(_all_exprs(dash.model))
    assert found
    for expr in found:
        assert expr.strip()
        promql_parser.parse(_as_promql(expr))


@each_dashboard
def test_the_uid_is_short_and_made_of_allowed_characters(dash: DashboardFile) -> None:
    assert 1 <= len(dash.uid) <= 40
    assert re.fullmatch(r"[A-Za-z0-9_-]+", dash.uid)


def test_uids_are_unique_across_all_dashboards() -> None:
    uids = [d.uid for d in DASHBOARDS]
    assert len(uids) == len(set(uids))


def test_the_edge_cases_reach_refids_beyond_z() -> None:
    refs = {t["refId"] for d in DASHBOARDS for p in _panels(d.model) for t in p.get("targets", [])}
    assert {"Z", "AA", "AB"} <= refs


def test_the_schema_fixtures_are_the_shared_conformance_copies() -> None:
    shared = REPO.parent / "shared" / "conformance" / "grafana"
    if not shared.exists():
        pytest.skip("../shared is not present")
    for path in [*FIXTURES.glob("schemas/*.json"), FIXTURES / "validate_dashboard.py"]:
        relative = path.relative_to(FIXTURES)
        assert path.read_bytes() == Path(shared, relative).read_bytes(), relative
