"""Budgets that act: statuses from the ledger, forecasts, alerts through the real pipeline.

Time is 2026-03-20 12:00 UTC unless a test moves it; the budget is 100 USD a month for
``payments/checkout`` with the default thresholds (50, 75, 80, 90, 100 %).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import count
from pathlib import Path

import pytest

from opsplane.app.alerting import AlertingStores, AlertPipeline
from opsplane.app.budgets import (
    ALERT_SOURCE,
    BudgetReport,
    budget_alerts,
    evaluate_budgets,
    gather_budgets,
)
from opsplane.domain.cost.budget import Budget, BudgetPeriod, BudgetScope
from opsplane.domain.cost.ledger import CostRecord
from opsplane.domain.cost.model import Breakdown
from opsplane.domain.duration import MINUTE
from opsplane.domain.notify import Notification
from opsplane.domain.routing import Matcher
from opsplane.domain.routing.silences import create
from opsplane.domain.slo import Origin, Service
from opsplane.spec.alertmanager_config import load_alertmanager_config
from opsplane.testing import (
    InMemoryBudgets,
    InMemoryCostLedger,
    InMemoryDeployments,
    InMemoryIncidents,
    InMemoryNotificationLog,
    InMemoryOutbox,
    InMemorySilences,
)
from opsplane.types import Millis

_IDS = count()


def ms(day: date, hour: int = 12) -> Millis:
    return int(datetime(day.year, day.month, day.day, hour, tzinfo=UTC).timestamp()) * 1000


NOW = ms(date(2026, 3, 20))
BUDGET = Budget("ai", BudgetScope("payments", "checkout"), Decimal(100))


def spend(
    ledger: InMemoryCostLedger,
    at: Millis,
    amount: str,
    *,
    service: str = "checkout",
    namespace: str = "payments",
    currency: str = "USD",
) -> None:
    breakdown = Breakdown(currency, llm=Decimal(amount))
    record = CostRecord(namespace, f"r-{next(_IDS)}", service, at, at, breakdown, {})
    ledger.record_costs([record])


def report_of(
    ledger: InMemoryCostLedger, budget: Budget = BUDGET, now: Millis = NOW
) -> BudgetReport:
    (report,) = evaluate_budgets([(budget, "stored")], ledger, now)
    return report


# --- statuses ------------------------------------------------------------------------------


def test_spend_this_month_counts_and_last_months_other_services_and_currencies_do_not() -> None:
    ledger = InMemoryCostLedger()
    spend(ledger, ms(date(2026, 3, 2)), "30")
    spend(ledger, ms(date(2026, 3, 19)), "12.5")
    spend(ledger, ms(date(2026, 2, 28)), "1000")  # last month
    spend(ledger, ms(date(2026, 3, 5)), "1000", service="search")
    spend(ledger, ms(date(2026, 3, 5)), "1000", namespace="other")
    spend(ledger, ms(date(2026, 3, 5)), "1000", currency="EUR")
    report = report_of(ledger)
    assert report.status.spent == Decimal("42.5")
    assert report.status.remaining == Decimal("57.5")
    assert report.status.crossed == ()
    assert (report.start, report.end) == (date(2026, 3, 1), date(2026, 4, 1))


def test_a_namespace_budget_covers_every_service_of_the_namespace() -> None:
    ledger = InMemoryCostLedger()
    spend(ledger, ms(date(2026, 3, 2)), "30")
    spend(ledger, ms(date(2026, 3, 3)), "25", service="search")
    tenant = Budget("tenant", BudgetScope("payments"), Decimal(100))
    assert report_of(ledger, tenant).status.spent == Decimal(55)


def test_spend_reaching_80_percent_fires_threshold_0_8_once() -> None:
    ledger = InMemoryCostLedger()
    spend(ledger, ms(date(2026, 3, 1)), "79.99")
    assert [a.labels["threshold"] for a in budget_alerts([report_of(ledger)], NOW)
            if a.labels["basis"] == "actual"] == ["0.75"]  # fmt: skip
    spend(ledger, ms(date(2026, 3, 1)), "0.01")
    report = report_of(ledger)
    assert report.status.crossed == (Decimal("0.5"), Decimal("0.75"), Decimal("0.8"))
    actual = [a for a in budget_alerts([report], NOW) if a.labels["basis"] == "actual"]
    assert len(actual) == 1
    assert actual[0].labels == {
        "alertname": "CostBudgetThreshold",
        "namespace": "payments",
        "service": "checkout",
        "budget": "ai",
        "basis": "actual",
        "threshold": "0.8",
        "severity": "P3",
    }
    assert actual[0].annotations["spent"] == "80"


def test_spend_past_the_whole_budget_pages() -> None:
    ledger = InMemoryCostLedger()
    spend(ledger, ms(date(2026, 3, 1)), "100")
    (alert,) = [a for a in budget_alerts([report_of(ledger)], NOW) if a.labels["basis"] == "actual"]
    assert (alert.labels["threshold"], alert.labels["severity"]) == ("1", "P1")


def test_a_steady_4_a_day_forecasts_124_and_crosses_100_on_march_25() -> None:
    ledger = InMemoryCostLedger()
    day = date(2026, 2, 1)
    while day <= date(2026, 3, 20):
        spend(ledger, ms(day, 3), "4")
        day += timedelta(days=1)
    report = report_of(ledger)
    assert report.status.spent == Decimal(80)
    assert report.forecast is not None
    assert report.forecast.method == "trend+weekly"
    assert report.status.forecast == Decimal(124)
    assert report.crossing == date(2026, 3, 25)
    assert report.status.forecast_crossed == (Decimal("0.9"), Decimal(1))
    (forecast,) = [a for a in budget_alerts([report], NOW) if a.labels["basis"] == "forecast"]
    assert forecast.labels["alertname"] == "CostBudgetForecast"
    assert forecast.labels["threshold"] == "1"
    assert forecast.labels["severity"] == "P3"
    assert forecast.annotations["crossing_date"] == "2026-03-25"
    assert forecast.annotations["forecast"] == "124"
    assert "100 % is reached on 2026-03-25." in forecast.annotations["description"]


Q1 = BudgetPeriod("custom", date(2026, 1, 1), date(2026, 4, 1))


def test_a_custom_period_counts_its_own_days_and_forecasts_to_its_end() -> None:
    ledger = InMemoryCostLedger()
    spend(ledger, ms(date(2026, 1, 10)), "40")
    spend(ledger, ms(date(2026, 3, 10)), "20")
    spend(ledger, ms(date(2026, 4, 1)), "500")  # after the period
    report = report_of(ledger, Budget("q1", BudgetScope("payments"), Decimal(100), Q1))
    assert report.status.spent == Decimal(60)
    assert report.forecast is not None
    assert report.forecast.actual == Decimal(60)
    assert [d for d, _ in report.forecast.daily] == [
        date(2026, 3, 21) + timedelta(days=i) for i in range(11)
    ]
    assert [a.labels["threshold"] for a in budget_alerts([report], NOW)] == ["0.5"]


def test_a_steady_custom_quarter_is_forecast_past_its_budget_with_the_crossing_day() -> None:
    ledger = InMemoryCostLedger()
    day = date(2026, 1, 1)
    while day <= date(2026, 3, 20):  # 79 days at 1 a day
        spend(ledger, ms(day, 3), "1")
        day += timedelta(days=1)
    report = report_of(ledger, Budget("q1", BudgetScope("payments"), Decimal(85), Q1))
    assert report.status.spent == Decimal(79)
    assert report.status.forecast == Decimal(90)  # 11 more days to March 31
    assert report.crossing == date(2026, 3, 26)  # 79 + 6
    (alert,) = [a for a in budget_alerts([report], NOW) if a.labels["basis"] == "forecast"]
    assert alert.labels["threshold"] == "1"
    assert "90 USD by 2026-03-31" in alert.annotations["summary"]


def test_a_period_that_ended_raises_no_alert() -> None:
    ledger = InMemoryCostLedger()
    spend(ledger, ms(date(2026, 1, 10)), "100")
    january = Budget("jan", BudgetScope("payments"), Decimal(100),
                     BudgetPeriod("custom", date(2026, 1, 1), date(2026, 2, 1)))  # fmt: skip
    report = report_of(ledger, january)
    assert report.status.crossed[-1] == Decimal(1)
    assert budget_alerts([report], NOW) == []


def test_a_stored_budget_replaces_the_spec_budget_of_the_same_name() -> None:
    origin = Origin("checkout.yaml", 0, "opsplane/v1", "Service")
    spec_budget = Budget("checkout", BudgetScope("default", "checkout"), Decimal(500))
    checkout = Service("checkout", (), origin, "payments", budget=spec_budget)
    search_budget = Budget("search", BudgetScope("payments", "search"), Decimal(5))
    search = Service("search", (), origin, "payments", budget=search_budget)
    store = InMemoryBudgets()
    store.put_budget(Budget("search", BudgetScope("payments"), Decimal(7)), NOW)
    found = gather_budgets(store, [checkout, search], "payments")
    assert [(b.name, str(b.scope), b.amount, source) for b, source in found] == [
        # the spec's budget is scoped to the namespace the service is applied to
        ("checkout", "payments/checkout", Decimal(500), "spec"),
        ("search", "payments", Decimal(7), "stored"),
    ]
    assert gather_budgets(store, [checkout, search], "other") == []


# --- through the alerting pipeline ---------------------------------------------------------

ROUTING = """
route:
  receiver: finops
  group_by: [namespace, alertname, budget]
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 720h
receivers:
  - name: finops
    webhook_configs: [{url: "http://127.0.0.1:9/hook"}]
