"""The built-in weighted reverse proxy, between a real client and two real local backends."""

from __future__ import annotations

import contextlib
import http.client
import itertools
import threading
from collections import Counter

import httpx
import pytest

from opsplane.adapters.traffic import BackendStats, ProxyRouter
from opsplane.errors import UsageError
from tests.adapters.traffic.backends import Backend, backend
from tests.adapters.traffic.conftest import SERVICE

STEPS = [5, 25, 50, 100, 0]
"""The default canary steps (docs/spec.md ``delivery.steps``) and the rollback to 0."""
REQUESTS_PER_STEP = 2_000
"""5 steps x 2,000 = 10,000 requests judged against the weights, in about 10 s. 10,000 per
step (50,000 requests) gives the same exact counts but takes over a minute of both CPUs: the
proxy spends about 1 ms of CPU per request (uvicorn's h11 and httpx), and smooth weighted
round-robin is exact over every 100 requests whatever the total (``test_split.py``)."""
TOLERANCE_PP = 2.0


def split(canary_percent: int) -> dict[str, int]:
    return {"stable": 100 - canary_percent, "canary": canary_percent}


def answers(client: httpx.Client, count: int, path: str = "/") -> Counter[str]:
    """Who answered each of ``count`` requests, by the body (each backend answers its name)."""
    return Counter(client.get(path).text for _ in range(count))


def test_the_observed_split_is_within_2_points_of_each_step_over_10000_requests_in_all(
    proxy: ProxyRouter,
) -> None:
    # A stdlib keep-alive connection costs the client a fraction of what an httpx.Client
    # does per request, and the proxy's own cost is what is being measured.
    host, port = proxy.url.removeprefix("http://").split(":")
    with contextlib.closing(http.client.HTTPConnection(host, int(port), timeout=10)) as connection:
        for weight in STEPS:
            proxy.set_weights(SERVICE, split(weight))
            seen: Counter[str] = Counter()
            for _ in range(REQUESTS_PER_STEP):
                connection.request("GET", "/")
                seen[connection.getresponse().read().decode()] += 1
            assert sum(seen.values()) == REQUESTS_PER_STEP
            observed = 100 * seen["canary"] / REQUESTS_PER_STEP
            assert abs(observed - weight) <= TOLERANCE_PP, f"step {weight}%: canary {observed}%"
            # Smooth weighted round-robin is exact over every 100 requests, not only close.
            assert seen["canary"] == weight * REQUESTS_PER_STEP // 100
    total = len(STEPS) * REQUESTS_PER_STEP
    canary_total = sum(STEPS) * REQUESTS_PER_STEP // 100
    assert proxy.stats() == {
        "stable": BackendStats(requests=total - canary_total),
        "canary": BackendStats(requests=canary_total),
    }


def test_a_new_split_applies_from_the_next_request(
    proxy: ProxyRouter, client: httpx.Client
) -> None:
    assert answers(client, 10) == {"stable": 10}
    proxy.set_weights(SERVICE, split(100))
    assert client.get("/").text == "canary"
    proxy.set_weights(SERVICE, split(0))
    assert client.get("/").text == "stable"


def test_a_5_percent_canary_gets_every_20th_request_not_a_burst(
    proxy: ProxyRouter, client: httpx.Client
) -> None:
    proxy.set_weights(SERVICE, split(5))
    order = [client.get("/").text for _ in range(100)]
    positions = [i for i, name in enumerate(order) if name == "canary"]
    assert [b - a for a, b in itertools.pairwise(positions)] == [20] * 4


def test_splits_changed_from_another_thread_while_requests_flow_lose_no_request(
    proxy: ProxyRouter, client: httpx.Client
) -> None:
    done = threading.Event()

    def flip() -> None:
        weight = 0
        while not done.is_set():
            weight = (weight + 25) % 125
            proxy.set_weights(SERVICE, split(weight))
            done.wait(0.001)

    flipper = threading.Thread(target=flip)
    flipper.start()
    try:
        statuses = Counter(client.get("/").status_code for _ in range(500))
    finally:
        done.set()
        flipper.join()
    assert statuses == {200: 500}
    assert sum(s.requests for s in proxy.stats().values()) == 500


