"""OpenSLO ``openslo/v1alpha``, read as Sloth reads it (``internal/storage/io/openslo.go``)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from opsplane.domain.duration import DAY
from opsplane.domain.slo import SLO, Alerting, AlertMeta, GoodTotalSLI, Origin, Period
from opsplane.spec import LoadResult, load_paths

CONFORMANCE = Path(__file__).resolve().parents[3] / "shared" / "conformance"
GOOD = (
    'sum(rate(http_request_duration_seconds_count{job="myservice",code!~"(5..|429)"}[{{.window}}]))'
)
TOTAL = 'sum(rate(http_request_duration_seconds_count{job="myservice"}[{{.window}}]))'
DISABLED = Alerting(page=AlertMeta(disabled=True), ticket=AlertMeta(disabled=True))


def conformance(rel: str) -> Path:
    if not CONFORMANCE.is_dir():
        pytest.skip(f"the conformance vectors are not at {CONFORMANCE} (../shared)")
    return CONFORMANCE / rel


def lines(result: LoadResult, root: Path) -> list[str]:
    """Every problem as ``FILE:PATH: message``, files named relative to ``root``."""
    return [str(p).replace(f"{root}/", "") for p in result.problems]


def sloth_slo() -> dict[str, Any]:
    """Sloth's ``in-openslo.yaml`` integration input."""
    data: dict[str, Any] = yaml.safe_load(conformance("sloth/generate/in-openslo.yaml").read_text())
    return data


def test_sloth_integration_input_maps_like_sloth() -> None:
    """Sloth's ``openslo`` case: slo1 objective 0 -> id svc01-slo1-0, 99.9, 30d, no alerts."""
    path = conformance("sloth/generate/in-openslo.yaml")
    result = load_paths([path])
    assert result.problems == []
    [service] = result.services
    assert service.name == "svc01"
    assert service.origin == Origin(str(path), 0, "openslo/v1alpha", "SLO", "slo1")
    assert service.slos == (
        SLO("svc01", "slo1-0", 0.999 * 100, GoodTotalSLI(GOOD, TOTAL), "this is SLO1.",
            period=Period(30 * DAY), alerting=DISABLED),
    )  # fmt: skip
    assert service.slos[0].id == "svc01-slo1-0"


def test_sloth_openslo_example_is_one_slo() -> None:
    result = load_paths([conformance("sloth/examples/input/openslo-getting-started.yml")])
    assert result.problems == []
    [slo] = result.services[0].slos
    assert (slo.id, slo.objective, slo.period) == (
        "my-service-sloth-slo-my-service-0",
        99.9,
        Period(30 * DAY),
    )


@pytest.mark.parametrize(("rel", "period"), [
    pytest.param("sloth/validate/good/good-openslo.yaml", Period(30 * DAY),
                 id="Sloth's good OpenSLO file validates"),
    pytest.param("sloth/validate/bad/bad-openslo.yaml", Period(28 * DAY),
                 id="Sloth's stale 'bad' file (count: 28) validates: 28d periods are supported"),
])  # fmt: skip
def test_sloth_validate_files(rel: str, period: Period) -> None:
    result = load_paths([conformance(rel)])
    assert result.problems == []
    assert result.services[0].slos[0].period == period


def test_sloth_duplicate_ids_across_openslo_files() -> None:
    root = conformance("sloth/validate_with_duplicates/openslo")
    assert lines(load_paths([root]), root) == [
        "bad-openslo-1-original.yaml:spec.objectives[0]: duplicate SLO id 'svc01-slo1-0' "
        "(first defined at bad-openslo-1-duplicate.yaml:spec.objectives[0])",
    ]


