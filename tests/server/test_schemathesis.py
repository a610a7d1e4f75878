"""Property tests of the whole API from its OpenAPI document (schemathesis, in-process ASGI).

Every operation is called with generated valid and invalid input (Schemathesis' positive and
negative modes, through its examples, coverage and fuzzing phases), with a read-write token of
``payments`` and without one. Whatever the input, the server must never answer 5xx, and every
4xx must be an RFC 9457 problem: ``application/problem+json`` with ``type``, ``title``,
``status`` (the HTTP status) and ``detail``.

Random path parameters would almost never name something that exists, so dictionaries steer
them (most of the time, not always) to the namespace, service, SLO, silence and incident the
fixture created: the generated bodies then reach the handlers instead of stopping at a 404.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator, Mapping

import pytest
import schemathesis
from schemathesis import BaseSchema, Case, Response
from schemathesis.checks import not_a_server_error

from opsplane.domain.incidents import open_or_join
from opsplane.server.app import create_app
from tests.server.conftest import Server, spec

MAX_EXAMPLES = 25
SEED = 20240611
PROBLEM_FIELDS = {"type", "title", "status", "detail"}
SILENCE = {
    "matchers": [{"name": "alertname", "value": "CheckoutAvailability"}],
    "endsAt": "2999-01-01T00:00:00Z",
    "createdBy": "test",
    "comment": "schemathesis",
}
EVENT = {"service": "checkout", "slo": "availability", "good": 1, "total": 1}
DELIVERY = "delivery: {strategy: canary, steps: [50, 100], pause: manual}\n"
RUN = {
    "run_id": "r-1",
    "service": "checkout",
    "actions": 1200,
    "llm": [{"model": "gpt-4o-mini", "input_tokens": 12000, "output_tokens": 800}],
}
BUDGET = {"amount": "500", "currency": "USD"}
# OpenMetrics is text: send generated bodies as they are, like text/plain.
schemathesis.serializer.alias("application/openmetrics-text", "text/plain")


def assert_problem(label: str, status: int, headers: Mapping[str, str], body: bytes) -> None:
    """A 4xx is problem JSON whose ``status`` is the HTTP status (``headers`` in lower case)."""
    if not 400 <= status < 500:  # the client-error range
        return
    label = f"{label} -> {status}"
    content_type = headers.get("content-type", "")
    assert content_type.split(";")[0] == "application/problem+json", f"{label}: {content_type}"
    if status == 405:  # RFC 9110 section 15.5.6
        assert headers.get("allow"), f"{label}: no Allow header"
    if label.startswith("HEAD "):
        return  # no body
    found = json.loads(body)
    assert isinstance(found, dict), f"{label}: {found!r}"
    assert not PROBLEM_FIELDS - found.keys(), f"{label}: no {PROBLEM_FIELDS - found.keys()}"
    assert found["status"] == status, f"{label}: body status {found['status']}"


def problem_json(_ctx: schemathesis.CheckContext, response: Response, case: Case) -> None:
    """The schemathesis check: :func:`assert_problem` on every response."""
    headers = {name.lower(): values[0] for name, values in response.headers.items() if values}
    label = f"{case.method} {case.formatted_path}"
    assert_problem(label, response.status_code, headers, response.content)


@pytest.fixture
def statuses() -> Iterator[Counter[int]]:
    """The statuses answered, printed after the test (how deep the generated cases got)."""
    seen: Counter[int] = Counter()
    yield seen
    print(f"\n{sum(seen.values())} cases, statuses: {dict(sorted(seen.items()))}")


def _targets(server: Server) -> dict[str, list[str]]:
    """A silence and an incident in ``payments`` (and one in ``search``) to aim at."""
    rt = server.runtime
    spare = server.client.post(
        "/api/v1/namespaces/payments/services",
        content=spec("cart", "payments"),
        headers={**server.auth("payments"), "Content-Type": "application/yaml"},
    )
    assert spare.status_code == 201, spare.text
    silence = server.client.post(
        "/api/v1/namespaces/payments/silences",
        json=SILENCE,
        headers=server.auth("payments"),
    )
    assert silence.status_code == 201, silence.text
    web = server.client.post(
        "/api/v1/namespaces/payments/services",
        content=spec("web", "payments") + DELIVERY,
        headers={**server.auth("payments"), "Content-Type": "application/yaml"},
    )
    assert web.status_code == 201, web.text
    rollout = server.client.post(
        "/api/v1/namespaces/payments/rollouts",
        json={"service": "web", "version": "v2", "stable_version": "v1"},
        headers=server.auth("payments"),
    )
    assert rollout.status_code == 201, rollout.text
    run = server.client.post(
        "/api/v1/namespaces/payments/runs", json=RUN, headers=server.auth("payments")
    )
    assert run.status_code in (200, 201), run.text
    budget = server.client.put(
        "/api/v1/namespaces/payments/budgets/monthly",
        json=BUDGET,
        headers=server.auth("payments"),
    )
    assert budget.status_code in (200, 201), budget.text
    incident_ids = []
    for namespace in ("payments", "search"):
        incident, _ = open_or_join(
            [],
            group_key=f"{{}}:{{namespace={namespace!r}}}",
            alert="Availability",
            severity="P1",
            at=rt.clock.now_ms(),
            new_id=f"inc-{namespace}",
            namespace=namespace,
        )
        rt.incidents.save_incident(incident)
        incident_ids.append(incident.id)
    return {
        "namespaces": ["payments"],
        "services": ["checkout", "query"],
        "spare": ["cart"],  # DELETE may delete it; the others stay for the later operations
        "slos": ["availability"],
        "slo_ids": ["checkout-availability", "query-availability"],
        "silences": [silence.json()["id"]],
        "incidents": incident_ids,
        "rollouts": [rollout.json()["id"]],
        "runs": [RUN["run_id"]],
        "budgets": ["monthly"],
        "models": ["gpt-4o-mini"],
    }


def _config(targets: dict[str, list[str]]) -> schemathesis.Config:
    often = 0.8  # how often a parameter takes a dictionary value instead of a generated one
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "generation": {
                "mode": "all",
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,
                "database": "none",
            },
            "dictionaries": {name: {"values": values} for name, values in targets.items()},
            "parameters": {
                "path.namespace": {"dictionary": "namespaces", "probability": often},
                "path.name": {"dictionary": "services", "probability": often},
                "path.slo_id": {"dictionary": "slo_ids", "probability": often},
                "path.silence_id": {"dictionary": "silences", "probability": often},
                "path.incident_id": {"dictionary": "incidents", "probability": often},
                "path.rollout_id": {"dictionary": "rollouts", "probability": often},
                "path.run_id": {"dictionary": "runs", "probability": often},
                "body.model": {"dictionary": "models", "probability": often},
                "body.service": {"dictionary": "services", "probability": often},
                "body.events[*].service": {"dictionary": "services", "probability": often},
                "body.events[*].slo": {"dictionary": "slos", "probability": often},
            },
            "operations": [
                {
                    "include-name": "DELETE /api/v1/namespaces/{namespace}/services/{name}",
                    "parameters": {
                        "path.name": {"dictionary": "spare", "probability": often},
                    },
                },
                {
                    "include-path-regex": "/budgets/",
                    "parameters": {
                        "path.name": {"dictionary": "budgets", "probability": often},
                    },
                },
            ],
        }
    )


@pytest.fixture
def api(server: Server) -> BaseSchema:
    """The API's schema, calling an app on the fixture's runtime (whose app runs the loops)."""
    app = create_app(server.runtime, start=False)
    return schemathesis.openapi.from_asgi("/openapi.json", app, config=_config(_targets(server)))


schema = schemathesis.pytest.from_fixture("api")


@schema.parametrize()
def test_every_operation_with_a_token_answers_without_5xx_and_with_problem_json(
    case: schemathesis.Case, server: Server, statuses: Counter[int]
) -> None:
    response = case.call_and_validate(
        headers=server.auth("payments"), checks=[not_a_server_error, problem_json]
    )
    statuses[response.status_code] += 1


@schema.parametrize()
def test_every_operation_without_a_token_answers_without_5xx_and_with_problem_json(
    case: schemathesis.Case, statuses: Counter[int]
) -> None:
    response = case.call_and_validate(checks=[not_a_server_error, problem_json])
    statuses[response.status_code] += 1


# Inputs that generated cases rarely reach, each of which once got a 5xx (and the first three
# stored something that then failed every listing showing it).
EDGES = {
    "a silence ending in the year 10000 UTC": (
        "POST",
        "/silences",
        {**SILENCE, "endsAt": "9999-12-31T23:59:59-14:00"},
        422,
    ),
    "a silence starting in the year 0 UTC": (
        "POST",
        "/silences",
        {**SILENCE, "startsAt": "0001-01-01T00:00:00+14:00"},
        422,
    ),
    "a deployment in the year 10000 UTC": (
        "POST",
        "/deployments",
        {"service": "checkout", "version": "v1", "startedAt": "9999-12-31T23:59:59-14:00"},
        422,
    ),
    "a spec with an escaped lone surrogate": (
        "POST",
        "/services",
        spec("cart", "payments").replace(
            "runbook: https://runbooks.example/cart", 'runbook: "\\ud800"'
        ),
        422,
    ),
    "a spec nested 10,000 levels deep": ("POST", "/services", "a: " + "[" * 10_000, 422),
    "events with a timestamp in 2099": (
        "POST",
        "/events",
        {"events": [{**EVENT, "timestamp": "2099-01-01T00:00:00Z"}]},
        422,
    ),
    "events overflowing the counters": (
        "POST",
        "/events",
        {"events": [{**EVENT, "good": 1e308, "total": 1e308}] * 2},
        422,
    ),
    "PUT on a collection": ("PUT", "/services", None, 405),
    "a body that is not UTF-8": ("POST", "/silences", b'{"comment": "\xff"}', 400),
    "a body that is not JSON": ("POST", "/events", b"{events: [", 422),
}


@pytest.mark.parametrize(("method", "path", "body", "status"), EDGES.values(), ids=EDGES.keys())
def test_edge_inputs_are_problems_and_leave_every_listing_working(
    server: Server, method: str, path: str, body: object, status: int
) -> None:
    headers = server.auth("payments")
    url = f"/api/v1/namespaces/payments{path}"
    if isinstance(body, dict):
        response = server.client.request(method, url, json=body, headers=headers)
    else:
        kind = "application/yaml" if isinstance(body, str) else "application/json"
        headers["Content-Type"] = kind
        response = server.client.request(method, url, content=body, headers=headers)
    assert response.status_code == status, response.text
    lowered = {name.lower(): value for name, value in response.headers.items()}
    assert_problem(f"{method} {url}", status, lowered, response.content)
    for listing in ("/services", "/silences", "/deployments", "/incidents", "/slos"):
        listed = server.client.get(f"/api/v1/namespaces/payments{listing}", headers=headers)
        assert listed.status_code == 200, f"{listing}: {listed.text}"
