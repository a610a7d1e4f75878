"""The ``costs:`` section of an ``opsplane/v1`` service, and budget periods as text.

```yaml
costs:
  model_rates: litellm               # documented, not used yet (prices come from --prices)
  compute_rate_per_second: 0.000016  # documented, not used yet
  budget: {monthly_usd: 500, alert_at: [0.5, 0.75, 0.9]}
```

``budget`` takes either ``monthly_usd`` (DESIGN.md's shorthand: a calendar-month budget in US
dollars) or ``amount`` with an optional ``currency`` and ``period`` (``monthly``, or a custom
``START..END`` range of ISO days, end exclusive). ``alert_at`` are fractions of the amount
(``0.9`` is 90 %); without it the domain's defaults apply (50, 75, 80, 90, 100 %). The
budget covers the service (``namespace/service``) and is named after it unless ``name`` says
otherwise.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from pydantic import Field

from opsplane.domain.cost.budget import DEFAULT_THRESHOLDS, Budget, BudgetPeriod, BudgetScope
from opsplane.domain.cost.money import DEFAULT_CURRENCY
from opsplane.errors import Problem
from opsplane.spec.documents import Document
from opsplane.spec.edge import Strict

BUDGET_NAME_PATTERN = r"^[a-z0-9][-a-z0-9]{0,61}[a-z0-9]$"
"""Budget names follow service names: 2 to 63 of ``[a-z0-9-]``, no leading or trailing '-'."""
PERIOD_HELP = "'monthly' (calendar month, UTC) or START..END (ISO days, END exclusive)"


class BudgetSpec(Strict):
    """A service's cost budget."""

    name: Annotated[str, Field(pattern=BUDGET_NAME_PATTERN)] | None = Field(
        None, description="The budget's name (default: the service's name)."
    )
    monthly_usd: Decimal | None = Field(
        None, description="A calendar-month budget in USD (shorthand for amount + currency)."
    )
    amount: Decimal | None = Field(None, description="The budget per period.")
    currency: str | None = Field(None, description="ISO 4217 code of amount (default USD).")
    period: str = Field("monthly", description=f"The period: {PERIOD_HELP}.")
    alert_at: list[Decimal] | None = Field(
        None,
        min_length=1,
        max_length=20,
        description="Thresholds as fractions of the amount (default 0.5, 0.75, 0.8, 0.9, 1).",
    )


class CostsSpec(Strict):
    """Cost settings of a service."""

    model_rates: str | dict[str, Any] | None = Field(
        None, description="'litellm' or an explicit price table; documented, not used yet."
    )
    compute_rate_per_second: Decimal | None = Field(
        None, ge=0, description="Price of one compute second; documented, not used yet."
    )
    budget: BudgetSpec | None = None


def parse_budget_period(text: str) -> BudgetPeriod:
    """``monthly`` or ``2026-01-01..2026-04-01`` as a period.

    Raises:
        ValueError: the text is neither, or START is not before END.
    """
    if text == "monthly":
        return BudgetPeriod()
    start, sep, end = text.partition("..")
    try:
        first, after = date.fromisoformat(start), date.fromisoformat(end)
    except ValueError:
        sep = ""
    if not sep:
        raise ValueError(f"invalid period {text!r}: use {PERIOD_HELP}")
    if first >= after:
        raise ValueError(f"invalid period {text!r}: START must be before END")
    return BudgetPeriod("custom", first, after)


def period_text(period: BudgetPeriod) -> str:
    """The inverse of :func:`parse_budget_period`."""
    if period.kind == "monthly" or period.start is None or period.end is None:
        return "monthly"
    return f"{period.start.isoformat()}..{period.end.isoformat()}"


def service_budget(
    doc: Document, spec: CostsSpec | None, namespace: str, service: str
) -> tuple[Budget | None, list[Problem]]:
    """The service's budget from its ``costs.budget``, or the problems that prevent it."""
    if spec is None or spec.budget is None:
        return None, []
    b = spec.budget
    at = ("costs", "budget")
    problems: list[Problem] = []
    if (b.monthly_usd is None) == (b.amount is None):
        problems.append(doc.problem("give exactly one of monthly_usd or amount", *at))
    if b.monthly_usd is not None and (b.currency not in (None, "USD") or b.period != "monthly"):
        msg = "monthly_usd is a monthly USD amount: use amount, currency and period instead"
        problems.append(doc.problem(msg, *at, "monthly_usd"))
    try:
        period = parse_budget_period(b.period)
    except ValueError as exc:
        problems.append(doc.problem(str(exc), *at, "period"))
        period = BudgetPeriod()
    amount_field = "monthly_usd" if b.monthly_usd is not None else "amount"
    budget = Budget(
        name=b.name or service,
        scope=BudgetScope(namespace, service),
        amount=b.monthly_usd if b.monthly_usd is not None else (b.amount or Decimal(0)),
        period=period,
        thresholds=tuple(b.alert_at) if b.alert_at else DEFAULT_THRESHOLDS,
        currency=b.currency or DEFAULT_CURRENCY,
    )
    if not problems:
        fields = {"amount": amount_field, "thresholds": "alert_at", "period": "period"}
        for name, message in budget.problems():
            head, _, index = name.partition("[")
            parts: tuple[str | int, ...] = (fields.get(head, head),)
            if index:
                parts += (int(index.rstrip("]")),)
            problems.append(doc.problem(message, *at, *parts))
    return (None if problems else budget), problems
