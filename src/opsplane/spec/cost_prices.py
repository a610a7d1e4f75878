"""Price tables from files: LiteLLM's model price map, and opsplane's rate table.

The price map (``--prices``) is LiteLLM's ``model_prices_and_context_window.json`` format: an
object of model name -> entry, rates in USD per token. Three sources:

- nothing: the copy packaged with opsplane (``opsplane/data/llm_prices.json``, litellm 1.110.2);
- ``litellm``: the copy inside the installed ``litellm`` package
  (``model_prices_and_context_window_backup.json``), to refresh prices with ``pip install -U
  litellm``; the package is located, not imported (importing it is slow and has side effects);
- a path to a file in that format.

An entry without ``input_cost_per_token`` (image, audio, rerank models...) or with a malformed
rate is kept aside with the reason, which a run that uses it is told; the rest of the map
stays usable, as the upstream file has thousands of entries in many shapes.

The rate table (``--rates``, JSON or YAML) sets the action price and compute rates::

    currency: USD            # must match the price map's (LiteLLM's is USD)
    action_price: "0.00001"  # per workflow action
    compute:                 # per second, per capability; added to the defaults
      cpu: "0.000016"
      gpu: "0.0005"
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Final

import yaml
from pydantic import Field

from opsplane.domain.cost.money import check_amount
from opsplane.domain.cost.prices import (
    DEFAULT_ACTION_PRICE,
    DEFAULT_COMPUTE_RATES,
    ModelPrice,
    PriceTable,
)
from opsplane.errors import Problem, SpecError, UsageError
from opsplane.spec.cost_edge import problems_of
from opsplane.spec.edge import Strict

PACKAGED_SOURCE: Final = "litellm 1.110.2 (packaged)"
LITELLM_FILE: Final = "model_prices_and_context_window_backup.json"
PRICE_MAP_CURRENCY: Final = "USD"
_RATE_FIELDS: Final = {
    "input": "input_cost_per_token",
    "output": "output_cost_per_token",
    "cache_read": "cache_read_input_token_cost",
    "cache_write": "cache_creation_input_token_cost",
    "reasoning": "output_cost_per_reasoning_token",
}


class RatesIn(Strict):
    """The rate table file."""

    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = PRICE_MAP_CURRENCY
    action_price: Annotated[Decimal, Field(ge=0)] | None = None
    compute: Annotated[
        dict[Annotated[str, Field(min_length=1)], Annotated[Decimal, Field(ge=0)]],
        Field(default_factory=dict),
    ]


def load_price_table(
    prices: str | None = None,
    rates: Path | None = None,
    *,
    action_price: Decimal | None = None,
) -> PriceTable:
    """The table for ``--prices`` (None, ``litellm`` or a path) and ``--rates``.

    ``action_price`` (``--action-price``) overrides the rate table's.

    Raises:
        SpecError: a file is unreadable or invalid (one problem per finding).
        UsageError: ``--prices litellm`` without the litellm package.
    """
    name, text, source = _price_map_text(prices)
    models, unusable = parse_price_map(name, text)
    price, compute = DEFAULT_ACTION_PRICE, dict(DEFAULT_COMPUTE_RATES)
    if rates is not None:
        table_in = _load_rates(rates)
        price = table_in.action_price if table_in.action_price is not None else price
        compute.update(table_in.compute)
    if action_price is not None:
        price = action_price
    problems = _rate_problems(str(rates or "--action-price"), price, compute)
    if problems:
        raise SpecError(problems)
    return PriceTable(models, unusable, price, compute, PRICE_MAP_CURRENCY, source)


def parse_price_map(name: str, text: str) -> tuple[dict[str, ModelPrice], dict[str, str]]:
    """Usable models, and the unusable ones with the reason (see the module docs).

    Raises:
        SpecError: the text is not a JSON object.
    """
    try:
        data = json.loads(text, parse_float=Decimal, parse_constant=Decimal)
    except json.JSONDecodeError as exc:
        raise SpecError([Problem(name, f"line {exc.lineno}", f"invalid JSON: {exc.msg}")]) from exc
    if not isinstance(data, dict):
        raise SpecError([Problem(name, "", "a price map is a JSON object of model -> entry")])
    models: dict[str, ModelPrice] = {}
    unusable: dict[str, str] = {}
    for key, entry in data.items():
        if key == "sample_spec":  # LiteLLM's description of the schema, not a model
            continue
        model = _model(key, entry)
        if isinstance(model, str):
            unusable[key] = model
        else:
            models[key] = model
    return models, unusable


def _model(name: str, entry: Any) -> ModelPrice | str:
    """The entry as a ModelPrice, or why it cannot price tokens."""
    if not isinstance(entry, dict):
        return "its price map entry is not an object"
    rates: dict[str, Decimal | None] = {}
    for kind, field in _RATE_FIELDS.items():
        value = entry.get(field)
        if value is None:
            rates[kind] = None
            continue
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            return f"{field} is not a number"
        rate = Decimal(value)
        if (msg := check_amount(rate)) is not None:
            return f"{field} {msg}"
        rates[kind] = rate
    base = rates.pop("input")
    if base is None:
        return "its price map entry has no input_cost_per_token (not priced per token)"
    return ModelPrice(
        name,
        str(entry.get("litellm_provider") or ""),
        str(entry.get("mode") or "chat"),
        base,
        **rates,
        max_input_tokens=_int(entry.get("max_input_tokens")),
        max_output_tokens=_int(entry.get("max_output_tokens")),
        supports_prompt_caching=entry.get("supports_prompt_caching") is True,
        supports_reasoning=entry.get("supports_reasoning") is True,
        deprecation_date=_date(entry.get("deprecation_date")),
    )


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _price_map_text(prices: str | None) -> tuple[str, str, str]:
    """(name for problems, text, source label) of the price map to use."""
    if prices is None:
        ref = resources.files("opsplane").joinpath("data", "llm_prices.json")
        return "llm_prices.json (packaged)", ref.read_text(encoding="utf-8"), PACKAGED_SOURCE
    if prices == "litellm":
        path = litellm_price_file()
        try:
            version = importlib.metadata.version("litellm")
        except importlib.metadata.PackageNotFoundError:
            version = "unknown version"
        return str(path), _read(path), f"litellm {version} (installed)"
    return prices, _read(Path(prices)), prices


def litellm_price_file() -> Path:
    """The price map inside the installed litellm package, found without importing it.

    Raises:
        UsageError: litellm is not installed, or ships no price map.
    """
    spec = importlib.util.find_spec("litellm")
    if spec is None or not spec.submodule_search_locations:
        msg = "--prices litellm: the litellm package is not installed (pip install litellm)"
        raise UsageError(msg)
    for location in spec.submodule_search_locations:
        candidate = Path(location) / LITELLM_FILE
        if candidate.is_file():
            return candidate
    msg = f"--prices litellm: the installed litellm package has no {LITELLM_FILE}"
    raise UsageError(msg)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise SpecError([Problem(str(path), "", "no such file")]) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError([Problem(str(path), "", f"cannot read file: {exc}")]) from exc


def _load_rates(path: Path) -> RatesIn:
    try:
        data = yaml.safe_load(_read(path))
    except yaml.YAMLError as exc:
        raise SpecError([Problem(str(path), "", f"invalid YAML or JSON: {exc}")]) from exc
    data = _decimal_strings(data)
    model, problems = problems_of(RatesIn, data, str(path))
    if model is None:
        raise SpecError(problems)
    if model.currency != PRICE_MAP_CURRENCY:
        msg = f"is {model.currency} but the LiteLLM price map is in {PRICE_MAP_CURRENCY}"
        raise SpecError([Problem(str(path), "currency", msg)])
    return model


def _decimal_strings(data: Any) -> Any:
    """YAML reads ``0.000016`` as a float; take numbers as their text so no digit is lost."""
    if isinstance(data, dict):
        return {k: _decimal_strings(v) for k, v in data.items()}
    if isinstance(data, float):
        return Decimal(repr(data))
    return data


def _rate_problems(
    file: str, action_price: Decimal, compute: Mapping[str, Decimal]
) -> list[Problem]:
    problems = []
    if (msg := check_amount(action_price)) is not None:
        problems.append(Problem(file, "action_price", msg))
    for capability, rate in compute.items():
        if (msg := check_amount(rate)) is not None:
            problems.append(Problem(file, f"compute.{capability}", msg))
    return problems
