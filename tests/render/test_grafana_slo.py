"""The SLO dashboard: Sloth's recording rules as budget, burn-rate and latency panels.

Services are built with the helpers of ``test_grafana.py``.
"""

from __future__ import annotations

from typing import Any

import pytest

from opsplane.domain.duration import DAY, HOUR, MINUTE
from opsplane.domain.slo import Alerting, AlertMeta, BurnRateCondition, LatencySLI, Period
from opsplane.domain.windows import AlertWindow, AlertWindows
from tests.render.test_grafana import (
    BUCKETS,
    FULL_GOLDEN,
    all_exprs,
    exprs,
    make_service,
    make_slo,
    panels,
    render_one,
    titled,
)

# --- the SLO dashboard ----------------------------------------------------------------------


def test_the_slo_dashboard_has_datasource_service_and_slo_variables() -> None:
    _, slo = render_one(make_service())
    variables = {v["name"]: v for v in slo["templating"]["list"]}
    assert list(variables) == ["datasource", "sloth_service", "sloth_slo"]
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    assert variables["sloth_service"]["query"] == "label_values(sloth_slo_info, sloth_service)"
    assert variables["sloth_service"]["current"] == {"text": "shop", "value": "shop"}
    assert variables["sloth_slo"]["query"] == (
        'label_values(sloth_slo_info{sloth_service="$sloth_service"}, sloth_slo)'
    )
    for name in ("sloth_service", "sloth_slo"):
        assert variables[name]["datasource"] == {"type": "prometheus", "uid": "${datasource}"}


def test_the_overview_follows_the_service_and_slo_variables() -> None:
    _, slo = render_one(make_service())
    overview = [e for e in all_exprs(slo) if "$sloth_service" in e]
    assert overview == [
        f'{m}{{sloth_service="$sloth_service", sloth_slo=~"$sloth_slo"}}'
        for m in (
            "slo:period_error_budget_remaining:ratio",
            "slo:period_burn_rate:ratio",
            "slo:current_burn_rate:ratio",
        )
    ]


def test_each_slo_gets_a_row_titled_with_its_objective_and_period() -> None:
    slos = (make_slo(), make_slo("latency", LatencySLI("d", 0.3), objective=99, period=None))
    _, slo = render_one(make_service(slos=slos))
    rows = [p["title"] for p in panels(slo, "row")]
    assert rows == [
        "Overview: $sloth_service",
        "availability: 99.9% over 30d",
        "latency: 99% over 30d",
    ]


def test_the_budget_gauge_reads_the_slos_remaining_budget() -> None:
    _, slo = render_one(make_service())
    (gauge,) = panels(slo, "gauge")
    assert exprs(gauge) == ['slo:period_error_budget_remaining:ratio{sloth_id="shop-availability"}']
    assert gauge["fieldConfig"]["defaults"]["unit"] == "percentunit"


def test_the_period_error_ratio_is_charted_against_the_error_budget() -> None:
    _, slo = render_one(make_service())
    (panel,) = titled(slo, "Error ratio vs objective (30d)")
    assert exprs(panel) == [
        'slo:sli_error:ratio_rate30d{sloth_id="shop-availability"}',
        'slo:error_budget:ratio{sloth_id="shop-availability"}',
    ]


def _burn(window: str, slo_id: str = "shop-availability") -> str:
    return (
        f'slo:sli_error:ratio_rate{window}{{sloth_id="{slo_id}"}} / '
        f"on(sloth_id, sloth_slo, sloth_service) group_left "
        f'slo:error_budget:ratio{{sloth_id="{slo_id}"}}'
    )


def _threshold_lines(panel: dict[str, Any]) -> list[float]:
    steps = panel["fieldConfig"]["defaults"]["thresholds"]["steps"]
    assert steps[0]["value"] is None
    assert panel["fieldConfig"]["defaults"]["custom"]["thresholdsStyle"] == {"mode": "dashed"}
    return [s["value"] for s in steps[1:]]


