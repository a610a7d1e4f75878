"""Tenant isolation: a token reaches its own namespace's resources and nothing else.

Every API operation is tried with a token of ``search`` on ``payments``' URLs (404, the
answer for a namespace that does not exist, so a tenant cannot even learn which namespaces
exist), with a token of ``search`` on its own URLs naming ``payments``' resources (404 too),
and with a read-only token of ``payments`` for every write (403). None of them may change
anything; the same request with ``payments``' read-write token succeeds (the control that
shows the 404 is isolation, not a broken URL). Listings never show another namespace's
silences, incidents, deployments, services or SLOs.

Two former gaps are closed and tested last: a deleted service's name stays with its namespace
(its history is keyed by the name), and a tenant's SLI queries must select its own namespace.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from opsplane.app.events import _labels, events_sli
from opsplane.domain.incidents import open_or_join
from opsplane.server.routes.oncall import _scope
from tests.server.conftest import SPEC, Server, spec

PAYMENTS_EVENTS = [_labels("payments", "checkout", "availability", o) for o in ("good", "bad")]
PROBE = "tenancy_probe_total"
PROBE_LABELS = [(("__name__", PROBE), ("namespace", ns)) for ns in ("payments", "search")]


@dataclass(frozen=True)
class Call:
    """One API request under ``/api/v1/namespaces/<ns>``; ``ok`` is the owner's status."""

    method: str
    path: str  # ``{silence}`` and ``{incident}`` name payments' silence and incident
    ok: int = 200
    json: dict[str, Any] | None = None
    text: str | None = None  # sent as ``content_type``
    content_type: str = "application/yaml"

    @property
    def writes(self) -> bool:
        return self.method != "GET"


SILENCE = {
    "matchers": [{"name": "alertname", "value": "CheckoutAvailability"}],
    "endsAt": "2999-01-01T00:00:00Z",
    "createdBy": "tenancy",
    "comment": "isolation",
}
EVENTS = {"events": [{"service": "checkout", "slo": "availability", "good": 9, "total": 10}]}
OPENMETRICS = f"# TYPE tenancy_probe counter\n{PROBE} 1 {{now}}\n# EOF\n"
PUSH_EVENTS = Call("POST", "/events", 202, json=EVENTS)

CALLS = [
    Call("GET", "/services"),
    Call("POST", "/services", 201, text=spec("cart", "payments")),
    Call("GET", "/services/checkout"),
    Call("DELETE", "/services/checkout", 204),
    Call("GET", "/slos"),
    Call("GET", "/slos/checkout-availability"),
    Call("GET", "/alerts"),
    PUSH_EVENTS,
    Call("POST", "/metrics", 202, text=OPENMETRICS, content_type="application/openmetrics-text"),
    Call("POST", "/silences", 201, json=SILENCE),
    Call("GET", "/silences"),
    Call("DELETE", "/silences/{silence}", 204),
    Call("GET", "/incidents"),
    Call("GET", "/incidents/{incident}"),
    Call("POST", "/incidents/{incident}/acknowledge", json={"by": "mallory"}),
    Call("POST", "/incidents/{incident}/resolve", json={"reason": "mallory"}),
    Call("POST", "/deployments", 201, json={"service": "checkout", "version": "v2"}),
    Call("GET", "/deployments"),
]


def ids(calls: list[Call]) -> list[str]:
    return [f"{c.method} {c.path}" for c in calls]


# Requests on a tenant's own URLs that name another tenant's service, SLO, silence or incident.
FOREIGN = [
    c
    for c in CALLS
    if f"{c.method} {c.path}"
    in {
        "GET /services/checkout",
        "DELETE /services/checkout",
        "GET /slos/checkout-availability",
        "POST /events",
        "DELETE /silences/{silence}",
        "GET /incidents/{incident}",
        "POST /incidents/{incident}/acknowledge",
        "POST /incidents/{incident}/resolve",
        "POST /deployments",
    }
]


