"""The budgets API: budgets, statuses, forecast, recommendations and the pre-call check.

The app runs in-process without its loops, on a fake clock at 2026-03-20 12:00 UTC; runs are
recorded through the cost use case (priced with the packaged LiteLLM map), as the runs API
records them.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from opsplane.app.auth import create_token
from opsplane.domain.remediation import Deployment
from opsplane.server.app import create_app
from opsplane.server.runtime import Runtime
from opsplane.testing import FakeClock
from tests.server.conftest import open_runtime, spec

NOW = int(datetime(2026, 3, 20, 12, tzinfo=UTC).timestamp()) * 1000
BASE = "/api/v1/namespaces/payments"


@dataclass
class Api:
    client: TestClient
    runtime: Runtime
    tokens: dict[str, str]
    runs: int = 0

    def auth(self, who: str = "payments") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    def record(
        self,
        day: date,
        llm: list[dict[str, Any]],
        *,
        actions: int = 0,
        compute: list[dict[str, Any]] | None = None,
    ) -> None:
        """One run of ``checkout`` at noon of ``day``."""
        self.runs += 1
        run = {
            "run_id": f"r-{self.runs}",
            "service": "checkout",
            "namespace": "payments",
            "actions": actions,
            "llm": llm,
            "compute": compute or [],
            "started_at": f"{day.isoformat()}T12:00:00Z",
        }
        self.runtime.costs.record("payments", json.dumps(run), NOW)


@pytest.fixture
def api(tmp_path: Path) -> Iterator[Api]:
    runtime = open_runtime(tmp_path)
    runtime.clock = FakeClock(NOW)  # type: ignore[assignment]
    tokens = {
        f"{ns}{suffix}": create_token(runtime.tokens, runtime.clock, ns, read_only=ro)
        for ns in ("payments", "search")
        for suffix, ro in (("", False), ("-ro", True))
    }
    with TestClient(create_app(runtime, start=False)) as client:
        found = Api(client, runtime, tokens)
        for namespace, name in (("payments", "checkout"), ("search", "query")):
            response = client.post(
                f"/api/v1/namespaces/{namespace}/services",
                content=spec(name, namespace),
                headers={**found.auth(namespace), "Content-Type": "application/yaml"},
            )
            assert response.status_code == 201, response.text
        yield found
    runtime.stop()


def steady(api: Api, per_day_actions: int, first: date, last: date) -> None:
    day = first
    while day <= last:
        api.record(day, [], actions=per_day_actions)
        day += timedelta(days=1)


# --- budgets -------------------------------------------------------------------------------


def test_a_budget_is_set_listed_with_its_status_and_deleted(api: Api) -> None:
    # 400,000 actions a day at 0.00001 each: 4 USD a day, 80 by the 20th of March.
    steady(api, 400_000, date(2026, 2, 1), date(2026, 3, 20))
    body = {"service": "checkout", "amount": "100", "alert_at": [0.5, 0.8, 1]}
    put = api.client.put(f"{BASE}/budgets/ai", json=body, headers=api.auth())
    assert put.status_code == 200, put.text
    assert put.json() == {
        "name": "ai", "namespace": "payments", "service": "checkout", "amount": "100",
        "currency": "USD", "period": "monthly", "alert_at": ["0.5", "0.8", "1"],
        "source": "stored",
    }  # fmt: skip
    listed = api.client.get(f"{BASE}/budgets", headers=api.auth("payments-ro"))
    assert listed.status_code == 200
    doc = listed.json()
    assert doc["version"] == 1
    (status,) = doc["budgets"]
    assert {k: status[k] for k in ("spent", "remaining", "used", "forecast", "crossing_date",
                                    "crossed", "forecast_crossed", "from", "to")} == {
        "spent": "80", "remaining": "20", "used": 0.8, "forecast": "124",
        "crossing_date": "2026-03-25", "crossed": ["0.5", "0.8"], "forecast_crossed": ["1"],
        "from": "2026-03-01", "to": "2026-03-31",
    }  # fmt: skip
    one = api.client.get(f"{BASE}/budgets/ai", headers=api.auth())
    assert one.json()["spent"] == "80"
    assert api.client.delete(f"{BASE}/budgets/ai", headers=api.auth()).status_code == 204
    gone = api.client.get(f"{BASE}/budgets/ai", headers=api.auth())
    assert gone.status_code == 404
    assert gone.headers["content-type"] == "application/problem+json"


def test_putting_a_budget_again_replaces_it(api: Api) -> None:
    for amount in ("100", "250.5"):
        body = {"amount": amount, "currency": "EUR", "period": "2026-01-01..2026-04-01"}
        assert api.client.put(f"{BASE}/budgets/q1", json=body, headers=api.auth()).is_success
    (status,) = api.client.get(f"{BASE}/budgets", headers=api.auth()).json()["budgets"]
    assert (status["amount"], status["period"], status["service"]) == (
        "250.5",
        "2026-01-01..2026-04-01",
        None,
    )
    assert status["forecast"] == "0"  # forecast to the period's end: no spend, none expected


def test_a_spec_budget_is_listed_and_cannot_be_deleted_here(api: Api) -> None:
    source = spec("checkout", "payments") + "costs:\n  budget: {monthly_usd: 500}\n"
    applied = api.client.post(
        f"{BASE}/services",
        content=source,
        headers={**api.auth(), "Content-Type": "application/yaml"},
    )
    assert applied.is_success, applied.text
    api.runtime.catalog_changed()
    (status,) = api.client.get(f"{BASE}/budgets", headers=api.auth()).json()["budgets"]
    assert (status["name"], status["source"], status["amount"]) == ("checkout", "spec", "500")
    deleted = api.client.delete(f"{BASE}/budgets/checkout", headers=api.auth())
    assert deleted.status_code == 404
    assert "defined in a spec's costs.budget" in deleted.json()["detail"]


# --- tenancy and bad input -----------------------------------------------------------------


def test_another_namespace_gets_404_and_a_read_only_token_403(api: Api) -> None:
    body = {"amount": "100"}
    assert api.client.put(f"{BASE}/budgets/ai", json=body, headers=api.auth()).is_success
    for method, path in (("GET", "/budgets"), ("GET", "/budgets/ai"), ("DELETE", "/budgets/ai"),
                         ("GET", "/cost/forecast"), ("GET", "/cost/recommendations")):  # fmt: skip
        response = api.client.request(method, BASE + path, headers=api.auth("search"))
        assert response.status_code == 404, (method, path)
    check = {"service": "checkout", "model": "gpt-4o", "input_tokens": 1, "output_tokens": 1}
    assert (
        api.client.post(f"{BASE}/cost/check", json=check, headers=api.auth("search")).status_code
        == 404
    )
    # search's own namespace does not see payments' budget
    own = api.client.get("/api/v1/namespaces/search/budgets", headers=api.auth("search"))
    assert own.json()["budgets"] == []
    ro = api.client.put(f"{BASE}/budgets/ai", json=body, headers=api.auth("payments-ro"))
    assert ro.status_code == 403
    assert (
        api.client.delete(f"{BASE}/budgets/ai", headers=api.auth("payments-ro")).status_code == 403
    )
    assert api.client.get(f"{BASE}/budgets").status_code == 401
    assert api.client.get(f"{BASE}/budgets/ai", headers=api.auth()).status_code == 200


@pytest.mark.parametrize(
    ("name", "body", "where"),
    [
        pytest.param("ai", {"amount": "-1"}, "amount", id="a negative amount"),
        pytest.param("ai", {"amount": "0"}, "amount", id="a zero amount"),
        pytest.param("ai", {"amount": "1", "period": "weekly"}, "period", id="an unknown period"),
        pytest.param("ai", {"amount": "1", "period": "2026-04-01..2026-01-01"}, "period",
                     id="a period that runs backwards"),
        pytest.param("ai", {"amount": "1", "alert_at": [0]}, "alert_at", id="a zero threshold"),
        pytest.param("ai", {"amount": "1", "currency": "usd"}, "currency", id="a bad currency"),
        pytest.param("ai", {"amount": "1", "colour": "red"}, "colour", id="an unknown field"),
        pytest.param("Bad_Name", {"amount": "1"}, "name", id="a bad budget name"),
        pytest.param("ai", {"amount": "1", "service": "\u0000"}, "service",
                     id="a service that is not a service name"),
    ],
)  # fmt: skip
def test_bad_budgets_get_a_422_problem_and_change_nothing(
    api: Api, name: str, body: dict[str, Any], where: str
) -> None:
    response = api.client.put(f"{BASE}/budgets/{name}", json=body, headers=api.auth())
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert where in response.text
    assert api.client.get(f"{BASE}/budgets", headers=api.auth()).json()["budgets"] == []


# --- forecast and recommendations ----------------------------------------------------------


def test_the_forecast_of_a_steady_service_and_its_budget_crossing(api: Api) -> None:
    steady(api, 400_000, date(2026, 2, 1), date(2026, 3, 20))
    api.client.put(f"{BASE}/budgets/ai", json={"amount": "100"}, headers=api.auth())
    response = api.client.get(f"{BASE}/cost/forecast?service=checkout", headers=api.auth())
    assert response.status_code == 200
    doc = response.json()
    assert (doc["through"], doc["actual"], doc["month_end"], doc["method"]) == (
        "2026-03-20",
        "80",
        "124",
        "trend+weekly",
    )
    assert doc["daily"][0] == {"day": "2026-03-21", "amount": "4"}
    assert len(doc["daily"]) == 11
    assert doc["budgets"] == [{"name": "ai", "amount": "100", "crossing_date": "2026-03-25"}]
    empty = api.client.get(f"{BASE}/cost/forecast?service=nothing", headers=api.auth()).json()
    assert (empty["month_end"], empty["daily"]) == (None, [])


def test_recommendations_name_a_cheaper_model_and_a_cost_jump_after_a_deployment(
    api: Api,
) -> None:
    deployed = datetime(2026, 3, 15, tzinfo=UTC)
    api.runtime.deployments.record_deployment(
        Deployment("checkout", "v2", int(deployed.timestamp()) * 1000)
    )
    for day in range(8, 20):
        tokens = 40_000 if day >= 15 else 10_000  # v2 sends four times the prompt
        api.record(date(2026, 3, day), [{"model": "gpt-4o", "input_tokens": tokens,
                                         "output_tokens": 500}])  # fmt: skip
    response = api.client.get(f"{BASE}/cost/recommendations", headers=api.auth("payments-ro"))
    assert response.status_code == 200
    found = response.json()["recommendations"]
    kinds = {r["kind"]: r for r in found}
    assert set(kinds) == {"cheaper-model", "cost-jump"}
    assert kinds["cheaper-model"]["detail"]["from"] == "gpt-4o"
    assert kinds["cheaper-model"]["detail"]["to"] != "gpt-4o"
    assert float(kinds["cheaper-model"]["monthly_savings"]) > 0
    jump = kinds["cost-jump"]
    assert (jump["service"], jump["detail"]["deployment"], jump["detail"]["component"]) == (
        "checkout",
        "v2",
        "llm",
    )
    assert (jump["detail"]["runs_before"], jump["detail"]["runs_after"]) == ("7", "5")


def test_recommendations_find_idle_and_oversized_compute_from_reported_utilisation(
    api: Api,
) -> None:
    for day in range(1, 21):  # 20 days, one run a day
        compute = [
            {"capability": "gpu", "seconds": 3600, "rate_per_second": "0.001",
             "utilisation": "0.01", "peak_utilisation": "0.03"},  # idle: all of it saved
            {"capability": "cpu", "seconds": 1000, "rate_per_second": "0.0001",
             "utilisation": "0.1", "peak_utilisation": "0.15" if day != 9 else "0.19"},
            {"capability": "build", "seconds": 100, "rate_per_second": "0.01"},  # no utilisation
        ]  # fmt: skip
        api.record(date(2026, 3, day), [], compute=compute)
    response = api.client.get(f"{BASE}/cost/recommendations", headers=api.auth("payments-ro"))
    found = {r["kind"]: r for r in response.json()["recommendations"]}
    assert set(found) == {"idle-compute", "oversized-compute"}
    # 20 runs over the 19 days from the first run to NOW, scaled to a month
    span = Decimal(NOW - int(datetime(2026, 3, 1, 12, tzinfo=UTC).timestamp()) * 1000) / 86_400_000
    gpu_month = Decimal("3.6") * 20 * Decimal("30.4375") / span
    idle = found["idle-compute"]
    assert idle["detail"]["capability"] == "gpu"
    assert Decimal(idle["monthly_savings"]) == pytest.approx(gpu_month, rel=Decimal("1e-6"))
    oversized = found["oversized-compute"]
    # peak 19 %: halving twice keeps it at 76 % (under 80 %), so 3/4 of the cost is saved
    assert oversized["detail"] == {"capability": "cpu", "size_factor": "0.25"}
    cpu_month = gpu_month / 36  # 0.1 instead of 3.6 per run
    assert Decimal(oversized["monthly_savings"]) == pytest.approx(
        cpu_month * Decimal("0.75"), rel=Decimal("1e-6")
    )


# --- the pre-call check --------------------------------------------------------------------


def test_the_check_allows_throttles_and_denies_by_the_budgets_spend(api: Api) -> None:
    # 9.5 USD spent this month of a 10 USD budget: throttle past 9, deny past 10.
    api.record(date(2026, 3, 2), [], actions=950_000)
    api.client.put(f"{BASE}/budgets/ai", json={"amount": "10"}, headers=api.auth())

    def decide(input_tokens: int) -> dict[str, Any]:
        body = {"service": "checkout", "model": "gpt-4o", "input_tokens": input_tokens,
                "output_tokens": 0}  # fmt: skip
        response = api.client.post(f"{BASE}/cost/check", json=body, headers=api.auth("payments-ro"))
        assert response.status_code == 200, response.text
        return dict(response.json())

    # gpt-4o input costs 2.5 USD per million tokens.
    assert decide(0)["decision"] == "throttle"  # 9.5 is past 90 % already
    deny = decide(400_000)  # +1 USD
    assert deny["decision"] == "deny"
    assert deny["estimated_cost"] == "1"
    assert deny["budget"] == "ai"
    assert "it would pass the hard limit" in deny["reason"]
    api.runtime.budget_monitor.tick(NOW)  # the evaluator's tick refreshes the guards
    assert decide(400_000)["decision"] == "deny"
    api.client.put(f"{BASE}/budgets/ai", json={"amount": "100"}, headers=api.auth())
    assert decide(400_000)["decision"] == "allow"  # a changed budget is enforced at once
    api.runtime.budget_monitor.record("payments", "checkout", Decimal(80), "USD")
    assert decide(400_000)["decision"] == "throttle"  # 89.5 + 1 of 100: past 90 %
    unknown = api.client.post(
        f"{BASE}/cost/check",
        json={"service": "checkout", "model": "no-such-model", "input_tokens": 1,
              "output_tokens": 1},
        headers=api.auth(),
    )  # fmt: skip
    assert unknown.json()["decision"] == "deny"


def test_the_check_p99_through_the_use_case_is_under_5_ms(api: Api) -> None:
    api.record(date(2026, 3, 2), [], actions=500_000)
    for i in range(20):  # a namespace with a few budgets, service and namespace scoped
        body = {"amount": "100", **({"service": "checkout"} if i % 2 else {})}
        api.client.put(f"{BASE}/budgets/b-{i:02d}", json=body, headers=api.auth())
    monitor = api.runtime.budget_monitor
    monitor.tick(NOW)
    timings = []
    for i in range(5_000):
        started = time.perf_counter()
        decision = monitor.check("payments", "checkout", "gpt-4o-mini", 1_000 + i, 500, now=NOW)
        timings.append(time.perf_counter() - started)
    assert decision.action == "allow"
    timings.sort()
    p99 = timings[int(len(timings) * 0.99)]
    print(f"budget check p99 {p99 * 1e6:.1f} us, median {timings[len(timings) // 2] * 1e6:.1f} us")
    assert p99 < 0.005


def test_the_tick_hands_budget_alerts_to_the_pipeline(api: Api) -> None:
    api.record(date(2026, 3, 2), [], actions=600_000)  # 6 of 10: past 50 %
    api.client.put(f"{BASE}/budgets/ai", json={"amount": "10"}, headers=api.auth())
    assert api.runtime.pipeline.next_wakeup() is None
    reports = api.runtime.budget_monitor.tick(NOW)
    assert [r.status.crossed[-1] for r in reports] == [0.5]
    wake = api.runtime.pipeline.next_wakeup()
    assert wake is not None
    api.runtime.pipeline.flush(wake)  # the null routing has no receivers, so nothing is sent
    assert api.runtime.pipeline.next_wakeup() is not None  # the group stays, re-armed
