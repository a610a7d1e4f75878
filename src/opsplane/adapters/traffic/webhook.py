"""The webhook router: POST each split as JSON to a URL that applies it.

For traffic managers opsplane has no adapter for (a service mesh's API, an in-house load
balancer, a deploy bot): each ``set_weights`` POSTs ::

    {"service": "checkout", "weights": {"stable": 95, "canary": 5}}

and the split counts as applied once the endpoint answers 2xx. The URL is a secret like a
receiver's (inline, ``url_env`` or ``url_file``; never logged, messages show scheme and host
only), and an optional bearer token is given the same way. Failures are classified as for
notifications (:mod:`opsplane.adapters.notify.http`): timeouts, dropped connections, 408, 429
and 5xx are retried a few times with jittered exponential backoff (``Retry-After`` honoured
up to the backoff cap, so a rollback is never held for minutes); anything else, or the last
failed attempt, raises ``DatasourceError``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from random import Random

import httpx

from opsplane.adapters.closing import Closing
from opsplane.adapters.notify.base import resolve_secret
from opsplane.adapters.notify.http import DEFAULT_TIMEOUT_S, JsonPoster, http_client
from opsplane.adapters.traffic.split import check_split
from opsplane.domain.notify import ReceiverError, RetryPolicy
from opsplane.errors import DatasourceError

DEFAULT_RETRY = RetryPolicy(base_ms=250, factor=2.0, cap_ms=4_000, max_attempts=4, max_age_ms=None)
"""Four attempts, waiting at most 0.25, 0.5 and 1 s between them (full jitter; a
``Retry-After`` may stretch a wait to 4 s): enough to ride out a restarting endpoint, short
against a rollout's analysis interval."""


@dataclass(frozen=True, slots=True)
class WebhookRouterConfig:
    """Where and how the webhook router posts.

    Attributes:
        url: The endpoint (or ``url_env``/``url_file``); its path and query are secret.
        token: A bearer token for ``Authorization`` (or ``token_env``/``token_file``;
            optional).
        timeout: Seconds per attempt.
        retry: Attempts and backoff for transient failures.
    """

    url: str | None = None
    url_env: str | None = None
    url_file: str | None = None
    token: str | None = None
    token_env: str | None = None
    token_file: str | None = None
    timeout: float = DEFAULT_TIMEOUT_S
    retry: RetryPolicy = DEFAULT_RETRY


class WebhookRouter(Closing):
    """A :class:`~opsplane.ports.TrafficRouter` that hands each split to a webhook.

    Args:
        config: The endpoint, its secrets and the retry policy.
        client: An HTTP client to share (default: one of its own, closed by ``close()``).
        environ: The environment secrets are read from (``os.environ`` by default).
        sleep: Waits between attempts (injected by tests).
        rng: The jitter's randomness.

    Raises:
        UsageError: a secret cannot be resolved (at construction, not at the first step).
    """

    def __init__(
        self,
        config: WebhookRouterConfig,
        client: httpx.Client | None = None,
        *,
        environ: Mapping[str, str] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: Random | None = None,
    ) -> None:
        url = resolve_secret(
            "traffic.webhook.url",
            value=config.url,
            env=config.url_env,
            file=config.url_file,
            environ=environ,
        )
        token = _token(config, environ)
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._own_client = client is None
        self._client = http_client(config.timeout) if client is None else client
        self._poster = JsonPoster(
            self._client,
            url,
            what="traffic webhook",
            timeout=config.timeout,
            secrets=(token,) if token else (),
        )
        self._retry = config.retry
        self._sleep = sleep
        self._rng = rng or Random()  # noqa: S311 - jitter, not security
        self._acknowledged: dict[str, dict[str, int]] = {}
        self._lock = threading.Lock()

    def set_weights(self, service: str, weights: Mapping[str, int]) -> None:
        """POST the split; returns once the endpoint acknowledged it with a 2xx.

        Raises:
            UsageError: the split is invalid.
            DatasourceError: the endpoint refused it, or every attempt failed.
        """
        split = check_split(service, weights)
        body = {"service": service, "weights": split}
        with self._lock:
            attempt = 1
            while True:
                try:
                    self._poster.post(body, self._headers)
                except ReceiverError as exc:
                    if not exc.retryable or self._exhausted(attempt):
                        tries = f"after {attempt} attempts" if attempt > 1 else "not retryable"
                        message = f"split of {service!r} not applied ({tries}): {exc}"
                        raise DatasourceError(message) from exc
                    self._sleep(self._delay_ms(attempt, exc.retry_after_ms) / 1000)
                    attempt += 1
                else:
                    self._acknowledged[service] = split
                    return

    def weights(self, service: str) -> Mapping[str, int]:
        """The last split the endpoint acknowledged for ``service`` (empty before one)."""
        with self._lock:
            return dict(self._acknowledged.get(service, {}))

    def close(self) -> None:
        """Stop redacting the URL from httpx's log; close the client if it is ours."""
        self._poster.close()
        if self._own_client:
            self._client.close()

    def _exhausted(self, attempts: int) -> bool:
        limit = self._retry.max_attempts
        return limit is not None and attempts >= limit

    def _delay_ms(self, attempt: int, retry_after_ms: int | None) -> int:
        delay = self._retry.backoff_ms(attempt, self._rng)
        if retry_after_ms is not None:
            delay = max(delay, min(retry_after_ms, self._retry.cap_ms))
        return delay


def _token(config: WebhookRouterConfig, environ: Mapping[str, str] | None) -> str | None:
    if config.token is None and config.token_env is None and config.token_file is None:
        return None
    return resolve_secret(
        "traffic.webhook.token",
        value=config.token,
        env=config.token_env,
        file=config.token_file,
        environ=environ,
    )
