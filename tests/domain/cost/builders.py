"""A small price table with round numbers, and helpers to build runs from it."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from opsplane.domain.cost.model import ApiFee, ComputeUsage, LlmUsage, Run
from opsplane.domain.cost.prices import ModelPrice, PriceTable

D = Decimal
T0 = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)

# gpt-4o-mini as LiteLLM 1.110.2 prices it (input, output, cache read), per token.
MINI = ModelPrice(
    "gpt-4o-mini", "openai", "chat", D("1.5E-7"), D("6E-7"), cache_read=D("7.5E-8"),
    max_input_tokens=128_000, max_output_tokens=16_384, supports_prompt_caching=True,
)  # fmt: skip
# An Anthropic-style model: cache writes and reads priced, a reasoning rate of its own.
THINKER = ModelPrice(
    "thinker", "anthropic", "chat", D("0.000003"), D("0.000015"), cache_read=D("3E-7"),
    cache_write=D("0.00000375"), reasoning=D("0.00002"), max_input_tokens=200_000,
    max_output_tokens=64_000, supports_prompt_caching=True, supports_reasoning=True,
)  # fmt: skip
EMBED = ModelPrice("embedder", "mistral", "embedding", D("1E-7"))

TABLE = PriceTable(
    {"gpt-4o-mini": MINI, "thinker": THINKER, "embedder": EMBED},
    unusable={"dall-e": "its price map entry has no input_cost_per_token (not priced per token)"},
    compute_rates={"cpu": D("0.000016"), "gpu": D("0.0005"), "memory-gb": D("0.0000025")},
    source="test table",
)


def design_run(**changes: object) -> Run:
    """DESIGN.md's example run (total 0.01696 USD), with ``changes`` applied."""
    fields: dict[str, object] = {
        "run_id": "r-1",
        "service": "checkout",
        "namespace": "payments",
        "actions": 1200,
        "compute": (ComputeUsage("build", D("42.5"), D("0.000016")),),
        "llm": (LlmUsage("gpt-4o-mini", 12000, 800),),
        "api_fees": (ApiFee("search", D("0.002")),),
    }
    fields.update(changes)
    return Run(**fields)  # type: ignore[arg-type]
