"""A real nginx (Debian's ``nginx-light``) follows the splits the nginx router writes.

nginx runs in the foreground with one worker (one round-robin state, so each 100 requests
hold the split exactly) in front of two real local backends; the router's reload command is
``nginx -s reload`` against that instance. Skipped where nginx is not installed.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from opsplane.adapters.traffic.nginx import NginxRouter
from tests.adapters.traffic.backends import Backend

pytestmark = pytest.mark.skipif(shutil.which("nginx") is None, reason="needs the nginx binary")

STEPS = [5, 25, 50, 100, 0]
REQUESTS_PER_STEP = 500
RELOAD_WAIT_S = 10.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def nginx_conf(prefix: Path, port: int) -> str:
    temp = "\n".join(
        f"  {kind}_temp_path {prefix}/{kind}_temp;"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""
worker_processes 1;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 64; }}
http {{
  access_log off;
{temp}
  include {prefix}/upstreams/*.conf;
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://checkout;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }}
  }}
}}
"""


@pytest.fixture
def nginx_prefix(tmp_path: Path) -> Path:
    # The workers run as nobody when nginx starts as root; pytest's tmp_path is root-only.
    tmp_path.chmod(0o755)
    return tmp_path


def command(prefix: Path, *args: str) -> list[str]:
    """nginx on this test's own configuration."""
    return ["nginx", "-p", str(prefix), "-c", str(prefix / "nginx.conf"), *args]


@dataclass
class LiveNginx:
    """A running nginx and the router that writes its upstream."""

    router: NginxRouter
    url: str

    def answers(self, count: int) -> Counter[str]:
        """Who answered ``count`` requests, over one new connection (none while down).

        A connection kept alive to a worker from before a reload would still see the old
        split until that worker retires, so each batch opens its own.
        """
        try:
            with httpx.Client(base_url=self.url, timeout=5.0) as client:
                return Counter(client.get("/").text for _ in range(count))
        except httpx.TransportError:
            return Counter()


@pytest.fixture
def nginx(nginx_prefix: Path, stable: Backend, canary: Backend) -> Iterator[LiveNginx]:
    """nginx in front of both backends, started with all traffic on ``stable``."""
    backends = {"stable": stable, "canary": canary}
    upstreams = {"checkout": {name: b.url.removeprefix("http://") for name, b in backends.items()}}
    directory = nginx_prefix / "upstreams"
    # The first file is written before nginx runs, so there is nothing to reload yet.
    NginxRouter(directory, upstreams, reload_command=["true"], test_command=None).set_weights(
        "checkout", {"stable": 100}
    )
    port = free_port()
    (nginx_prefix / "nginx.conf").write_text(nginx_conf(nginx_prefix, port))
    router = NginxRouter(
        directory,
        upstreams,
        reload_command=command(nginx_prefix, "-s", "reload"),
        test_command=command(nginx_prefix, "-t", "-q"),
    )
    live = LiveNginx(router, f"http://127.0.0.1:{port}")
    server = subprocess.Popen(command(nginx_prefix), stderr=subprocess.PIPE)
    try:
        wait_for(lambda: live.answers(1) == {"stable": 1})
        yield live
    finally:
        server.terminate()
        server.communicate(timeout=10)


def wait_for(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + RELOAD_WAIT_S
    while not condition():
        assert time.monotonic() < deadline, "nginx did not pick up the change"
        time.sleep(0.05)


def test_nginx_follows_each_split_the_router_writes_exactly(nginx: LiveNginx) -> None:
    for weight in STEPS:
        nginx.router.set_weights("checkout", {"stable": 100 - weight, "canary": weight})
        # nginx -s reload returns before the new worker serves: wait for its first 100.
        wait_for(lambda w=weight: nginx.answers(100)["canary"] == w)
        seen = nginx.answers(REQUESTS_PER_STEP)
        assert seen["canary"] == weight * REQUESTS_PER_STEP // 100, f"step {weight}%"
        assert nginx.router.weights("checkout") == {"stable": 100 - weight, "canary": weight}
