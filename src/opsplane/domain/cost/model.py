"""What a run used, and what it cost: the "runtime tetrad" of the FinOps requirement.

A :class:`Run` records one workflow run's usage: workflow actions, compute seconds per
capability, LLM tokens per model and API fees. Pricing it gives a :class:`Breakdown` with one
amount per component, the total, and the priced :class:`Line` items the amounts come from (the
lines are what FOCUS export and reconciliation work on).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Final, Literal, TypeAlias

from opsplane.domain.cost.money import DEFAULT_CURRENCY, EXACT, ZERO, money_sum

Component: TypeAlias = Literal["actions", "compute", "llm", "api_fees"]
"""The four parts of a run's cost, in the order they are shown."""

COMPONENTS: Final[tuple[Component, ...]] = ("actions", "compute", "llm", "api_fees")

TokenKind: TypeAlias = Literal["input", "output", "reasoning", "cache_read", "cache_write"]
"""How a token is billed: LiteLLM's input, output, reasoning, cache-read and cache-write rates."""


@dataclass(frozen=True, slots=True)
class ComputeUsage:
    """Seconds of one compute capability (``cpu``, ``gpu``, ``memory-gb``, a runner class...).

    ``rate_per_second`` overrides the price table's rate for this capability when given.
    ``utilisation`` (the mean) and ``peak_utilisation`` say how busy the capability was, as
    fractions of its size (0.35 is 35 %); they do not change the price, but let
    recommendations find idle and oversized compute.
    """

    capability: str
    seconds: Decimal
    rate_per_second: Decimal | None = None
    utilisation: Decimal | None = None
    peak_utilisation: Decimal | None = None


@dataclass(frozen=True, slots=True)
class LlmUsage:
    """Tokens sent to and received from one model, as the provider's usage block reports them.

    The counts are disjoint, as Anthropic reports them: ``input_tokens`` are the prompt tokens
    billed at the input rate, *excluding* cache reads and writes (from OpenAI's usage, that is
    ``prompt_tokens - cached_tokens``). ``reasoning_tokens`` are the part of ``output_tokens``
    spent on reasoning; they are billed at the model's reasoning rate when it has one.
    """

    model: str
    input_tokens: int
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0


@dataclass(frozen=True, slots=True)
class ApiFee:
    """A fee charged by an external API during the run (search, OCR, a paid webhook...)."""

    name: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Run:
    """One workflow run's usage. ``currency`` is the currency its fees are given in."""

    run_id: str
    service: str
    namespace: str
    actions: int
    compute: tuple[ComputeUsage, ...] = ()
    llm: tuple[LlmUsage, ...] = ()
    api_fees: tuple[ApiFee, ...] = ()
    started_at: datetime | None = None
    ended_at: datetime | None = None
    currency: str = DEFAULT_CURRENCY


@dataclass(frozen=True, slots=True)
class Line:
    """One priced usage item: ``quantity`` ``unit`` at ``unit_price`` costs ``amount``.

    ``sku`` names what was bought, stable across runs: ``actions``, ``compute/gpu``,
    ``llm/gpt-4o-mini/input``, ``api/search``. It becomes FOCUS ``SkuId``.
    """

    component: Component
    sku: str
    quantity: Decimal
    unit: str
    unit_price: Decimal
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Breakdown:
    """The cost of one run (or the sum of several): the four components and their total."""

    currency: str
    actions: Decimal = ZERO
    compute: Decimal = ZERO
    llm: Decimal = ZERO
    api_fees: Decimal = ZERO
    lines: tuple[Line, ...] = field(default=(), compare=False)

    @property
    def total(self) -> Decimal:
        """The sum of the four components, exactly."""
        return money_sum((self.actions, self.compute, self.llm, self.api_fees))

    @classmethod
    def of(cls, currency: str, amounts: Sequence[Decimal]) -> Breakdown:
        """A breakdown from the four amounts in :data:`COMPONENTS` order (no line items)."""
        actions, compute, llm, api_fees = amounts
        return cls(currency, actions, compute, llm, api_fees)

    def component(self, name: Component) -> Decimal:
        """One component by name."""
        return {
            "actions": self.actions,
            "compute": self.compute,
            "llm": self.llm,
            "api_fees": self.api_fees,
        }[name]

    def __add__(self, other: Breakdown) -> Breakdown:
        """The component-wise sum (lines are concatenated); currencies must agree."""
        if other.currency != self.currency:
            msg = f"cannot add {other.currency} to {self.currency}"
            raise ValueError(msg)
        return Breakdown(
            self.currency,
            EXACT.add(self.actions, other.actions),
            EXACT.add(self.compute, other.compute),
            EXACT.add(self.llm, other.llm),
            EXACT.add(self.api_fees, other.api_fees),
            self.lines + other.lines,
        )


@dataclass(frozen=True, slots=True)
class PricedRun:
    """A run with its breakdown."""

    run: Run
    breakdown: Breakdown