@dataclass
class Tenancy:
    """The server with a silence and an incident in ``payments`` to aim at."""

    server: Server
    silence: str
    incident: str

    def send(self, call: Call, token: str, namespace: str = "payments") -> httpx.Response:
        if call.path.startswith("/slos/") and token.startswith(namespace):
            _wait_for_evaluation(self.server)  # an SLO not yet evaluated is a 404 too
        path = call.path.format(silence=self.silence, incident=self.incident)
        headers = self.server.auth(token)
        content = None
        if call.text is not None:
            content = call.text.replace("{now}", str(int(time.time())))
            headers["Content-Type"] = call.content_type
        return self.server.client.request(
            call.method,
            f"/api/v1/namespaces/{namespace}{path}",
            json=call.json,
            content=content,
            headers=headers,
        )

    def state(self) -> dict[str, Any]:
        """Everything any API operation could change, across namespaces."""
        rt = self.server.runtime
        return {
            "specs": sorted((s.namespace, s.name, s.source) for s in rt.specs.specs()),
            "silences": sorted(rt.silences.silences(), key=lambda s: s.id),
            "incidents": rt.incidents.incidents(limit=1000),
            "deployments": rt.deployments.deployments(0),
            "events": [rt.store.read(labels)[1].tolist() for labels in PAYMENTS_EVENTS],
            "probe": [rt.store.read(labels)[1].tolist() for labels in PROBE_LABELS],
        }


@pytest.fixture
def tenancy(server: Server) -> Tenancy:
    rt = server.runtime
    created = server.client.post(
        "/api/v1/namespaces/payments/silences", json=SILENCE, headers=server.auth("payments")
    )
    assert created.status_code == 201, created.text
    incident, _ = open_or_join(
        [],
        group_key='{}:{namespace="payments"}',
        alert="CheckoutAvailability",
        severity="P1",
        at=rt.clock.now_ms(),
        new_id="inc-payments",
        namespace="payments",
    )
    rt.incidents.save_incident(incident)
    return Tenancy(server, created.json()["id"], incident.id)


