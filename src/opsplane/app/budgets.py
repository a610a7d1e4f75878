"""Budgets that act: where each budget stands, the alerts it raises, and the pre-call check.

- :func:`gather_budgets`: the budgets stored through the API or CLI plus those of the specs'
  ``costs.budget`` (a stored budget of the same name in the namespace wins).
- :func:`evaluate_budgets`: each budget's spend in its current period from the
  :class:`~opsplane.ports.CostLedger` (actual) and the forecast to the period's end with its
  crossing date (:func:`~opsplane.domain.cost.forecast.forecast_month_end`, or
  :func:`~opsplane.domain.cost.forecast.forecast_period` for a custom period under way).
- :func:`budget_alerts`: the statuses as Alertmanager alerts for
  :meth:`~opsplane.app.alerting.AlertPipeline.observe_alerts` (semantics in ``docs/cost.md``).
- :class:`BudgetChecks`: the pre-call allow/throttle/deny check, one
  :class:`~opsplane.domain.cost.guard.BudgetGuard` per namespace, refreshed from the statuses.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Final, Literal, TypeAlias

from opsplane.domain.cost.budget import Budget, BudgetScope, BudgetStatus, evaluate_budget
from opsplane.domain.cost.forecast import (
    HISTORY_DAYS,
    Forecast,
    forecast_month_end,
    forecast_period,
)
from opsplane.domain.cost.guard import BudgetGuard, Decision
from opsplane.domain.cost.ledger import SpendRow
from opsplane.domain.cost.money import EXACT, ZERO, money_text
from opsplane.domain.cost.prices import PriceTable
from opsplane.domain.routing.dispatch import Alert
from opsplane.domain.slo import Service
from opsplane.ports import BudgetStore, CostLedger
from opsplane.types import Millis

Source: TypeAlias = Literal["stored", "spec"]
Basis: TypeAlias = Literal["actual", "forecast"]

ALERT_SOURCE: Final = "cost-budgets"
"""The name budget alerts are observed under by the alerting pipeline."""
ACTUAL_ALERT: Final = "CostBudgetThreshold"
FORECAST_ALERT: Final = "CostBudgetForecast"
PAGE_SEVERITY: Final = "P1"
"""Spend at or past 100 % of a budget pages (P1 opens an incident, as an SLO page does)."""
TICKET_SEVERITY: Final = "P3"
"""Lower thresholds, and every forecast, are tickets."""
_DAY_MS: Final = 86_400_000


@dataclass(frozen=True, slots=True)
class BudgetReport:
    """Where one budget stands now.

    Attributes:
        status: Spend, forecast and crossed thresholds (the domain's evaluation).
        source: Stored through the API/CLI, or from a spec's ``costs.budget``.
        start: The first day of the current period.
        end: The day after the period's last day.
        forecast: The forecast to the period's end (with history, and for a custom period
            only while it is under way).
        today: The UTC day the report is for.
    """

    status: BudgetStatus
    source: Source
    start: date
    end: date
    forecast: Forecast | None
    today: date

    @property
    def budget(self) -> Budget:
        """The budget."""
        return self.status.budget

    @property
    def crossing(self) -> date | None:
        """The day spend reaches 100 % of the budget, actual or forecast, if it does."""
        return None if self.forecast is None else self.forecast.crossing


def utc_day(at: Millis) -> date:
    """The UTC day of an instant."""
    return datetime.fromtimestamp(at / 1000, UTC).date()


def day_start(day: date) -> Millis:
    """The instant a UTC day starts."""
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) * 1000


def gather_budgets(
    store: BudgetStore, services: Iterable[Service], namespace: str | None = None
) -> list[tuple[Budget, Source]]:
    """Stored budgets and spec budgets (of one namespace), by namespace and name.

    A spec budget is scoped to its service in the namespace the service is applied to; a
    stored budget of the same name in that namespace replaces it.
    """
    found: dict[tuple[str, str], tuple[Budget, Source]] = {}
    for service in services:
        if service.budget is None or namespace not in (None, service.namespace):
            continue
        budget = replace(service.budget, scope=BudgetScope(service.namespace, service.name))
        found[(service.namespace, budget.name)] = (budget, "spec")
    for budget in store.budgets(namespace):
        found[(budget.scope.namespace, budget.name)] = (budget, "stored")
    return [found[k] for k in sorted(found)]


def evaluate_budgets(
    budgets: Sequence[tuple[Budget, Source]], ledger: CostLedger, now: Millis
) -> list[BudgetReport]:
    """Each budget against its spend this period and its forecast to the period's end.

    The ledger is read once per namespace, from the earliest day any of its budgets needs
    (its period's start, or :data:`HISTORY_DAYS` back for the forecast) through today.
    Spend in another currency than the budget's is not counted against it.
    """
    today = utc_day(now)
    history_start = today - timedelta(days=HISTORY_DAYS - 1)
    rows_by_ns: dict[str, list[SpendRow]] = {}
    for namespace in sorted({b.scope.namespace for b, _ in budgets}):
        mine = [b for b, _ in budgets if b.scope.namespace == namespace]
        first = min([history_start, *(b.period.bounds(today)[0] for b in mine)])
        last = max([today, *(b.period.bounds(today)[1] - timedelta(days=1) for b in mine)])
        until = day_start(last + timedelta(days=1))
        rows_by_ns[namespace] = ledger.spend(namespace, day_start(first), until)
    return [
        _report(budget, source, rows_by_ns[budget.scope.namespace], today)
        for budget, source in budgets
    ]


def _report(budget: Budget, source: Source, rows: Sequence[SpendRow], today: date) -> BudgetReport:
    start, end = budget.period.bounds(today)
    mine = [
        r for r in rows
        if budget.scope.covers(r.namespace, r.service) and r.currency == budget.currency
    ]  # fmt: skip
    spent = ZERO
    for r in mine:
        if start <= r.day < end:
            spent = EXACT.add(spent, r.amount)
    forecast = None
    if budget.period.kind == "monthly":
        forecast = forecast_month_end(_daily(mine, today), budget=budget.amount)
    elif start <= today < end:  # a custom period under way: forecast to its end
        in_period = _daily(mine, today, first=start)
        forecast = forecast_period(_daily(mine, today), in_period, end, budget=budget.amount)
    status = evaluate_budget(budget, spent, None if forecast is None else forecast.month_end)
    return BudgetReport(status, source, start, end, forecast, today)


def _daily(
    rows: Sequence[SpendRow], today: date, *, first: date | None = None
) -> list[tuple[date, Decimal]]:
    """Spend per day through today (today's spend so far), from ``first`` or the first spend.

    For the fit, the history starts at the scope's first spend (at most :data:`HISTORY_DAYS`
    back): the days before a service existed are not days it spent nothing, and zeros there
    would fit a rising trend that is not there. A period's actual starts at its ``first`` day.
    """
    if first is None:
        earliest = today - timedelta(days=HISTORY_DAYS - 1)
        first = max(min((r.day for r in rows if r.day <= today), default=today), earliest)
    days = (today - first).days + 1
    totals = [ZERO] * days
    for r in rows:
        offset = (r.day - first).days
        if 0 <= offset < days:
            totals[offset] = EXACT.add(totals[offset], r.amount)
    return [(first + timedelta(days=i), v) for i, v in enumerate(totals)]


# --- alerts -------------------------------------------------------------------------------


def budget_alerts(reports: Sequence[BudgetReport], at: Millis) -> list[Alert]:
    """The alerts the reports raise now: at most one per budget and basis.

    ``CostBudgetThreshold`` fires while spend is past a threshold, labelled with the highest
    one crossed; ``CostBudgetForecast`` fires while the forecast passes a threshold that spend
    has not, labelled with the highest such one. A higher threshold is a new label set, so it
    notifies once; the lower one is resolved at the same time (the pipeline resolves what a
    source no longer sends), and everything resolves when the period rolls over.
    """
    alerts: list[Alert] = []
    for report in reports:
        status = report.status
        if not _current(report):
            continue
        if status.crossed:
            alerts.append(_alert(report, "actual", max(status.crossed), at))
        if status.forecast_crossed:
            alerts.append(_alert(report, "forecast", max(status.forecast_crossed), at))
    return alerts


def _alert(report: BudgetReport, basis: Basis, threshold: Decimal, at: Millis) -> Alert:
    budget = report.budget
    paging = basis == "actual" and threshold >= 1
    labels = {
        "alertname": ACTUAL_ALERT if basis == "actual" else FORECAST_ALERT,
        "namespace": budget.scope.namespace,
        **({"service": budget.scope.service} if budget.scope.service else {}),
        "budget": budget.name,
        "basis": basis,
        "threshold": money_text(threshold),
        "severity": PAGE_SEVERITY if paging else TICKET_SEVERITY,
    }
    return Alert(labels, at, None, _annotations(report, basis, threshold))


def _annotations(report: BudgetReport, basis: Basis, threshold: Decimal) -> dict[str, str]:
    status, budget = report.status, report.budget
    cur = budget.currency
    what = f"Budget {budget.name!r} ({budget.scope})"
    spent = (
        f"{money_text(_cents(status.spent))} of {money_text(budget.amount)} {cur} spent "
        f"({status.used:.1%}) from {report.start} to {report.end - timedelta(days=1)}"
    )
    monthly = budget.period.kind == "monthly"
    until = "month end" if monthly else str(report.end - timedelta(days=1))
    span = "month" if monthly else "period"
    if basis == "actual":
        summary = f"{what} is past {float(threshold):.0%}: {spent}."
    else:
        month_end = money_text(_cents(status.forecast or ZERO))
        summary = (
            f"{what} is forecast to pass {float(threshold):.0%}: {month_end} {cur} by {until}."
        )
    lines = [] if basis == "actual" else [spent[:1].upper() + spent[1:] + "."]
    if report.forecast is not None:
        lines.append(
            f"Forecast for the {span}: {money_text(_cents(report.forecast.month_end))} {cur} "
            f"({report.forecast.method})."
        )
    if report.crossing is not None:
        lines.append(f"100 % is reached on {report.crossing.isoformat()}.")
    return {
        "summary": summary,
        "description": " ".join(lines),
        "budget": budget.name,
        "scope": str(budget.scope),
        "spent": money_text(status.spent),
        "amount": money_text(budget.amount),
        "currency": cur,
        "threshold": money_text(threshold),
        **({"forecast": money_text(status.forecast)} if status.forecast is not None else {}),
        **({"crossing_date": report.crossing.isoformat()} if report.crossing else {}),
    }


def _cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"))


# --- the pre-call check -------------------------------------------------------------------


class BudgetChecks:
    """Pre-call checks of every namespace, safe to call from request threads.

    One guard per namespace (budget names are unique only within one), rebuilt by
    :meth:`refresh` from fresh reports and kept current between refreshes by :meth:`record`.
    Only budgets in the price table's currency are enforced (a call is priced in it).
    """

    def __init__(self, table: PriceTable) -> None:
        """Start with no budgets: every call is allowed until the first refresh."""
        self._table = table
        self._empty = BudgetGuard([], table, {})  # building one indexes the whole price table
        self._guards: dict[str, BudgetGuard] = {}
        self._lock = threading.Lock()

    def refresh(self, reports: Sequence[BudgetReport]) -> None:
        """Rebuild every guard from the current period's spend of each budget."""
        by_ns: dict[str, list[BudgetReport]] = {}
        for report in reports:
            by_ns.setdefault(report.budget.scope.namespace, []).append(report)
        guards = {ns: self._guard(mine) for ns, mine in by_ns.items()}
        with self._lock:
            self._guards = guards

    def refresh_namespace(self, namespace: str, reports: Sequence[BudgetReport]) -> None:
        """Rebuild one namespace's guard from its reports."""
        guard = self._guard([r for r in reports if r.budget.scope.namespace == namespace])
        with self._lock:
            self._guards[namespace] = guard

    def _guard(self, reports: Sequence[BudgetReport]) -> BudgetGuard:
        enforced = [r for r in reports if r.budget.currency == self._table.currency and _current(r)]
        spent = {r.budget.name: r.status.spent for r in enforced}
        return BudgetGuard([r.budget for r in enforced], self._table, spent)

    def record(self, namespace: str, service: str, amount: Decimal, currency: str) -> None:
        """Add a recorded run's cost to the budgets that cover it (until the next refresh)."""
        if currency != self._table.currency:
            return
        with self._lock:
            guard = self._guards.get(namespace)
            if guard is not None:
                guard.record(namespace, service, amount)

    def check(
        self, namespace: str, service: str, model: str, input_tokens: int, output_tokens: int
    ) -> Decision:
        """Whether a call may go ahead (``output_tokens`` is the call's output limit)."""
        with self._lock:
            guard = self._guards.get(namespace, self._empty)
            return guard.check(namespace, service, model, input_tokens, output_tokens)


def _current(report: BudgetReport) -> bool:
    return report.start <= report.today < report.end


# --- the monitor: what the server runs -----------------------------------------------------

GUARD_MAX_AGE: Final = 60_000
"""A namespace's guard older than this is rebuilt before a check (replicas that do not tick)."""


@dataclass
class BudgetMonitor:
    """Budgets of every namespace, evaluated each tick, alerting and guarding calls.

    Attributes:
        store: Budgets set through the API or CLI.
        ledger: Recorded spend.
        services: The applied services (their spec budgets).
        checks: The pre-call guards.
        alerts: Where alerts go (``AlertPipeline.observe_alerts``); ``None`` raises none.
        max_age: How old a namespace's guard may be before a check rebuilds it.
    """

    store: BudgetStore
    ledger: CostLedger
    services: Callable[[], Sequence[Service]]
    checks: BudgetChecks
    alerts: Callable[[str, Sequence[Alert], Millis], None] | None = None
    max_age: Millis = GUARD_MAX_AGE
    _fresh: dict[str, Millis] = field(init=False, default_factory=dict)
    _lock: threading.Lock = field(init=False, default_factory=threading.Lock)

    def reports(self, namespace: str | None, now: Millis) -> list[BudgetReport]:
        """Where every budget (of one namespace) stands at ``now``."""
        budgets = gather_budgets(self.store, self.services(), namespace)
        return evaluate_budgets(budgets, self.ledger, now)

    def tick(self, at: Millis) -> list[BudgetReport]:
        """Evaluate every budget: refresh the guards and hand the alerts to the pipeline."""
        reports = self.reports(None, at)
        self.checks.refresh(reports)
        with self._lock:
            self._fresh = dict.fromkeys({r.budget.scope.namespace for r in reports}, at)
            self._fresh[""] = at  # namespaces without budgets are fresh too
        if self.alerts is not None:
            self.alerts(ALERT_SOURCE, budget_alerts(reports, at), at)
        return reports

    def changed(self, namespace: str) -> None:
        """A budget of ``namespace`` was set or deleted: rebuild its guard at the next check."""
        with self._lock:
            self._fresh[namespace] = -self.max_age - 1

    def record(self, namespace: str, service: str, amount: Decimal, currency: str) -> None:
        """A run was recorded: count its cost in the guards until the next refresh."""
        self.checks.record(namespace, service, amount, currency)

    def check(
        self,
        namespace: str,
        service: str,
        model: str,
        input_tokens: int,
        output_tokens: int,
        *,
        now: Millis,
    ) -> Decision:
        """The pre-call decision, after rebuilding the namespace's guard if it is stale."""
        with self._lock:
            at = self._fresh.get(namespace, self._fresh.get("", -self.max_age - 1))
            stale = now - at > self.max_age
            if stale:
                self._fresh[namespace] = now
        if stale:
            self.checks.refresh_namespace(namespace, self.reports(namespace, now))
        return self.checks.check(namespace, service, model, input_tokens, output_tokens)
