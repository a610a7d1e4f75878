"""HTTP answers are classified for retry, and secrets never reach a message or a log record."""

from __future__ import annotations

import logging
import socket
from pathlib import Path

import httpx
import pytest

from opsplane.adapters.notify import (
    PagerDutyConfig,
    PagerDutyReceiver,
    SlackConfig,
    SlackReceiver,
    WebhookConfig,
    WebhookReceiver,
    redact_url,
    resolve_secret,
)
from opsplane.domain.notify import ReceiverError
from opsplane.errors import UsageError
from tests.adapters.notify.factories import notification
from tests.adapters.notify.http_server import RecordingServer, Reply

SLACK_PATH = "/services/T0SECRET/B0SECRET/xoxSECRETxox"
ROUTING_KEY = "pdROUTINGsecret0123456789abcdef0"


def failure(server: RecordingServer, client: httpx.Client, reply: Reply) -> ReceiverError:
    """What the webhook receiver raises when the server answers ``reply``."""
    server.answer(reply)
    webhook = WebhookReceiver(WebhookConfig("ops", url=server.url("/hook")), client)
    with pytest.raises(ReceiverError) as caught:
        webhook.send(notification())
    return caught.value


@pytest.mark.parametrize(
    ("status", "retryable"),
    [
        (408, True),
        (429, True),
        (500, True),
        (502, True),
        (503, True),
        (400, False),
        (401, False),
        (403, False),
        (404, False),
        (410, False),
        (302, False),
    ],
    ids=str,
)
def test_408_429_and_5xx_are_retried_other_statuses_are_not(
    server: RecordingServer, client: httpx.Client, status: int, retryable: bool
) -> None:
    assert failure(server, client, Reply(status)).retryable is retryable


def test_retry_after_in_seconds_is_passed_on(server: RecordingServer, client: httpx.Client) -> None:
    error = failure(server, client, Reply(429, {"Retry-After": "7"}))
    assert (error.retryable, error.retry_after_ms) == (True, 7_000)


def test_retry_after_as_a_date_is_read_against_the_servers_date(
    server: RecordingServer, client: httpx.Client
) -> None:
    headers = {
        "Retry-After": "Thu, 01 Jan 2026 00:02:00 GMT",
        "Date": "Thu, 01 Jan 2026 00:00:30 GMT",
    }
    error = failure(server, client, Reply(503, headers))
    assert (error.retryable, error.retry_after_ms) == (True, 90_000)


def test_an_unreadable_retry_after_leaves_the_delay_to_the_backoff(
    server: RecordingServer, client: httpx.Client
) -> None:
    error = failure(server, client, Reply(429, {"Retry-After": "soon"}))
    assert (error.retryable, error.retry_after_ms) == (True, None)


def test_a_refused_connection_is_retried(client: httpx.Client) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    webhook = WebhookReceiver(WebhookConfig("ops", url=f"http://127.0.0.1:{port}/x"), client)
    with pytest.raises(
        ReceiverError, match=r"^webhook 'ops' at http://127\.0\.0\.1:\d+: ConnectError"
    ) as caught:
        webhook.send(notification())
    assert caught.value.retryable


def test_a_timeout_is_retried(server: RecordingServer, client: httpx.Client) -> None:
    server.answer(Reply(200, delay_s=0.5))
    config = WebhookConfig("ops", url=server.url("/slow"), timeout=0.1)
    with pytest.raises(ReceiverError, match="timed out") as caught:
        WebhookReceiver(config, client).send(notification())
    assert caught.value.retryable


def test_an_unsupported_scheme_is_permanent(client: httpx.Client) -> None:
    webhook = WebhookReceiver(WebhookConfig("ops", url="ftp://files.example/hook"), client)
    with pytest.raises(ReceiverError, match="unsupported URL scheme") as caught:
        webhook.send(notification())
    assert not caught.value.retryable


def test_a_slack_url_reaches_neither_logs_nor_errors_even_when_echoed(
    server: RecordingServer, client: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    slack = SlackReceiver(SlackConfig("chat", url=server.url(SLACK_PATH)), client)
    slack.send(notification())
    server.answer(Reply(500, body=f"no service at {SLACK_PATH}".encode()))
    with pytest.raises(ReceiverError) as caught:
        slack.send(notification())
    assert "SECRET" not in str(caught.value)
    assert str(caught.value) == (
        f"slack 'chat' at http://127.0.0.1:{server.port}: "
        "HTTP 500 Internal Server Error: no service at <redacted>"
    )
    assert "HTTP Request: POST <redacted>" in caplog.text  # httpx did log, redacted
    assert "SECRET" not in caplog.text


def test_a_routing_key_reaches_neither_logs_nor_errors_even_when_echoed(
    server: RecordingServer, client: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    config = PagerDutyConfig("pager", routing_key_env="PD_KEY", url=server.url("/v2/enqueue"))
    pager = PagerDutyReceiver(config, client, environ={"PD_KEY": ROUTING_KEY})
    server.answer(Reply(400, body=f'{{"errors":["unknown routing key {ROUTING_KEY}"]}}'.encode()))
    with pytest.raises(ReceiverError) as caught:
        pager.send(notification())
    assert ROUTING_KEY not in str(caught.value)
    assert "<redacted>" in str(caught.value)
    assert ROUTING_KEY not in caplog.text
    assert server.requests[0].json()["routing_key"] == ROUTING_KEY


class TestSecrets:
    def test_a_secret_comes_from_the_environment(self) -> None:
        assert resolve_secret("k", env="HOOK", environ={"HOOK": "https://x/y"}) == "https://x/y"

    def test_a_secret_file_is_read_and_stripped(self, tmp_path: Path) -> None:
        path = tmp_path / "hook"
        path.write_text("https://hooks.example/abc\n")
        assert resolve_secret("k", file=str(path)) == "https://hooks.example/abc"

    @pytest.mark.parametrize(
        ("sources", "message"),
        [
            ({}, "give exactly one of k, k_env or k_file"),
            ({"value": "a", "env": "B"}, "give exactly one of k, k_env or k_file"),
            ({"env": "UNSET_VARIABLE"}, "the environment variable UNSET_VARIABLE is not set"),
            ({"file": "/nonexistent/hook"}, "cannot read /nonexistent/hook"),
            ({"value": ""}, "the secret is empty"),
        ],
        ids=[
            "no source at all",
            "two sources",
            "an unset variable",
            "a missing file",
            "an empty value",
        ],
    )
    def test_a_secret_that_cannot_be_resolved_is_a_usage_error(
        self, sources: dict[str, str], message: str
    ) -> None:
        with pytest.raises(UsageError, match=message):
            resolve_secret("k", environ={}, **sources)

    @pytest.mark.parametrize(
        ("url", "shown"),
        [
            ("https://hooks.slack.com/services/T/B/X", "https://hooks.slack.com"),
            ("http://user:pw@127.0.0.1:8080/x?token=y", "http://127.0.0.1:8080"),
            ("not a url", "<redacted>"),
        ],
        ids=["a path is hidden", "user info, port kept, query hidden", "garbage is hidden"],
    )
    def test_a_url_is_shown_as_scheme_and_host_only(self, url: str, shown: str) -> None:
        assert redact_url(url) == shown
