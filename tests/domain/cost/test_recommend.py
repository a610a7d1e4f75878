"""Recommendations: cheaper capable models, idle or oversized compute, cost jumps."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from opsplane.domain.cost.jumps import Deployment, RunCost, cost_jumps
from opsplane.domain.cost.model import Breakdown
from opsplane.domain.cost.money import money_text
from opsplane.domain.cost.prices import ModelPrice, PriceTable
from opsplane.domain.cost.recommend import (
    ComputeUtilisation,
    TokenProfile,
    cheaper_models,
    compute_rightsizing,
    monthly,
)
from opsplane.spec.cost_prices import load_price_table
from tests.domain.cost.builders import D

TODAY = date(2026, 3, 1)


def openai(name: str, i: str, o: str, **kw: object) -> ModelPrice:
    fields: dict[str, object] = {"max_input_tokens": 128_000, "max_output_tokens": 16_384}
    fields.update(kw)
    return ModelPrice(name, "openai", "chat", D(i), D(o), **fields)  # type: ignore[arg-type]


MODELS = [
    openai("big", "0.0000025", "0.00001", supports_prompt_caching=True, supports_reasoning=True),
    openai("small", "1.5E-7", "6E-7", supports_prompt_caching=True),
    openai(
        "small-thinker", "4E-7", "0.0000016", supports_prompt_caching=True, supports_reasoning=True
    ),
    openai("no-cache", "5E-8", "2E-7"),
    openai("short-context", "1E-8", "1E-8", supports_prompt_caching=True, max_input_tokens=8_000),
    openai(
        "retired", "1E-8", "1E-8", supports_prompt_caching=True, deprecation_date=date(2026, 1, 1)
    ),
    openai("ft:small", "1E-8", "1E-8", supports_prompt_caching=True),
    ModelPrice("rival", "anthropic", "chat", D("1E-8"), D("1E-8"), supports_prompt_caching=True),
    ModelPrice("embed", "openai", "embedding", D("1E-8")),
]
TABLE = PriceTable({m.name: m for m in MODELS})


def profile(**kw: object) -> TokenProfile:
    fields: dict[str, object] = {
        "service": "support-bot", "model": "big", "days": D(7),
        "input_tokens": 70_000_000, "output_tokens": 7_000_000, "max_input_per_call": 20_000,
    }  # fmt: skip
    fields.update(kw)
    return TokenProfile(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, "no-cache"),
        ({"cache_read_tokens": 1_000_000}, "small"),
        (
            {"cache_read_tokens": 1, "output_tokens": 7_000_000, "reasoning_tokens": 10},
            "small-thinker",
        ),
        ({"max_input_per_call": 4_000, "cache_write_tokens": 5}, "short-context"),
    ],
    ids=[
        "without caching or reasoning the cheapest same-provider chat model wins",
        "a workload that reads the cache needs prompt caching",
        "a workload that reasons needs reasoning support",
        "a workload with short prompts can use a short context window",
    ],
)
def test_the_cheapest_capable_model_is_recommended(
    changes: dict[str, object], expected: str
) -> None:
    [rec] = cheaper_models([profile(**changes)], TABLE, today=TODAY)
    assert (rec.kind, rec.service, rec.detail["to"]) == ("cheaper-model", "support-bot", expected)
    assert rec.monthly_savings > 0


def test_savings_are_the_monthly_difference_of_the_profile_cost() -> None:
    [rec] = cheaper_models([profile()], TABLE, today=TODAY)
    before = 70_000_000 * D("0.0000025") + 7_000_000 * D("0.00001")  # 175 + 70 per week
    after = 70_000_000 * D("5E-8") + 7_000_000 * D("2E-7")  # 3.5 + 1.4 per week
    assert rec.monthly_savings == monthly(before - after, D(7))  # 240.1 * 30.4375 / 7
    assert rec.monthly_savings == D("1044.00625")
    assert rec.summary == (
        "support-bot: no-cache instead of big (openai chat) would cost 21.30625 instead of "
        "1065.3125 a month"
    )


def test_no_recommendation_when_the_model_is_already_the_cheapest() -> None:
    assert cheaper_models([profile(model="no-cache")], TABLE, today=TODAY) == []


def test_unknown_models_and_empty_profiles_are_skipped() -> None:
    assert (
        cheaper_models(
            [profile(model="gpt-9"), profile(input_tokens=0, output_tokens=0)], TABLE, today=TODAY
        )
        == []
    )


def test_the_packaged_litellm_map_recommends_a_cheaper_openai_model_for_gpt_4o() -> None:
    table = load_price_table()
    [rec] = cheaper_models(
        [profile(model="gpt-4o", cache_read_tokens=5_000_000, max_input_per_call=100_000)],
        table,
        today=TODAY,
    )
    chosen = table.models[rec.detail["to"]]
    assert (chosen.provider, chosen.mode, chosen.supports_prompt_caching) == (
        "openai",
        "chat",
        True,
    )
    assert (chosen.max_input_tokens or 0) >= 100_000
    assert rec.monthly_savings > 0


@pytest.mark.parametrize(
    ("peak", "kind", "savings"),
    [
        (0.02, "idle-compute", "300"),
        (0.15, "oversized-compute", "225"),
        (0.35, "oversized-compute", "150"),
        (0.5, None, None),
    ],
    ids=[
        "2 % peak is idle: all of it saved",
        "15 % peak: a quarter of the size keeps the peak at 60 %",
        "35 % peak: half the size keeps the peak at 70 %",
        "50 % peak: halving would pass the 80 % target, no recommendation",
    ],
)  # fmt: skip
def test_compute_rightsizing(peak: float, kind: str | None, savings: str | None) -> None:
    recs = compute_rightsizing([ComputeUtilisation("etl", "gpu", D(300), peak, peak / 2)])
    if kind is None:
        assert recs == []
        return
    [rec] = recs
    assert (rec.kind, money_text(rec.monthly_savings)) == (kind, savings)


T0 = datetime(2026, 3, 1, tzinfo=UTC)


def _runs(service: str, start: datetime, n: int, llm: str, actions: str = "0.01") -> list[RunCost]:
    return [
        RunCost(
            service, start + timedelta(hours=i), Breakdown("USD", D(actions), D("0.002"), D(llm))
        )
        for i in range(n)
    ]


def test_a_cost_jump_after_a_deployment_names_the_component() -> None:
    deploy = Deployment("checkout", T0 + timedelta(days=2), "v2")
    runs = _runs("checkout", T0, 48, "0.02") + _runs("checkout", deploy.at, 48, "0.05")
    [rec] = cost_jumps(runs, [deploy])
    assert rec.kind == "cost-jump"
    assert rec.detail["component"] == "llm"
    assert (rec.detail["mean_before"], rec.detail["mean_after"]) == ("0.032", "0.062")
    # 0.03 more per run, 48 runs in the 47 h 0 m 1 s after the deployment, scaled to a month
    per_month = D(48) * D("30.4375") * D(86400) / D(47 * 3600 + 1)
    assert float(rec.monthly_savings) == pytest.approx(float(D("0.03") * per_month), rel=1e-6)
    assert "rose 94% after deployment v2" in rec.summary


def test_small_changes_and_thin_data_are_not_jumps() -> None:
    deploy = Deployment("checkout", T0 + timedelta(days=2), "v2")
    steady = _runs("checkout", T0, 48, "0.02") + _runs("checkout", deploy.at, 48, "0.022")
    assert cost_jumps(steady, [deploy]) == []
    thin = _runs("checkout", deploy.at - timedelta(hours=3), 3, "0.02") + _runs(
        "checkout", deploy.at, 48, "0.09"
    )
    assert cost_jumps(thin, [deploy]) == []


def test_each_deployment_is_compared_with_the_runs_since_the_previous_one() -> None:
    v2 = Deployment("checkout", T0 + timedelta(days=1), "v2")
    v3 = Deployment("checkout", T0 + timedelta(days=2), "v3")
    runs = (
        _runs("checkout", T0, 24, "0.02")
        + _runs("checkout", v2.at, 24, "0.06")
        + _runs("checkout", v3.at, 24, "0.06")
    )
    assert [r.detail["deployment"] for r in cost_jumps(runs, [v3, v2])] == ["v2"]
