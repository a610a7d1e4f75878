"""The Decimal pricer: the runtime tetrad, exact, and nothing priced from an invalid run."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from opsplane.domain.cost.model import ApiFee, ComputeUsage, LlmUsage, Run
from opsplane.domain.cost.money import money_text
from opsplane.domain.cost.pricing import price_run, price_runs
from opsplane.errors import SpecError
from tests.domain.cost.builders import T0, TABLE, D, design_run


def test_design_example_prices_to_the_documented_breakdown() -> None:
    breakdown = price_run(design_run(), TABLE)
    assert {
        c: money_text(breakdown.component(c)) for c in ("actions", "compute", "llm", "api_fees")
    } == {
        "actions": "0.012",
        "compute": "0.00068",
        "llm": "0.00228",
        "api_fees": "0.002",
    }
    assert money_text(breakdown.total) == "0.01696"
    assert breakdown.currency == "USD"


def test_lines_say_what_each_amount_is_made_of() -> None:
    lines = price_run(design_run(), TABLE).lines
    assert [
        (line.sku, money_text(line.quantity), line.unit, money_text(line.amount)) for line in lines
    ] == [
        ("actions", "1200", "Actions", "0.012"),
        ("compute/build", "42.5", "Seconds", "0.00068"),
        ("llm/gpt-4o-mini/input", "12000", "Tokens", "0.0018"),
        ("llm/gpt-4o-mini/output", "800", "Tokens", "0.00048"),
        ("api/search", "1", "Requests", "0.002"),
    ]


def test_the_action_price_is_configurable() -> None:
    table = TABLE.__class__(
        TABLE.models, action_price=D("0.000025"), compute_rates=TABLE.compute_rates
    )
    assert price_run(design_run(), table).actions == D("0.03")


def test_compute_uses_the_rate_table_unless_the_run_gives_a_rate() -> None:
    run = design_run(
        compute=(ComputeUsage("gpu", D("10")), ComputeUsage("cpu", D("10"), D("0.001"))),
    )
    assert price_run(run, TABLE).compute == D("0.005") + D("0.01")


def test_each_token_kind_has_its_rate() -> None:
    usage = LlmUsage(
        "thinker", input_tokens=1000, output_tokens=500, cache_read_tokens=2000,
        cache_write_tokens=100, reasoning_tokens=200,
    )  # fmt: skip
    expected = (
        1000 * D("0.000003") + 300 * D("0.000015") + 200 * D("0.00002")
        + 2000 * D("3E-7") + 100 * D("0.00000375")
    )  # fmt: skip
    assert price_run(design_run(llm=(usage,)), TABLE).llm == expected


def test_missing_cache_and_reasoning_rates_fall_back_as_litellm_does() -> None:
    # gpt-4o-mini has no cache-write or reasoning rate: input rate and output rate apply.
    usage = LlmUsage(
        "gpt-4o-mini", 0, output_tokens=100, cache_write_tokens=10, reasoning_tokens=40
    )
    expected = 60 * D("6E-7") + 40 * D("6E-7") + 10 * D("1.5E-7")
    assert price_run(design_run(llm=(usage,)), TABLE).llm == expected


def test_a_provider_prefix_finds_the_model() -> None:
    run = design_run(llm=(LlmUsage("openai/gpt-4o-mini", 12000, 800),))
    assert price_run(run, TABLE).llm == D("0.00228")


def test_amounts_are_exact_however_small() -> None:
    run = design_run(
        actions=1, compute=(ComputeUsage("cpu", D("0.000000001")),), llm=(), api_fees=()
    )
    assert price_run(run, TABLE).compute == D("1.6E-14")


def test_a_run_with_nothing_costs_zero() -> None:
    breakdown = price_run(Run("r", "s", "n", 0), TABLE)
    assert breakdown.total == 0
    assert breakdown.lines == ()


INVALID = [
    (
        "negative actions name the field",
        {"actions": -1},
        "actions",
        "must not be negative (got -1)",
    ),
    ("a boolean is not a count", {"actions": True}, "actions", "must be a whole number"),
    (
        "NaN seconds are rejected",
        {"compute": (ComputeUsage("cpu", D("NaN")),)},
        "compute[0].seconds",
        "must be a finite number (got NaN)",
    ),
    (
        "an infinite rate is rejected",
        {"compute": (ComputeUsage("cpu", D(1), D("Infinity")),)},
        "compute[0].rate_per_second",
        "must be a finite number (got Infinity)",
    ),
    (
        "negative seconds are rejected",
        {"compute": (ComputeUsage("cpu", D("-0.5")),)},
        "compute[0].seconds",
        "must not be negative (got -0.5)",
    ),
    (
        "seconds beyond the nanosecond are rejected",
        {"compute": (ComputeUsage("cpu", D("0.0000000001")),)},
        "compute[0].seconds",
        "has more than 9 decimal places",
    ),
    (
        "a capability without a rate is named",
        {"compute": (ComputeUsage("tpu", D(1)),)},
        "compute[0].capability",
        "no rate for capability 'tpu' (known: cpu, gpu, memory-gb); "
        "give rate_per_second or add it to the rate table",
    ),
    (
        "an unknown model is named, with a suggestion",
        {"llm": (LlmUsage("gpt-4o-mimi", 1),)},
        "llm[0].model",
        "unknown model 'gpt-4o-mimi': not in the price map (test table); "
        "did you mean 'gpt-4o-mini'?",
    ),
    (
        "a model the map cannot price says why",
        {"llm": (LlmUsage("dall-e", 1),)},
        "llm[0].model",
        "model 'dall-e' cannot be priced: its price map entry has no input_cost_per_token "
        "(not priced per token)",
    ),
    (
        "negative tokens are rejected",
        {"llm": (LlmUsage("gpt-4o-mini", 1, cache_read_tokens=-5),)},
        "llm[0].cache_read_tokens",
        "must not be negative (got -5)",
    ),
    (
        "reasoning tokens are part of the output",
        {"llm": (LlmUsage("thinker", 1, output_tokens=5, reasoning_tokens=6),)},
        "llm[0].reasoning_tokens",
        "is more than output_tokens (6 > 5); reasoning tokens are part of the output",
    ),
    (
        "output tokens need an output price",
        {"llm": (LlmUsage("embedder", 1, output_tokens=3),)},
        "llm[0].output_tokens",
        "model 'embedder' (embedding) has no output price in the price table",
    ),
    (
        "a negative fee is rejected",
        {"api_fees": (ApiFee("search", D("-0.01")),)},
        "api_fees[0].amount",
        "must not be negative (got -0.01)",
    ),
    ("an empty run id is rejected", {"run_id": ""}, "run_id", "must not be empty"),
    (
        "another currency is not converted",
        {"currency": "EUR"},
        "currency",
        "is EUR but the prices are in USD (opsplane does not convert currencies)",
    ),
    (
        "a currency must be ISO 4217",
        {"currency": "usd"},
        "currency",
        "is not an ISO 4217 currency code: 'usd'",
    ),
    (
        "a start needs a time zone",
        {"started_at": T0.replace(tzinfo=None)},
        "started_at",
        "needs a time zone (e.g. 2026-01-01T00:00:00Z)",
    ),
    (
        "a run cannot end before it starts",
        {"started_at": T0, "ended_at": T0 - timedelta(seconds=1)},
        "ended_at",
        "is before started_at",
    ),
]


@pytest.mark.parametrize(
    ("changes", "path", "message"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID]
)
def test_an_invalid_run_is_rejected_naming_the_field(
    changes: dict[str, object], path: str, message: str
) -> None:
    with pytest.raises(SpecError) as caught:
        price_run(design_run(**changes), TABLE, file="RUN.json")
    assert [str(p) for p in caught.value.problems] == [f"RUN.json:{path}: {message}"]


def test_one_invalid_run_rejects_the_batch_with_every_problem() -> None:
    runs = [
        design_run(),
        design_run(run_id="r-2", actions=-1, llm=(LlmUsage("nope", 1),)),
        design_run(),
    ]
    with pytest.raises(SpecError) as caught:
        price_runs(runs, TABLE, file="runs.json")
    assert [str(p) for p in caught.value.problems] == [
        "runs.json:[1].actions: must not be negative (got -1)",
        "runs.json:[1].llm[0].model: unknown model 'nope': not in the price map (test table)",
    ]


def test_a_valid_batch_prices_every_run() -> None:
    priced = price_runs([design_run(), design_run(run_id="r-2", actions=0)], TABLE)
    assert [money_text(p.breakdown.total) for p in priced] == ["0.01696", "0.00496"]


def test_breakdowns_add_component_wise() -> None:
    a = price_run(design_run(), TABLE)
    total = a + a
    assert total.total == 2 * a.total
    assert len(total.lines) == 2 * len(a.lines)
    with pytest.raises(ValueError, match="cannot add EUR to USD"):
        a + a.__class__("EUR")


def test_money_text_has_no_exponent_and_no_trailing_zeros() -> None:
    assert [money_text(D(x)) for x in ("1.2E+3", "0.01200", "0E-10", "1.6E-14", "-0.50")] == [
        "1200", "0.012", "0", "0.000000000000016", "-0.5",
    ]  # fmt: skip
    assert isinstance(price_run(design_run(), TABLE).total, Decimal)