@pytest.mark.parametrize(
    ("period", "tier", "windows", "factors"),
    [
        pytest.param(
            30 * DAY,
            "page",
            ["5m", "30m", "1h", "6h"],
            [6.0, 14.4],
            id="a 30d SLO pages at 14.4x over 1h and 5m and 6x over 6h and 30m",
        ),
        pytest.param(
            30 * DAY,
            "ticket",
            ["2h", "6h", "1d", "3d"],
            [1.0, 3.0],
            id="a 30d SLO opens tickets at 3x over 1d and 2h and 1x over 3d and 6h",
        ),
        pytest.param(
            28 * DAY,
            "page",
            ["5m", "30m", "1h", "6h"],
            [5.6, 13.44],
            id="a 28d SLO keeps the windows and pages at 13.44x and 5.6x",
        ),
        pytest.param(
            7 * DAY,
            "ticket",
            ["2h", "6h", "1d", "3d"],
            [7 / 30, 0.7],
            id="a 7d SLO keeps the budget fractions, so its ticket factors shrink",
        ),
    ],
)
def test_burn_rate_panels_chart_every_window_of_a_tier_with_its_factors_as_lines(
    period: int, tier: str, windows: list[str], factors: list[float]
) -> None:
    _, slo = render_one(make_service(slos=(make_slo(period=Period(period)),)))
    (panel,) = titled(slo, f"Burn rate: {tier} windows")
    assert exprs(panel) == [_burn(w) for w in windows]
    assert [t["legendFormat"] for t in panel["targets"]] == windows
    assert _threshold_lines(panel) == pytest.approx(factors)


def test_a_custom_window_catalog_is_retargeted_at_the_slo_period() -> None:
    catalog = AlertWindows(
        period=7 * DAY,
        page_quick=AlertWindow(8, 10 * MINUTE, 2 * HOUR),
        page_slow=AlertWindow(12, 1 * HOUR, 12 * HOUR),
        ticket_quick=AlertWindow(20, 4 * HOUR, 2 * DAY),
        ticket_slow=AlertWindow(20, 12 * HOUR, 7 * DAY),
    )
    _, slo = render_one(make_service(slos=(make_slo(windows=catalog),)))
    (page,) = titled(slo, "Burn rate: page windows")
    assert [t["legendFormat"] for t in page["targets"]] == ["10m", "1h", "2h", "12h"]
    # 8 % of a 30d budget in 2h is 28.8x; 12 % in 12h is 7.2x (not the 7d catalog's 6.72x).
    assert _threshold_lines(page) == pytest.approx([7.2, 28.8])


def test_an_slo_without_a_period_uses_the_default_period() -> None:
    service = make_service(slos=(make_slo(period=None),))
    _, slo = render_one(service, default_period=28 * DAY)
    assert titled(slo, "Error ratio vs objective (4w)")
    (page,) = titled(slo, "Burn rate: page windows")
    assert _threshold_lines(page) == pytest.approx([5.6, 13.44])


def test_a_latency_slo_gets_a_heatmap_of_its_histogram_buckets() -> None:
    sli = LatencySLI("http_request_duration_seconds", 0.3, 'job="shop"')
    _, slo = render_one(make_service(slos=(make_slo("latency", sli),)))
    (heat,) = panels(slo, "heatmap")
    assert heat["title"] == "Latency distribution (SLO threshold 0.3s)"
    assert exprs(heat) == [f"sum by (le) (rate({BUCKETS}[$__rate_interval]))"]
    assert heat["targets"][0]["format"] == "heatmap"
    assert heat["options"]["calculate"] is False


def test_golden_latency_gives_the_overview_a_heatmap_when_no_slo_is_about_latency() -> None:
    _, slo = render_one(make_service(golden=FULL_GOLDEN))
    (heat,) = panels(slo, "heatmap")
    assert heat["title"] == "Request latency"
    assert BUCKETS in exprs(heat)[0]


def test_the_about_panel_sums_up_the_slo_and_links_its_runbook() -> None:
    slos = (make_slo(description="Requests that succeed.", runbook="https://rb.example/a"),)
    _, slo = render_one(make_service(slos=slos))
    (about,) = titled(slo, "About")
    assert about["options"]["content"] == "\n".join(
        [
            "**availability**: Requests that succeed.",
            "",
            "- Objective: 99.9% (error budget 0.1%)",
            "- SLI: events (errors / total)",
            "- Pages: 14.4x over 1h and 5m, 6x over 6h and 30m",
            "- Tickets: 3x over 1d and 2h, 1x over 3d and 6h",
            "- Runbook: [https://rb.example/a](https://rb.example/a)",
        ]
    )


def test_the_about_panel_says_when_a_tier_is_disabled_or_can_never_fire() -> None:
    alerting = Alerting(ticket=AlertMeta(disabled=True))
    slos = (make_slo(objective=90, alerting=alerting),)
    _, slo = render_one(make_service(slos=slos))
    (about,) = titled(slo, "About")
    content = about["options"]["content"]
    assert "- Pages: 14.4x over 1h and 5m (can never fire), 6x over 6h and 30m" in content
    assert "- Tickets: disabled" in content


