"""Spend forecasts and savings recommendations of a namespace, from its recorded runs.

- :func:`spend_forecast`: the month-end spend of a namespace (or one service) from its daily
  spend in the ledger, with the crossing date of every monthly budget that covers it.
- :func:`recommendations`: a cheaper capable model for each service's token profile (the LLM
  lines of its runs over the last ``days``), idle or oversized compute (from the utilisation
  that runs report on their ``compute`` entries), and cost jumps after the deployments in the
  :class:`~opsplane.ports.DeploymentLog`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Final

from opsplane.app.budgets import day_start, utc_day
from opsplane.domain.cost import jumps
from opsplane.domain.cost.budget import Budget
from opsplane.domain.cost.forecast import HISTORY_DAYS, Forecast, forecast_month_end
from opsplane.domain.cost.ledger import CostRecord
from opsplane.domain.cost.money import EXACT, ZERO
from opsplane.domain.cost.prices import PriceTable
from opsplane.domain.cost.recommend import (
    ComputeUtilisation,
    Recommendation,
    TokenProfile,
    cheaper_models,
    compute_rightsizing,
    monthly,
)
from opsplane.ports import CostLedger, DeploymentLog
from opsplane.types import Millis

MAX_RECORDS: Final = 100_000
"""Runs read for recommendations; a namespace with more in the window is judged on the newest."""
_KINDS: Final = ("input", "output", "reasoning", "cache_read", "cache_write")


@dataclass(frozen=True, slots=True)
class SpendForecast:
    """The month-end forecast of a namespace or service, and when each budget is reached.

    Attributes:
        namespace: The namespace.
        service: The service, or ``None`` for the whole namespace.
        currency: The currency of every amount.
        forecast: The forecast (``None`` with no spend at all).
        crossings: ``(budget, day 100 % is reached or None)`` for each covering monthly budget.
    """

    namespace: str
    service: str | None
    currency: str
    forecast: Forecast | None
    crossings: tuple[tuple[Budget, date | None], ...]


def spend_forecast(
    ledger: CostLedger,
    namespace: str,
    now: Millis,
    *,
    service: str | None = None,
    currency: str = "USD",
    budgets: Sequence[Budget] = (),
) -> SpendForecast:
    """Forecast this month's spend from at most :data:`HISTORY_DAYS` days of history."""
    today = utc_day(now)
    first = today - timedelta(days=HISTORY_DAYS - 1)
    rows = [
        r
        for r in ledger.spend(namespace, day_start(first), day_start(today + timedelta(days=1)))
        if service in (None, r.service) and r.currency == currency
    ]
    if not rows:
        return SpendForecast(namespace, service, currency, None, ())
    start = max(min(r.day for r in rows), first)
    totals = [ZERO] * ((today - start).days + 1)
    for r in rows:
        if r.day >= start:
            totals[(r.day - start).days] = EXACT.add(totals[(r.day - start).days], r.amount)
    daily = [(start + timedelta(days=i), v) for i, v in enumerate(totals)]
    forecast = forecast_month_end(daily)
    crossings = tuple(
        (b, forecast_month_end(daily, budget=b.amount).crossing)
        for b in budgets
        if b.period.kind == "monthly"
        and b.currency == currency
        and b.scope.namespace == namespace
        and (b.scope.service is None or b.scope.service == service)
    )
    return SpendForecast(namespace, service, currency, forecast, crossings)


def recommendations(
    ledger: CostLedger,
    deployments: DeploymentLog,
    table: PriceTable,
    namespace: str,
    now: Millis,
    *,
    days: int = 30,
) -> list[Recommendation]:
    """Cheaper models and cost jumps for the namespace, largest monthly saving first."""
    since = now - days * 86_400_000
    records = ledger.cost_records(namespace, since=since, until=now + 1, limit=MAX_RECORDS)
    if not records:
        return []
    span = Decimal(max(now - min(r.at for r in records), 86_400_000)) / Decimal(86_400_000)
    found = cheaper_models(token_profiles(records, span), table, today=utc_day(now))
    found += compute_rightsizing(compute_utilisations(records, span))
    services = {r.service for r in records}
    deployed = [
        jumps.Deployment(d.service, _datetime(d.started_at), d.version)
        for d in deployments.deployments(since - 7 * 86_400_000)
        if d.service in services
    ]
    runs = [
        jumps.RunCost(r.service, _datetime(r.at), r.breakdown)
        for r in records
        if r.currency == table.currency
    ]
    found += jumps.cost_jumps(runs, deployed)
    return sorted(found, key=lambda r: (-r.monthly_savings, r.service, r.kind))


