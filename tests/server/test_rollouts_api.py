"""The rollouts API in-process: start, promote, abort and watch, with the server's coordinator.

The server runs its loops (``tests/server/conftest.py``), so every rollout started here is
moved on by the coordinator thread of ``opsplane serve``, with the default router, which only
records the weights. Waits are polls bounded in time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from opsplane.domain import incidents as inc
from tests.server.conftest import Server, spec

BASE = "/api/v1/namespaces/payments/rollouts"
MANUAL = "delivery:\n  steps: [10, 100]\n  pause: manual\n"
TIMED = "delivery:\n  steps: [50, 100]\n  pause: 1s\n"
START = {"service": "cart", "version": "v2", "stable_version": "v1", "author": "ana"}


def apply(server: Server, name: str, delivery: str) -> None:
    response = server.client.post(
        "/api/v1/namespaces/payments/services",
        content=spec(name, "payments") + delivery,
        headers={**server.auth("payments"), "Content-Type": "application/yaml"},
    )
    assert response.status_code == 201, response.text


def wait_for(
    server: Server, rollout_id: str, done: Callable[[dict[str, Any]], bool], within_s: float = 10
) -> dict[str, Any]:
    """Poll the rollout until ``done`` holds (fails after ``within_s``)."""
    deadline = time.monotonic() + within_s
    while True:
        found = server.client.get(f"{BASE}/{rollout_id}", headers=server.auth("payments")).json()
        if done(found):
            return found
        assert time.monotonic() < deadline, f"rollout never got there: {found}"
        time.sleep(0.02)


def settled(phase: str) -> Callable[[dict[str, Any]], bool]:
    """In ``phase``, with every command carried out (the phase is saved before them)."""
    return lambda r: r["phase"] == phase and not r["pending"]


def start(server: Server, body: dict[str, Any] = START) -> dict[str, Any]:
    response = server.client.post(BASE, json=body, headers=server.auth("payments"))
    assert response.status_code == 201, response.text
    started: dict[str, Any] = response.json()
    return started


def routed(server: Server, service: str) -> dict[str, int]:
    return dict(server.runtime.rollouts.coordinator.router.weights(service))


def test_the_servers_coordinator_takes_a_rollout_started_through_the_api_to_100_percent(
    server: Server,
) -> None:
    apply(server, "cart", TIMED)
    began = time.monotonic()
    started = start(server)
    assert started["phase"] == "Progressing"
    assert started["step"]["current"] == {"kind": "set_weight", "weight": 50}
    half = wait_for(server, started["id"], lambda r: r["canary_weight"] == 50)
    assert half["weights"] == {"stable": 50, "canary": 50}
    assert half["phase"] == "Paused"
    done = wait_for(server, started["id"], settled("Completed"))
    elapsed = time.monotonic() - began
    assert done["weights"] == {"stable": 0, "canary": 100}
    assert (done["pending"], done["active"], done["waiting_for_controller"]) == ([], False, False)
    assert routed(server, "cart") == {"stable": 0, "canary": 100}
    assert 1.0 <= elapsed < 5.0, elapsed  # one 1 s pause, and no idle wait of the loop
    deployments = server.client.get(
        "/api/v1/namespaces/payments/deployments", headers=server.auth("payments")
    ).json()
    assert {d["version"] for d in deployments} >= {"v2 canary 50%", "v2 canary 100%", "v2"}


def test_a_manual_rollout_is_promoted_to_the_end_and_then_refuses_more(server: Server) -> None:
    apply(server, "cart", MANUAL)
    rollout_id = start(server)["id"]
    paused = wait_for(server, rollout_id, settled("Paused"))
    assert paused["canary_weight"] == 10
    assert routed(server, "cart") == {"stable": 90, "canary": 10}

    again = server.client.post(BASE, json=START, headers=server.auth("payments"))
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    assert rollout_id in again.json()["detail"]

    promoted = server.client.post(
        f"{BASE}/{rollout_id}/promote", json={"full": True}, headers=server.auth("payments")
    )
    assert promoted.status_code == 200, promoted.text
    wait_for(server, rollout_id, settled("Completed"))
    assert routed(server, "cart") == {"stable": 0, "canary": 100}
    ended = server.client.post(f"{BASE}/{rollout_id}/promote", headers=server.auth("payments"))
    assert ended.status_code == 409
    assert ended.json()["detail"] == f"rollout {rollout_id} is Completed; it cannot be promoted"
    listed = server.client.get(BASE, params={"active": "true"}, headers=server.auth("payments"))
    assert listed.json() == []
    everything = server.client.get(
        BASE, params={"service": "cart"}, headers=server.auth("payments")
    )
    assert [r["id"] for r in everything.json()] == [rollout_id]


def test_an_abort_rolls_back_and_reaches_the_services_open_incident(server: Server) -> None:
    apply(server, "cart", MANUAL)
    opened, _ = inc.open_or_join(
        [],
        group_key='{}:{alertname="CartAvailability",service="cart"}',
        alert="CartAvailability",
        severity="P1",
        at=server.runtime.clock.now_ms(),
        new_id="incident-1",
        namespace="payments",
    )
    server.runtime.incidents.save_incident(opened)
    rollout_id = start(server)["id"]
    wait_for(server, rollout_id, settled("Paused"))
    aborted = server.client.post(
        f"{BASE}/{rollout_id}/abort", json={"reason": "latency"}, headers=server.auth("payments")
    )
    assert aborted.status_code == 200, aborted.text
    assert (aborted.json()["phase"], aborted.json()["message"]) == ("Aborted", "latency")
    wait_for(server, rollout_id, lambda r: not r["active"])
    assert routed(server, "cart") == {"stable": 100, "canary": 0}
    incident = server.runtime.incidents.incident("incident-1")
    assert incident is not None
    assert incident.timeline[-1].kind == "deployment_correlated"
    assert incident.timeline[-1].detail == ("rollout of cart v2 rolled back to v1: latency")
    twice = server.client.post(f"{BASE}/{rollout_id}/abort", headers=server.auth("payments"))
    assert twice.status_code == 409


def test_another_namespace_sees_no_rollout_and_a_read_only_token_cannot_act(
    server: Server,
) -> None:
    apply(server, "cart", MANUAL)
    rollout_id = start(server)["id"]
    path = f"{BASE}/{rollout_id}"
    for who in ("search", "search-ro"):
        assert server.client.get(path, headers=server.auth(who)).status_code == 404
        assert server.client.get(BASE, headers=server.auth(who)).status_code == 404
    theirs = f"/api/v1/namespaces/search/rollouts/{rollout_id}"
    assert server.client.get(theirs, headers=server.auth("search")).status_code == 404
    for action in ("promote", "abort"):
        response = server.client.post(f"{theirs}/{action}", headers=server.auth("search"))
        assert response.status_code == 404, action
        assert response.headers["content-type"] == "application/problem+json"
        assert (
            server.client.post(f"{path}/{action}", headers=server.auth("search")).status_code == 404
        )
        read_only = server.client.post(f"{path}/{action}", headers=server.auth("payments-ro"))
        assert read_only.status_code == 403, action
    assert server.client.get(path, headers=server.auth("payments-ro")).status_code == 200
    assert (
        server.client.post(BASE, json=START, headers=server.auth("payments-ro")).status_code == 403
    )
    cross = server.client.post(
        "/api/v1/namespaces/search/rollouts",
        json={**START, "service": "cart"},
        headers=server.auth("search"),
    )
    assert cross.status_code == 404
    assert server.client.get(theirs.rsplit("/", 1)[0], headers=server.auth("search")).json() == []
    assert wait_for(server, rollout_id, settled("Paused"))["canary_weight"] == 10


@pytest.mark.parametrize(
    ("body", "status", "detail"),
    [
        pytest.param({"service": "cart"}, 422, "body.version: Field required", id="missing fields"),
        pytest.param({**START, "version": "v 2"}, 422, "body.version", id="a version with a space"),
        pytest.param({**START, "extra": 1}, 422, "body.extra", id="an unknown field"),
        pytest.param(
            {**START, "service": "checkout"},
            422,
            "service checkout has no delivery: section",
            id="a service without a delivery section",
        ),
        pytest.param(
            {**START, "service": "nope"}, 404, "no service 'nope'", id="an unknown service"
        ),
        pytest.param(
            {**START, "stable_version": "v2"}, 422, "is the stable version", id="the same version"
        ),
    ],
)
def test_a_bad_start_is_problem_json_and_starts_nothing(
    server: Server, body: dict[str, Any], status: int, detail: str
) -> None:
    apply(server, "cart", MANUAL)
    response = server.client.post(BASE, json=body, headers=server.auth("payments"))
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert detail in response.json()["detail"]
    assert server.client.get(BASE, headers=server.auth("payments")).json() == []


def test_bad_promote_and_abort_bodies_are_problem_json(server: Server) -> None:
    apply(server, "cart", MANUAL)
    rollout_id = start(server)["id"]
    bad: list[tuple[str, Any]] = [
        ("promote", {"full": [1]}),
        ("promote", {"fully": True}),
        ("abort", {"reason": ""}),
        ("abort", {"reason": "x" * 2000}),
        ("abort", [1, 2]),
    ]
    for action, body in bad:
        response = server.client.post(
            f"{BASE}/{rollout_id}/{action}", json=body, headers=server.auth("payments")
        )
        assert response.status_code == 422, (action, body, response.text)
        assert response.json()["status"] == 422
    unauthenticated = httpx.Headers({"Authorization": "Bearer nope"})
    assert server.client.get(BASE, headers=unauthenticated).status_code == 401
    assert wait_for(server, rollout_id, settled("Paused"))["message"] == ("paused until promoted")
