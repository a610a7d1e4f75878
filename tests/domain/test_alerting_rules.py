"""Alert definitions: the rules native.py writes, as data, deciding as Prometheus decides."""

from __future__ import annotations

import math
from collections.abc import Mapping

import pytest

from opsplane.domain.alert_naming import camel, severity_level
from opsplane.domain.alerting_rules import (
    Absent,
    AlertDefinition,
    BurnRateComparison,
    MultiBurnRate,
    alert_definitions,
    alert_windows,
    divide,
)
from opsplane.domain.duration import DAY, HOUR, MINUTE, format_duration
from opsplane.domain.slo import SLO, AlertMeta, Period
from opsplane.render.prometheus import native
from opsplane.types import Millis
from tests.domain.builders import burn, catalog, service_of, shop_slo
from tests.domain.rule_text import burn_pairs, rule_holds, rule_windows

EB_999 = (100 - 99.9) / 100  # 0.0009999999999999432, as the rules print it
M5, M30, H1, H2, H6, D1, D3 = 5 * MINUTE, 30 * MINUTE, HOUR, 2 * HOUR, 6 * HOUR, DAY, 3 * DAY


def definitions(slo: SLO, default_period: Millis = 30 * DAY) -> dict[str, AlertDefinition]:
    return {d.key: d for d in alert_definitions(slo, catalog(slo, default_period))}


def holds(slo: SLO, key: str, ratios: Mapping[Millis, float | None]) -> bool:
    return definitions(slo)[key].holds(ratios)


def steady(ratio: float | None, *windows: Millis) -> dict[Millis, float | None]:
    """The same ratio over every window given."""
    return dict.fromkeys(windows, ratio)


# --- What each alert decides ---------------------------------------------------------------

SLO_30D = shop_slo(99.9, Period(30 * DAY))
SLO_28D = shop_slo(99.9, Period(28 * DAY))
SLO_7D = shop_slo(99.9, Period(7 * DAY))
SLO_995 = shop_slo(
    99.5,
    conditions=(
        burn("fast-burn", "gte", 5.6, H1, after=5 * MINUTE, severity="page"),
        burn("slow", "lt", 1, D1),
    ),
)
SLO_100 = shop_slo(100.0, conditions=(burn("any", "gt", 0, M5),))
NEXT_UP = math.nextafter(14.4 * EB_999, 1)