def test_re_applying_the_split_in_effect_keeps_the_round_robin_going(
    proxy: ProxyRouter, client: httpx.Client
) -> None:
    proxy.set_weights(SERVICE, split(50))
    seen: Counter[str] = Counter()
    for _ in range(10):
        proxy.set_weights(SERVICE, split(50))  # a coordinator re-asserting its step
        seen[client.get("/").text] += 1
    assert seen == {"stable": 5, "canary": 5}


def test_a_backend_that_is_down_gets_its_share_as_502_problems_and_counted(
    stable: Backend, proxy: ProxyRouter, client: httpx.Client
) -> None:
    with backend("gone") as gone:
        dead_url = gone.url
    with ProxyRouter(SERVICE, {"stable": stable.url, "canary": dead_url}) as broken:
        broken.set_weights(SERVICE, split(50))
        with httpx.Client(base_url=broken.url) as to_broken:
            responses = [to_broken.get("/") for _ in range(4)]
        assert [r.status_code for r in responses] == [200, 502, 200, 502]
        problem = responses[1]
        assert problem.headers["content-type"] == "application/problem+json"
        assert problem.json() == {
            "type": "about:blank",
            "title": "Bad Gateway",
            "status": 502,
            "detail": "backend 'canary' of 'checkout' unreachable (ConnectError)",
        }
        assert broken.stats() == {
            "stable": BackendStats(requests=2),
            "canary": BackendStats(requests=2, server_errors=2, failures=2),
        }


def test_a_backend_slower_than_the_timeout_gets_a_504(canary: Backend) -> None:
    canary.delay_s = 1.0
    with (
        ProxyRouter(SERVICE, {"canary": canary.url}, weights={"canary": 100}, timeout=0.2) as p,
        httpx.Client(base_url=p.url) as to_proxy,
    ):
        response = to_proxy.get("/")
        assert (response.status_code, response.json()["title"]) == (504, "Gateway Timeout")
        assert p.stats()["canary"] == BackendStats(requests=1, server_errors=1, failures=1)


def test_a_backends_own_5xx_pass_through_and_count_as_its_errors(
    canary: Backend, proxy: ProxyRouter, client: httpx.Client
) -> None:
    canary.status = 503
    proxy.set_weights(SERVICE, split(25))
    statuses = Counter(client.get("/").status_code for _ in range(100))
    assert statuses == {200: 75, 503: 25}
    stats = proxy.stats()
    assert stats["canary"] == BackendStats(requests=25, server_errors=25)
    assert (stats["canary"].error_ratio, stats["stable"].error_ratio) == (1.0, 0.0)


def test_method_path_query_headers_and_body_reach_the_backend_and_its_answer_comes_back(
    canary: Backend, proxy: ProxyRouter, client: httpx.Client
) -> None:
    proxy.set_weights(SERVICE, split(100))
    response = client.put(
        "/echo/a%20b?x=1&x=2&y=%2F",
        content=b'{"order": 42}',
        headers={
            "Content-Type": "application/json",
            "X-Request-Id": "req-1",
            "Connection": "keep-alive, X-Hop",
            "X-Hop": "for the proxy only",
            "Keep-Alive": "timeout=5",
            "X-Forwarded-For": "203.0.113.7",
            "X-Forwarded-Proto": "https",
        },
    )
    assert (response.status_code, response.headers["x-backend"]) == (200, "canary")
    echoed = response.json()
    assert (echoed["method"], echoed["path"], echoed["body"]) == (
        "PUT",
        "/echo/a%20b?x=1&x=2&y=%2F",
        '{"order": 42}',
    )
    headers = dict(echoed["headers"])
    assert headers["content-type"] == "application/json"
    assert headers["x-request-id"] == "req-1"
    assert headers["content-length"] == "13"
    assert headers["host"] == canary.url.removeprefix("http://")
    assert headers["x-forwarded-host"] == proxy.url.removeprefix("http://")
    # The chain grows by this hop; the protocol is this hop's, not what the client claimed.
    assert headers["x-forwarded-for"] == "203.0.113.7, 127.0.0.1"
    assert headers["x-forwarded-proto"] == "http"
    assert not {"x-hop", "keep-alive"} & set(headers), "hop-by-hop headers are not forwarded"


