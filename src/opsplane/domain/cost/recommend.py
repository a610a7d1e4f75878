"""Recommendations with estimated monthly savings.

- :func:`cheaper_models`: a cheaper model of the same provider and mode that supports the
  features the workload uses, priced on the workload's own token profile.
- :func:`compute_rightsizing`: idle compute (stop it) and oversized compute (halve it while the
  peak stays under the target utilisation), as AWS Compute Optimizer and GCP's rightsizing
  recommender do from peak utilisation.
- :func:`cost_jumps` (in :mod:`.jumps`): runs whose cost rose after a deployment.

A month is :data:`DAYS_PER_MONTH` days (365.25 / 12), so savings from a 7-day window scale by
30.4375 / 7.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Final, Literal, TypeAlias

from opsplane.domain.cost.model import TokenKind
from opsplane.domain.cost.money import APPROX, EXACT, ZERO, money_text
from opsplane.domain.cost.prices import ModelPrice, PriceTable

Kind: TypeAlias = Literal["cheaper-model", "idle-compute", "oversized-compute", "cost-jump"]

DAYS_PER_MONTH: Final = Decimal("30.4375")
"""The mean Gregorian month: 365.25 / 12 days."""

MIN_SAVING: Final = Decimal("0.05")
"""Recommend a cheaper model only when it saves at least 5 % of the workload's cost."""


@dataclass(frozen=True, slots=True)
class Recommendation:
    """One suggested change and what it would save per month, in the table's currency."""

    kind: Kind
    service: str
    summary: str
    monthly_savings: Decimal
    detail: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TokenProfile:
    """What one service sent to one model over ``days`` days.

    ``max_input_per_call`` (prompt tokens including cached ones) and ``max_output_per_call``
    bound the context window a replacement must offer.
    """

    service: str
    model: str
    days: Decimal
    input_tokens: int
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    max_input_per_call: int = 0
    max_output_per_call: int = 0

    def counts(self) -> dict[TokenKind, int]:
        """Tokens per billing kind (reasoning taken out of output, as the pricer does)."""
        return {
            "input": self.input_tokens,
            "output": self.output_tokens - self.reasoning_tokens,
            "reasoning": self.reasoning_tokens,
            "cache_read": self.cache_read_tokens,
            "cache_write": self.cache_write_tokens,
        }


def monthly(amount: Decimal, days: Decimal) -> Decimal:
    """``amount`` observed over ``days`` days, scaled to one month."""
    return APPROX.divide(APPROX.multiply(amount, DAYS_PER_MONTH), days)


def profile_cost(profile: TokenProfile, model: ModelPrice) -> Decimal | None:
    """What ``profile`` costs on ``model``; None when the model cannot price some of its tokens."""
    total = ZERO
    for kind, count in profile.counts().items():
        if count:
            rate = model.rate(kind)
            if rate is None:
                return None
            total = EXACT.add(total, EXACT.multiply(Decimal(count), rate))
    return total


def cheaper_models(
    profiles: Sequence[TokenProfile], table: PriceTable, *, today: date
) -> list[Recommendation]:
    """For each profile, the cheapest capable replacement that saves at least :data:`MIN_SAVING`.

    A candidate must have the same provider and mode, not be a fine-tune (``ft:``) or past
    its deprecation date, support prompt caching if the workload reads or writes the cache,
    support reasoning if it spends reasoning tokens, and have a context window and output limit
    at least the largest call's. Cheaper is not the same quality: evaluate before switching.
    """
    out: list[Recommendation] = []
    for profile in profiles:
        current = table.model(profile.model)
        if current is None or profile.days <= 0:
            continue
        current_cost = profile_cost(profile, current)
        if current_cost is None or current_cost == 0:
            continue
        best = _cheapest(profile, current, table, today)
        if best is None:
            continue
        model, cost = best
        saving = EXACT.subtract(current_cost, cost)
        if saving < EXACT.multiply(current_cost, MIN_SAVING):
            continue
        out.append(_model_recommendation(profile, current, model, current_cost, cost))
    return sorted(out, key=lambda r: -r.monthly_savings)


def _cheapest(
    profile: TokenProfile, current: ModelPrice, table: PriceTable, today: date
) -> tuple[ModelPrice, Decimal] | None:
    best: tuple[ModelPrice, Decimal] | None = None
    for name in sorted(table.models):
        candidate = table.models[name]
        if candidate.name == current.name or not _capable(profile, current, candidate, today):
            continue
        cost = profile_cost(profile, candidate)
        if cost is not None and (best is None or cost < best[1]):
            best = (candidate, cost)
    return best


