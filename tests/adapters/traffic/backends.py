"""Real local HTTP backends for the proxy tests: each answers its own name, or echoes.

A backend is a ``ThreadingHTTPServer`` on ``127.0.0.1:0`` speaking HTTP/1.1 with keep-alive
(the proxy keeps its connections open, as it would to a real service):

- ``/echo...``: a JSON echo of the request (method, path with query, headers, body);
- any other path: its own name as text, with the status in :attr:`Backend.status`.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Backend:
    """One running backend; use :func:`backend` to run one."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.status = 200
        """The status of the non-echo answers (set 503 to play a failing canary)."""
        self.delay_s = 0.0
        """How long to wait before answering (to outlast the proxy's timeout)."""
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._http.daemon_threads = True
        self._thread = threading.Thread(target=self._http.serve_forever, args=(0.05,))

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self._http.server_address[1]}"

    def start(self) -> None:
        """Serve on a thread."""
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and release the port."""
        self._http.shutdown()
        self._http.server_close()
        self._thread.join(timeout=5)


def _handler_for(backend: Backend) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, so the proxy reuses its connections
        disable_nagle_algorithm = True  # headers and body go out as two writes

        def _answer(self) -> None:
            if backend.delay_s:
                threading.Event().wait(backend.delay_s)
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length) if length else b""
            if self.path.startswith("/echo"):
                status, content_type = 200, "application/json"
                payload = json.dumps(
                    {
                        "backend": backend.name,
                        "method": self.command,
                        "path": self.path,
                        "headers": [[name.lower(), value] for name, value in self.headers.items()],
                        "body": body.decode("utf-8"),
                    }
                ).encode()
            else:
                status, content_type = backend.status, "text/plain"
                payload = backend.name.encode()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self._send(status, content_type, payload)  # unless the proxy gave up waiting

        def _send(self, status: int, content_type: str, payload: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("X-Backend", backend.name)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        def do_GET(self) -> None:
            self._answer()

        def do_HEAD(self) -> None:
            self._answer()

        def do_POST(self) -> None:
            self._answer()

        def do_PUT(self) -> None:
            self._answer()

        def do_PATCH(self) -> None:
            self._answer()

        def do_DELETE(self) -> None:
            self._answer()

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the tests count answers instead."""

    return Handler


@contextmanager
def backend(name: str) -> Iterator[Backend]:
    """A running backend answering ``name``; stopped on exit."""
    server = Backend(name)
    server.start()
    try:
        yield server
    finally:
        server.stop()
