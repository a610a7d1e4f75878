"""A real HTTP server on 127.0.0.1, in a thread, that records requests and answers a script.

Each request is recorded *before* it is answered (a client killed while waiting for the answer
has still delivered), then answered with the next scripted :class:`Reply`, or the default one
once the script is used up.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Reply:
    """How the server answers one request."""

    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    body: bytes = b"ok"
    delay_s: float = 0.0


@dataclass(frozen=True)
class Recorded:
    """One request as the server saw it."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes
    status: int = 0
    """The status the server answered (decided when the request was recorded)."""

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)


class RecordingServer:
    """The server; use :func:`recording_server` to run one."""

    def __init__(self, default: Reply | Callable[[], Reply]) -> None:
        self.default = default
        self.script: deque[Reply] = deque()
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._http.daemon_threads = True

    @property
    def port(self) -> int:
        """The port the server listens on."""
        return int(self._http.server_address[1])

    def url(self, path: str = "/") -> str:
        """``http://127.0.0.1:PORT/path``."""
        return f"http://127.0.0.1:{self.port}{path}"

    def answer(self, *replies: Reply) -> None:
        """Answer the next requests with ``replies``, in order."""
        with self._lock:
            self.script.extend(replies)

    def start(self) -> None:
        """Serve in a daemon thread."""
        self._thread = threading.Thread(target=self._http.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and release the port."""
        self._http.shutdown()
        self._http.server_close()
        self._thread.join(timeout=5)

    def record(self, request: Recorded) -> Reply:
        """Keep ``request`` with the status it gets; the reply to give it."""
        with self._lock:
            if self.script:
                reply = self.script.popleft()
            else:
                reply = self.default if isinstance(self.default, Reply) else self.default()
            self.requests.append(replace(request, status=reply.status))
            return reply


def _handler_for(server: RecordingServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            if len(body) < length:
                return  # the client died mid-body: never act on half a request
            headers = {name.lower(): value for name, value in self.headers.items()}
            reply = server.record(Recorded(self.command, self.path, headers, body))
            if reply.delay_s:
                threading.Event().wait(reply.delay_s)
            self.send_response_only(reply.status)
            headers = {"Date": self.date_time_string(), **reply.headers}
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            try:
                self.end_headers()
                self.wfile.write(reply.body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout test) or was killed (the fault test)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: tests read ``requests`` instead."""

    return Handler


@contextmanager
def recording_server(
    default: Reply | Callable[[], Reply] | None = None,
) -> Iterator[RecordingServer]:
    """A running server answering ``default`` (or what it returns); shut down on exit."""
    server = RecordingServer(default or Reply())
    server.start()
    try:
        yield server
    finally:
        server.stop()