def token_profiles(records: Sequence[CostRecord], days: Decimal) -> list[TokenProfile]:
    """What each service sent to each model, from the runs' priced LLM lines.

    A line's SKU is ``llm/<model>/<kind>``; a run's lines of one model are one call's worth
    for the per-call maxima (a run may make several calls, so these are upper bounds).
    """
    totals: dict[tuple[str, str], dict[str, int]] = {}
    for record in records:
        per_run: dict[str, dict[str, int]] = {}
        for line in record.breakdown.lines:
            if line.component != "llm" or not line.sku.startswith("llm/"):
                continue
            model, _, kind = line.sku.removeprefix("llm/").rpartition("/")
            if kind in _KINDS:
                counts = per_run.setdefault(model, dict.fromkeys(_KINDS, 0))
                counts[kind] += int(line.quantity)
        for model, counts in per_run.items():
            empty = dict.fromkeys((*_KINDS, "max_in", "max_out"), 0)
            total = totals.setdefault((record.service, model), empty)
            for kind in _KINDS:
                total[kind] += counts[kind]
            prompt = counts["input"] + counts["cache_read"] + counts["cache_write"]
            total["max_in"] = max(total["max_in"], prompt)
            total["max_out"] = max(total["max_out"], counts["output"] + counts["reasoning"])
    return [
        TokenProfile(
            service=service,
            model=model,
            days=days,
            input_tokens=t["input"],
            output_tokens=t["output"] + t["reasoning"],
            cache_read_tokens=t["cache_read"],
            cache_write_tokens=t["cache_write"],
            reasoning_tokens=t["reasoning"],
            max_input_per_call=t["max_in"],
            max_output_per_call=t["max_out"],
        )
        for (service, model), t in sorted(totals.items())
    ]


def compute_utilisations(records: Sequence[CostRecord], days: Decimal) -> list[ComputeUtilisation]:
    """How busy each service's compute capabilities were, from runs that report it.

    Only ``compute`` entries with ``utilisation`` or ``peak_utilisation`` count; their priced
    lines (SKU ``compute/<capability>``, in entry order) give the cost, scaled to a month over
    ``days``. The peak is the highest any run reported (rightsizing must keep every run under
    its target); the mean is weighted by seconds. A missing mean or peak stands for the other.
    """
    sums: dict[tuple[str, str], list[Decimal]] = {}  # cost, peak, busy seconds, seconds
    for record in records:
        lines = [line for line in record.breakdown.lines if line.component == "compute"]
        entries = record.metadata.get("run", {}).get("compute", [])
        entries = [e for e in entries if Decimal(e["seconds"])]  # 0 s gives no line
        if len(lines) != len(entries):
            continue  # not a record of this recorder: nothing to pair its lines with
        for entry, line in zip(entries, lines, strict=True):
            mean, peak = entry.get("utilisation"), entry.get("peak_utilisation")
            if mean is None and peak is None:
                continue
            mean_d, peak_d = Decimal(mean or peak), Decimal(peak or mean)
            seconds = Decimal(entry["seconds"])
            key = (record.service, entry["capability"])
            cost, top, busy, total = sums.get(key, [ZERO, ZERO, ZERO, ZERO])
            sums[key] = [
                EXACT.add(cost, line.amount),
                max(top, peak_d),
                EXACT.add(busy, EXACT.multiply(mean_d, seconds)),
                EXACT.add(total, seconds),
            ]
    return [
        ComputeUtilisation(
            service=service,
            capability=capability,
            monthly_cost=monthly(cost, days),
            peak=float(peak),
            mean=float(busy / seconds) if seconds else float(peak),
        )
        for (service, capability), (cost, peak, busy, seconds) in sorted(sums.items())
    ]


def _datetime(at: Millis) -> datetime:
    return datetime.fromtimestamp(at / 1000, UTC)
