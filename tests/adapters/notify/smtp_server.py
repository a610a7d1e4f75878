"""A minimal real SMTP server on 127.0.0.1 (RFC 5321 subset), in a thread, for the email tests.

It speaks what ``smtplib`` needs: ``EHLO``/``HELO``, ``STARTTLS`` (RFC 3207, when given a
certificate), ``AUTH PLAIN`` with an initial response (RFC 4954), ``MAIL``, ``RCPT``, ``DATA``
with dot-unstuffing, ``RSET``, ``NOOP`` and ``QUIT``. Accepted messages are kept as parsed
:class:`email.message.EmailMessage` objects; replies to ``MAIL``, ``RCPT`` and the end of
``DATA`` can be scripted to test 4yz and 5yz handling. (``aiosmtpd`` is not installed; this is
enough for a client test and keeps the dev dependencies unchanged.)
"""

from __future__ import annotations

import base64
import socketserver
import ssl
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage


@dataclass(frozen=True)
class Received:
    """One accepted message and how it came."""

    sender: str
    recipients: tuple[str, ...]
    message: EmailMessage
    tls: bool
    user: str | None


class SmtpServer(socketserver.ThreadingTCPServer):
    """The server; use :func:`smtp_server` to run one."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, tls: ssl.SSLContext | None, credentials: tuple[str, str] | None) -> None:
        super().__init__(("127.0.0.1", 0), _Session)
        self.tls = tls
        self.credentials = credentials
        self.received: list[Received] = []
        self.scripted: dict[str, deque[str]] = {"MAIL": deque(), "RCPT": deque(), "DATA": deque()}
        self.lock = threading.Lock()

    @property
    def port(self) -> int:
        """The port the server listens on."""
        return int(self.server_address[1])

    def reply_next(self, command: str, line: str) -> None:
        """Answer the next ``command`` (``MAIL``, ``RCPT`` or ``DATA`` end) with ``line``."""
        with self.lock:
            self.scripted[command].append(line)

    def scripted_reply(self, command: str, default: str) -> str:
        """The scripted reply to ``command`` if there is one, else ``default``."""
        with self.lock:
            queue = self.scripted[command]
            return queue.popleft() if queue else default


class _Session(socketserver.StreamRequestHandler):
    server: SmtpServer

    def setup(self) -> None:
        super().setup()
        self.tls = False
        self.user: str | None = None
        self.sender = ""
        self.recipients: list[str] = []

    def finish(self) -> None:
        super().finish()
        if self.tls:  # the server closes the plain socket it handed us, not our TLS wrapper
            self.connection.close()

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")
        self.wfile.flush()

    def handle(self) -> None:
        self.reply("220 127.0.0.1 ESMTP opsplane-test")
        while line := self.rfile.readline():
            verb, _, argument = line.decode().rstrip("\r\n").partition(" ")
            if not self.dispatch(verb.upper(), argument):
                return

    def dispatch(self, verb: str, argument: str) -> bool:
        """Answer one command; ``False`` ends the session."""
        handlers = {
            "EHLO": self.ehlo,
            "HELO": self.ok,
            "NOOP": self.ok,
            "RSET": self.ok,
            "STARTTLS": self.start_tls,
            "AUTH": self.authenticate,
            "MAIL": self.mail,
            "RCPT": self.rcpt,
            "DATA": self.receive_data,
        }
        if verb == "QUIT":
            self.reply("221 bye")
            return False
        handler = handlers.get(verb)
        if handler is None:
            self.reply("502 command not implemented")
        else:
            handler(argument)
        return True

    def ok(self, _argument: str) -> None:
        self.reply("250 OK")

    def ehlo(self, _argument: str) -> None:
        extensions = ["SIZE 10000000", "8BITMIME"]
        if self.server.tls is not None and not self.tls:
            extensions.append("STARTTLS")
        if self.server.credentials is not None:
            extensions.append("AUTH PLAIN")
        lines = ["127.0.0.1", *extensions]
        for line in lines[:-1]:
            self.reply(f"250-{line}")
        self.reply(f"250 {lines[-1]}")

    def mail(self, argument: str) -> None:
        self.sender = argument.partition(":")[2].strip().split()[0].strip("<>")
        self.recipients = []
        self.reply(self.server.scripted_reply("MAIL", "250 OK"))

    def rcpt(self, argument: str) -> None:
        reply = self.server.scripted_reply("RCPT", "250 OK")
        if reply.startswith("2"):
            self.recipients.append(argument.partition(":")[2].strip().strip("<>"))
        self.reply(reply)

    def start_tls(self, _argument: str) -> None:
        assert self.server.tls is not None
        self.reply("220 ready to start TLS")
        wrapped = self.server.tls.wrap_socket(self.connection, server_side=True)
        self.connection = self.request = wrapped
        self.rfile = wrapped.makefile("rb")
        self.wfile = wrapped.makefile("wb")
        self.tls = True

    def authenticate(self, argument: str) -> None:
        mechanism, _, response = argument.partition(" ")
        expected = self.server.credentials
        if mechanism.upper() != "PLAIN" or expected is None:
            self.reply("504 unrecognized authentication type")
            return
        _, user, password = base64.b64decode(response).decode().split("\0")
        if (user, password) == expected:
            self.user = user
            self.reply("235 2.7.0 authentication successful")
        else:
            self.reply("535 5.7.8 authentication credentials invalid")

    def receive_data(self, _argument: str) -> None:
        if not self.recipients:
            self.reply("503 need RCPT first")
            return
        self.reply("354 end data with <CR><LF>.<CR><LF>")
        lines: list[bytes] = []
        while (line := self.rfile.readline()) not in (b".\r\n", b""):
            lines.append(line[1:] if line.startswith(b"..") else line)
        reply = self.server.scripted_reply("DATA", "250 OK queued")
        if reply.startswith("2"):
            data = b"".join(lines).replace(b"\r\n", b"\n")  # wire line ends to Python's
            message = message_from_bytes(data, policy=policy.default)
            received = Received(self.sender, tuple(self.recipients), message, self.tls, self.user)
            with self.server.lock:
                self.server.received.append(received)
        self.reply(reply)


@contextmanager
def smtp_server(
    tls: ssl.SSLContext | None = None, credentials: tuple[str, str] | None = None
) -> Iterator[SmtpServer]:
    """A running server (STARTTLS when ``tls`` is given, AUTH when ``credentials`` are)."""
    server = SmtpServer(tls, credentials)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
