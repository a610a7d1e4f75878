"""Price tables: LLM token rates per model (LiteLLM's map), the action price, compute rates.

Where the numbers come from (``docs/cost.md`` has the full story):

- LLM rates: LiteLLM's ``model_prices_and_context_window.json``, USD per token. A missing
  cache-read or cache-write rate falls back to the input rate, and a missing reasoning rate to
  the output rate, as LiteLLM's ``generic_cost_per_token`` does
  (``litellm/litellm_core_utils/llm_cost_calc/utils.py``).
- Action price: $0.00001 per workflow action, the FinOps requirement's figure
  (``totalActions * $0.00001``). Temporal Cloud's list price is higher; see the docs.
- Compute: ``cpu`` at $0.000016 per second, the ``compute_rate_per_second`` of DESIGN.md's
  example spec. Every other capability needs a rate from the rate table or the run.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from types import MappingProxyType
from typing import Final

from opsplane.domain.cost.model import TokenKind
from opsplane.domain.cost.money import DEFAULT_CURRENCY

DEFAULT_ACTION_PRICE: Final = Decimal("0.00001")
"""USD per workflow action, as the FinOps requirement states (``totalActions * $0.00001``)."""

DEFAULT_COMPUTE_RATES: Final[Mapping[str, Decimal]] = MappingProxyType({"cpu": Decimal("0.000016")})
"""USD per second per capability: DESIGN.md's ``compute_rate_per_second`` for ``cpu``."""


@dataclass(frozen=True, slots=True)
class ModelPrice:
    """One model's entry in the price map: rates in currency units per token, and limits.

    ``output`` is None for models that produce no tokens (embeddings): output tokens for
    them are an error, not free.
    """

    name: str
    provider: str
    mode: str
    input: Decimal
    output: Decimal | None = None
    cache_read: Decimal | None = None
    cache_write: Decimal | None = None
    reasoning: Decimal | None = None
    max_input_tokens: int | None = None
    max_output_tokens: int | None = None
    supports_prompt_caching: bool = False
    supports_reasoning: bool = False
    deprecation_date: date | None = None

    def rate(self, kind: TokenKind) -> Decimal | None:
        """The rate for one kind of token, with LiteLLM's fallbacks (see the module docs)."""
        if kind == "input":
            return self.input
        if kind == "output":
            return self.output
        if kind == "reasoning":
            return self.reasoning if self.reasoning is not None else self.output
        if kind == "cache_read":
            return self.cache_read if self.cache_read is not None else self.input
        return self.cache_write if self.cache_write is not None else self.input


@dataclass(frozen=True, slots=True)
class PriceTable:
    """Everything needed to price a run.

    Attributes:
        models: Token-priced models by name.
        unusable: Names that are in the price map but cannot be priced, with the reason
            (no per-token price, a malformed rate); a run that uses one gets that reason.
        action_price: Currency units per workflow action.
        compute_rates: Currency units per second, per capability.
        currency: ISO 4217 code of every rate.
        source: Where the model rates came from, for reports.
    """

    models: Mapping[str, ModelPrice]
    unusable: Mapping[str, str] = field(default_factory=dict)
    action_price: Decimal = DEFAULT_ACTION_PRICE
    compute_rates: Mapping[str, Decimal] = field(default_factory=lambda: DEFAULT_COMPUTE_RATES)
    currency: str = DEFAULT_CURRENCY
    source: str = ""

    def model(self, name: str) -> ModelPrice | None:
        """The entry for ``name``; ``openai/gpt-4o`` also finds ``gpt-4o`` of provider openai.

        LiteLLM accepts a provider prefix on model names; its map keys most models without one.
        """
        found = self.models.get(name)
        if found is not None:
            return found
        provider, _, bare = name.partition("/")
        candidate = self.models.get(bare) if bare else None
        if candidate is not None and candidate.provider == provider:
            return candidate
        return None

    def why_unpriced(self, name: str) -> str:
        """Why ``name`` has no usable price, phrased for the person who wrote the run."""
        reason = self.unusable.get(name)
        if reason is not None:
            return f"model {name!r} cannot be priced: {reason}"
        where = f" ({self.source})" if self.source else ""
        close = difflib.get_close_matches(name, list(self.models), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return f"unknown model {name!r}: not in the price map{where}{hint}"
