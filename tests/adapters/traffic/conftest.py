"""Fixtures of the traffic tests: two real local backends and the proxy in front of them."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from opsplane.adapters.traffic import ProxyRouter
from tests.adapters.traffic.backends import Backend, backend

SERVICE = "checkout"


@pytest.fixture
def stable() -> Iterator[Backend]:
    """The baseline backend; answers ``stable``."""
    with backend("stable") as running:
        yield running


@pytest.fixture
def canary() -> Iterator[Backend]:
    """The new version's backend; answers ``canary``."""
    with backend("canary") as running:
        yield running


@pytest.fixture
def proxy(stable: Backend, canary: Backend) -> Iterator[ProxyRouter]:
    """The built-in proxy of ``checkout`` over both backends, all traffic on ``stable``."""
    backends = {"stable": stable.url, "canary": canary.url}
    with ProxyRouter(SERVICE, backends, weights={"stable": 100}, timeout=2.0) as running:
        yield running


@pytest.fixture
def client(proxy: ProxyRouter) -> Iterator[httpx.Client]:
    """A keep-alive client of the proxy."""
    with httpx.Client(base_url=proxy.url, timeout=10.0) as running:
        yield running
