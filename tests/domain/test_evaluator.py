"""SLO evaluation: burn rates, error budget, periods and Prometheus' alert state machine."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime

import pytest

from opsplane.domain.alert_state import RESOLVED_RETENTION, inactive, next_status, transition
from opsplane.domain.duration import DAY, HOUR, MINUTE
from opsplane.domain.evaluation import AlertState, AlertStatus, AlertTransition
from opsplane.domain.evaluator import (
    SLOInput,
    budget_remaining,
    burn_rate,
    evaluate,
    evaluate_many,
    evaluate_plan,
    evaluation_windows,
    metadata_error_budget,
    plan,
)
from opsplane.domain.periods import to_millis
from opsplane.domain.slo import SLO, Period
from opsplane.types import Millis
from tests.domain.builders import burn, catalog, shop_slo

M5, M30, H1, H2, H6, D1, D3 = 5 * MINUTE, 30 * MINUTE, HOUR, 2 * HOUR, 6 * HOUR, DAY, 3 * DAY
ALERT_WINDOWS = (M5, M30, H1, H2, H6, D1, D3)
SLO_30D = shop_slo(99.9, Period(30 * DAY))
BUDGET = metadata_error_budget(SLO_30D)  # 1 - 0.9990000000000001 = 0.0009999999999998899
AT = to_millis(datetime.fromisoformat("2026-01-15T12:00:00Z"))


def run(
    slo: SLO,
    ratios: Mapping[Millis, float | None],
    previous: Mapping[str, AlertStatus] | None = None,
    at: Millis = AT,
) -> tuple[dict[str, AlertStatus], list[AlertTransition]]:
    status, changes = evaluate(slo, catalog(slo, 30 * DAY), 30 * DAY, ratios, previous or {}, at=at)
    return {a.key: a for a in status.alerts}, changes


def everywhere(ratio: float | None, period: Millis = 30 * DAY) -> dict[Millis, float | None]:
    return dict.fromkeys((*ALERT_WINDOWS, period), ratio)


# --- Burn rates and the error budget ---------------------------------------------------------


def test_the_budget_is_the_float_of_sloths_error_budget_recording() -> None:
    assert BUDGET == 1 - 0.9990000000000001 == 0.0009999999999998899  # docs/slo-math.md
    assert SLO_30D.error_budget_ratio != BUDGET  # the alert thresholds use (100 - 99.9) / 100


@pytest.mark.parametrize(
    ("period_ratio", "remaining"),
    [
        pytest.param(0.0, 1.0, id="no errors in the period leave the whole budget"),
        pytest.param(BUDGET, 0.0, id="an error ratio equal to the budget leaves none"),
        pytest.param(BUDGET / 2, 0.5, id="half the budget spent leaves half"),
        pytest.param(3 * BUDGET, -2.0, id="an overspent budget goes negative"),
        pytest.param(None, None, id="a period without data has no budget figure"),
        pytest.param(math.nan, None, id="a period without requests (NaN) has no budget figure"),
    ],
)
def test_budget_remaining_and_consumed(period_ratio: float | None, remaining: float | None) -> None:
    ratios = {**everywhere(0.0), 30 * DAY: period_ratio}
    status, _ = evaluate(SLO_30D, catalog(SLO_30D, 30 * DAY), 30 * DAY, ratios, {}, at=AT)
    assert status.budget_remaining == remaining
    assert status.budget_consumed == (None if remaining is None else 1 - remaining)
    assert status.period_error_ratio == (None if remaining is None else period_ratio)


def test_windows_report_ratios_and_burn_rates_over_every_alert_window() -> None:
    ratios: dict[Millis, float | None] = {M5: 0.0144, M30: math.nan, H1: 0.002, 30 * DAY: 0.0005}
    status, _ = evaluate(SLO_30D, catalog(SLO_30D, 30 * DAY), 30 * DAY, ratios, {}, at=AT)
    assert [w.window for w in status.windows] == list(ALERT_WINDOWS)
    by_window = {w.window: (w.error_ratio, w.burn_rate) for w in status.windows}
    assert by_window[M5] == (0.0144, 0.0144 / BUDGET)
    assert by_window[H1] == (0.002, 0.002 / BUDGET)
    assert by_window[M30] == (None, None)  # NaN: no requests in the window
    assert by_window[D3] == (None, None)  # no sample at all
    assert (status.period_error_ratio, status.budget_remaining) == (0.0005, 1 - 0.0005 / BUDGET)


def test_a_100_percent_objective_burns_infinitely_fast_on_any_error() -> None:
    slo = shop_slo(100.0)
    assert burn_rate(0.001, metadata_error_budget(slo)) == math.inf
    assert budget_remaining(0.001, metadata_error_budget(slo)) == -math.inf
    assert budget_remaining(0.0, metadata_error_budget(slo)) is None  # 0/0 is NaN
    assert burn_rate(0.0, metadata_error_budget(slo)) is None


def test_the_status_names_the_slo_and_its_period() -> None:
    status, _ = evaluate(SLO_30D, catalog(SLO_30D, 30 * DAY), 30 * DAY, {}, {}, at=AT)
    assert (status.slo_id, status.service, status.slo, status.objective) == (
        "shop-availability",
        "shop",
        "availability",
        99.9,
    )
    assert (status.period, status.at, status.period_start) == ("30d", AT, AT - 30 * DAY)


def test_a_calendar_month_reads_the_ratio_of_the_month_so_far() -> None:
    slo = shop_slo(99.9, Period(30 * DAY, "month"))
    month_so_far = AT - to_millis(
        __import__("datetime").datetime.fromisoformat("2026-01-01T00:00:00Z")
    )
    ratios = {**everywhere(0.0), month_so_far: BUDGET / 4}
    status, _ = evaluate(slo, catalog(slo, 30 * DAY), 30 * DAY, ratios, {}, at=AT)
    assert (status.period, status.period_start) == ("month", AT - month_so_far)
    assert status.budget_remaining == 0.75
    assert evaluation_windows(slo, catalog(slo, 30 * DAY), 30 * DAY, AT) == sorted(
        (*ALERT_WINDOWS, month_so_far)
    )


def test_evaluation_windows_include_every_window_an_alert_reads() -> None:
    slo = shop_slo(conditions=(burn("period", "gt", 1, 30 * DAY), burn("12h", "gt", 2, 12 * HOUR)))
    found = evaluation_windows(slo, catalog(slo, 30 * DAY), 30 * DAY, AT)
    assert found == sorted((*ALERT_WINDOWS, 12 * HOUR, 30 * DAY))


# --- Alerts through evaluate -----------------------------------------------------------------


def test_a_99_9_slo_over_30d_pages_at_a_14_4x_burn_over_1h_and_5m() -> None:
    alerts, changes = run(SLO_30D, {**everywhere(0.0), M5: 0.0145, H1: 0.0145})
    assert {k: a.state for k, a in alerts.items()} == {
        "page": "firing",
        "ticket": "inactive",
        "no_data": "inactive",
    }
    assert changes == [
        AlertTransition("shop-availability", "page", "ShopAvailability", "inactive", "firing", AT)
    ]
    assert (alerts["page"].active_at, alerts["page"].fired_at) == (AT, AT)


def test_a_missing_5m_ratio_makes_the_no_data_alert_pending_for_its_10m() -> None:
    alerts, _ = run(SLO_30D, {})
    assert alerts["no_data"].state == "pending"
    alerts, _ = run(SLO_30D, {}, alerts, AT + 9 * MINUTE)
    assert alerts["no_data"].state == "pending"
    alerts, changes = run(SLO_30D, {}, alerts, AT + 10 * MINUTE)
    assert alerts["no_data"] == AlertStatus(
        "no_data", "ShopAvailabilityNoData", "P3", "firing", AT, AT + 10 * MINUTE
    )
    assert [(c.key, c.from_state, c.to_state) for c in changes] == [
        ("no_data", "pending", "firing")
    ]


def test_a_renamed_alert_starts_over_and_a_new_severity_keeps_the_state() -> None:
    firing = AlertStatus("page", "OldName", "P1", "firing", AT - HOUR, AT - HOUR)
    alerts, changes = run(SLO_30D, everywhere(0.5), {"page": firing})
    assert alerts["page"].active_at == AT  # a new alert under the new name
    assert changes[0].from_state == "inactive"
    kept = replace(firing, name="ShopAvailability", severity="P0")
    alerts, changes = run(SLO_30D, everywhere(0.5), {"page": kept})
    assert alerts["page"] == replace(kept, severity="P1")
    assert [c.key for c in changes] == ["ticket"]


def test_evaluate_many_evaluates_each_slo_with_its_own_previous_states() -> None:
    other = replace(shop_slo(99.0), name="latency")
    firing = AlertStatus("page", "ShopAvailability", "P1", "firing", AT - HOUR, AT - HOUR)
    inputs = [
        SLOInput(SLO_30D, catalog(SLO_30D, 30 * DAY), everywhere(0.0)),
        SLOInput(other, catalog(other, 30 * DAY), everywhere(0.5)),
    ]
    statuses, changes = evaluate_many(
        inputs, 30 * DAY, {"shop-availability": {"page": firing}}, at=AT
    )
    assert [s.slo_id for s in statuses] == ["shop-availability", "shop-latency"]
    assert [(c.slo_id, c.key, c.to_state) for c in changes] == [
        ("shop-availability", "page", "resolved"),
        ("shop-latency", "page", "firing"),
        ("shop-latency", "ticket", "firing"),
    ]


def test_a_kept_plan_evaluates_as_a_fresh_one() -> None:
    slos = [
        SLO_30D,
        shop_slo(99.0, Period(30 * DAY, "month"), conditions=(burn("b", "gt", 2, H1),)),
    ]
    plans = [plan(s, catalog(s, 30 * DAY), 30 * DAY) for s in slos]
    ratios = [dict.fromkeys(p.windows_at(AT), 0.02) for p in plans]
    with_plans = [SLOInput(p.slo, p.catalog, r, p) for p, r in zip(plans, ratios, strict=True)]
    without = [SLOInput(p.slo, p.catalog, r) for p, r in zip(plans, ratios, strict=True)]
    assert evaluate_many(with_plans, 30 * DAY, {}, at=AT) == evaluate_many(
        without, 30 * DAY, {}, at=AT
    )
    assert evaluate_plan(plans[1], ratios[1], {}, at=AT) == evaluate(
        slos[1], catalog(slos[1], 30 * DAY), 30 * DAY, ratios[1], {}, at=AT
    )
    assert plans[1].windows_at(AT) == evaluation_windows(slos[1], plans[1].catalog, 30 * DAY, AT)


# --- The state machine step by step ----------------------------------------------------------


def replay(
    steps: Sequence[tuple[Millis, bool]], hold: Millis
) -> list[tuple[AlertState, Millis | None, Millis | None, Millis | None]]:
    status = inactive("page", "ShopAvailability", "P1")
    seen = []
    for at, holds in steps:
        status = next_status(status, holds=holds, hold=hold, at=at)
        seen.append((status.state, status.active_at, status.fired_at, status.resolved_at))
    return seen


def minutes(*pairs: tuple[int, bool]) -> list[tuple[Millis, bool]]:
    return [(m * MINUTE, h) for m, h in pairs]


Y, N = True, False
RETAIN = RESOLVED_RETENTION // MINUTE

STATE_MACHINE = [
    pytest.param(
        minutes((0, Y), (1, Y)), 0,
        [("firing", 0, 0, None), ("firing", 0, 0, None)],
        id="with no for an alert fires in the evaluation its expression first holds",
    ),
    pytest.param(
        minutes((0, Y), (9, Y), (10, Y), (11, Y)), 10 * MINUTE,
        [("pending", 0, None, None), ("pending", 0, None, None), ("firing", 0, 600_000, None),
         ("firing", 0, 600_000, None)],
        id="with for 10m an alert is pending for 10m and fires when it has held exactly 10m",
    ),
    pytest.param(
        minutes((0, Y), (30, Y)), 10 * MINUTE,
        [("pending", 0, None, None), ("firing", 0, 1_800_000, None)],
        id="a pending alert fires at the first evaluation after for has passed",
    ),
    pytest.param(
        minutes((0, Y), (5, N), (6, Y)), 10 * MINUTE,
        [("pending", 0, None, None), ("inactive", None, None, None),
         ("pending", 360_000, None, None)],
        id="a pending alert that stops holding becomes inactive and starts over",
    ),
    pytest.param(
        minutes((0, Y), (1, N), (1 + RETAIN, N), (2 + RETAIN, N)), 0,
        [("firing", 0, 0, None), ("resolved", 0, 0, 60_000), ("resolved", 0, 0, 60_000),
         ("inactive", None, None, None)],
        id="a resolved alert is kept for 15m and becomes inactive after that",
    ),
    pytest.param(
        minutes((0, Y), (1, N), (2, Y), (3, Y)), 0,
        [("firing", 0, 0, None), ("resolved", 0, 0, 60_000), ("firing", 120_000, 120_000, None),
         ("firing", 120_000, 120_000, None)],
        id="a resolved alert that holds again fires anew with a new active time",
    ),
    pytest.param(
        minutes((0, Y), (10, Y), (11, N), (12, Y), (22, Y)), 10 * MINUTE,
        [("pending", 0, None, None), ("firing", 0, 600_000, None),
         ("resolved", 0, 600_000, 660_000), ("pending", 720_000, None, None),
         ("firing", 720_000, 1_320_000, None)],
        id="a resolved alert with a for waits its whole for again before firing",
    ),
    pytest.param(
        minutes((0, N), (1, N)), 10 * MINUTE,
        [("inactive", None, None, None), ("inactive", None, None, None)],
        id="an alert whose expression never holds stays inactive",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("steps", "hold", "expected"), STATE_MACHINE)
def test_alert_states_follow_prometheus_alerting_rules(
    steps: list[tuple[Millis, bool]],
    hold: Millis,
    expected: list[tuple[AlertState, Millis | None, Millis | None, Millis | None]],
) -> None:
    assert replay(steps, hold) == expected


def test_a_transition_is_reported_only_when_the_state_changes() -> None:
    before = inactive("page", "ShopAvailability", "P1")
    after = next_status(before, holds=True, hold=0, at=AT)
    assert transition("s", before, after, AT) == AlertTransition(
        "s", "page", "ShopAvailability", "inactive", "firing", AT
    )
    assert transition("s", after, next_status(after, holds=True, hold=0, at=AT + 1), AT + 1) is None


def test_a_resolved_status_without_a_resolution_time_is_dropped() -> None:
    broken = AlertStatus("page", "ShopAvailability", "P1", "resolved")
    assert next_status(broken, holds=False, hold=0, at=AT).state == "inactive"


def test_an_inactive_status_sheds_stale_timestamps() -> None:
    stale = AlertStatus("page", "ShopAvailability", "P1", "inactive", AT - HOUR, None, AT)
    assert next_status(stale, holds=False, hold=0, at=AT) == inactive(
        "page", "ShopAvailability", "P1"
    )


def test_the_retention_can_be_shortened() -> None:
    firing = next_status(inactive("page", "A", "P1"), holds=True, hold=0, at=0)
    resolved = next_status(firing, holds=False, hold=0, at=MINUTE)
    later = next_status(resolved, holds=False, hold=0, at=2 * MINUTE, resolved_retention=0)
    assert (resolved.state, later.state) == ("resolved", "inactive")
