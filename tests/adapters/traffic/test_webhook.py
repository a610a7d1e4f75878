"""The webhook router posts each split to a real local HTTP server and retries what is transient."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from opsplane.adapters.traffic.webhook import WebhookRouter, WebhookRouterConfig
from opsplane.errors import DatasourceError, UsageError
from tests.adapters.notify.http_server import RecordingServer, Reply, recording_server

SPLIT = {"stable": 95, "canary": 5}
SECRET_PATH = "/hooks/traffic?token=s3cret"


@pytest.fixture
def server() -> Iterator[RecordingServer]:
    """A recording endpoint answering 200 unless scripted otherwise."""
    with recording_server() as running:
        yield running


@pytest.fixture
def waits() -> list[float]:
    """The seconds the router waited between attempts (it never really sleeps here)."""
    return []


@pytest.fixture
def router(server: RecordingServer, waits: list[float]) -> Iterator[WebhookRouter]:
    config = WebhookRouterConfig(url=server.url(SECRET_PATH), token="t0ken", timeout=2.0)
    with WebhookRouter(config, sleep=waits.append) as running:
        yield running


def test_a_split_is_posted_as_json_with_the_bearer_token_and_kept_once_acknowledged(
    server: RecordingServer, router: WebhookRouter
) -> None:
    assert router.weights("checkout") == {}
    router.set_weights("checkout", SPLIT)
    (request,) = server.requests
    assert (request.method, request.path) == ("POST", SECRET_PATH)
    assert request.headers["content-type"] == "application/json"
    assert request.headers["authorization"] == "Bearer t0ken"
    assert request.json() == {"service": "checkout", "weights": {"stable": 95, "canary": 5}}
    assert router.weights("checkout") == SPLIT
    assert router.weights("payments") == {}


def test_a_503_is_retried_with_backoff_until_acknowledged(
    server: RecordingServer, router: WebhookRouter, waits: list[float]
) -> None:
    server.answer(Reply(503), Reply(503))
    router.set_weights("checkout", SPLIT)
    assert [r.status for r in server.requests] == [503, 503, 200]
    assert len(waits) == 2
    assert 0 <= waits[0] <= 0.25
    assert 0 <= waits[1] <= 0.5
    assert router.weights("checkout") == SPLIT


def test_retry_after_is_honoured_up_to_the_backoff_cap(
    server: RecordingServer, router: WebhookRouter, waits: list[float]
) -> None:
    server.answer(Reply(429, headers={"Retry-After": "2"}), Reply(503, {"Retry-After": "600"}))
    router.set_weights("checkout", SPLIT)
    assert waits[0] >= 2.0
    assert waits[1] == 4.0, "a rollback is not held for ten minutes"


def test_a_split_still_failing_after_the_last_attempt_raises_and_is_not_acknowledged(
    server: RecordingServer, router: WebhookRouter, waits: list[float]
) -> None:
    router.set_weights("checkout", {"stable": 100})
    server.answer(*[Reply(502, body=b"upstream gone")] * 4)
    with pytest.raises(DatasourceError) as raised:
        router.set_weights("checkout", SPLIT)
    assert str(raised.value) == (
        "split of 'checkout' not applied (after 4 attempts): traffic webhook at"
        f" http://127.0.0.1:{server.port}: HTTP 502 Bad Gateway: upstream gone"
    )
    assert len(server.requests) == 5
    assert len(waits) == 3
    assert router.weights("checkout") == {"stable": 100}


def test_a_refused_split_is_not_retried(
    server: RecordingServer, router: WebhookRouter, waits: list[float]
) -> None:
    server.answer(Reply(422, body=b"unknown backend canary"))
    with pytest.raises(DatasourceError, match=r"not retryable.*HTTP 422.*unknown backend"):
        router.set_weights("checkout", SPLIT)
    assert (len(server.requests), waits) == (1, [])
    assert router.weights("checkout") == {}


def test_an_unreachable_endpoint_is_retried_then_raises(waits: list[float]) -> None:
    with recording_server() as gone:
        url = gone.url(SECRET_PATH)
    config = WebhookRouterConfig(url=url, timeout=1.0)
    with (
        WebhookRouter(config, sleep=waits.append) as router,
        pytest.raises(DatasourceError, match=r"after 4 attempts.*ConnectError"),
    ):
        router.set_weights("checkout", SPLIT)
    assert len(waits) == 3


def test_a_slow_endpoint_times_out_and_is_retried(
    server: RecordingServer, waits: list[float]
) -> None:
    server.answer(Reply(delay_s=1.0))
    config = WebhookRouterConfig(url=server.url("/"), timeout=0.3)
    with WebhookRouter(config, sleep=waits.append) as router:
        router.set_weights("checkout", SPLIT)
    assert len(server.requests) == 2
    assert router.weights("checkout") == SPLIT


def test_the_url_and_token_come_from_the_environment_or_a_file(
    server: RecordingServer, tmp_path: Path
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("from-file\n")
    config = WebhookRouterConfig(url_env="TRAFFIC_HOOK", token_file=str(token_file))
    environ = {"TRAFFIC_HOOK": server.url(SECRET_PATH)}
    with WebhookRouter(config, environ=environ) as router:
        router.set_weights("checkout", SPLIT)
    assert server.requests[0].headers["authorization"] == "Bearer from-file"


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (WebhookRouterConfig(), "give exactly one of traffic.webhook.url"),
        (WebhookRouterConfig(url_env="TRAFFIC_HOOK"), "TRAFFIC_HOOK is not set"),
        (WebhookRouterConfig(url="http://h", token_env="NO_TOKEN"), "NO_TOKEN is not set"),
    ],
    ids=["no URL at all", "an unset URL variable", "an unset token variable"],
)
def test_a_secret_that_cannot_be_resolved_fails_at_construction(
    config: WebhookRouterConfig, message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        WebhookRouter(config, environ={})


def test_an_invalid_split_is_refused_before_anything_is_sent(
    server: RecordingServer, router: WebhookRouter
) -> None:
    with pytest.raises(UsageError, match="add up to 90"):
        router.set_weights("checkout", {"stable": 90})
    assert server.requests == []


def test_neither_the_url_path_nor_the_token_reaches_the_log(
    server: RecordingServer, router: WebhookRouter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server.answer(Reply(503, body=b"echo: /hooks/traffic?token=s3cret t0ken"))
    router.set_weights("checkout", SPLIT)
    assert caplog.records, "httpx logs each request"
    assert "s3cret" not in caplog.text
    assert "t0ken" not in caplog.text


def test_a_shared_client_is_left_open(server: RecordingServer) -> None:
    with httpx.Client() as shared:
        WebhookRouter(WebhookRouterConfig(url=server.url("/")), shared).close()
        assert shared.post(server.url("/")).status_code == 200
