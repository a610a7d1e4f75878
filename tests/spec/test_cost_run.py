"""RUN.json and price files at the edge: shapes, exact numbers, and one problem per mistake."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from opsplane.errors import SpecError, UsageError
from opsplane.spec.cost_prices import load_price_table, parse_price_map
from opsplane.spec.cost_run import load_runs, parse_runs, price_run_file

RUN: dict[str, Any] = {
    "run_id": "r-1",
    "service": "checkout",
    "namespace": "payments",
    "actions": 1200,
    "compute": [{"capability": "build", "seconds": 42.5, "rate_per_second": "0.000016"}],
    "llm": [{"model": "gpt-4o-mini", "input_tokens": 12000, "output_tokens": 800}],
    "api_fees": [{"name": "search", "usd": "0.002"}],
}


def problems(text: str, *, price: bool = False) -> list[str]:
    """The problems of ``text`` read as RUN.json (and priced, with ``price``)."""
    with pytest.raises(SpecError) as caught:
        _read(text, price=price)
    return [str(p) for p in caught.value.problems]


def _read(text: str, *, price: bool) -> None:
    run_file = parse_runs("RUN.json", text)
    if price:
        price_run_file(run_file, load_price_table())
    elif run_file.problems:
        raise SpecError(list(run_file.problems))


def test_design_example_reads_with_exact_decimals() -> None:
    run_file = parse_runs("RUN.json", json.dumps(RUN))
    assert run_file.single
    assert run_file.paths == ("",)
    [run] = run_file.runs
    assert run.compute[0].seconds == Decimal("42.5")
    assert run.api_fees[0].amount == Decimal("0.002")
    [priced] = price_run_file(run_file, load_price_table())
    assert priced.breakdown.total == Decimal("0.01696")


def test_json_numbers_are_never_floats() -> None:
    text = json.dumps({**RUN, "compute": [{"capability": "cpu", "seconds": 0.1}]})
    [run] = parse_runs("RUN.json", text).runs
    assert run.compute[0].seconds == Decimal("0.1")  # float(0.1) would be 0.1000000000000000055...


@pytest.mark.parametrize(
    ("document", "paths"),
    [([RUN, RUN], ("[0]", "[1]")), ({"runs": [RUN]}, ("runs[0]",))],
    ids=["a list of runs", "an object with runs"],
)
def test_batches_are_a_list_or_an_object_with_runs(
    document: object, paths: tuple[str, ...]
) -> None:
    run_file = parse_runs("RUN.json", json.dumps(document))
    assert (run_file.single, run_file.paths) == (False, paths)


INVALID = [
    ("a missing field is required", {"actions": None}, "RUN.json:actions: is required"),
    (
        "a negative count names the field",
        {"actions": -2},
        "RUN.json:actions: must not be negative (got -2)",
    ),
    (
        "a fractional count is not a count",
        {"actions": 1.5},
        "RUN.json:actions: must be a whole number",
    ),
    (
        "a string count is not a count",
        {"actions": "12"},
        "RUN.json:actions: must be a whole number",
    ),
    ("true is not a count", {"actions": True}, "RUN.json:actions: must be a whole number"),
    ("a typo is an unknown field", {"action": 1}, "RUN.json:action: unknown field"),
    (
        "NaN seconds are not finite",
        {"compute": [{"capability": "cpu", "seconds": "NaN"}]},
        "RUN.json:compute[0].seconds: must be a finite number (got NaN)",
    ),
    (
        "a fee needs exactly one amount",
        {"api_fees": [{"name": "s", "usd": 1, "amount": 1}]},
        "RUN.json:api_fees[0]: give the fee as exactly one of usd or amount",
    ),
    (
        "a USD fee in a EUR run is ambiguous",
        {"currency": "EUR", "api_fees": [{"name": "s", "usd": 1}]},
        "RUN.json:api_fees[0].usd: is in USD but the run's currency is EUR; use amount\n"
        "RUN.json:currency: is EUR but the prices are in USD "
        "(opsplane does not convert currencies)",
    ),
    (
        "a start needs a time zone",
        {"started_at": "2026-03-01T10:00:00"},
        "RUN.json:started_at: needs a time zone (e.g. 2026-01-01T00:00:00Z)",
    ),
    (
        "utilisation is a fraction",
        {"compute": [{"capability": "cpu", "seconds": 1, "utilisation": 35}]},
        "RUN.json:compute[0].utilisation: must be a fraction from 0 to 1 (0.35 is 35 %), not 35",
    ),
    (
        "the peak is at least the mean",
        {
            "compute": [
                {"capability": "cpu", "seconds": 1, "utilisation": "0.5", "peak_utilisation": "0.4"}
            ]
        },
        "RUN.json:compute[0].peak_utilisation: is below the mean utilisation (0.5)",
    ),
    (
        "an llm entry needs a model",
        {"llm": [{"input_tokens": 1}]},
        "RUN.json:llm[0].model: is required",
    ),
]


@pytest.mark.parametrize(
    ("changes", "expected"), [c[1:] for c in INVALID], ids=[c[0] for c in INVALID]
)
def test_each_mistake_is_one_line_naming_the_field(changes: dict[str, Any], expected: str) -> None:
    run = {k: v for k, v in {**RUN, **changes}.items() if v is not None}
    assert problems(json.dumps(run), price=True) == expected.split("\n")


def test_nan_and_infinity_literals_are_read_and_rejected() -> None:
    text = json.dumps(RUN).replace('"rate_per_second": "0.000016"', '"rate_per_second": Infinity')
    assert problems(text, price=True) == [
        "RUN.json:compute[0].rate_per_second: must be a finite number (got Infinity)"
    ]


def test_every_problem_of_a_batch_is_reported_at_once() -> None:
    bad_model = {**RUN, "llm": [{"model": "gpt-4o-mimi", "input_tokens": 1}]}
    missing = {k: v for k, v in RUN.items() if k != "service"}
    assert problems(json.dumps([bad_model, missing, RUN]), price=True) == [
        "RUN.json:[0].llm[0].model: unknown model 'gpt-4o-mimi': not in the price map "
        "(litellm 1.110.2 (packaged)); did you mean 'gpt-4o-mini'?",
        "RUN.json:[1].service: is required",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{", "RUN.json:line 1: invalid JSON: Expecting property name enclosed in double quotes"),
        ("3", 'RUN.json: expected a run object, a list of runs or {"runs": [...]}'),
        ('{"runs": 3}', "RUN.json:runs: must be a list of runs"),
        ('{"runs": [], "x": 1}', "RUN.json:x: unknown field (next to runs)"),
    ],
    ids=["not JSON", "not an object or a list", "runs is not a list", "a stray key next to runs"],
)
def test_malformed_files(text: str, expected: str) -> None:
    assert problems(text) == [expected]


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="no such file"):
        load_runs(tmp_path / "RUN.json")


def test_the_packaged_price_map_is_litellm_1_110_2() -> None:
    table = load_price_table()
    assert table.source == "litellm 1.110.2 (packaged)"
    assert len(table.models) + len(table.unusable) == 321
    mini = table.models["gpt-4o-mini"]
    assert (mini.input, mini.output, mini.cache_read) == (
        Decimal("1.5E-7"),
        Decimal("6E-7"),
        Decimal("7.5E-8"),
    )
    assert mini.supports_prompt_caching
    sonnet = table.models["claude-sonnet-4-5"]
    assert (sonnet.cache_write, sonnet.supports_reasoning) == (Decimal("0.00000375"), True)
    assert "sample_spec" not in table.models
    assert table.unusable["openai/container"].startswith(
        "its price map entry has no input_cost_per_token"
    )


def test_malformed_entries_are_set_aside_with_the_reason() -> None:
    text = json.dumps({
        "ok": {"input_cost_per_token": 1e-6, "litellm_provider": "x"},
        "text": {"input_cost_per_token": "cheap"},
        "negative": {"input_cost_per_token": 1e-6, "output_cost_per_token": -1},
        "list": [1],
    })  # fmt: skip
    models, unusable = parse_price_map("prices.json", text)
    assert list(models) == ["ok"]
    assert unusable == {
        "text": "input_cost_per_token is not a number",
        "negative": "output_cost_per_token must not be negative (got -1)",
        "list": "its price map entry is not an object",
    }


def test_a_price_map_must_be_an_object(tmp_path: Path) -> None:
    path = tmp_path / "prices.json"
    path.write_text("[]")
    with pytest.raises(SpecError, match="a price map is a JSON object"):
        load_price_table(str(path))


def test_prices_litellm_reads_the_installed_packages_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = tmp_path / "litellm"
    package.mkdir()
    (package / "__init__.py").write_text("raise ImportError('opsplane must not import litellm')\n")
    (package / "model_prices_and_context_window_backup.json").write_text(
        json.dumps({"gpt-x": {"input_cost_per_token": 2e-6, "output_cost_per_token": 8e-6}})
    )
    dist = tmp_path / "litellm-9.9.9.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: litellm\nVersion: 9.9.9\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    table = load_price_table("litellm")
    assert table.source == "litellm 9.9.9 (installed)"
    assert table.models["gpt-x"].output == Decimal("0.000008")


def test_prices_litellm_without_the_package_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("opsplane.spec.cost_prices.importlib.util.find_spec", lambda name: None)
    with pytest.raises(UsageError, match="litellm package is not installed"):
        load_price_table("litellm")


def test_a_rate_table_sets_the_action_price_and_adds_compute_rates(tmp_path: Path) -> None:
    rates = tmp_path / "rates.yaml"
    rates.write_text("action_price: 0.000025\ncompute:\n  gpu: 0.0000166667\n")
    table = load_price_table(rates=rates)
    assert table.action_price == Decimal("0.000025")
    assert dict(table.compute_rates) == {"cpu": Decimal("0.000016"), "gpu": Decimal("0.0000166667")}
    assert load_price_table(rates=rates, action_price=Decimal("0.00005")).action_price == Decimal(
        "0.00005"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("currency: EUR\n", "rates.yaml:currency: is EUR but the LiteLLM price map is in USD"),
        ("compute: {gpu: -1}\n", "rates.yaml:compute.gpu: must not be negative (got -1)"),
        ("actions_price: 1\n", "rates.yaml:actions_price: unknown field"),
    ],
    ids=["another currency", "a negative rate", "a typo"],
)
def test_rate_table_problems(tmp_path: Path, text: str, expected: str) -> None:
    rates = tmp_path / "rates.yaml"
    rates.write_text(text)
    with pytest.raises(SpecError) as caught:
        load_price_table(rates=rates)
    assert [str(p).replace(str(tmp_path) + "/", "") for p in caught.value.problems] == [expected]