def _capable(
    profile: TokenProfile, current: ModelPrice, candidate: ModelPrice, today: date
) -> bool:
    if (candidate.provider, candidate.mode) != (current.provider, current.mode):
        return False
    if candidate.name.startswith("ft:"):
        return False
    if candidate.deprecation_date is not None and candidate.deprecation_date <= today:
        return False
    caching = profile.cache_read_tokens > 0 or profile.cache_write_tokens > 0
    if caching and not candidate.supports_prompt_caching:
        return False
    if profile.reasoning_tokens > 0 and not candidate.supports_reasoning:
        return False
    if (
        profile.max_input_per_call
        and (candidate.max_input_tokens or 0) < profile.max_input_per_call
    ):
        return False
    limit = candidate.max_output_tokens
    return not (profile.max_output_per_call and (limit or 0) < profile.max_output_per_call)


def _model_recommendation(
    profile: TokenProfile, current: ModelPrice, model: ModelPrice, before: Decimal, after: Decimal
) -> Recommendation:
    saving = monthly(EXACT.subtract(before, after), profile.days)
    used = [
        f for f, on in (
            ("prompt caching", profile.cache_read_tokens or profile.cache_write_tokens),
            ("reasoning", profile.reasoning_tokens),
        ) if on
    ]  # fmt: skip
    summary = (
        f"{profile.service}: {model.name} instead of {current.name} "
        f"({current.provider} {current.mode}"
        + (", supports " + " and ".join(used) if used else "")
        + f") would cost {money_text(_round(monthly(after, profile.days)))} instead of "
        f"{money_text(_round(monthly(before, profile.days)))} a month"
    )
    detail = {
        "from": current.name,
        "to": model.name,
        "monthly_cost_before": money_text(_round(monthly(before, profile.days))),
        "monthly_cost_after": money_text(_round(monthly(after, profile.days))),
    }
    return Recommendation("cheaper-model", profile.service, summary, _round(saving), detail)


@dataclass(frozen=True, slots=True)
class ComputeUtilisation:
    """How busy one service's compute capability was, and what it costs per month.

    Utilisations are fractions (0.35 is 35 %); ``peak`` is the busiest sample (or a high
    percentile), which rightsizing must keep under the target.
    """

    service: str
    capability: str
    monthly_cost: Decimal
    peak: float
    mean: float


IDLE_BELOW: Final = 0.05
"""Peak utilisation under 5 %: idle (GCP's idle-VM recommender looks at similarly low usage)."""

TARGET_UTILISATION: Final = 0.8
"""Rightsize while the peak stays at or under 80 % of the smaller size."""


def compute_rightsizing(
    items: Sequence[ComputeUtilisation],
    *,
    idle_below: float = IDLE_BELOW,
    target: float = TARGET_UTILISATION,
) -> list[Recommendation]:
    """Idle compute saves all its cost; oversized compute is halved ``k`` times.

    ``k`` is the largest number of halvings with ``peak * 2**k <= target``; the saving is
    ``cost * (1 - 2**-k)``, as compute is priced in proportion to its size.
    """
    out: list[Recommendation] = []
    for item in items:
        name = f"{item.service} {item.capability}"
        if item.peak < idle_below:
            summary = f"{name} is idle (peak {item.peak:.0%}): stop it or scale it to zero"
            out.append(
                Recommendation(
                    "idle-compute",
                    item.service,
                    summary,
                    item.monthly_cost,
                    {"capability": item.capability, "peak": f"{item.peak:.4f}"},
                )
            )
            continue
        halvings = 0
        while item.peak * 2 ** (halvings + 1) <= target:
            halvings += 1
        if halvings == 0:
            continue
        keep = EXACT.divide(Decimal(1), Decimal(2**halvings))  # exact: a power of two
        saving = _round(EXACT.multiply(item.monthly_cost, EXACT.subtract(Decimal(1), keep)))
        summary = (
            f"{name} is oversized (peak {item.peak:.0%}, mean {item.mean:.0%}): "
            f"1/{2**halvings} of its size keeps the peak under {target:.0%}"
        )
        detail = {"capability": item.capability, "size_factor": money_text(keep)}
        out.append(Recommendation("oversized-compute", item.service, summary, saving, detail))
    return sorted(out, key=lambda r: -r.monthly_savings)


def _round(value: Decimal) -> Decimal:
    """Savings are estimates: to the cent's ten-thousandth is plenty."""
    return value.quantize(Decimal("0.000001"), context=APPROX)
