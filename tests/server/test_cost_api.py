"""The cost API: recording runs, reading them back with their cost, and costs per service."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from opsplane.app.auth import create_token
from opsplane.errors import SpecError
from opsplane.ports import StoredSpec
from opsplane.server.app import create_app
from opsplane.server.runtime import Runtime, ServerSettings
from tests.server.conftest import Server, open_runtime, spec

RUNS = "/api/v1/namespaces/payments/runs"
COSTS = "/api/v1/namespaces/payments/costs"


def design_run(run_id: str = "r-1", **changes: Any) -> dict[str, Any]:
    """DESIGN.md's example run record; it costs 0.01696 USD."""
    run: dict[str, Any] = {
        "run_id": run_id,
        "service": "checkout",
        "namespace": "payments",
        "actions": 1200,
        "compute": [{"capability": "build", "seconds": 42.5, "rate_per_second": "0.000016"}],
        "llm": [{"model": "gpt-4o-mini", "input_tokens": 12000, "output_tokens": 800}],
        "api_fees": [{"name": "search", "usd": "0.002"}],
        "started_at": "2026-03-02T09:30:00Z",
    }
    return run | changes


def post(server: Server, body: Any, who: str = "payments", ns: str = "payments") -> httpx.Response:
    url = f"/api/v1/namespaces/{ns}/runs"
    response: httpx.Response = server.client.post(url, json=body, headers=server.auth(who))
    return response


def get(server: Server, path: str, who: str = "payments", **params: Any) -> httpx.Response:
    response: httpx.Response = server.client.get(path, params=params, headers=server.auth(who))
    return response


