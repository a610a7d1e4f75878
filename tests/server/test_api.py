"""The API end to end in-process: specs, events, status, problems and auth."""

from __future__ import annotations

import time

from tests.server.conftest import Server, spec


def test_a_service_applied_through_the_api_is_listed_and_evaluated(server: Server) -> None:
    listed = server.client.get(
        "/api/v1/namespaces/payments/services", headers=server.auth("payments")
    )
    assert [s["name"] for s in listed.json()] == ["checkout"]
    events = {"events": [{"service": "checkout", "slo": "availability", "good": 90, "total": 100}]}
    pushed = server.client.post(
        "/api/v1/namespaces/payments/events", json=events, headers=server.auth("payments")
    )
    assert pushed.json() == {"stored": 1}
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        status = server.client.get(
            "/api/v1/namespaces/payments/slos", headers=server.auth("payments")
        )
        ids = [s["id"] for s in status.json()["slos"]]
        if ids == ["checkout-availability"]:
            break
        time.sleep(0.2)
    assert ids == ["checkout-availability"]


def test_an_invalid_spec_is_problem_json_with_every_problem_and_changes_nothing(
    server: Server,
) -> None:
    broken = spec("cart", "payments").replace("objective: 99.9", "objective: 120")
    response = server.client.post(
        "/api/v1/namespaces/payments/services",
        content=broken,
        headers={**server.auth("payments"), "Content-Type": "application/yaml"},
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 422
    assert body["errors"]
    assert all("objective" in e["where"] for e in body["errors"])
    listed = server.client.get(
        "/api/v1/namespaces/payments/services", headers=server.auth("payments")
    )
    assert [s["name"] for s in listed.json()] == ["checkout"]


def test_a_service_name_owned_by_another_namespace_is_a_conflict(server: Server) -> None:
    response = server.client.post(
        "/api/v1/namespaces/search/services",
        content=spec("checkout", "search"),
        headers={**server.auth("search"), "Content-Type": "application/yaml"},
    )
    assert response.status_code == 409
    assert response.json()["title"] == "Conflict"


def test_no_token_is_401_and_a_read_only_token_cannot_write(server: Server) -> None:
    assert server.client.get("/api/v1/namespaces/payments/services").status_code == 401
    response = server.client.delete(
        "/api/v1/namespaces/payments/services/checkout", headers=server.auth("payments-ro")
    )
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"


def test_health_and_metrics_are_open(server: Server) -> None:
    assert server.client.get("/healthz").json() == {"status": "ok"}
    assert server.client.get("/readyz").status_code == 200
    metrics = server.client.get("/metrics").text
    assert "opsplane_http_requests_total" in metrics
    assert "opsplane_outbox_notifications" in metrics
    assert "opsplane_evaluation_errors_total 0.0" in metrics
    server.runtime.health.tick_errors += 1
    assert "opsplane_evaluation_errors_total 1.0" in server.client.get("/metrics").text


def test_a_body_over_the_limit_is_413_problem_json_before_it_is_read(server: Server) -> None:
    response = server.client.post(
        "/api/v1/namespaces/payments/events",
        content=b"[" * 17_000_000,
        headers={**server.auth("payments"), "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 413


def test_unknown_methods_share_one_metrics_series(server: Server) -> None:
    for method in ("BREW", "PROPFIND"):
        assert server.client.request(method, "/healthz").status_code == 405
    metrics = server.client.get("/metrics").text
    assert 'method="other",route="/healthz",status="405"} 2.0' in metrics
    assert "BREW" not in metrics


def test_a_deployment_records_its_start_and_finish(server: Server) -> None:
    body = {
        "service": "checkout",
        "version": "v2",
        "startedAt": "2026-01-01T00:00:00Z",
        "finishedAt": "2026-01-01T00:05:00Z",
    }
    auth = server.auth("payments")
    recorded = server.client.post(
        "/api/v1/namespaces/payments/deployments", json=body, headers=auth
    )
    assert recorded.status_code == 201, recorded.text
    assert recorded.json()["finishedAt"] == "2026-01-01T00:05:00Z"
    backwards = {**body, "finishedAt": "2025-12-31T23:00:00Z"}
    refused = server.client.post(
        "/api/v1/namespaces/payments/deployments", json=backwards, headers=auth
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["where"] == "request:finishedAt"
