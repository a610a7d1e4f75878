"""The console's Costs page and run page, through FastAPI's TestClient.

Runs are recorded through the API (so the page shows what the API stored), on a runtime whose
loops never start. Amounts must appear exactly as recorded, per service and per run, and a
tenant must never see another's runs.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from opsplane.app.auth import create_token
from opsplane.domain.cost.model import Breakdown
from opsplane.ports import StoredSpec
from opsplane.server.app import create_app
from opsplane.server.console import cost_views
from opsplane.server.console.rendering import CSP
from tests.server.conftest import Server, open_runtime, spec
from tests.server.test_console import sign_in


@pytest.fixture
def idle(tmp_path: Path) -> Iterator[Server]:
    runtime = open_runtime(tmp_path)
    tokens = {
        ns: create_token(runtime.tokens, runtime.clock, ns, read_only=False)
        for ns in ("payments", "search")
    }
    for namespace, name in (
        ("payments", "checkout"),
        ("payments", "search-api"),
        ("search", "query"),
    ):
        runtime.specs.put_spec(StoredSpec(namespace, name, spec(name, namespace), 0))
    runtime.catalog_changed()
    try:
        with TestClient(create_app(runtime, start=False)) as client:
            yield Server(client, runtime, tokens)
    finally:
        runtime.stop()


def now_iso(minutes_ago: int = 0) -> str:
    at = datetime.fromtimestamp(time.time() - 60 * minutes_ago, tz=UTC)
    return at.isoformat().replace("+00:00", "Z")


def run(run_id: str, service: str = "checkout", **changes: Any) -> dict[str, Any]:
    """DESIGN.md's example run (0.01696 USD), started now."""
    body: dict[str, Any] = {
        "run_id": run_id,
        "service": service,
        "actions": 1200,
        "compute": [{"capability": "build", "seconds": 42.5, "rate_per_second": "0.000016"}],
        "llm": [{"model": "gpt-4o-mini", "input_tokens": 12000, "output_tokens": 800}],
        "api_fees": [{"name": "search", "usd": "0.002"}],
        "started_at": now_iso(),
    }
    return body | changes


def record(server: Server, namespace: str, runs: list[dict[str, Any]]) -> None:
    response = server.client.post(
        f"/api/v1/namespaces/{namespace}/runs",
        json={"runs": runs},
        headers={"Authorization": f"Bearer {server.tokens[namespace]}"},
    )
    assert response.status_code == 201, response.text


CELL = r"<td[^>]*>(.*?)</td>"


def cells(html: str, testid: str) -> list[list[str]]:
    """The text of each body row's cells of the table with ``data-testid``."""
    table = html.split(f'data-testid="{testid}"', 1)[1].split("</table>", 1)[0]
    body = table.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = re.findall(r"<tr>(.*?)</tr>", body, re.DOTALL)
    return [
        [
            " ".join(re.sub(r"<[^>]+>", " ", c).split())
            for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.DOTALL)
        ]
        for r in rows
    ]


def test_the_costs_page_shows_this_months_spend_per_service_with_its_components(
    idle: Server,
) -> None:
    record(
        idle,
        "payments",
        [
            run("a"),
            run("b", actions=0),
            run("c", service="search-api", llm=[], api_fees=[]),
        ],
    )
    record(idle, "search", [run("theirs", service="query", actions=99_999)])
    sign_in(idle)
    response = idle.client.get("/ui/costs")
    assert response.status_code == 200
    assert response.headers["content-security-policy"] == CSP
    html = response.text
    assert '<a href="/ui/costs" aria-current="page">Costs</a>' in html
    assert re.search(r'data-testid="month-total">0\.0346<', html)  # 0.01696 + 0.00496 + 0.01268
    assert cells(html, "service-costs") == [
        ["checkout", "0.012", "0.00136", "0.00456", "0.004", "0.02192 USD", "2"],
        ["search-api", "0.012", "0.00068", "0", "0", "0.01268 USD", "1"],
    ]
    recent = cells(html, "recent-runs")
    assert sorted(row[0] for row in recent) == ["a", "b", "c"]
    assert "theirs" not in html
    assert 'href="/ui/costs/runs/a"' in html


def test_a_run_page_lists_every_priced_line_and_the_total(idle: Server) -> None:
    record(idle, "payments", [run("r-1")])
    sign_in(idle)
    html = idle.client.get("/ui/costs/runs/r-1").text
    assert re.search(r'data-testid="run-total">0\.01696<', html)
    assert cells(html, "lines") == [
        ["Actions", "actions", "1200", "Actions", "0.00001", "0.012"],
        ["Compute", "compute/build", "42.5", "Seconds", "0.000016", "0.00068"],
        ["LLM tokens", "llm/gpt-4o-mini/input", "12000", "Tokens", "0.00000015", "0.0018"],
        ["LLM tokens", "llm/gpt-4o-mini/output", "800", "Tokens", "0.0000006", "0.00048"],
        ["API fees", "api/search", "1", "Requests", "0.002", "0.002"],
    ]
    assert "litellm 1.110.2 (packaged)" in html


def test_another_namespaces_run_and_an_unknown_run_are_the_404_page(idle: Server) -> None:
    record(idle, "search", [run("theirs", service="query")])
    sign_in(idle)
    for path in ("/ui/costs/runs/theirs", "/ui/costs/runs/nope"):
        response = idle.client.get(path)
        assert response.status_code == 404
        assert "theirs" not in response.text.split("<main>", 1)[1].replace(path, "")


def test_the_costs_pages_need_a_session(idle: Server) -> None:
    for path in ("/ui/costs", "/ui/costs/runs/a"):
        response = idle.client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/ui/login")


def test_an_empty_month_says_how_to_record_runs(idle: Server) -> None:
    sign_in(idle)
    html = idle.client.get("/ui/costs").text
    assert "No runs this month" in html
    assert "POST /api/v1/namespaces/payments/runs" in html


def test_shares_are_of_the_total_and_zero_for_a_free_run() -> None:
    shares = [p.share for p in cost_views.parts(Breakdown("USD", Decimal(1), Decimal(3)))]
    assert shares == [0.25, 0.75, 0.0, 0.0]
    assert [p.share for p in cost_views.parts(Breakdown("USD"))] == [0.0] * 4
