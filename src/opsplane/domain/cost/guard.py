"""The budget check before an AI call: allow, throttle or deny, with the reason.

It sits in a request path, so a check is O(1): two dictionary lookups for the budgets that
cover the caller (its namespace's and its service's), one for the model's rates, and a few
Decimal operations. Everything else is computed when the guard is built: each budget's
remaining amount up to its throttle and deny limits.

Policy (after the seed's per-tenant AI budget enforcement, "throttle at 50/75/90 % budget"):

- **deny** when the call's estimated cost would take the spend past ``deny_at`` of a budget
  (default 100 %), or when the model has no price (its cost cannot be bounded);
- **throttle** when it would pass ``throttle_at`` (default 90 %): the caller should slow down,
  queue, or switch to a cheaper model;
- **allow** otherwise. The strictest covering budget decides.

The estimate is ``input_tokens * input rate + max_output_tokens * output rate``, a bound for
the call when ``max_output_tokens`` is the request's own limit. After the call, :meth:`record`
adds its real cost. A guard is not thread-safe: use one per worker, or a lock around it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Final, Literal, TypeAlias

from opsplane.domain.cost.budget import Budget
from opsplane.domain.cost.money import EXACT, ZERO, money_text
from opsplane.domain.cost.prices import PriceTable

Action: TypeAlias = Literal["allow", "throttle", "deny"]

DEFAULT_THROTTLE_AT: Final = Decimal("0.9")
DEFAULT_DENY_AT: Final = Decimal(1)
_SEVERITY: Final[Mapping[Action, int]] = {"allow": 0, "throttle": 1, "deny": 2}


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer to "may this call go ahead?"."""

    action: Action
    reason: str
    estimated_cost: Decimal
    budget: str | None = None


@dataclass(slots=True)
class _Limit:
    """One budget's precomputed state: spend so far and the two limits in money."""

    name: str
    scope: str
    amount: Decimal
    spent: Decimal
    throttle: Decimal
    deny: Decimal


class BudgetGuard:
    """Pre-call checks against every budget that covers a namespace and service."""

    def __init__(
        self,
        budgets: Sequence[Budget],
        table: PriceTable,
        spent: Mapping[str, Decimal],
        *,
        throttle_at: Decimal = DEFAULT_THROTTLE_AT,
        deny_at: Decimal = DEFAULT_DENY_AT,
    ) -> None:
        """Build the lookup tables.

        Args:
            budgets: The budgets to enforce (monthly or custom; ``spent`` is per period).
            table: Prices for estimating a call's cost.
            spent: Spend so far in each budget's current period, by budget name.
            throttle_at: Fraction of a budget past which calls are throttled.
            deny_at: Fraction of a budget past which calls are denied.
        """
        if not ZERO < throttle_at <= deny_at:
            msg = "need 0 < throttle_at <= deny_at"
            raise ValueError(msg)
        self._limits: dict[tuple[str, str | None], list[_Limit]] = {}
        for b in budgets:
            limit = _Limit(
                b.name, str(b.scope), b.amount, spent.get(b.name, ZERO),
                b.limit(throttle_at), b.limit(deny_at),
            )  # fmt: skip
            self._limits.setdefault((b.scope.namespace, b.scope.service), []).append(limit)
        self._rates = {
            name: (m.input, m.output if m.output is not None else ZERO)
            for name, m in table.models.items()
        }
        self._table = table

    def check(
        self, namespace: str, service: str, model: str, input_tokens: int, max_output_tokens: int
    ) -> Decision:
        """Whether a call of ``model`` with this many tokens may go ahead now."""
        rates = self._rates.get(model)
        if rates is None:
            price = self._table.model(model)
            if price is None:
                return Decision("deny", self._table.why_unpriced(model), ZERO)
            rates = self._rates[price.name]
        cost = EXACT.add(
            EXACT.multiply(Decimal(input_tokens), rates[0]),
            EXACT.multiply(Decimal(max_output_tokens), rates[1]),
        )
        worst: Decision | None = None
        for limit in self._covering(namespace, service):
            decision = _decide(limit, cost)
            if worst is None or _SEVERITY[decision.action] > _SEVERITY[worst.action]:
                worst = decision
        if worst is None:
            return Decision("allow", f"no budget covers {namespace}/{service}", cost)
        return worst

    def record(self, namespace: str, service: str, amount: Decimal) -> None:
        """Add the real cost of a finished call (or run) to every covering budget."""
        for limit in self._covering(namespace, service):
            limit.spent = EXACT.add(limit.spent, amount)

    def _covering(self, namespace: str, service: str) -> list[_Limit]:
        return self._limits.get((namespace, service), []) + self._limits.get((namespace, None), [])


def _decide(limit: _Limit, cost: Decimal) -> Decision:
    after = EXACT.add(limit.spent, cost)
    state = (
        f"budget {limit.name!r} ({limit.scope}): {money_text(limit.spent)} of "
        f"{money_text(limit.amount)} spent, this call about {money_text(cost)}"
    )
    if after > limit.deny:
        return Decision("deny", f"{state}; it would pass the hard limit", cost, limit.name)
    if after > limit.throttle:
        return Decision("throttle", f"{state}; it would pass the throttle limit", cost, limit.name)
    return Decision("allow", f"{state}; within budget", cost, limit.name)
