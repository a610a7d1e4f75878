"""Properties of budgets, burn rates, alert predicates, alert states and calendar periods.

Hypothesis draws SLOs (objective, period, OpenSLO conditions), window ratios that sit on and
around every alert threshold, evaluation sequences and calendar instants; each test states an
invariant that must hold for all of them.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from hypothesis import example, given, settings
from hypothesis import strategies as st

from opsplane.domain.alert_state import inactive, next_status, transition
from opsplane.domain.alerting_rules import (
    AlertDefinition,
    BurnRateComparison,
    MultiBurnRate,
    alert_definitions,
    tier_conditions,
)
from opsplane.domain.duration import DAY, HOUR, MINUTE
from opsplane.domain.evaluation import AlertState, AlertStatus
from opsplane.domain.evaluator import (
    budget_remaining,
    burn_rate,
    evaluate,
    evaluation_windows,
    metadata_error_budget,
)
from opsplane.domain.periods import (
    calendar_end,
    calendar_start,
    period_window,
    to_datetime,
    to_millis,
)
from opsplane.domain.slo import SLO, BurnRateCondition, ComparisonOp, Period
from opsplane.render.prometheus import native
from opsplane.types import AlertTier, Millis
from tests.domain.builders import burn, catalog, service_of, shop_slo
from tests.domain.rule_text import burn_pairs, rule_holds

EPS = sys.float_info.epsilon

objectives = st.one_of(
    st.sampled_from([90.0, 95.0, 99.0, 99.5, 99.9, 99.95, 99.99, 99.999]),
    st.floats(min_value=50.0, max_value=99.999, allow_nan=False),
)
periods = st.one_of(
    st.none(),
    st.sampled_from([7 * DAY, 28 * DAY, 30 * DAY, 90 * DAY]).map(Period),
    st.sampled_from(["week", "month", "quarter"]).map(
        lambda c: Period({"week": 7 * DAY, "month": 30 * DAY, "quarter": 90 * DAY}[c], c)
    ),
)
ops: st.SearchStrategy[ComparisonOp] = st.sampled_from(["lt", "lte", "gt", "gte"])
conditions = st.lists(
    st.builds(
        burn,
        name=st.sampled_from(["fast", "slow", "cond-3"]),
        op=ops,
        threshold=st.sampled_from([0.5, 1.0, 2.0, 5.6, 14.4]),
        lookback=st.sampled_from([5 * MINUTE, HOUR, 12 * HOUR, DAY, 30 * DAY]),
        after=st.sampled_from([0, 5 * MINUTE]),
    ),
    max_size=2,
    unique_by=lambda c: c.name,
).map(tuple)


@st.composite
def slos(draw: st.DrawFn) -> SLO:
    found: tuple[BurnRateCondition, ...] = draw(conditions)
    return shop_slo(draw(objectives), draw(periods), conditions=found)


def thresholds(definitions: tuple[AlertDefinition, ...]) -> list[float]:
    """Every error ratio at which some alert may change its mind."""
    out: list[float] = []
    for d in definitions:
        if isinstance(d.expr, MultiBurnRate):
            out += [c.threshold for c in d.expr.conditions]
        elif isinstance(d.expr, BurnRateComparison):
            out.append(d.expr.threshold * d.expr.error_budget)
    return out


@st.composite
def ratio_maps(
    draw: st.DrawFn, windows: list[Millis], edges: list[float]
) -> dict[Millis, float | None]:
    """Ratios per window: missing, NaN, 0, 1, +Inf, anywhere in [0, 1], or on a threshold."""
    near = [x for e in edges for x in (e, math.nextafter(e, 0), math.nextafter(e, 2))]
    value = st.one_of(
        st.none(),
        st.sampled_from([math.nan, 0.0, 1.0, math.inf]),
        st.floats(min_value=0.0, max_value=1.0),
        *([st.sampled_from(near)] if near else []),
    )
    return {w: draw(value) for w in windows}


# --- Budget and burn rate --------------------------------------------------------------------

ratios_01 = st.floats(min_value=0.0, max_value=1.0)


@given(objectives, ratios_01)
def test_remaining_and_consumed_add_up_to_one(objective: float, ratio: float) -> None:
    slo = shop_slo(objective)
    status, _ = evaluate(slo, catalog(slo, 30 * DAY), 30 * DAY, {30 * DAY: ratio}, {}, at=0)
    remaining, consumed = status.budget_remaining, status.budget_consumed
    assert remaining is not None
    assert consumed is not None
    assert abs(remaining + consumed - 1) <= 2 * EPS * max(1.0, abs(remaining), abs(consumed))


@given(objectives)
def test_a_clean_period_leaves_all_the_budget_and_a_spent_one_none(objective: float) -> None:
    budget = metadata_error_budget(shop_slo(objective))
    assert budget_remaining(0.0, budget) == 1.0
    assert budget_remaining(budget, budget) == 0.0


@given(objectives, st.floats(min_value=1e-12, max_value=1.0))
def test_any_error_in_the_period_consumes_budget(objective: float, ratio: float) -> None:
    remaining = budget_remaining(ratio, metadata_error_budget(shop_slo(objective)))
    assert remaining is not None
    assert remaining < 1.0


@given(objectives, ratios_01, ratios_01)
def test_burn_rate_is_monotone_in_the_error_ratio(objective: float, a: float, b: float) -> None:
    budget = metadata_error_budget(shop_slo(objective))
    low, high = sorted((a, b))
    burn_low, burn_high = burn_rate(low, budget), burn_rate(high, budget)
    assert burn_low is not None
    assert burn_high is not None
    assert burn_low <= burn_high
    remaining_low, remaining_high = budget_remaining(low, budget), budget_remaining(high, budget)
    assert remaining_low is not None
    assert remaining_high is not None
    assert remaining_low >= remaining_high


# --- Alert predicates ------------------------------------------------------------------------


@settings(deadline=None)
@given(slos(), st.floats(min_value=0.0, max_value=1.0), st.data())
def test_a_ratio_below_every_threshold_never_pages_or_tickets(
    slo: SLO, fraction: float, data: st.DataObject
) -> None:
    windows = catalog(slo, 30 * DAY)
    tiers = [d for d in alert_definitions(slo, windows) if d.key in ("page", "ticket")]
    lowest = min(thresholds(tuple(tiers)), default=1.0)
    below = data.draw(st.floats(min_value=0.0, max_value=lowest).filter(lambda r: r < lowest))
    ratios = dict.fromkeys(evaluation_windows(slo, windows, 30 * DAY, 0), below * fraction)
    status, changes = evaluate(slo, windows, 30 * DAY, ratios, {}, at=0)
    assert {a.key: a.state for a in status.alerts if a.key in ("page", "ticket")} == {
        d.key: "inactive" for d in tiers
    }
    assert all(c.key not in ("page", "ticket") for c in changes)


def _over(ratio: float | None, threshold: float) -> bool:
    return ratio is not None and ratio > threshold


@settings(deadline=None)
@given(slos(), st.data())
def test_a_tier_holds_only_when_both_windows_of_a_condition_are_over_its_threshold(
    slo: SLO, data: st.DataObject
) -> None:
    windows = catalog(slo, 30 * DAY)
    found = alert_definitions(slo, windows)
    ratios = data.draw(ratio_maps(evaluation_windows(slo, windows, 30 * DAY, 0), thresholds(found)))
    for d in found:
        if isinstance(d.expr, MultiBurnRate) and d.holds(ratios):
            assert any(
                all(_over(ratios.get(w), c.factor * c.error_budget) for w in c.windows)
                for c in d.expr.conditions
            )


@settings(max_examples=300, deadline=None)
@given(slos(), st.data())
def test_alert_predicates_agree_with_the_generated_rule_text(slo: SLO, data: st.DataObject) -> None:
    windows = catalog(slo, 30 * DAY)
    found = alert_definitions(slo, windows)
    rules = native.alert_rules(service_of(slo), slo, windows, [])
    assert len(rules) == len(found)
    ratios = data.draw(ratio_maps(evaluation_windows(slo, windows, 30 * DAY, 0), thresholds(found)))
    for d, rule in zip(found, rules, strict=True):
        assert d.holds(ratios) is rule_holds(rule, ratios), (d.key, rule["expr"], ratios)


@settings(deadline=None)
@given(slos())
def test_tier_thresholds_are_the_floats_printed_in_burn_expr(slo: SLO) -> None:
    windows = catalog(slo, 30 * DAY)
    found = {d.key: d.expr for d in alert_definitions(slo, windows)}
    tiers: tuple[AlertTier, ...] = ("page", "ticket")
    for tier in tiers:
        expr = found.get(tier)
        if expr is None:
            continue  # every condition of the tier was left out: there is no rule either
        assert isinstance(expr, MultiBurnRate)
        text = native.burn_expr(slo, list(tier_conditions(slo, tier, windows)), windows.period)
        printed = [{t.factor * t.budget for t in pair} for pair in burn_pairs(text)]
        assert printed == [{c.threshold} for c in expr.conditions]


# --- The alert state machine -----------------------------------------------------------------


@dataclass
class GoAlert:
    """The fields of ``rules.Alert`` that ``AlertingRule.Eval`` reads, step for step."""

    state: str
    active_at: Millis
    fired_at: Millis | None = None
    resolved_at: Millis | None = None


def go_eval(
    alert: GoAlert | None, holds: bool, ts: Millis, hold: Millis, retention: Millis
) -> GoAlert | None:
    """A literal transcription of ``AlertingRule.Eval`` for one label set (rules/alerting.go)."""
    if holds and (alert is None or alert.state == "inactive"):
        alert = GoAlert("pending", ts)
    if alert is None:
        return None
    if not holds:
        if alert.state == "pending" or (
            alert.resolved_at is not None and ts - alert.resolved_at > retention
        ):
            return None
        if alert.state != "inactive":
            alert.state, alert.resolved_at = "inactive", ts
        return alert
    if alert.state == "pending" and ts - alert.active_at >= hold:
        alert.state, alert.fired_at = "firing", ts
    return alert


def as_state(alert: GoAlert | None) -> AlertState:
    if alert is None:
        return "inactive"
    return (
        "resolved"
        if alert.state == "inactive"
        else "firing"
        if alert.state == "firing"
        else "pending"
    )


# Gaps between evaluations: whole minutes (so "held exactly for" and "resolved exactly 15m
# ago" occur) or any number of milliseconds.
gaps = st.one_of(
    st.sampled_from([MINUTE, 5 * MINUTE]),
    st.integers(min_value=1, max_value=20).map(lambda m: m * MINUTE),
    st.integers(min_value=1, max_value=20 * MINUTE),
)
steps = st.lists(st.tuples(gaps, st.booleans()), max_size=60)
holds_for = st.sampled_from([0, MINUTE, 5 * MINUTE, 10 * MINUTE, HOUR])
retentions = st.sampled_from([0, 5 * MINUTE, 15 * MINUTE])


@settings(max_examples=300)
@given(steps, holds_for, retentions)
@example([(MINUTE, True), (MINUTE, False), (5 * MINUTE, False), (MINUTE, False)], 0, 5 * MINUTE)
@example([(MINUTE, True), (10 * MINUTE, True), (MINUTE, True)], 10 * MINUTE, 0)
def test_alert_states_match_a_transcription_of_prometheus_eval(
    sequence: list[tuple[Millis, bool]], hold: Millis, retention: Millis
) -> None:
    status: AlertStatus = inactive("page", "A", "P1")
    go: GoAlert | None = None
    at = 0
    for gap, holds in sequence:
        at += gap
        before = status
        status = next_status(before, holds=holds, hold=hold, at=at, resolved_retention=retention)
        go = go_eval(go, holds, at, hold, retention)
        assert status.state == as_state(go)
        if go is not None:
            assert (status.active_at, status.fired_at) == (go.active_at, go.fired_at)
        change = transition("s", before, status, at)
        assert (change is None) is (before.state == status.state)
        if change is not None:
            assert (change.from_state, change.to_state, change.at) == (
                before.state,
                status.state,
                at,
            )


@settings(max_examples=300)
@given(steps, holds_for)
def test_alert_state_invariants(sequence: list[tuple[Millis, bool]], hold: Millis) -> None:
    status: AlertStatus = inactive("page", "A", "P1")
    at = 0
    for gap, holds in sequence:
        at += gap
        before = status
        status = next_status(before, holds=holds, hold=hold, at=at)
        assert (before.state, status.state) != ("firing", "pending")
        assert (status.state in ("pending", "firing")) is holds or status.state == "inactive"
        if status.state == "firing":
            assert status.active_at is not None
            assert status.fired_at is not None
            assert status.fired_at - status.active_at >= hold
        if before.state == "firing" and holds:
            assert status == before
        if status.state == "inactive":
            assert (status.active_at, status.fired_at, status.resolved_at) == (None, None, None)


# --- Calendar periods ------------------------------------------------------------------------

# 1900-01-01 to 2200-01-01, in epoch milliseconds.
instants = st.integers(min_value=-2_208_988_800_000, max_value=7_258_118_400_000)


CalendarUnit = Literal["week", "month", "quarter"]
units: st.SearchStrategy[CalendarUnit] = st.sampled_from(["week", "month", "quarter"])


@given(instants, units)
def test_a_calendar_period_starts_on_the_last_boundary_before_at(
    at: Millis, unit: CalendarUnit
) -> None:
    start, length = period_window(Period(30 * DAY, unit), 30 * DAY, at)
    begin = to_datetime(start)
    end = calendar_end(unit, begin)
    assert start < at <= to_millis(end)
    assert length == at - start
    assert calendar_start(unit, begin) == begin
    assert begin.hour == begin.minute == begin.second == begin.microsecond == 0
    if unit == "week":
        assert begin.isoweekday() == 1
    else:
        assert begin.day == 1
        assert unit == "month" or begin.month in (1, 4, 7, 10)
    assert end - begin <= timedelta(days=92)


@given(instants, st.sampled_from([HOUR, 7 * DAY, 28 * DAY, 30 * DAY]))
def test_a_rolling_period_is_its_length_before_at(at: Millis, length: Millis) -> None:
    assert period_window(Period(length), 30 * DAY, at) == (at - length, length)
    assert period_window(None, length, at) == (at - length, length)
