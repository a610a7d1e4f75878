"""The Costs page's budgets and savings recommendations, through FastAPI's TestClient.

As in ``test_budgets_api.py``: no loops, a fake clock at 2026-03-20 12:00 UTC, runs recorded
through the cost use case (priced with the packaged LiteLLM map). The page must show what the
budgets API answers (used, forecast, crossing date) and only the signed-in namespace's budgets.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from opsplane.app.auth import create_token
from opsplane.ports import StoredSpec
from opsplane.server.app import create_app
from opsplane.testing import FakeClock
from tests.server.conftest import Server, open_runtime, spec
from tests.server.test_console import sign_in
from tests.server.test_console_costs import cells

NOW = int(datetime(2026, 3, 20, 12, tzinfo=UTC).timestamp()) * 1000
SPEC_BUDGET = "costs:\n  budget: {monthly_usd: 500}\n"


@pytest.fixture
def idle(tmp_path: Path) -> Iterator[Server]:
    runtime = open_runtime(tmp_path)
    runtime.clock = FakeClock(NOW)  # type: ignore[assignment]
    tokens = {
        ns: create_token(runtime.tokens, runtime.clock, ns, read_only=False)
        for ns in ("payments", "search")
    }
    for namespace, name, extra in (
        ("payments", "checkout", ""),
        ("payments", "search-api", SPEC_BUDGET),
        ("search", "query", ""),
    ):
        runtime.specs.put_spec(StoredSpec(namespace, name, spec(name, namespace) + extra, 0))
    runtime.catalog_changed()
    try:
        with TestClient(create_app(runtime, start=False)) as client:
            yield Server(client, runtime, tokens)
    finally:
        runtime.stop()


def record(server: Server, day: date, llm: list[dict[str, Any]], *, actions: int = 0) -> None:
    """One run of ``checkout`` at noon of ``day``."""
    run = {
        "run_id": f"r-{day.isoformat()}-{len(llm)}-{actions}",
        "service": "checkout",
        "actions": actions,
        "llm": llm,
        "started_at": f"{day.isoformat()}T12:00:00Z",
    }
    server.runtime.costs.record("payments", json.dumps(run), NOW)


def put_budget(server: Server, namespace: str, name: str, body: dict[str, Any]) -> None:
    response = server.client.put(
        f"/api/v1/namespaces/{namespace}/budgets/{name}", json=body, headers=server.auth(namespace)
    )
    assert response.status_code == 200, response.text


def test_budgets_show_spent_used_forecast_and_crossing_date(idle: Server) -> None:
    # 400,000 actions a day at 0.00001 each: 4 USD a day, 80 by the 20th of March, 124 forecast.
    day = date(2026, 2, 1)
    while day <= date(2026, 3, 20):
        record(idle, day, [], actions=400_000)
        day += timedelta(days=1)
    put_budget(idle, "payments", "ai", {"service": "checkout", "amount": "100"})
    put_budget(idle, "search", "theirs", {"amount": "7"})
    sign_in(idle)
    html = idle.client.get("/ui/costs").text
    rows = {row[0]: row for row in cells(html, "budgets")}
    assert set(rows) == {"ai stored", "search-api from a spec"}
    assert rows["ai stored"][1:] == [
        "service checkout",
        "monthly 2026-03-01 to 2026-03-31",
        "100 USD",
        "80",
        "80%",
        "124 USD · 124%",
        "2026-03-25",
    ]
    assert rows["search-api from a spec"][1:6] == [
        "service search-api", "monthly 2026-03-01 to 2026-03-31", "500 USD", "0", "0%",
    ]  # fmt: skip
    assert rows["search-api from a spec"][7] == "not this period"
    meters = re.findall(r'<td class="gauge">.*?<meter [^>]*value="([^"]+)"', html, re.DOTALL)
    assert meters[:2] == ["0.8", "1.0"]  # used; the forecast's 124 % fills the meter
    assert "theirs" not in html


def test_no_budget_says_how_to_set_one(idle: Server) -> None:
    sign_in(idle, "search")
    html = idle.client.get("/ui/costs").text
    assert 'data-testid="budgets"' not in html
    assert "PUT /api/v1/namespaces/search/budgets/NAME" in html


def test_gpt_4o_runs_are_recommended_a_cheaper_model_with_its_monthly_savings(
    idle: Server,
) -> None:
    sign_in(idle)
    assert (
        "Nothing to recommend from the last 30 days of runs." in idle.client.get("/ui/costs").text
    )
    for day in range(8, 20):
        record(idle, date(2026, 3, day), [{"model": "gpt-4o", "input_tokens": 10_000,
                                           "output_tokens": 500}])  # fmt: skip
    api = idle.client.get(
        "/api/v1/namespaces/payments/cost/recommendations", headers=idle.auth("payments")
    ).json()["recommendations"]
    (cheaper,) = [r for r in api if r["kind"] == "cheaper-model"]
    html = idle.client.get("/ui/costs").text
    rows = cells(html, "recommendations")
    assert [
        "cheaper-model",
        "checkout",
        cheaper["summary"],
        f"{cheaper['monthly_savings']} USD",
    ] in (rows)
    assert "gpt-4o" in cheaper["summary"]
    assert float(cheaper["monthly_savings"]) > 0