PREDICATES = [
    pytest.param(
        SLO_30D,
        "page",
        steady(0.0145, M5, H1),
        True,
        id="a 99.9% SLO over 30d pages at a 14.4x burn over 1h and 5m",
    ),
    pytest.param(
        SLO_30D,
        "page",
        {M5: 0.05, H1: 0.01},
        False,
        id="a 50x burn over 5m alone does not page while 1h is under 14.4x",
    ),
    pytest.param(
        SLO_30D,
        "page",
        {M5: 0.0, H1: 0.02},
        False,
        id="a 20x burn over 1h stops paging once the 5m window is clean",
    ),
    pytest.param(
        SLO_30D,
        "page",
        steady(0.0061, M30, H6),
        True,
        id="a 99.9% SLO over 30d pages at a 6x burn over 6h and 30m",
    ),
    pytest.param(
        SLO_30D,
        "page",
        steady(0.0059, M5, M30, H1, H6),
        False,
        id="a 5.9x burn over every window does not page",
    ),
    pytest.param(
        SLO_30D,
        "page",
        steady(14.4 * EB_999, M5, H1),
        False,
        id="a ratio exactly at 14.4 times the printed budget does not page (> is strict)",
    ),
    pytest.param(
        SLO_30D,
        "page",
        steady(NEXT_UP, M5, H1),
        True,
        id="the next float above 14.4 times the printed budget pages",
    ),
    pytest.param(
        SLO_30D,
        "ticket",
        steady(0.0031, H2, D1),
        True,
        id="a 99.9% SLO over 30d tickets at a 3x burn over 1d and 2h",
    ),
    pytest.param(
        SLO_30D,
        "ticket",
        steady(0.0011, H6, D3),
        True,
        id="a 99.9% SLO over 30d tickets at a 1x burn over 3d and 6h",
    ),
    pytest.param(
        SLO_30D,
        "ticket",
        steady(0.00099, H2, H6, D1, D3),
        False,
        id="a 0.99x burn over every window does not ticket",
    ),
    pytest.param(
        SLO_28D,
        "page",
        steady(0.0135, M5, H1),
        True,
        id="a 99.9% SLO over 28d pages at a 13.5x burn over 1h and 5m (factor 13.44)",
    ),
    pytest.param(
        SLO_28D,
        "page",
        steady(0.0134, M5, H1),
        False,
        id="a 99.9% SLO over 28d does not page at 13.4x",
    ),
    pytest.param(
        SLO_7D,
        "page",
        steady(0.0034, M5, H1),
        True,
        id="a 99.9% SLO over 7d pages at a 3.4x burn over 1h (2% of a 7d budget)",
    ),
    pytest.param(
        SLO_30D, "page", steady(math.nan, M5, H1), False, id="NaN ratios (no requests) never page"
    ),
    pytest.param(
        SLO_30D, "page", {H1: 0.5}, False, id="a missing 5m ratio never pages whatever the 1h ratio"
    ),
    pytest.param(SLO_30D, "page", {M5: 0.5, H1: None}, False, id="a None ratio is a missing ratio"),
    pytest.param(SLO_30D, "page", steady(math.inf, M5, H1), True, id="an infinite ratio pages"),
    pytest.param(
        SLO_30D, "no_data", {}, True, id="the no-data alert holds while the 5m ratio is missing"
    ),
    pytest.param(
        SLO_30D,
        "no_data",
        {M5: None, H1: 0.1},
        True,
        id="the no-data alert reads only the 5m ratio",
    ),
    pytest.param(
        SLO_30D, "no_data", {M5: math.nan}, False, id="a NaN 5m ratio is present: absent() is false"
    ),
    pytest.param(SLO_30D, "no_data", {M5: 0.0}, False, id="a zero 5m ratio is present"),
    pytest.param(
        SLO_995,
        "condition:fast-burn",
        {H1: 0.03},
        True,
        id="an OpenSLO gte 5.6 condition over 1h holds at a 6x burn",
    ),
    pytest.param(
        SLO_995,
        "condition:fast-burn",
        {H1: 0.02},
        False,
        id="an OpenSLO gte 5.6 condition over 1h does not hold at a 4x burn",
    ),
    pytest.param(
        SLO_995,
        "condition:fast-burn",
        {H1: math.nan},
        False,
        id="an OpenSLO condition never holds on NaN",
    ),
    pytest.param(
        SLO_995,
        "condition:slow",
        {D1: 0.001},
        True,
        id="an OpenSLO lt 1 condition holds while the budget burns at 0.2x",
    ),
    pytest.param(
        SLO_995,
        "condition:slow",
        {D1: math.nan},
        False,
        id="NaN < 1 is false, so an lt condition does not hold without requests",
    ),
    pytest.param(
        SLO_995, "condition:slow", {}, False, id="an lt condition does not hold on a missing ratio"
    ),
    pytest.param(
        SLO_100,
        "page",
        steady(1e-9, M5, H1),
        True,
        id="a 100% objective pages on any error: the threshold is 0",
    ),
    pytest.param(
        SLO_100,
        "page",
        steady(0.0, M5, H1),
        False,
        id="a 100% objective does not page without errors",
    ),
    pytest.param(
        SLO_100,
        "condition:any",
        {M5: 1e-9},
        True,
        id="a 100% objective's burn rate is infinite on any error",
    ),
    pytest.param(
        SLO_100,
        "condition:any",
        {M5: 0.0},
        False,
        id="a 100% objective's burn rate is NaN (0/0) without errors",
    ),
]


@pytest.mark.parametrize(("slo", "key", "ratios", "expected"), PREDICATES)
def test_alert_expressions_hold_as_prometheus_evaluates_them(
    slo: SLO, key: str, ratios: Mapping[Millis, float | None], expected: bool
) -> None:
    assert holds(slo, key, ratios) is expected


@pytest.mark.parametrize(("slo", "key", "ratios", "expected"), PREDICATES)
def test_the_rule_text_agrees_on_every_predicate_case(
    slo: SLO, key: str, ratios: Mapping[Millis, float | None], expected: bool
) -> None:
    """The same table, decided from the numbers printed in the generated rule."""
    keys = [d.key for d in alert_definitions(slo, catalog(slo, 30 * DAY))]
    rules = native.alert_rules(service_of(slo), slo, catalog(slo, 30 * DAY), [])
    assert rule_holds(rules[keys.index(key)], ratios) is expected