def test_a_disabled_tier_keeps_its_panel_and_says_it_is_disabled() -> None:
    slos = (make_slo(alerting=Alerting(page=AlertMeta(disabled=True))),)
    _, slo = render_one(make_service(slos=slos))
    (page,) = titled(slo, "Burn rate: page windows")
    assert "The page tier is disabled for this SLO" in page["description"]
    assert _threshold_lines(page) == pytest.approx([6.0, 14.4])


def test_openslo_alert_conditions_get_a_burn_rate_panel_over_their_lookback_windows() -> None:
    fast = BurnRateCondition("fast-burn", "page", "gte", 5.6, 1 * HOUR, 5 * MINUTE)
    slow = BurnRateCondition("slow-burn", "ticket", "gt", 2, 6 * HOUR, 0)
    _, slo = render_one(make_service(slos=(make_slo(conditions=(fast, slow)),)))
    (panel,) = titled(slo, "Burn rate: alert conditions")
    assert exprs(panel) == [_burn("1h"), _burn("6h")]
    assert _threshold_lines(panel) == pytest.approx([2.0, 5.6])
    (about,) = titled(slo, "About")
    assert about["options"]["content"].splitlines()[-2:] == [
        "- Alert condition fast-burn (page): burn rate over 1h >= 5.6x for 5m",
        "- Alert condition slow-burn (ticket): burn rate over 6h > 2x",
    ]


def test_an_slo_without_alert_conditions_has_no_conditions_panel() -> None:
    _, slo = render_one(make_service())
    assert not titled(slo, "Burn rate: alert conditions")


def _links(model: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(ln["type"], ln["title"], ln.get("url", "")) for ln in model["links"]]


def test_runbooks_are_dashboard_links_the_services_first_then_each_slos_own() -> None:
    slos = (make_slo(), make_slo("latency", runbook="https://rb.example/latency"))
    service = make_service(slos=slos, runbook="https://rb.example/shop")
    for model in render_one(service):
        assert _links(model) == [
            ("dashboards", "shop dashboards", ""),
            ("link", "Runbook", "https://rb.example/shop"),
            ("link", "Runbook (latency)", "https://rb.example/latency"),
        ]


def test_a_sloth_runbook_url_annotation_counts_as_the_slos_runbook() -> None:
    alerting = Alerting(annotations={"runbook_url": "https://rb.example/sloth"})
    _, slo = render_one(make_service(slos=(make_slo(alerting=alerting),)))
    assert ("link", "Runbook (availability)", "https://rb.example/sloth") in _links(slo)
    (about,) = titled(slo, "About")
    assert "[https://rb.example/sloth](https://rb.example/sloth)" in about["options"]["content"]


def test_without_any_runbook_there_is_no_runbook_link_or_line() -> None:
    _, slo = render_one(make_service())
    assert _links(slo) == [("dashboards", "shop dashboards", "")]
    (about,) = titled(slo, "About")
    assert "Runbook" not in about["options"]["content"]


def test_the_sibling_link_lists_the_dashboards_sharing_the_services_tags() -> None:
    golden, _ = render_one(make_service())
    (sibling,) = [ln for ln in golden["links"] if ln["type"] == "dashboards"]
    assert sibling["tags"] == ["opsplane", "retail", "shop"]
    assert sibling["keepTime"] is True


def test_deployments_are_annotated_from_kube_state_metrics_and_grafana_tags() -> None:
    for model in render_one(make_service()):
        builtin, deployments, events = model["annotations"]["list"]
        assert builtin["builtIn"] == 1
        assert deployments["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        assert deployments["expr"] == (
            'changes(kube_deployment_status_observed_generation{deployment="shop"}'
            "[$__rate_interval]) > 0"
        )
        assert events["target"]["tags"] == ["opsplane", "retail/shop"]
        assert events["target"]["type"] == "tags"


def test_label_values_with_quotes_are_escaped_in_queries() -> None:
    service = make_service('we"ird', slos=(make_slo(service='we"ird'),))
    _, slo = render_one(service)
    (gauge,) = panels(slo, "gauge")
    assert exprs(gauge) == [
        'slo:period_error_budget_remaining:ratio{sloth_id="we\\"ird-availability"}'
    ]
