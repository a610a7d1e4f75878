"""JSON over HTTP for the receivers: one shared ``httpx.Client``, answers classified for retry.

An answer is judged the way the outbox needs it (the semantics Alertmanager's own notifiers
use in ``notify/util.go``, ``RetryCodes`` and ``shouldRetry``):

- 2xx: delivered.
- 408, 429 and 5xx: retryable; ``Retry-After`` (seconds, or an HTTP date read against the
  answer's ``Date``; RFC 9110 section 10.2.3) becomes a lower bound on the next delay.
- any other status (4xx, and 3xx since redirects are not followed): permanent.
- timeouts, refused or dropped connections: retryable; an unsupported URL scheme: permanent.

No message carries the target's path or query, nor a secret the poster knows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from email.utils import parsedate_to_datetime

import httpx

from opsplane import __version__
from opsplane.adapters.notify.base import (
    forget_in_httpx_log,
    redact_in_httpx_log,
    redact_url,
    scrub,
)
from opsplane.domain.notify import ReceiverError
from opsplane.types import Millis

RETRY_STATUSES = frozenset({408, 429})
BODY_EXCERPT = 200
"""How much of an error answer's body goes into the message (after scrubbing)."""
DEFAULT_TIMEOUT_S = 10.0
CONNECT_TIMEOUT_S = 5.0


def http_client(timeout: float = DEFAULT_TIMEOUT_S) -> httpx.Client:
    """The one client all HTTP receivers share: bounded timeouts, no redirects."""
    return httpx.Client(
        timeout=httpx.Timeout(timeout, connect=min(timeout, CONNECT_TIMEOUT_S)),
        follow_redirects=False,
        headers={"User-Agent": f"opsplane/{__version__}"},
    )


def retry_after_ms(response: httpx.Response) -> Millis | None:
    """The answer's ``Retry-After`` in milliseconds, or ``None`` if absent or unreadable."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    if value.isdigit():
        return int(value) * 1000
    try:
        until = parsedate_to_datetime(value)
        sent = parsedate_to_datetime(response.headers["Date"])
    except (KeyError, TypeError, ValueError):
        return None  # an HTTP date is only meaningful against the server's own clock
    return max(0, round((until - sent).total_seconds() * 1000))


class JsonPoster:
    """POSTs JSON to one (possibly secret) URL and raises :class:`ReceiverError` on failure.

    Args:
        client: The shared client.
        url: The target; its path and query are treated as secret.
        what: How messages name the receiver (``webhook 'ops'``).
        timeout: Seconds for the whole request (overrides the client's).
        secrets: Further secrets to keep out of messages (routing keys, passwords).
        auth: HTTP authentication, e.g. basic auth taken out of the URL's user info.
    """

    def __init__(
        self,
        client: httpx.Client,
        url: str,
        *,
        what: str,
        timeout: float = DEFAULT_TIMEOUT_S,
        secrets: Iterable[str] = (),
        auth: httpx.Auth | None = None,
    ) -> None:
        self._client = client
        self._url = url
        self._timeout = timeout
        self._auth = auth
        self.where = f"{what} at {redact_url(url)}"
        """How messages name the target: safe to show."""
        target = httpx.URL(url)
        # The path and query alone are secret too (an error page may echo them).
        hidden = target.raw_path.decode() if target.raw_path not in (b"", b"/") else ""
        self._secrets: tuple[str, ...] = (url, hidden, *secrets)
        redact_in_httpx_log(self._secrets)

    def close(self) -> None:
        """Stop redacting this URL from httpx's log (the client is not ours to close)."""
        if self._secrets:
            forget_in_httpx_log(self._secrets)
            self._secrets = ()

    def post(self, body: object, headers: Mapping[str, str] | None = None) -> httpx.Response:
        """Send ``body`` as JSON; returns the (2xx) answer.

        Raises:
            ReceiverError: no answer, or a non-2xx one; ``retryable`` as the module says.
        """
        try:
            response = self._client.post(
                self._url,
                json=body,
                headers=dict(headers or {}),
                timeout=self._timeout,
                auth=self._auth if self._auth is not None else httpx.USE_CLIENT_DEFAULT,
            )
        except httpx.TimeoutException as exc:
            raise self._error(f"timed out ({type(exc).__name__})", retryable=True) from exc
        except httpx.UnsupportedProtocol as exc:
            raise self._error("unsupported URL scheme", retryable=False) from exc
        except httpx.TransportError as exc:
            reason = f"{type(exc).__name__}: {scrub(str(exc), self._secrets)}"
            raise self._error(reason, retryable=True) from exc
        check_response(response, self.where, self._secrets)
        return response

    def _error(self, reason: str, *, retryable: bool) -> ReceiverError:
        return ReceiverError(f"{self.where}: {reason}", retryable=retryable)


def check_response(response: httpx.Response, where: str, secrets: Iterable[str]) -> None:
    """Return for a 2xx answer; otherwise raise :class:`ReceiverError`, classified."""
    status = response.status_code
    if 200 <= status < 300:
        return
    retryable = status in RETRY_STATUSES or status >= 500
    excerpt = scrub(response.text[:BODY_EXCERPT], secrets).strip()
    detail = f": {excerpt}" if excerpt else ""
    raise ReceiverError(
        f"{where}: HTTP {status} {response.reason_phrase}{detail}",
        retryable=retryable,
        retry_after_ms=retry_after_ms(response) if retryable else None,
    )