# --- Which alerts exist ----------------------------------------------------------------------


def test_an_opsplane_slo_has_a_page_a_ticket_and_a_no_data_alert() -> None:
    found = list(definitions(SLO_30D).values())
    assert [(d.key, d.alertname, d.severity, d.sloth_severity, d.hold) for d in found] == [
        ("page", "ShopAvailability", "P1", "page", 0),
        ("ticket", "ShopAvailability", "P3", "ticket", 0),
        ("no_data", "ShopAvailabilityNoData", "P3", "no_data", 10 * MINUTE),
    ]
    assert [d.windows for d in found] == [(M5, H1, M30, H6), (H2, D1, H6, D3), (M5,)]


@pytest.mark.parametrize(
    ("period", "factors"),
    [
        pytest.param(
            30 * DAY, (14.4, 6, 3, 1), id="a 30d period has the Workbook's 14.4, 6, 3 and 1"
        ),
        pytest.param(
            28 * DAY,
            (13.44, 5.6000000000000005, 2.8000000000000003, 0.9333333333333333),
            id="a 28d period has Sloth's google-28d factors, bit for bit",
        ),
        pytest.param(90 * DAY, (43.2, 18, 9, 3), id="a 90d period triples the 30d factors"),
    ],
)
def test_burn_factors_come_from_the_period(period: Millis, factors: tuple[float, ...]) -> None:
    slo = shop_slo(99.9, Period(period))
    exprs = [definitions(slo)[k].expr for k in ("page", "ticket")]
    assert all(isinstance(e, MultiBurnRate) for e in exprs)
    found = [c.factor for e in exprs if isinstance(e, MultiBurnRate) for c in e.conditions]
    assert tuple(found) == factors
    thresholds = {c.threshold for e in exprs if isinstance(e, MultiBurnRate) for c in e.conditions}
    assert thresholds == {f * EB_999 for f in factors}


@pytest.mark.parametrize(
    ("objective", "page", "ticket"),
    [
        pytest.param(
            99.9,
            [(M5, H1), (M30, H6)],
            [(H2, D1), (H6, D3)],
            id="a 99.9% SLO keeps all four conditions",
        ),
        pytest.param(
            90.0,
            [(M30, H6)],
            [(H2, D1), (H6, D3)],
            id="a 90% SLO drops the 14.4x page condition (1.44 > 1)",
        ),
        pytest.param(
            80.0, None, [(H2, D1), (H6, D3)], id="an 80% SLO drops the page alert altogether"
        ),
        pytest.param(50.0, None, [(H6, D3)], id="a 50% SLO keeps only the 1x ticket condition"),
    ],
)
def test_conditions_that_can_never_fire_are_left_out(
    objective: float, page: list[tuple[Millis, Millis]] | None, ticket: list[tuple[Millis, Millis]]
) -> None:
    found = definitions(shop_slo(objective))

    def pairs(key: str) -> list[tuple[Millis, ...]] | None:
        if key not in found:
            return None
        expr = found[key].expr
        assert isinstance(expr, MultiBurnRate)
        return [c.windows for c in expr.conditions]

    assert pairs("page") == page
    assert pairs("ticket") == ticket


def test_a_disabled_tier_has_no_alert_and_severities_follow_the_spec() -> None:
    slo = shop_slo(page=AlertMeta(disabled=True), ticket=AlertMeta(severity="P2"))
    found = definitions(slo)
    assert list(found) == ["ticket", "no_data"]
    assert (found["ticket"].severity, found["no_data"].severity) == ("P2", "P2")


def test_without_an_alert_name_only_openslo_conditions_remain() -> None:
    slo = shop_slo(
        name="", conditions=(burn("fast burn", "gt", 14.4, H1, after=2 * MINUTE, severity="HIGH"),)
    )
    (only,) = definitions(slo).values()
    assert (only.key, only.alertname, only.severity, only.sloth_severity, only.hold) == (
        "condition:fast burn",
        "ShopAvailabilityFastBurn",
        "P2",
        "HIGH",
        2 * MINUTE,
    )
    assert only.expr == BurnRateComparison(H1, EB_999, "gt", 14.4)


def test_no_no_data_alert_unless_the_spec_asks() -> None:
    assert "no_data" not in definitions(shop_slo(no_data_for=None))
    assert definitions(shop_slo(no_data_for=HOUR))["no_data"].expr == Absent(M5)