@pytest.mark.parametrize("method", ["GET", "HEAD", "POST", "PATCH", "DELETE"])
def test_every_method_is_forwarded_as_it_came(
    method: str, proxy: ProxyRouter, client: httpx.Client
) -> None:
    response = client.request(method, "/echo")
    assert response.status_code == 200
    if method != "HEAD":
        assert response.json()["method"] == method


def test_a_large_body_is_streamed_through_both_ways(
    proxy: ProxyRouter, client: httpx.Client
) -> None:
    body = "x" * 3_000_000
    response = client.post("/echo", content=body.encode())
    assert response.json()["body"] == body


def test_a_backend_base_path_prefixes_the_request_path(stable: Backend) -> None:
    with (
        ProxyRouter(SERVICE, {"stable": f"{stable.url}/echo/v1/"}, weights={"stable": 100}) as p,
        httpx.Client(base_url=p.url) as to_proxy,
    ):
        assert to_proxy.get("/orders?id=7").json()["path"] == "/echo/v1/orders?id=7"


def test_without_a_split_the_proxy_answers_503(stable: Backend) -> None:
    with ProxyRouter(SERVICE, {"stable": stable.url}) as bare, httpx.Client() as to_proxy:
        response = to_proxy.get(bare.url)
        assert bare.weights(SERVICE) == {}
    assert response.status_code == 503
    assert response.json()["detail"] == "no traffic split is set for 'checkout'"


def test_weights_report_the_split_in_effect_and_nothing_for_another_service(
    proxy: ProxyRouter,
) -> None:
    proxy.set_weights(SERVICE, {"stable": 75, "canary": 25})
    assert proxy.weights(SERVICE) == {"stable": 75, "canary": 25}
    assert proxy.weights("payments") == {}


@pytest.mark.parametrize(
    ("service", "weights", "message"),
    [
        ("payments", {"stable": 100}, "this proxy fronts 'checkout', not 'payments'"),
        (SERVICE, {"stable": 90, "canary": 9}, "the weights add up to 99, not 100"),
        (SERVICE, {"stable": 90, "green": 10}, "no backend named 'green'"),
        (SERVICE, {"stable": 110, "canary": -10}, "'stable' has weight 110"),
    ],
    ids=[
        "another service is refused",
        "a split that does not add up to 100 is refused",
        "an unknown backend is refused",
        "a weight outside 0..100 is refused",
    ],
)
def test_a_split_the_proxy_cannot_route_is_refused_and_changes_nothing(
    proxy: ProxyRouter, service: str, weights: dict[str, int], message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        proxy.set_weights(service, weights)
    assert proxy.weights(SERVICE) == {"stable": 100}


@pytest.mark.parametrize(
    ("backends", "message"),
    [
        ({}, "give at least one backend"),
        ({"stable": "ftp://127.0.0.1:21"}, "needs an http"),
        ({"stable": "http://127.0.0.1:1?x=1"}, "a base URL has no query"),
    ],
    ids=["no backend", "a non-HTTP backend", "a backend URL with a query"],
)
def test_a_proxy_with_unusable_backends_is_refused(backends: dict[str, str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        ProxyRouter(SERVICE, backends)


def test_a_port_in_use_is_refused(proxy: ProxyRouter, stable: Backend) -> None:
    port = int(proxy.url.rsplit(":", 1)[1])
    second = ProxyRouter(SERVICE, {"stable": stable.url}, port=port)
    with pytest.raises(UsageError, match=r"cannot listen on 127\.0\.0\.1"):
        second.start()


def test_stopping_releases_the_port_and_a_stopped_proxy_can_stop_again(stable: Backend) -> None:
    proxy = ProxyRouter(SERVICE, {"stable": stable.url}, weights={"stable": 100})
    proxy.start()
    url = proxy.url
    proxy.stop()
    proxy.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(url)