def test_go_sdk_v1alpha_examples_are_not_what_sloth_reads() -> None:
    """Week windows, a threshold indicator and Datadog sources: every reason is reported."""
    root = conformance("openslo/go-sdk-v1alpha")
    result = load_paths([root])
    assert result.services == []
    at = "slos.yaml:doc[1].spec.objectives[0].ratioMetrics"
    assert lines(result, root) == [
        "slos.yaml:doc[0].spec.timeWindows[0].unit: only days based time windows are supported",
        "slos.yaml:doc[0].spec.objectives[0]: missing ratioMetrics",
        "slos.yaml:doc[1].spec.timeWindows[0].unit: only days based time windows are supported",
        f"{at}.good.source: prometheus or sloth query ratio 'good' source is required",
        f"{at}.good.queryType: unsupported 'good' indicator query type: 'query' (must be promql)",
        f"{at}.total.source: prometheus or sloth query ratio 'total' source is required",
        f"{at}.total.queryType: unsupported 'total' indicator query type: 'query' (must be promql)",
    ]


def test_each_objective_is_one_slo(tmp_path: Path) -> None:
    data = sloth_slo()
    second = copy.deepcopy(data["spec"]["objectives"][0])
    second["target"] = 0.99
    data["spec"]["objectives"].append(second)
    del data["spec"]["timeWindows"]
    path = tmp_path / "slo.yaml"
    path.write_text(yaml.safe_dump(data))
    [service] = load_paths([path]).services
    assert [(s.id, s.objective, s.period) for s in service.slos] == [
        ("svc01-slo1-0", 99.9, None),
        ("svc01-slo1-1", 99.0, None),
    ]


@pytest.mark.parametrize(("spec", "expected"), [
    pytest.param({"timeWindows": [{"count": 30, "unit": "Day"}, {"count": 7, "unit": "Day"}]},
                 ["spec.timeWindows: only 1 time window is supported"],
                 id="two time windows"),
    pytest.param({"timeWindows": [{"count": 1, "unit": "Month"}]},
                 ["spec.timeWindows[0].unit: only days based time windows are supported"],
                 id="a window that is not counted in days"),
    pytest.param({"timeWindows": [{"count": 0, "unit": "day"}]},
                 ["spec.timeWindows[0].count: must be greater than zero"],
                 id="a zero-day window (the unit is case-insensitive, as in Sloth)"),
    pytest.param({"objectives": []}, ["spec.objectives: at least one SLO is required"],
                 id="no objectives"),
    pytest.param({"objectives": [{"target": 0.99}]}, ["spec.objectives[0]: missing ratioMetrics"],
                 id="an objective without ratioMetrics"),
    pytest.param({"objectives[0].target": None},
                 ["spec.objectives[0].target: is required: the objective as a ratio, e.g. 0.999"],
                 id="an objective without target"),
    pytest.param({"objectives[0].ratioMetrics.total.source": "datadog"},
                 ["spec.objectives[0].ratioMetrics.total.source: prometheus or sloth query ratio "
                  "'total' source is required"],
                 id="a total query from Datadog"),
    pytest.param({"objectives[0].ratioMetrics.good.queryType": "query"},
                 ["spec.objectives[0].ratioMetrics.good.queryType: unsupported 'good' indicator "
                  "query type: 'query' (must be promql)"],
                 id="a good query that is not promql"),
    pytest.param({"objectives[0].target": None, "objectives[0].budgetTarget": 0.999}, [],
                 id="budgetTarget (the Go field name) is read like target"),
    pytest.param({"objectives[0].ratioMetrics.good.source": "sloth"}, [],
                 id="the sloth source is read like prometheus"),
    pytest.param({"objectives[0].ratioMetrics.good.query": "sum(rate(x[5m]))"},
                 ["spec.objectives[0].ratioMetrics: good query must contain the {{.window}} "
                  "variable"],
                 id="the shared rules check the queries at ratioMetrics"),
])  # fmt: skip
def test_problems(tmp_path: Path, spec: dict[str, Any], expected: list[str]) -> None:
    data = sloth_slo()
    for dotted, value in spec.items():
        *parents, last = dotted.replace("[0]", ".0").split(".")
        node: Any = data["spec"]
        for key in parents:
            node = node[int(key) if key.isdigit() else key]
        if value is None:
            del node[last]
        else:
            node[last] = value
    path = tmp_path / "slo.yaml"
    path.write_text(yaml.safe_dump(data))
    result = load_paths([path])
    assert lines(result, tmp_path) == [f"slo.yaml:{line}" for line in expected]