# --- Agreement with the generated rules ------------------------------------------------------

CROSS_CHECK = [
    pytest.param(SLO_30D, id="the default 99.9% over 30d"),
    pytest.param(SLO_28D, id="99.9% over 28d"),
    pytest.param(SLO_7D, id="99.9% over a derived 7d catalog"),
    pytest.param(shop_slo(99.9, Period(30 * DAY, "month")), id="a calendar month"),
    pytest.param(shop_slo(90.0), id="a 90% SLO without its fastest page"),
    pytest.param(shop_slo(80.0), id="an 80% SLO without a page"),
    pytest.param(SLO_995, id="99.5% with OpenSLO conditions"),
    pytest.param(SLO_100, id="a 100% objective"),
    pytest.param(
        shop_slo(name="", conditions=(burn("x", "lte", 2, D3, after=HOUR, severity="Weird"),)),
        id="an unnamed SLO with a 3d lookback condition",
    ),
    pytest.param(
        shop_slo(ticket=AlertMeta(disabled=True), conditions=(burn("p", "gt", 1, 30 * DAY),)),
        id="a condition whose lookback is the period",
    ),
]


@pytest.mark.parametrize("slo", CROSS_CHECK)
def test_definitions_mirror_the_generated_rules_one_for_one(slo: SLO) -> None:
    windows = catalog(slo, 30 * DAY)
    rules = native.alert_rules(service_of(slo), slo, windows, [])
    found = alert_definitions(slo, windows)
    assert len(found) == len(rules)
    for d, rule in zip(found, rules, strict=True):
        assert d.alertname == rule["alert"]
        assert d.severity == rule["labels"]["severity"]
        assert d.sloth_severity == rule["labels"]["sloth_severity"]
        assert format_duration(d.hold) == rule.get("for", "0s")
        assert set(d.windows) == rule_windows(rule)
        if isinstance(d.expr, MultiBurnRate):
            pairs = burn_pairs(str(rule["expr"]))
            assert [[(t.window, t.factor, t.budget) for t in p] for p in pairs] == [
                [(w, c.factor, c.error_budget) for w in c.windows] for c in d.expr.conditions
            ]


@pytest.mark.parametrize("slo", CROSS_CHECK)
def test_alert_windows_are_the_windows_the_rules_record(slo: SLO) -> None:
    windows = catalog(slo, 30 * DAY)
    assert alert_windows(slo, windows) == native.recorded_windows(slo, windows)


@pytest.mark.parametrize(
    ("text", "level"),
    [("P0", "P0"), ("p3", "P3"), ("P4", "P4"), ("critical", "P1"), ("Page", "P1"),
     ("HIGH", "P2"), ("ticket", "P3"), ("warning", "P3"), ("low", "P3"), ("sev-1", "sev-1"),
     ("", "")],
)  # fmt: skip
def test_severity_words_map_to_p_levels(text: str, level: str) -> None:
    assert severity_level(text) == level


@pytest.mark.parametrize(
    ("text", "name"),
    [("checkout-availability", "CheckoutAvailability"), ("fast burn", "FastBurn"),
     ("a_b.c", "ABC"), ("x", "X"), ("--", ""), ("ÄPI-latency", "PILatency"),
     ("99-nines", "99Nines")],
)  # fmt: skip
def test_camel_case_names(text: str, name: str) -> None:
    assert camel(text) == name


@pytest.mark.parametrize(
    ("dividend", "divisor", "expected"),
    [
        pytest.param(1.0, 4.0, 0.25, id="an ordinary division"),
        pytest.param(0.5, 0.0, math.inf, id="a positive number over zero is +Inf as in Go"),
        pytest.param(-0.5, 0.0, -math.inf, id="a negative number over zero is -Inf"),
        pytest.param(0.5, -0.0, -math.inf, id="over negative zero the sign flips"),
        pytest.param(math.inf, 0.0, math.inf, id="infinity over zero is infinity"),
    ],
)
def test_divide_follows_ieee_754(dividend: float, divisor: float, expected: float) -> None:
    assert divide(dividend, divisor) == expected


@pytest.mark.parametrize("dividend", [0.0, -0.0, math.nan])
def test_zero_or_nan_over_zero_is_nan(dividend: float) -> None:
    assert math.isnan(divide(dividend, 0.0))
