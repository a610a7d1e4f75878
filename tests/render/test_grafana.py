"""``render_dashboards``: two dashboards per service, stable uids, one folder per namespace.

Schema validity and the structural invariants of every dashboard are specified in
``test_grafana_schema.py``; the full output for ``examples/`` is pinned in
``test_grafana_golden.py``, and the SLO dashboard's panels in ``test_grafana_slo.py``. This
module holds the service builders they share, and specifies outputs, uids, folders, the
golden-signals dashboard and the grid.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from opsplane.domain.duration import DAY
from opsplane.domain.slo import (
    SLI,
    SLO,
    EventsSLI,
    GoldenSignals,
    GoodTotalSLI,
    LatencySLI,
    Origin,
    Period,
    RawSLI,
    Service,
    ThresholdSLI,
)
from opsplane.render.grafana import DashboardFile, GrafanaOutput, render_dashboards
from opsplane.render.grafana.ids import MAX_UID, dashboard_uid, folder_uid, ref_id
from opsplane.render.grafana.layout import Grid

ERRORS = 'sum(rate(http_requests_total{job="shop",code=~"5.."}[{{.window}}]))'
TOTAL = 'sum(rate(http_requests_total{job="shop"}[{{.window}}]))'
GOOD = 'sum(rate(http_requests_total{job="shop",code!~"5.."}[{{.window}}]))'
BUCKETS = 'http_request_duration_seconds_bucket{job="shop"}'
UID_CHARS = re.compile(r"^[A-Za-z0-9_-]+$")
THIRTY_DAYS = Period(30 * DAY)


def make_slo(
    name: str = "availability",
    sli: SLI | None = None,
    *,
    service: str = "shop",
    objective: float = 99.9,
    period: Period | None = THIRTY_DAYS,
    **kwargs: Any,
) -> SLO:
    """An SLO of ``service``; an events SLI on ``http_requests_total`` unless given."""
    return SLO(
        service=service,
        name=name,
        objective=objective,
        sli=sli or EventsSLI(ERRORS, TOTAL),
        period=period,
        **kwargs,
    )


def make_service(
    name: str = "shop",
    slos: tuple[SLO, ...] | None = None,
    *,
    namespace: str = "retail",
    golden: GoldenSignals | None = None,
    runbook: str | None = None,
) -> Service:
    """A service with one availability SLO unless ``slos`` is given."""
    return Service(
        name=name,
        slos=(make_slo(service=name),) if slos is None else slos,
        origin=Origin("shop.yaml", 0, "opsplane/v1", "Service"),
        namespace=namespace,
        golden=golden,
        runbook=runbook,
    )


FULL_GOLDEN = GoldenSignals(
    requests=TOTAL,
    errors=ERRORS,
    latency=BUCKETS,
    saturation='max(container_memory_working_set_bytes{pod=~"shop-.*"})',
    dependencies=('up{job="db"}', 'up{job="cache"}'),
)


def render_one(service: Service, **kwargs: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The golden and the SLO dashboard models of one service."""
    out = render_dashboards([service], **kwargs)
    golden, slo = out.dashboards
    return golden.model, slo.model


def panels(model: dict[str, Any], kind: str | None = None) -> list[dict[str, Any]]:
    """The panels of a dashboard (optionally of one type)."""
    return [p for p in model["panels"] if kind is None or p["type"] == kind]


def titled(model: dict[str, Any], title: str) -> list[dict[str, Any]]:
    """The panels with exactly this title."""
    return [p for p in model["panels"] if p["title"] == title]


def exprs(panel: dict[str, Any]) -> list[str]:
    """The PromQL of each target of a panel."""
    return [t["expr"] for t in panel.get("targets", [])]


def all_exprs(model: dict[str, Any]) -> Iterator[str]:
    """Every target expression of a dashboard."""
    for panel in model["panels"]:
        yield from exprs(panel)


# --- what is rendered, and where it goes ---------------------------------------------------


