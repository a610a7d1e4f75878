"""Burn-rate alerts fire and clear at the minutes the SRE Workbook maths predicts.

Each scenario feeds promtool (``promtool test rules``) one request counter a minute for a small
SLO and checks which alerts are firing at chosen minutes. The same table runs against the native
rules and the ``--sloth-compat`` rules: their multiwindow, multi-burn-rate alert expressions have
the same shape, so alerts fire at the same evaluation times as Sloth's on the same series.

The SLO is ``shop/availability``: 99.9 % over 30d, so the error budget is 0.1 % and the Workbook's
thresholds (table 5-8, ``opsplane.domain.windows.GOOGLE_30D``) are error ratios of

- page:   14.4x = 1.44 % over 1h and 5m,  or 6x = 0.6 % over 6h and 30m;
- ticket:    3x = 0.3 %  over 1d and 2h,  or 1x = 0.1 % over 3d and 6h.

How a window's ratio is computed here. Traffic is 1000 requests a minute, one sample a minute,
and every counter is 0 at minute 0. A Prometheus 2.x range ``[t-w, t]`` holds the samples at both
ends, so ``rate()`` over a window inside the data needs no extrapolation: the ratio is errors over
requests in exactly the last ``w`` minutes. A window reaching back before minute 0 starts on a
sample whose value is 0, and ``rate()`` never extrapolates a counter below zero, so its ratio is
errors over requests since minute 0. With ``E(t)`` the error counter::

    ratio_w(t) = (E(t) - E(max(0, t - w))) / (1000 * min(t, w))

The 1d and 3d windows are therefore only partly filled in these few-hour tests, which is why the
ticket can trip within minutes. Thresholds are never met exactly (the rendered budget is
``0.0009999999999999432``, a hair under 0.1 %, so "exactly at" would count as over).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from opsplane.domain.slo import Service
from opsplane.render.prometheus import RuleOptions
from opsplane.spec import load_paths
from tests.conftest import REPO, SHARED
from tests.render.promtool_helpers import (
    counter,
    expected_alert,
    run_promtool,
    write_rule_files,
    write_unit_test,
)

pytestmark = pytest.mark.promtool

REQUESTS = 1000  # requests a minute: whole numbers of errors for every ratio below

SHOP_SPEC = """\
apiVersion: opsplane/v1
kind: Service
metadata:
  name: shop