def _wait_for_evaluation(server: Server) -> None:
    """Until both namespaces' SLOs have a status (the evaluator ticks every second)."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        ids = {s.slo_id for s in server.runtime.state.latest_statuses()}
        if {"checkout-availability", "query-availability"} <= ids:
            return
        time.sleep(0.1)
    pytest.fail("the evaluator did not evaluate both SLOs within 15 s")


def _assert_problem(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("call", CALLS, ids=ids(CALLS))
def test_only_the_namespace_s_own_read_write_token_can_use(tenancy: Tenancy, call: Call) -> None:
    before = tenancy.state()
    for token in ("search", "search-ro"):
        _assert_problem(tenancy.send(call, token), 404)  # another tenant: no such namespace
    if call in FOREIGN:  # payments' resource named on search's own URLs
        response = tenancy.send(call, "search", namespace="search")
        _assert_problem(response, 422 if call.path == "/events" else 404)
    if call.writes:
        _assert_problem(tenancy.send(call, "payments-ro"), 403)
    assert tenancy.state() == before
    if not call.writes:
        assert tenancy.send(call, "payments-ro").status_code == call.ok
    control = tenancy.send(call, "payments")
    assert control.status_code == call.ok, control.text


def _listed(tenancy: Tenancy, namespace: str, path: str) -> Any:
    response = tenancy.server.client.get(
        f"/api/v1/namespaces/{namespace}{path}", headers=tenancy.server.auth(namespace)
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_listings_show_only_the_namespace_s_own_resources(tenancy: Tenancy) -> None:
    server = tenancy.server
    _wait_for_evaluation(server)
    for namespace, service in (("payments", "checkout"), ("search", "query")):
        recorded = server.client.post(
            f"/api/v1/namespaces/{namespace}/deployments",
            json={"service": service, "version": f"{namespace}-v1"},
            headers=server.auth(namespace),
        )
        assert recorded.status_code == 201, recorded.text
    searched = server.client.post(
        "/api/v1/namespaces/search/silences", json=SILENCE, headers=server.auth("search")
    )
    assert searched.status_code == 201, searched.text
    own = {"payments": tenancy.silence, "search": searched.json()["id"]}
    for namespace, service in (("payments", "checkout"), ("search", "query")):
        assert [s["name"] for s in _listed(tenancy, namespace, "/services")] == [service]
        slos = _listed(tenancy, namespace, "/slos")["slos"]
        assert [s["id"] for s in slos] == [f"{service}-availability"]
        assert [s["id"] for s in _listed(tenancy, namespace, "/silences")] == [own[namespace]]
        deployed = _listed(tenancy, namespace, "/deployments")
        assert [d["version"] for d in deployed] == [f"{namespace}-v1"]
        assert all(a["service"] == service for a in _listed(tenancy, namespace, "/alerts"))
    incidents = _listed(tenancy, "search", "/incidents")
    assert incidents["incidents"] == []
    assert incidents["mtta_seconds"] is None
    assert [i["id"] for i in _listed(tenancy, "payments", "/incidents")["incidents"]] == [
        tenancy.incident
    ]


def test_a_silence_created_by_search_naming_payments_mutes_nothing_of_payments(
    tenancy: Tenancy,
) -> None:
    server = tenancy.server
    body = {**SILENCE, "matchers": [{"name": "namespace", "value": "payments"}]}
    created = server.client.post(
        "/api/v1/namespaces/search/silences", json=body, headers=server.auth("search")
    )
    assert created.status_code == 201, created.text
    silence = server.runtime.silences.silence(created.json()["id"])
    assert silence is not None
    assert _scope("search") in silence.matchers
    now = server.runtime.clock.now_ms()
    alert = {"alertname": "CheckoutAvailability", "namespace": "payments"}
    assert not silence.mutes(alert, now)
    assert not silence.mutes({**alert, "namespace": "search"}, now)  # both matchers must match


def test_a_service_name_deleted_by_one_namespace_cannot_be_taken_by_another(
    tenancy: Tenancy,
) -> None:
    server = tenancy.server
    payments, search = server.auth("payments"), server.auth("search")
    recorded = server.client.post(
        "/api/v1/namespaces/payments/deployments",
        json={"service": "checkout", "version": "payments-secret"},
        headers=payments,
    )
    assert recorded.status_code == 201, recorded.text
    deleted = server.client.delete(
        "/api/v1/namespaces/payments/services/checkout", headers=payments
    )
    assert deleted.status_code == 204, deleted.text
    taken = server.client.post(
        "/api/v1/namespaces/search/services",
        content=spec("checkout", "search"),
        headers={**search, "Content-Type": "application/yaml"},
    )
    assert taken.status_code == 409, taken.text  # the name, and its history, stay with payments
    assert _listed(tenancy, "search", "/deployments") == []
    again = server.client.post(
        "/api/v1/namespaces/payments/services",
        content=spec("checkout", "payments"),
        headers={**payments, "Content-Type": "application/yaml"},
    )
    assert again.status_code == 201, again.text  # its own namespace may apply it again


def test_an_sli_of_search_cannot_read_the_events_payments_pushed(tenancy: Tenancy) -> None:
    server = tenancy.server
    sli = events_sli("payments", "checkout", "availability")
    spy = SPEC.format(
        name="spy",
        namespace="search",
        alert="SpyAvailability",
        error_query=sli.error_query,
        total_query=sli.total_query,
    )
    applied = server.client.post(
        "/api/v1/namespaces/search/services",
        content=spy,
        headers={**server.auth("search"), "Content-Type": "application/yaml"},
    )
    assert applied.status_code == 422, applied.text
    assert 'must have the matcher namespace=\\"search\\"' in applied.text
    assert "spy" not in [s["name"] for s in _listed(tenancy, "search", "/services")]
    deadline = time.monotonic() + 15
    ratio: float | None = None
    while ratio is None and time.monotonic() < deadline:
        pushed = tenancy.send(PUSH_EVENTS, "payments")  # 1 bad event in 10
        assert pushed.status_code == 202, pushed.text
        time.sleep(0.5)
        statuses = server.runtime.state.latest_statuses()
        spied = [s.period_error_ratio for s in statuses if s.slo_id == "spy-availability"]
        ratio = spied[0] if spied else None
    assert ratio is None, f"search's SLO read payments' error ratio {ratio}"