def test_each_service_gets_a_golden_and_an_slo_dashboard_in_its_namespace_folder() -> None:
    out = render_dashboards([make_service(), make_service("cart", namespace="web")])
    assert isinstance(out, GrafanaOutput)
    assert [(f.folder, f.filename, f.uid) for f in out.dashboards] == [
        ("retail", "retail/shop-golden.json", "retail_shop-golden"),
        ("retail", "retail/shop-slo.json", "retail_shop-slo"),
        ("web", "web/cart-golden.json", "web_cart-golden"),
        ("web", "web/cart-slo.json", "web_cart-slo"),
    ]
    assert all(isinstance(f, DashboardFile) and f.model["uid"] == f.uid for f in out.dashboards)


def test_the_folders_manifest_groups_dashboard_uids_by_namespace_sorted_by_title() -> None:
    services = [make_service("b", namespace="web"), make_service("a"), make_service("c")]
    assert render_dashboards(services).folders == {
        "version": 1,
        "folders": [
            {
                "uid": "opsplane-retail",
                "title": "retail",
                "dashboards": [
                    "retail_a-golden",
                    "retail_a-slo",
                    "retail_c-golden",
                    "retail_c-slo",
                ],
            },
            {"uid": "opsplane-web", "title": "web", "dashboards": ["web_b-golden", "web_b-slo"]},
        ],
    }


def test_no_services_render_no_dashboards_and_no_folders() -> None:
    assert render_dashboards([]) == GrafanaOutput([], {"version": 1, "folders": []})


def test_rendering_twice_gives_equal_dashboards() -> None:
    services = [make_service(golden=FULL_GOLDEN, runbook="https://rb.example/shop")]
    assert render_dashboards(services) == render_dashboards(services)


@pytest.mark.parametrize(
    ("namespace", "service", "kind", "uid"),
    [
        pytest.param("payments", "checkout", "golden", "payments_checkout-golden", id="short"),
        pytest.param("payments", "checkout", "slo", "payments_checkout-slo", id="slo kind"),
        pytest.param(
            "default", "search", "slo", "default_search-slo", id="a Sloth service in default"
        ),
    ],
)
def test_a_short_uid_reads_namespace_underscore_service_dash_kind(
    namespace: str, service: str, kind: str, uid: str
) -> None:
    assert dashboard_uid(namespace, service, kind) == uid


@pytest.mark.parametrize(
    ("namespace", "service"),
    [
        pytest.param("platform-observability", "long-running-service-name", id="too long"),
        pytest.param("default", "Search_API.v2", id="characters Grafana does not allow"),
        pytest.param("default", "x" * 200, id="far too long"),
    ],
)
def test_a_long_or_unusual_name_gets_a_hashed_uid_of_at_most_40_safe_characters(
    namespace: str, service: str
) -> None:
    uid = dashboard_uid(namespace, service, "golden")
    assert len(uid) <= MAX_UID
    assert UID_CHARS.match(uid)
    assert re.search(r"-golden-[0-9a-f]{8}$", uid)
    assert uid == dashboard_uid(namespace, service, "golden")
    assert uid != dashboard_uid(namespace, service, "slo")


def test_uids_stay_unique_when_hyphens_make_namespace_and_service_look_alike() -> None:
    one = render_dashboards([make_service("c", namespace="a-b")])
    two = render_dashboards([make_service("b-c", namespace="a")])
    assert {f.uid for f in one.dashboards}.isdisjoint(f.uid for f in two.dashboards)


def test_long_names_sharing_a_prefix_still_get_distinct_uids() -> None:
    names = [f"a-very-long-service-name-for-the-checkout-{i}" for i in range(3)]
    out = render_dashboards([make_service(n) for n in names])
    uids = [f.uid for f in out.dashboards]
    assert len(set(uids)) == len(uids) == 6


def test_a_long_namespace_gets_a_hashed_folder_uid() -> None:
    assert folder_uid("payments") == "opsplane-payments"
    uid = folder_uid("a-namespace-name-that-is-much-too-long-for-grafana")
    assert len(uid) <= MAX_UID
    assert re.search(r"-[0-9a-f]{8}$", uid)


@pytest.mark.parametrize(
    ("index", "ref"),
    [(0, "A"), (1, "B"), (25, "Z"), (26, "AA"), (27, "AB"), (52, "BA")],
    ids=str,
)
def test_query_ref_ids_count_like_spreadsheet_columns(index: int, ref: str) -> None:
    assert ref_id(index) == ref