slos:
  # Alerting keeps its defaults: name ShopAvailability, P1 page, P3 ticket, 10m no-data alert.
  - name: availability
    objective: 99.9
    period: 30d
    sli:
      events:
        error_query: sum(rate(http_requests_total{job="shop",code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total{job="shop"}[{{.window}}]))
"""
SHOP_IDS = {"sloth_id": "shop-availability", "sloth_service": "shop", "sloth_slo": "availability"}
ALERT = {
    "page": "ShopAvailability",
    "ticket": "ShopAvailability",
    "no_data": "ShopAvailabilityNoData",
}
# opsplane.domain.slo.DEFAULT_SEVERITY; the no-data alert takes the ticket's severity.
SEVERITY = {"page": "P1", "ticket": "P3", "no_data": "P3"}

MODES = {
    "native": RuleOptions(output="plain"),
    "sloth-compat": RuleOptions(sloth_compat=True, output="plain"),
}


# --- Scenario builders ---------------------------------------------------------------------


def shop_traffic(*phases: tuple[int, float]) -> dict[str, str]:
    """``REQUESTS`` a minute, of which ``errors`` a minute answer 5xx, phase by phase.

    ``shop_traffic((360, 0), (30, 50))``: six clean hours, then 30 minutes at 5 % errors.
    """
    return {
        'http_requests_total{job="shop",code="500"}': counter(*phases),
        'http_requests_total{job="shop",code="200"}': counter(
            *((minutes, REQUESTS - errors) for minutes, errors in phases)
        ),
    }


@dataclass(frozen=True)
class Check:
    """At ``minute``, exactly the alerts of ``firing`` (page, ticket, no_data) are firing."""

    minute: int
    firing: frozenset[str]


def at(minute: int, *firing: str) -> Check:
    return Check(minute, frozenset(firing))


@dataclass(frozen=True)
class Ratio:
    """At ``minute``, the recorded error ratio over ``window`` is ``value``."""

    minute: int
    window: str
    value: float


@dataclass(frozen=True)
class Scenario:
    """A traffic pattern and what must be firing when; ``id`` says it in one sentence."""

    id: str
    series: dict[str, str]
    checks: tuple[Check, ...]
    ratios: tuple[Ratio, ...] = ()


SCENARIOS = [
    # Six clean hours fill the 6h window, then 50 errors a minute. k minutes into the burn:
    # - page, 1h and 5m: 5m is 5 % from k=1; 1h is 50k/60000 > 1.44 % once k > 17.28, so the page
    #   fires at +18m (1.5 %) and not at +17m (1.417 %). The 6x pair needs 50k/360000 > 0.6 %
    #   over 6h, k > 43.2, so it cannot race the 1h/5m pair.
    # - ticket, 3d and 6h: 6h is 50k/360000 > 0.1 % once k > 7.2; the 3d window holds only the
    #   360+k minutes since minute 0, 50k/(1000(360+k)) > 0.1 % once k > 7.35. Ticket at +8m.
    Scenario(
        "a steady 5% error ratio after 6h of clean traffic tickets at +8m and pages at +18m",
        shop_traffic((360, 0), (30, 50)),
        (
            at(367),
            at(368, "ticket"),
            at(377, "ticket"),
            at(378, "page", "ticket"),
            at(390, "page", "ticket"),
        ),
        (Ratio(377, "1h", 850 / 60_000), Ratio(378, "1h", 900 / 60_000), Ratio(378, "5m", 0.05)),
    ),
    # 30 errors a minute for 10 minutes: the 5m window reaches 3 % (> 1.44 %) but the 1h window
    # peaks at 300/60000 = 0.5 %, so the 1h/5m page never fires. The other pairs stay under too:
    # 6h is 300/360000 = 0.083 % (< 0.6 % and < 0.1 %), 2h is 300/120000 = 0.25 % (< 0.3 %).
    Scenario(
        "a 10-minute spike to 3% errors trips the 5m window but not the 1h one and never alerts",
        shop_traffic((360, 0), (10, 30), (50, 0)),
        (at(361), at(365), at(370), at(380), at(420)),
        (Ratio(365, "5m", 0.03), Ratio(370, "1h", 0.005), Ratio(420, "1h", 0.005)),
    ),
    # 2.5 errors a minute (0.25 %, 2.5x budget) after 250 clean minutes. The 3x ticket pair and
    # both page pairs need more than 0.25 % and never fire. The 1x pair: 6h is 2.5k/360000 >
    # 0.1 % once k > 144; the 3d window holds 250+k minutes, 2.5k/(1000(250+k)) > 0.1 % once
    # 1.5k > 250, k > 166.67. Ticket at +167m (minute 417), 2h47m after the burn began.
    Scenario(
        "a steady 0.25% error ratio tickets after 2h47m of burning and never pages",
        shop_traffic((250, 0), (200, 2.5)),
        (at(370), at(416), at(417, "ticket"), at(450, "ticket")),
        (Ratio(416, "3d", 415 / 416_000), Ratio(417, "3d", 417.5 / 417_000)),
    ),
    # The first scenario's burn, stopped after 25 minutes (1250 errors) at minute S = 385. The
    # page starts at +18m as before and its 1h window stays at 1250/60000 = 2.1 % for an hour,
    # so only the 5m window can clear it: j minutes after S it holds 50(5-j) errors, 2 % at j=3
    # and 1 % at j=4 (Prometheus 3's left-open ranges give 1.25 % at j=3), so the page is
    # asserted firing at S+2 and cleared at S+5. The 6x pair never holds (6h: 1250/360000 =
    # 0.35 % < 0.6 %). The ticket's 6h and 3d windows keep the 1250 errors: 0.35 % and
    # 1250/(1000t) > 0.1 % until minute 1250, so the ticket keeps firing.
    Scenario(
        "a 25-minute 5% burn pages at +18m and the page clears within 5m of errors stopping",
        shop_traffic((360, 0), (25, 50), (15, 0)),
        (
            at(377, "ticket"),
            at(378, "page", "ticket"),
            at(387, "page", "ticket"),
            at(390, "ticket"),
            at(395, "ticket"),
        ),
        (Ratio(390, "5m", 0), Ratio(390, "1h", 1250 / 60_000)),
    ),
    # Flat counters: every rate is 0 and every ratio 0/0 = NaN. NaN > x is false, so no burn
    # alert fires; the NaN samples still exist, so absent() is false and the no-data alert,
    # pending only at minute 0 (rate() needs two samples), never fires.
    Scenario(
        "flat counters (no requests) give NaN ratios: no burn alert and no no-data alert",
        shop_traffic((60, 0)),
        (at(5), at(15), at(60)),
    ),
    # No SLI series at all: the 5m ratio is absent from minute 0, so the native no-data alert is
    # pending from minute 0 and fires once it has been for its 10m, at minute 10.
    Scenario(
        "with no request series at all, only the native no-data alert fires, after its 10m for",
        {'up{job="shop"}': "1+0x30"},
        (at(9), at(10, "no_data"), at(30, "no_data")),
    ),
]


# --- Expected alerts -----------------------------------------------------------------------


def tier_labels(tier: str, *, native: bool, ids: dict[str, str] = SHOP_IDS) -> dict[str, str]:
    """Every label of a firing alert: the rule's and the expression's output labels.

    The burn expressions are ``max(...) without (sloth_window)``, so the output keeps the three
    id labels; Sloth's rules add only ``sloth_severity``, opsplane's also ``severity``.
    """
    labels = {**ids, "sloth_severity": tier}
    if native:
        labels["severity"] = SEVERITY[tier]
    return labels


def alert_tests(
    rule_file: Path, checks: tuple[Check, ...], *, native: bool
) -> list[dict[str, Any]]:
    """One ``alert_rule_test`` per check and alert name, listing every alert that must fire."""
    tests = []
    for check in checks:
        # Sloth has no absent-data alert: in compat mode ShopAvailabilityNoData never fires.
        firing = check.firing if native else check.firing - {"no_data"}
        for name in sorted(set(ALERT.values())):
            tiers = frozenset(t for t in firing if ALERT[t] == name)
            tests.append(
                {
                    "eval_time": f"{check.minute}m",
                    "alertname": name,
                    "exp_alerts": [
                        expected_alert(rule_file, name, tier_labels(t, native=native))
                        for t in sorted(tiers)
                    ],
                }
            )
    return tests


def ratio_tests(ratios: tuple[Ratio, ...]) -> list[dict[str, Any]]:
    """``promql_expr_test`` entries for the recorded ``slo:sli_error:ratio_rate<window>``.

    promtool 2.x compares sample values exactly (0.05 is recorded as 0.049999999999999996), so
    the ratio is compared in whole parts per million, rounded as PromQL ``round`` does.
    """
    tests = []
    for r in ratios:
        labels = ", ".join(f'{k}="{v}"' for k, v in {**SHOP_IDS, "sloth_window": r.window}.items())
        tests.append(
            {
                "expr": f"round(slo:sli_error:ratio_rate{r.window} * 1e6)",
                "eval_time": f"{r.minute}m",
                "exp_samples": [
                    {"labels": f"{{{labels}}}", "value": math.floor(r.value * 1e6 + 0.5)}
                ],
            }
        )
    return tests


def load_spec(directory: Path, text: str) -> list[Service]:
    """Services of an opsplane/v1 spec written to ``directory``; the spec must be valid."""
    path = directory / "spec.yaml"
    path.write_text(text)
    loaded = load_paths([path])
    assert loaded.problems == []
    return loaded.services


# --- Scenarios -----------------------------------------------------------------------------


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.id)
def test_burn_rate_alerts_fire_at_the_computed_minutes(
    promtool: str, tmp_path: Path, scenario: Scenario, mode: str
) -> None:
    [rules] = write_rule_files(load_spec(tmp_path, SHOP_SPEC), MODES[mode], tmp_path)
    test_file = write_unit_test(
        tmp_path / "test.yaml",
        [rules],
        scenario.series,
        alert_tests(rules, scenario.checks, native=mode == "native"),
        ratio_tests(scenario.ratios),
    )
    run_promtool(promtool, "test", "rules", test_file)


def test_native_alerts_carry_p1_for_the_page_and_p3_for_the_ticket(
    promtool: str, tmp_path: Path
) -> None:
    # Every request fails from minute 0: each window's ratio is 1 from minute 1, so both tiers
    # fire at once; their labels are written out here, not derived.
    [rules] = write_rule_files(load_spec(tmp_path, SHOP_SPEC), MODES["native"], tmp_path)
    page = {**SHOP_IDS, "severity": "P1", "sloth_severity": "page"}
    ticket = {**SHOP_IDS, "severity": "P3", "sloth_severity": "ticket"}
    exp = [expected_alert(rules, "ShopAvailability", labels) for labels in (page, ticket)]
    test = {"eval_time": "2m", "alertname": "ShopAvailability", "exp_alerts": exp}
    test_file = write_unit_test(
        tmp_path / "test.yaml", [rules], shop_traffic((10, REQUESTS)), [test]
    )
    run_promtool(promtool, "test", "rules", test_file)


LATENCY_SPEC = """\
apiVersion: opsplane/v1
kind: Service
metadata:
  name: shop
slos:
  - name: latency
    objective: 99
    sli:
      latency:
        metric: http_request_duration_seconds
        threshold: 1
        selector: job="shop"
"""


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize(
    "le",
    ["1", "1.0"],
    ids=lambda le: f'a 1s latency SLI reads a bucket exposed as le="{le}"',
)
def test_latency_alerts_read_whole_second_buckets_in_either_spelling(
    promtool: str, tmp_path: Path, le: str, mode: str
) -> None:
    # Half the requests are slower than 1s: a 50 % error ratio is over every threshold of a 99 %
    # SLO (14.4 % at most), so both tiers fire from minute 1 — but only if the rule's le
    # matcher finds the bucket; a missed bucket makes the ratio empty and nothing fires.
    [rules] = write_rule_files(load_spec(tmp_path, LATENCY_SPEC), MODES[mode], tmp_path)
    series = {
        f'http_request_duration_seconds_bucket{{job="shop",le="{le}"}}': counter((10, 500)),
        'http_request_duration_seconds_bucket{job="shop",le="+Inf"}': counter((10, 1000)),
        'http_request_duration_seconds_count{job="shop"}': counter((10, 1000)),
    }
    ids = {"sloth_id": "shop-latency", "sloth_service": "shop", "sloth_slo": "latency"}
    exp = [
        expected_alert(rules, "ShopLatency", tier_labels(t, native=mode == "native", ids=ids))
        for t in ("page", "ticket")
    ]
    test = {"eval_time": "2m", "alertname": "ShopLatency", "exp_alerts": exp}
    run_promtool(
        promtool, "test", "rules", write_unit_test(tmp_path / "t.yaml", [rules], series, [test])
    )


# --- promtool check rules ------------------------------------------------------------------


def _spec_inputs() -> list[Path]:
    examples = sorted((REPO / "examples").glob("*.yaml"))
    sloth = sorted((SHARED / "conformance" / "sloth" / "generate").glob("in-*.yaml"))
    return examples + sloth


@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("path", _spec_inputs(), ids=lambda p: f"{p.parent.name}/{p.name} passes")
def test_rendered_rules_pass_promtool_check(
    promtool: str, tmp_path: Path, path: Path, mode: str
) -> None:
    loaded = load_paths([path])
    if loaded.problems:
        # Sloth's SLI-plugin input and its invalid-version case are meant to be refused.
        pytest.skip(f"{path.name} does not load: {loaded.problems[0]}")
    rule_files = write_rule_files(loaded.services, MODES[mode], tmp_path)
    assert rule_files, f"{path.name} rendered no rule document"
    run_promtool(promtool, "check", "rules", *rule_files)


EXTRA_SPEC = """\
apiVersion: opsplane/v1
kind: Service
metadata:
  name: shop
slos:
  - name: latency-fast
    objective: 99.5
    sli:
      latency:
        metric: http_request_duration_seconds
        threshold: 0.25
        selector: job="shop",handler="/cart"
  - name: availability-7d
    objective: 99.9
    period: 7d
    sli:
      events:
        error_query: sum(rate(http_requests_total{job="shop",code=~"5.."}[{{.window}}]))
        total_query: sum(rate(http_requests_total{job="shop"}[{{.window}}]))
  - name: latency-week
    objective: 99
    period: week
    sli:
      latency:
        metric: http_request_duration_seconds
        threshold: 1
"""


def test_native_latency_and_7d_rules_pass_promtool_check(promtool: str, tmp_path: Path) -> None:
    rule_files = write_rule_files(load_spec(tmp_path, EXTRA_SPEC), MODES["native"], tmp_path)
    run_promtool(promtool, "check", "rules", *rule_files)
