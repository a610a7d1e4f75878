"""The proxy's ASGI app: forward each request to the backend the balancer picks.

A request keeps its method, path, query, headers (less the hop-by-hop ones of RFC 9110
section 7.6.1, and ``Host``, which becomes the backend's as nginx's ``proxy_pass`` does by
default) and body, streamed both ways. ``X-Forwarded-For``, ``-Host`` and ``-Proto`` tell the
backend who asked. When the backend cannot be reached the client gets a 502 problem JSON
(RFC 9457), and 504 when it does not answer in time; both count as the backend's 5xx.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, MutableMapping
from typing import Any

import httpx

from opsplane.adapters.traffic.balancer import Balancer

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"proxy-connection",  # not standard, but sent by old clients (RFC 9110 7.6.1)
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
    }
)
PROBLEM_TYPE = b"application/problem+json"

log = logging.getLogger(__name__)


class ClientGoneError(Exception):
    """The client disconnected before its request body was read."""


class ForwardingApp:
    """An ASGI app that sends each HTTP request to one backend of one service.

    Args:
        service: The service behind the proxy (for messages).
        backends: Base URL per backend name; a path in it prefixes the request's.
        balancer: Picks the backend and counts the outcome.
        timeout: Connect and read timeouts towards the backends.
    """

    def __init__(
        self,
        service: str,
        backends: Mapping[str, httpx.URL],
        balancer: Balancer,
        timeout: httpx.Timeout,
    ) -> None:
        self._service = service
        self._backends = dict(backends)
        self._balancer = balancer
        self._timeout = timeout
        self._transport: httpx.AsyncHTTPTransport | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve lifespan and HTTP scopes (WebSockets are not proxied)."""
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
        elif scope["type"] == "http":
            await self._forward(scope, receive, send)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        # The client belongs to the server's event loop: opened and closed on it.
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self._transport = httpx.AsyncHTTPTransport(
                    limits=httpx.Limits(max_connections=256, max_keepalive_connections=64),
                )
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._transport is not None:
                    await self._transport.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _forward(self, scope: Scope, receive: Receive, send: Send) -> None:
        transport = self._transport
        assert transport is not None, "the proxy serves only between startup and shutdown"
        name = self._balancer.pick()
        if name is None:
            detail = f"no traffic split is set for {self._service!r}"
            await _problem(send, 503, "Service Unavailable", detail)
            return
        # A bare Request, not build_request: the backend must see only the client's headers,
        # not the client object's defaults (Accept-Encoding, User-Agent).
        request = httpx.Request(
            scope["method"],
            _target(self._backends[name], scope),
            headers=_request_headers(scope),
            content=_body(receive) if _has_body(scope) else None,
            extensions={"timeout": self._timeout.as_dict()},
        )
        try:
            response = await transport.handle_async_request(request)
        except ClientGoneError:
            return
        except httpx.TimeoutException as exc:
            await self._fail(
                send, name, 504, "Gateway Timeout", f"timed out ({type(exc).__name__})"
            )
            return
        except httpx.TransportError as exc:
            await self._fail(send, name, 502, "Bad Gateway", f"unreachable ({type(exc).__name__})")
            return
        self._balancer.record(name, response.status_code)
        try:
            await _relay(response, send)
        except httpx.TransportError as exc:
            # The status line has gone out: all that is left is to cut the connection.
            log.warning("backend %r of %r broke off its answer: %r", name, self._service, exc)
        finally:
            await response.aclose()

    async def _fail(self, send: Send, name: str, status: int, title: str, reason: str) -> None:
        self._balancer.record(name, status, failed=True)
        await _problem(send, status, title, f"backend {name!r} of {self._service!r} {reason}")


def _target(base: httpx.URL, scope: Scope) -> httpx.URL:
    raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
    query: bytes = scope.get("query_string", b"")
    prefix = base.raw_path.split(b"?", 1)[0].rstrip(b"/")
    return base.copy_with(raw_path=prefix + raw_path + (b"?" + query if query else b""))


def _request_headers(scope: Scope) -> list[tuple[bytes, bytes]]:
    """The client's end-to-end headers, then this hop's ``X-Forwarded-*``."""
    headers: list[tuple[bytes, bytes]] = scope["headers"]  # names are lower case (ASGI)
    named = {
        token.strip()
        for name, value in headers
        if name == b"connection"
        for token in value.lower().split(b",")
    }
    ours = {b"host", b"x-forwarded-for", b"x-forwarded-host", b"x-forwarded-proto"}
    kept = [(name, value) for name, value in headers if name not in HOP_BY_HOP | named | ours]
    # The client chain grows by this hop's client, as nginx's $proxy_add_x_forwarded_for.
    chain = [value for name, value in headers if name == b"x-forwarded-for"]
    if client := scope.get("client"):
        chain.append(str(client[0]).encode())
    if chain:
        kept.append((b"x-forwarded-for", b", ".join(chain)))
    host = next((value for name, value in headers if name == b"host"), None)
    if host is not None:
        kept.append((b"x-forwarded-host", host))
    kept.append((b"x-forwarded-proto", str(scope.get("scheme", "http")).encode()))
    return kept


def _has_body(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"transfer-encoding" or (name == b"content-length" and value.strip() != b"0"):
            return True
    return False


async def _body(receive: Receive) -> AsyncIterator[bytes]:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGoneError
        body: bytes = message.get("body", b"")
        if body:
            yield body
        if not message.get("more_body", False):
            return


async def _relay(response: httpx.Response, send: Send) -> None:
    headers = [
        (name.lower(), value)
        for name, value in response.headers.raw
        if name.lower() not in HOP_BY_HOP
    ]
    await send({"type": "http.response.start", "status": response.status_code, "headers": headers})
    async for chunk in response.aiter_raw():
        await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _problem(send: Send, status: int, title: str, detail: str) -> None:
    body = json.dumps({"type": "about:blank", "title": title, "status": status, "detail": detail})
    payload = body.encode()
    headers = [(b"content-type", PROBLEM_TYPE), (b"content-length", str(len(payload)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload, "more_body": False})
