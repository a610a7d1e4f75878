"""The built-in weighted reverse proxy: a real HTTP proxy for local use and the demo.

One :class:`ProxyRouter` fronts one service: it listens on ``127.0.0.1:PORT`` and sends each
request to one of the service's backends, chosen by nginx's smooth weighted round-robin over
the split (:class:`~opsplane.adapters.traffic.split.SmoothWeightedRoundRobin`), so every 100
consecutive requests follow the split exactly. The proxy is an ASGI app
(:mod:`~opsplane.adapters.traffic.forward`, httpx towards the backends) served by uvicorn on
its own thread; ``set_weights`` applies from the next request, from any thread.

Example::

    with ProxyRouter("checkout", {"stable": "http://127.0.0.1:8001",
                                  "canary": "http://127.0.0.1:8002"}) as proxy:
        proxy.set_weights("checkout", {"stable": 95, "canary": 5})
        httpx.get(proxy.url)   # one of every 20 requests reaches the canary
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Mapping
from types import TracebackType
from typing import Self

import httpx
import uvicorn

from opsplane.adapters.traffic.balancer import BackendStats, Balancer
from opsplane.adapters.traffic.forward import ForwardingApp
from opsplane.adapters.traffic.split import check_service, check_split
from opsplane.errors import DatasourceError, UsageError

START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 10.0
GRACEFUL_SHUTDOWN_S = 5
"""How long stopping waits for requests in flight before cutting them (uvicorn)."""


class ProxyRouter:
    """A :class:`~opsplane.ports.TrafficRouter` that is itself the proxy of one service.

    Args:
        service: The service it fronts; ``set_weights`` for another service is refused.
        backends: Base URL per backend name (``{"stable": "http://127.0.0.1:8001"}``).
        weights: The split to start with; without one, requests get 503 until the first
            ``set_weights``.
        host: The address to listen on.
        port: The port to listen on (0: any free port; read :attr:`url` after ``start``).
        timeout: Seconds to wait for a backend's answer (504 after that).
        connect_timeout: Seconds to wait for a connection to a backend (502 after that).

    Raises:
        UsageError: the service name, a backend URL or the initial split is invalid.
    """

    def __init__(
        self,
        service: str,
        backends: Mapping[str, str],
        *,
        weights: Mapping[str, int] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        timeout: float = 30.0,
        connect_timeout: float = 5.0,
    ) -> None:
        self.service = check_service(service)
        self.backends: Mapping[str, str] = dict(backends)
        if not self.backends:
            raise UsageError(f"proxy of {service!r}: give at least one backend")
        urls = {name: _backend_url(service, name, url) for name, url in self.backends.items()}
        self._balancer = Balancer(urls)
        if weights is not None:
            self._balancer.set_split(check_split(service, weights, urls))
        self._app = ForwardingApp(
            service, urls, self._balancer, httpx.Timeout(timeout, connect=connect_timeout)
        )
        self._host = host
        self._port = port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._listener: socket.socket | None = None

    @property
    def url(self) -> str:
        """``http://HOST:PORT``, where clients send the service's requests."""
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self._port}"

    def set_weights(self, service: str, weights: Mapping[str, int]) -> None:
        """Route ``service``'s requests by ``weights`` from the next request on.

        Raises:
            UsageError: ``service`` is not the one this proxy fronts, or the split is invalid.
        """
        self._check_service(service)
        self._balancer.set_split(check_split(service, weights, self.backends))

    def weights(self, service: str) -> Mapping[str, int]:
        """The split in effect for ``service`` (empty before the first, or another service)."""
        return self._balancer.split() if service == self.service else {}

    def stats(self) -> Mapping[str, BackendStats]:
        """Requests, 5xx answers and failures per backend since the proxy was made."""
        return self._balancer.stats()

    def start(self) -> None:
        """Listen and serve on a background thread; returns once requests are accepted.

        Raises:
            UsageError: the address cannot be listened on (in use, not local).
            DatasourceError: the server did not start.
        """
        if self._thread is not None:
            return
        listener = self._listen()
        config = uvicorn.Config(
            self._app,
            lifespan="on",
            ws="none",
            log_config=None,  # the application's logging, not uvicorn's
            access_log=False,
            proxy_headers=False,  # X-Forwarded-* from clients are passed on, not believed
            server_header=False,  # the backend's own Server and Date headers go through
            date_header=False,
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run, args=([listener],), name=f"proxy-{self.service}", daemon=True
        )
        self._server, self._thread, self._listener = server, thread, listener
        thread.start()
        deadline = time.monotonic() + START_TIMEOUT_S
        while not server.started and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        if not server.started:
            self.stop()
            raise DatasourceError(f"proxy of {self.service!r} did not start on {self.url}")

    def stop(self) -> None:
        """Stop accepting requests, let those in flight finish (a few seconds at most)."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        server.should_exit = True
        thread.join(timeout=STOP_TIMEOUT_S + GRACEFUL_SHUTDOWN_S)
        if self._listener is not None:
            self._listener.close()  # uvicorn closes it too; this covers a failed start
        self._server = self._thread = self._listener = None

    def close(self) -> None:
        """The same as :meth:`stop`."""
        self.stop()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _listen(self) -> socket.socket:
        family = socket.AF_INET6 if ":" in self._host else socket.AF_INET
        # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say they are TCP,
        # and without it every answer (headers, then body) waits ~40 ms for a delayed ACK.
        listener = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        try:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind((self._host, self._port))
        except OSError as exc:
            listener.close()
            where = f"{self._host}:{self._port}"
            raise UsageError(f"proxy of {self.service!r}: cannot listen on {where}: {exc}") from exc
        self._port = int(listener.getsockname()[1])
        return listener

    def _check_service(self, service: str) -> None:
        if service != self.service:
            raise UsageError(f"this proxy fronts {self.service!r}, not {service!r}")


def _backend_url(service: str, name: str, url: str) -> httpx.URL:
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise UsageError(f"proxy of {service!r}: backend {name!r}: invalid URL") from exc
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise UsageError(f"proxy of {service!r}: backend {name!r}: needs an http(s) base URL")
    if parsed.query:
        raise UsageError(f"proxy of {service!r}: backend {name!r}: a base URL has no query")
    return parsed