def test_dashboards_are_tagged_opsplane_namespace_service_and_kind() -> None:
    golden, slo = render_one(make_service())
    assert golden["tags"] == ["opsplane", "retail", "shop", "golden-signals"]
    assert slo["tags"] == ["opsplane", "retail", "shop", "slo"]
    assert golden["schemaVersion"] >= 39
    assert slo["schemaVersion"] >= 39


# --- the golden-signals dashboard -----------------------------------------------------------


def test_success_rate_is_one_minus_errors_over_requests_overall_and_by_version() -> None:
    golden, _ = render_one(make_service(golden=FULL_GOLDEN))
    (panel,) = titled(golden, "Success rate")
    rate = "[$__rate_interval]"
    assert exprs(panel) == [
        f'1 - (sum(rate(http_requests_total{{job="shop",code=~"5.."}}{rate})) / '
        f'sum(rate(http_requests_total{{job="shop"}}{rate})))',
        f'1 - (sum by (version) (rate(http_requests_total{{job="shop",code=~"5.."}}{rate})) / '
        f'sum by (version) (rate(http_requests_total{{job="shop"}}{rate})))',
    ]
    assert [t["legendFormat"] for t in panel["targets"]] == ["all", "{{version}}"]
    assert panel["fieldConfig"]["defaults"]["unit"] == "percentunit"


def test_traffic_is_the_requests_query_overall_and_by_version() -> None:
    golden, _ = render_one(make_service(golden=FULL_GOLDEN))
    (panel,) = titled(golden, "Traffic")
    assert exprs(panel) == [
        'sum(rate(http_requests_total{job="shop"}[$__rate_interval]))',
        'sum by (version) (rate(http_requests_total{job="shop"}[$__rate_interval]))',
    ]


@pytest.mark.parametrize(
    "requests",
    [
        pytest.param("sum by (code) (rate(x[{{.window}}]))", id="a sum that already groups"),
        pytest.param("max(rate(x[{{.window}}]))", id="not a sum"),
        pytest.param("sum(rate(x[{{.window}}])) + sum(rate(y[{{.window}}]))", id="two sums"),
    ],
)
def test_a_query_that_is_not_a_plain_sum_gets_no_per_version_variant(requests: str) -> None:
    golden, _ = render_one(make_service(golden=GoldenSignals(requests=requests, errors=ERRORS)))
    for title in ("Traffic", "Success rate"):
        (panel,) = titled(golden, title)
        assert len(panel["targets"]) == 1


def test_a_compound_query_is_parenthesised_inside_the_success_ratio() -> None:
    requests = "sum(rate(x[{{.window}}])) + sum(rate(y[{{.window}}]))"
    golden, _ = render_one(make_service(golden=GoldenSignals(requests=requests, errors=ERRORS)))
    (panel,) = titled(golden, "Success rate")
    assert exprs(panel)[0].endswith(
        " / (sum(rate(x[$__rate_interval])) + sum(rate(y[$__rate_interval]))))"
    )


def test_p99_latency_and_its_heatmap_read_the_golden_bucket_selector() -> None:
    golden, _ = render_one(make_service(golden=FULL_GOLDEN))
    (p99,) = titled(golden, "p99 latency")
    buckets = f"sum by (le) (rate({BUCKETS}[$__rate_interval]))"
    assert exprs(p99) == [f"histogram_quantile(0.99, {buckets})"]
    (heat,) = panels(golden, "heatmap")
    assert exprs(heat) == [buckets]
    assert heat["targets"][0]["format"] == "heatmap"


def test_saturation_charts_the_golden_saturation_query() -> None:
    golden, _ = render_one(make_service(golden=FULL_GOLDEN))
    (panel,) = titled(golden, "Saturation")
    assert exprs(panel) == ['max(container_memory_working_set_bytes{pod=~"shop-.*"})']


def test_dependency_status_has_one_instant_query_per_dependency_mapped_to_up_and_down() -> None:
    golden, _ = render_one(make_service(golden=FULL_GOLDEN))
    (panel,) = titled(golden, "Dependencies")
    assert panel["type"] == "stat"
    assert exprs(panel) == ['up{job="db"}', 'up{job="cache"}']
    assert all(t["instant"] for t in panel["targets"])
    (mapping,) = panel["fieldConfig"]["defaults"]["mappings"]
    assert {k: v["text"] for k, v in mapping["options"].items()} == {"0": "down", "1": "up"}


