"""A server on a temporary SQLite database, driven in-process through FastAPI's TestClient.

``server`` gives a running app (its evaluator ticking every second) with two namespaces,
``payments`` and ``search``, each owning one service whose SLO reads pushed events, and
tokens for each: read-write and read-only.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from opsplane.app.auth import create_token
from opsplane.app.events import events_sli
from opsplane.server.app import create_app
from opsplane.server.runtime import Runtime, ServerSettings
from tests.server.serve_process import ServeProcess

SPEC = """
apiVersion: opsplane/v1
kind: Service
metadata: {{name: {name}, namespace: {namespace}}}
runbook: https://runbooks.example/{name}
slos:
  - name: availability
    objective: 99.9
    sli:
      events:
        error_query: {error_query}
        total_query: {total_query}
    alerting: {{name: {alert}}}
"""


def spec(name: str, namespace: str) -> str:
    """A one-SLO opsplane/v1 service whose SLI reads pushed events."""
    alert = "".join(part.capitalize() for part in name.split("-")) + "Availability"
    sli = events_sli(namespace, name, "availability")
    return SPEC.format(
        name=name,
        namespace=namespace,
        alert=alert,
        error_query=sli.error_query,
        total_query=sli.total_query,
    )


@dataclass
class Server:
    """A running app and what tests need to talk to it."""

    client: TestClient
    runtime: Runtime
    tokens: dict[str, str]

    def auth(self, who: str) -> dict[str, str]:
        """Headers for ``payments``, ``payments-ro``, ``search`` or ``search-ro``."""
        return {"Authorization": f"Bearer {self.tokens[who]}"}


def open_runtime(tmp_path: Path, interval_ms: int = 1_000) -> Runtime:
    """A runtime on a fresh SQLite database in ``tmp_path`` (opened, not started)."""
    settings = ServerSettings(
        db_url=f"sqlite:///{tmp_path / 'state.db'}",
        metrics_dir=tmp_path / "metrics",
        interval_ms=interval_ms,
        external_url="http://testserver",
    )
    runtime = Runtime(settings)
    runtime.open()
    return runtime


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    runtime = open_runtime(tmp_path)
    tokens = {
        f"{ns}{suffix}": create_token(runtime.tokens, runtime.clock, ns, read_only=ro)
        for ns in ("payments", "search")
        for suffix, ro in (("", False), ("-ro", True))
    }
    with TestClient(create_app(runtime)) as client:
        found = Server(client, runtime, tokens)
        for namespace, name in (("payments", "checkout"), ("search", "query")):
            response = client.post(
                f"/api/v1/namespaces/{namespace}/services",
                content=spec(name, namespace),
                headers={**found.auth(namespace), "Content-Type": "application/yaml"},
            )
            assert response.status_code == 201, response.text
        yield found


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[ServeProcess]:
    """A real ``opsplane serve`` process on a fresh DB, with ``checkout`` of ``payments``.

    Not started: the test starts it (and may kill it and start it again); killed at the end.
    """
    config = tmp_path / "specs"
    config.mkdir()
    (config / "checkout.yaml").write_text(spec("checkout", "payments"), encoding="utf-8")
    server = ServeProcess(tmp_path / "s.db", config, tmp_path / "serve.log")
    try:
        yield server
    finally:
        server.kill()