def assert_problem(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


def test_a_run_is_answered_in_the_shape_of_cost_run_json(server: Server) -> None:
    response = post(server, design_run())
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["run_id"] == "r-1"
    assert body["currency"] == "USD"
    assert body["breakdown"] == {
        "actions": "0.012",
        "compute": "0.00068",
        "llm": "0.00228",
        "api_fees": "0.002",
    }
    assert body["total"] == "0.01696"
    assert body["runs"][0]["status"] == "created"
    assert (body["created"], body["duplicates"]) == (1, 0)


def test_a_runs_metadata_carries_its_cost_breakdown_and_priced_lines(server: Server) -> None:
    post(server, design_run())
    detail = get(server, f"{RUNS}/r-1").json()
    assert detail["run_id"] == "r-1"
    assert detail["total"] == "0.01696"
    assert detail["service"] == "checkout"
    assert detail["at"] == "2026-03-02T09:30:00Z"
    assert detail["lines"][1] == {
        "component": "compute",
        "sku": "compute/build",
        "quantity": "42.5",
        "unit": "Seconds",
        "unit_price": "0.000016",
        "amount": "0.00068",
    }
    assert [line["amount"] for line in detail["lines"]] == [
        "0.012",
        "0.00068",
        "0.0018",
        "0.00048",
        "0.002",
    ]
    assert detail["run"]["actions"] == 1200
    assert detail["price_source"] == "litellm 1.110.2 (packaged)"
    assert_problem(get(server, f"{RUNS}/nope"), 404)


def test_a_batch_is_stored_whole_and_a_retry_is_200_with_duplicates(server: Server) -> None:
    batch = {"runs": [design_run(f"r-{i}") for i in range(3)]}
    first = post(server, batch)
    assert first.status_code == 201, first.text
    assert first.json()["total"] == "0.05088"
    again = post(server, batch)
    assert again.status_code == 200, again.text
    assert [r["status"] for r in again.json()["runs"]] == ["duplicate"] * 3
    listed = get(server, RUNS).json()["runs"]
    assert sorted(r["run_id"] for r in listed) == ["r-0", "r-1", "r-2"]


def test_an_invalid_batch_is_422_with_every_problem_and_stores_nothing(server: Server) -> None:
    runs = [design_run(f"ok-{i}") for i in range(3)]
    runs.append(design_run("bad", llm=[{"model": "gpt-4o-mimi", "input_tokens": 1}]))
    runs.append(design_run("bad-2", service="query"))
    body = assert_problem(post(server, {"runs": runs}), 422)
    where = [e["where"] for e in body["errors"]]
    assert where == ["request:runs[3].llm[0].model", "request:runs[4].service"]
    assert body["errors"][0]["detail"].startswith("unknown model 'gpt-4o-mimi'")
    assert "did you mean 'gpt-4o-mini'" in body["errors"][0]["detail"]
    assert get(server, RUNS).json()["runs"] == []


def test_changed_usage_under_a_recorded_run_id_is_a_409(server: Server) -> None:
    post(server, design_run())
    body = assert_problem(post(server, design_run(actions=1)), 409)
    assert "run 'r-1' is recorded already with other usage" in body["detail"]
    assert get(server, f"{RUNS}/r-1").json()["total"] == "0.01696"


def test_a_run_naming_another_namespace_or_none(server: Server) -> None:
    body = assert_problem(post(server, design_run(namespace="search")), 422)
    assert body["errors"] == [
        {
            "where": "request:namespace",
            "detail": "is 'search' but the request is for namespace 'payments'",
        }
    ]
    run = design_run()
    del run["namespace"]
    assert post(server, run).status_code == 201


@pytest.mark.parametrize(
    ("content", "where"),
    [
        (b"{", "request:line 1"),
        (b"\xff", "request:"),
        (b'{"runs": {}}', "request:runs"),
    ],
    ids=["broken JSON", "not UTF-8", "runs not a list"],
)
def test_a_malformed_body_is_a_422_problem(server: Server, content: bytes, where: str) -> None:
    response = server.client.post(
        RUNS,
        content=content,
        headers={**server.auth("payments"), "Content-Type": "application/json"},
    )
    body = assert_problem(response, 422)
    assert [e["where"] for e in body["errors"]] == [where]


def test_tenancy_another_namespace_404_read_only_403_no_token_401(server: Server) -> None:
    post(server, design_run())
    for path in (RUNS, f"{RUNS}/r-1", COSTS):
        for who in ("search", "search-ro"):
            assert_problem(get(server, path, who=who), 404)
        assert get(server, path, who="payments-ro").status_code == 200
    assert_problem(post(server, design_run("x"), who="search"), 404)
    assert_problem(post(server, design_run("x"), who="payments-ro"), 403)
    assert_problem(server.client.post(RUNS, json=design_run("x")), 401)
    assert_problem(server.client.get(COSTS), 401)
    # search's own namespace does not see payments' run of the same id
    assert_problem(get(server, "/api/v1/namespaces/search/runs/r-1", who="search"), 404)
    assert get(server, "/api/v1/namespaces/search/runs", who="search").json()["runs"] == []
    assert [r["run_id"] for r in get(server, RUNS).json()["runs"]] == ["r-1"]


def test_runs_filter_by_service_and_time_and_limit(server: Server) -> None:
    post(
        server,
        [design_run(f"r-{h}", started_at=f"2026-03-02T{h:02}:00:00Z") for h in range(10, 15)],
    )
    listed = get(server, RUNS, since="2026-03-02T11:00:00Z", until="2026-03-02T13:00:00Z")
    assert [r["run_id"] for r in listed.json()["runs"]] == ["r-12", "r-11"]
    assert [r["run_id"] for r in get(server, RUNS, limit=2).json()["runs"]] == ["r-14", "r-13"]
    assert get(server, RUNS, service="other").json()["runs"] == []
    body = assert_problem(get(server, RUNS, since="2026-03-02T11:00:00"), 422)
    assert body["errors"][0]["where"] == "request:since"
    assert_problem(get(server, RUNS, limit=0), 422)


def test_costs_per_service_sum_the_runs_exactly(server: Server) -> None:
    runs = [design_run(f"r-{i}", actions=i) for i in range(1, 4)]
    runs.append(design_run("elsewhere", started_at="2026-04-01T00:00:00Z"))
    post(server, runs)
    body = get(server, COSTS, since="2026-03-01T00:00:00Z", until="2026-04-01T00:00:00Z").json()
    assert body["since"] == "2026-03-01T00:00:00Z"
    assert body["services"] == [
        {
            "service": "checkout",
            "currency": "USD",
            "breakdown": {
                "actions": "0.00006",
                "compute": "0.00204",
                "llm": "0.00684",
                "api_fees": "0.006",
            },
            "total": "0.01494",
            "runs": 3,
        }
    ]


def test_costs_default_to_this_utc_month(server: Server) -> None:
    now = time.gmtime()
    post(server, design_run("now", started_at=None))  # no start: the time it was received
    body = get(server, COSTS).json()
    assert body["since"] == f"{now.tm_year:04}-{now.tm_mon:02}-01T00:00:00Z"
    assert [s["runs"] for s in body["services"]] == [1]


@pytest.mark.parametrize(
    "run",
    [
        design_run(started_at="9999-12-31T23:59:59-14:00"),
        design_run(started_at="0001-01-01T00:00:00+14:00"),
        design_run("a\x00b"),
        design_run("a\ud800"),
        design_run(api_fees=[{"name": f"f{i}", "usd": "1000000000"} for i in range(10)]),
    ],
    ids=[
        "a start in the year 10000 UTC",
        "a start in the year 0 UTC",
        "a NUL in the run id",
        "an escaped lone surrogate",
        "a run above what the ledger can sum",
    ],
)
def test_input_the_ledger_could_not_store_or_list_is_a_422(server: Server, run: Any) -> None:
    headers = {**server.auth("payments"), "Content-Type": "application/json"}
    content = json.dumps(run)  # escapes a lone surrogate as \ud800, which httpx cannot encode
    assert_problem(server.client.post(RUNS, content=content, headers=headers), 422)
    assert get(server, RUNS).json()["runs"] == []


def test_the_openapi_document_lists_the_cost_operations(server: Server) -> None:
    paths = server.client.get("/openapi.json").json()["paths"]
    prefix = "/api/v1/namespaces/{namespace}"
    assert set(paths[f"{prefix}/runs"]) == {"get", "post"}
    assert set(paths[f"{prefix}/runs/{{run_id}}"]) == {"get"}
    assert set(paths[f"{prefix}/costs"]) == {"get"}


def test_a_server_prices_with_the_map_it_was_given(tmp_path: Path) -> None:
    prices = tmp_path / "prices.json"
    model = '{"input_cost_per_token": 0.000001, "litellm_provider": "openai", "mode": "chat"}'
    prices.write_text(f'{{"house-model": {model}}}', encoding="utf-8")
    settings = ServerSettings(
        db_url=f"sqlite:///{tmp_path / 'state.db'}",
        metrics_dir=tmp_path / "metrics",
        prices=str(prices),
    )
    runtime = Runtime(settings)
    runtime.open()
    try:
        runtime.specs.put_spec(StoredSpec("payments", "checkout", spec("checkout", "payments"), 0))
        runtime.catalog_changed()
        run = {"run_id": "r", "service": "checkout", "actions": 0,
               "llm": [{"model": "house-model", "input_tokens": 3}]}  # fmt: skip
        (recorded,) = runtime.costs.record("payments", json.dumps(run), 0).runs
        assert recorded.priced.breakdown.llm == Decimal("0.000003")
        with pytest.raises(SpecError, match="unknown model 'gpt-4o-mini'"):
            runtime.costs.record("payments", json.dumps(design_run()), 0)
    finally:
        runtime.stop()
    missing = ServerSettings(settings.db_url, settings.metrics_dir, prices=str(tmp_path / "no"))
    with pytest.raises(SpecError, match="no such file"):
        Runtime(missing).open()


def test_a_server_prices_with_the_rate_table_it_was_given(tmp_path: Path) -> None:
    rates = tmp_path / "rates.yaml"
    rates.write_text("action_price: 0.00002\ncompute: {gpu: 0.0005}\n", encoding="utf-8")
    settings = ServerSettings(
        db_url=f"sqlite:///{tmp_path / 'state.db'}", metrics_dir=tmp_path / "metrics", rates=rates
    )
    runtime = Runtime(settings)
    runtime.open()
    try:
        runtime.specs.put_spec(StoredSpec("payments", "checkout", spec("checkout", "payments"), 0))
        runtime.catalog_changed()
        run = {"run_id": "r", "service": "checkout", "actions": 100,
               "compute": [{"capability": "gpu", "seconds": 10}]}  # fmt: skip
        (recorded,) = runtime.costs.record("payments", json.dumps(run), 0).runs
        assert recorded.priced.breakdown.actions == Decimal("0.002")
        assert recorded.priced.breakdown.compute == Decimal("0.005")
    finally:
        runtime.stop()
    bad = tmp_path / "bad.yaml"
    bad.write_text("compute: {gpu: -1}\n", encoding="utf-8")
    with pytest.raises(SpecError, match=r"compute\.gpu: must not be negative"):
        Runtime(ServerSettings(settings.db_url, settings.metrics_dir, rates=bad)).open()


def test_a_recorded_run_counts_in_the_pre_call_check_before_the_next_tick(
    tmp_path: Path,
) -> None:
    runtime = open_runtime(tmp_path)  # never started: no tick refreshes the guards
    token = create_token(runtime.tokens, runtime.clock, "payments", read_only=False)
    runtime.specs.put_spec(StoredSpec("payments", "checkout", spec("checkout", "payments"), 0))
    runtime.catalog_changed()
    headers = {"Authorization": f"Bearer {token}"}
    call = {"service": "checkout", "model": "gpt-4o-mini", "input_tokens": 20_000,
            "output_tokens": 1_000}  # fmt: skip  # 0.0036 USD
    try:
        with TestClient(create_app(runtime, start=False)) as client:
            budget = {"service": "checkout", "amount": "0.02", "currency": "USD"}
            put = client.put("/api/v1/namespaces/payments/budgets/ai", json=budget, headers=headers)
            assert put.status_code in {200, 201}, put.text

            def decision() -> str:
                found = client.post(
                    "/api/v1/namespaces/payments/cost/check", json=call, headers=headers
                )
                assert found.status_code == 200, found.text
                verdict: str = found.json()["decision"]
                return verdict

            assert decision() == "allow"
            run = design_run(started_at=None)  # 0.01696 of the 0.02: 0.00304 left
            assert client.post(RUNS, json=run, headers=headers).status_code == 201
            assert decision() != "allow"
    finally:
        runtime.stop()