def test_without_a_golden_block_traffic_and_success_rate_come_from_the_events_sli() -> None:
    golden, _ = render_one(make_service())
    assert [p["title"] for p in panels(golden) if p["type"] != "row"] == [
        "Success rate",
        "Traffic",
    ]
    (traffic,) = titled(golden, "Traffic")
    assert exprs(traffic)[0] == 'sum(rate(http_requests_total{job="shop"}[$__rate_interval]))'
    assert "derived from its SLOs" in golden["description"]


def test_a_good_total_sli_gives_success_as_good_over_total() -> None:
    service = make_service(slos=(make_slo(sli=GoodTotalSLI(GOOD, TOTAL)),))
    golden, _ = render_one(service)
    (panel,) = titled(golden, "Success rate")
    assert exprs(panel)[0] == (
        'sum(rate(http_requests_total{job="shop",code!~"5.."}[$__rate_interval])) / '
        'sum(rate(http_requests_total{job="shop"}[$__rate_interval]))'
    )


def test_a_raw_sli_gives_a_success_rate_but_no_traffic() -> None:
    raw = RawSLI("sum(rate(errors[{{.window}}])) / sum(rate(total[{{.window}}]))")
    golden, _ = render_one(make_service(slos=(make_slo(sli=raw),)))
    (panel,) = titled(golden, "Success rate")
    assert exprs(panel) == [
        "1 - (sum(rate(errors[$__rate_interval])) / sum(rate(total[$__rate_interval])))"
    ]
    assert not titled(golden, "Traffic")


def test_a_latency_sli_gives_the_latency_panels_when_there_is_no_golden_block() -> None:
    sli = LatencySLI("rpc_duration_seconds", 0.5, 'service="shop"')
    golden, _ = render_one(make_service(slos=(make_slo("fast", sli),)))
    (p99,) = titled(golden, "p99 latency")
    assert 'rpc_duration_seconds_bucket{service="shop"}' in exprs(p99)[0]


def test_with_nothing_to_chart_the_golden_dashboard_says_why_instead_of_empty_queries() -> None:
    sli = ThresholdSLI("max(queue_depth)", "lt", 100)
    golden, _ = render_one(make_service(slos=(make_slo("queue", sli),)))
    (panel,) = golden["panels"]
    assert panel["type"] == "text"
    assert "golden" in panel["options"]["content"]


def test_no_dashboard_ever_carries_an_empty_query() -> None:
    sparse = [
        make_service(golden=GoldenSignals(saturation="max(x)")),
        make_service(golden=GoldenSignals(requests=TOTAL)),
        make_service(golden=GoldenSignals(dependencies=("up",))),
        make_service(slos=(make_slo(sli=ThresholdSLI("q", "gt", 1)),)),
    ]
    for service in sparse:
        for model in render_one(service):
            assert all(e.strip() for e in all_exprs(model))


# --- the grid -------------------------------------------------------------------------------


def test_the_grid_wraps_a_panel_that_does_not_fit_below_the_tallest_of_the_line() -> None:
    grid = Grid()
    grid.add({"type": "text"}, w=16, h=4)
    grid.add({"type": "text"}, w=8, h=6)
    grid.add({"type": "text"}, w=12, h=3)
    grid.row({"type": "row"})
    assert [(p["id"], p["gridPos"]) for p in grid.panels] == [
        (1, {"h": 4, "w": 16, "x": 0, "y": 0}),
        (2, {"h": 6, "w": 8, "x": 16, "y": 0}),
        (3, {"h": 3, "w": 12, "x": 0, "y": 6}),
        (4, {"h": 1, "w": 24, "x": 0, "y": 9}),
    ]


@pytest.mark.parametrize(
    ("w", "h"), [(0, 4), (25, 4), (12, 0)], ids=["no width", "too wide", "flat"]
)
def test_the_grid_refuses_a_panel_that_cannot_be_placed(w: int, h: int) -> None:
    with pytest.raises(ValueError, match="columns wide"):
        Grid().add({"type": "text"}, w=w, h=h)