"""


class Harness:
    """Budgets evaluated every minute, their alerts observed and flushed at each wakeup."""

    def __init__(self, tmp_path: Path) -> None:
        routing = tmp_path / "routing.yaml"
        routing.write_text(ROUTING)
        self.ledger = InMemoryCostLedger()
        self.outbox = InMemoryOutbox()
        self.silences = InMemorySilences()
        stores = AlertingStores(
            self.outbox,
            InMemoryIncidents(),
            self.silences,
            InMemoryDeployments(),
            InMemoryNotificationLog(),
        )
        self.pipeline = AlertPipeline([], load_alertmanager_config(routing), stores)

    def run(self, start: Millis, minutes: int) -> None:
        for at in range(start, start + minutes * MINUTE, MINUTE):
            reports = evaluate_budgets([(BUDGET, "stored")], self.ledger, at)
            self.pipeline.observe_alerts(ALERT_SOURCE, budget_alerts(reports, at), at)
            while (wake := self.pipeline.next_wakeup()) is not None and wake < at + MINUTE:
                self.pipeline.flush(wake)

    def threshold_notifications(self) -> list[Notification]:
        return [
            e.notification
            for e in self.outbox.entries()
            if e.notification.payload.group_labels["alertname"] == "CostBudgetThreshold"
        ]


def firing_thresholds(notification: Notification) -> list[str]:
    return [a.labels["threshold"] for a in notification.payload.alerts if a.status == "firing"]


def test_each_threshold_crossed_notifies_exactly_once_and_rolls_over(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    start = ms(date(2026, 3, 20), 0)
    spend(h.ledger, start, "50")
    h.run(start, 30)
    spend(h.ledger, start + 30 * MINUTE, "25")
    h.run(start + 30 * MINUTE, 30)
    spend(h.ledger, start + 60 * MINUTE, "5")
    h.run(start + 60 * MINUTE, 120)
    april = ms(date(2026, 4, 1), 0)
    h.run(april - 10 * MINUTE, 30)
    sent = h.threshold_notifications()
    assert [(n.kind, firing_thresholds(n)) for n in sent] == [
        ("firing", ["0.5"]),
        ("firing", ["0.75"]),
        ("firing", ["0.8"]),
        ("resolved", []),
    ]
    # The lower threshold resolves in the same notification that the higher one fires in.
    assert [(a.labels["threshold"], a.status) for a in sent[1].payload.alerts] == [
        ("0.75", "firing"),
        ("0.5", "resolved"),
    ]
    assert sent[2].payload.summary.startswith(
        "Budget 'ai' (payments/checkout) is past 80%: 80 of 100 USD spent (80.0%) "
        "from 2026-03-01 to 2026-03-31. Forecast for the month: "
    )
    assert sent[2].payload.severity == "P3"
    assert sent[3].payload.summary.startswith("Resolved: Budget 'ai' (payments/checkout)")


def test_a_silence_on_the_budget_mutes_its_notifications(tmp_path: Path) -> None:
    h = Harness(tmp_path)
    start = ms(date(2026, 3, 20), 0)
    silence = create(
        id="s1",
        matchers=[Matcher("=", "namespace", "payments"), Matcher("=", "budget", "ai")],
        starts_at=start,
        ends_at=start + 60 * MINUTE,
        created_by="alice",
        comment="known overrun",
        now=start,
    )
    h.silences.save_silence(silence)
    spend(h.ledger, start, "90")
    h.run(start, 50)
    assert h.outbox.entries() == []
    # Once the silence ends, the still-firing alert notifies (as Alertmanager does).
    h.run(start + 50 * MINUTE, 20)
    assert [firing_thresholds(n) for n in h.threshold_notifications()] == [["0.9"]]


@pytest.mark.parametrize("minutes", [0, 1])
def test_no_spend_raises_no_alert(minutes: int) -> None:
    ledger = InMemoryCostLedger()
    report = report_of(ledger, now=NOW + minutes * MINUTE)
    assert report.status.spent == 0
    assert budget_alerts([report], NOW) == []
