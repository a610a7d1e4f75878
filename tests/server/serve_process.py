"""A real ``opsplane serve`` process for tests that crash it: start, wait for ready, kill -9.

The server runs in a session of its own with its output in a log file (a pipe nobody reads
would fill up and stall it), so a failing test can show the log's tail.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 30.0


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def opsplane(*args: str, timeout: float = 60.0) -> str:
    """Run an ``opsplane`` command from the repository root; its standard output."""
    done = subprocess.run(
        [sys.executable, "-m", "opsplane", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, f"opsplane {' '.join(args)} failed:\n{done.stderr}"
    return done.stdout


class ServeProcess:
    """``opsplane serve`` on a SQLite database, its specs from ``config``, on a free port."""

    def __init__(self, db: Path, config: Path, log: Path, interval: str = "1s") -> None:
        self.db_url = f"sqlite:///{db}"
        self.metrics_dir = db.with_suffix(".metrics")  # where serve puts it beside a SQLite DB
        self.config = config
        self.log = log
        self.interval = interval
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start the server and wait until ``/readyz`` answers 200."""
        command = [
            sys.executable, "-m", "opsplane", "serve",
            "--db", self.db_url,
            "--config", str(self.config),
            "--port", str(self.port),
            "--interval", self.interval,
        ]  # fmt: skip
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                command, cwd=ROOT, stdout=log, stderr=log, start_new_session=True
            )
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        with httpx.Client(timeout=2.0) as client:
            while time.monotonic() < deadline:
                assert self.process is not None
                if self.process.poll() is not None:
                    raise AssertionError(
                        f"serve exited with {self.process.returncode}:\n{self.tail()}"
                    )
                try:
                    if client.get(f"{self.url}/readyz").status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                time.sleep(0.05)
        self.kill()
        raise AssertionError(f"serve was not ready within {START_TIMEOUT_S} s:\n{self.tail()}")

    def kill(self) -> None:
        """SIGKILL the server (its whole session) and reap it."""
        if self.process is None:
            return
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=STOP_TIMEOUT_S)
        self.process = None

    def stop(self) -> None:
        """SIGTERM: a graceful shutdown (SIGKILL if it takes too long)."""
        if self.process is None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired as exc:
            self.kill()
            msg = f"serve ignored SIGTERM for {STOP_TIMEOUT_S} s:\n{self.tail()}"
            raise AssertionError(msg) from exc
        self.process = None

    def tail(self, lines: int = 30) -> str:
        """The end of the server's log."""
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])
