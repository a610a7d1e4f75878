"""The pre-call budget check: allow, throttle or deny, with the reason, in microseconds."""

from __future__ import annotations

import time

import pytest

from opsplane.domain.cost.budget import Budget, BudgetScope
from opsplane.domain.cost.guard import BudgetGuard
from tests.domain.cost.builders import TABLE, D

BUDGETS = [
    Budget("payments", BudgetScope("payments"), D(100)),
    Budget("checkout-ai", BudgetScope("payments", "checkout"), D(10)),
]
# A call of thinker with 100k input tokens and at most 20k output: 0.3 + 0.3 = 0.6.
CALL = ("thinker", 100_000, 20_000)


def guard(**spent: str) -> BudgetGuard:
    return BudgetGuard(BUDGETS, TABLE, {k.replace("_", "-"): D(v) for k, v in spent.items()})


@pytest.mark.parametrize(
    ("spent", "action", "budget"),
    [
        ({"payments": "10", "checkout_ai": "1"}, "allow", "checkout-ai"),
        ({"payments": "10", "checkout_ai": "8.5"}, "throttle", "checkout-ai"),
        ({"payments": "10", "checkout_ai": "9.5"}, "deny", "checkout-ai"),
        ({"payments": "99.5", "checkout_ai": "1"}, "deny", "payments"),
        ({"payments": "89.5", "checkout_ai": "9.5"}, "deny", "checkout-ai"),
    ],
    ids=[
        "well within both budgets: allow",
        "past 90 % of the service budget after the call: throttle",
        "past 100 % of the service budget after the call: deny",
        "the namespace budget can deny what the service budget allows",
        "the strictest budget decides",
    ],
)
def test_the_strictest_covering_budget_decides(
    spent: dict[str, str], action: str, budget: str
) -> None:
    decision = guard(**spent).check("payments", "checkout", *CALL)
    assert (decision.action, decision.budget) == (action, budget)
    assert decision.estimated_cost == D("0.6")


def test_the_reason_says_which_budget_and_how_much() -> None:
    decision = guard(payments="10", checkout_ai="9.5").check("payments", "checkout", *CALL)
    assert decision.reason == (
        "budget 'checkout-ai' (payments/checkout): 9.5 of 10 spent, this call about 0.6; "
        "it would pass the hard limit"
    )


def test_recorded_spend_moves_towards_the_limits() -> None:
    g = guard()
    assert g.check("payments", "checkout", *CALL).action == "allow"
    g.record("payments", "checkout", D("8.5"))
    assert g.check("payments", "checkout", *CALL).action == "throttle"
    g.record("payments", "search", D("95"))  # only the namespace budget counts this
    assert g.check("payments", "search", *CALL).action == "deny"


def test_a_service_without_a_budget_is_allowed() -> None:
    decision = guard().check("growth", "ads", *CALL)
    assert (decision.action, decision.reason) == ("allow", "no budget covers growth/ads")


def test_an_unpriced_model_is_denied_because_its_cost_cannot_be_bounded() -> None:
    decision = guard().check("payments", "checkout", "gpt-9", 10, 10)
    assert decision.action == "deny"
    assert decision.reason.startswith("unknown model 'gpt-9': not in the price map")


def test_a_provider_prefix_finds_the_rates() -> None:
    decision = guard().check("payments", "checkout", "openai/gpt-4o-mini", 1000, 1000)
    assert decision.estimated_cost == D("0.00075")


def test_limits_must_be_ordered() -> None:
    with pytest.raises(ValueError, match="throttle_at <= deny_at"):
        BudgetGuard(BUDGETS, TABLE, {}, throttle_at=D("1.1"), deny_at=D(1))


def test_a_check_takes_well_under_5_ms_at_the_99th_percentile() -> None:
    g = guard(payments="50", checkout_ai="5")
    calls = [
        ("payments", "checkout" if i % 2 else "search", "thinker", 1000 + i, 500)
        for i in range(10_000)
    ]
    timings = []
    for call in calls:
        start = time.perf_counter_ns()
        g.check(*call)
        timings.append(time.perf_counter_ns() - start)
    timings.sort()
    p99_ms = timings[int(len(timings) * 0.99)] / 1e6
    assert p99_ms < 5.0, f"p99 {p99_ms:.3f} ms"
