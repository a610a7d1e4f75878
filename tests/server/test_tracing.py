"""OpenTelemetry: a request makes a server span with SQL spans inside, and logs its trace id."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from opsplane.app.auth import create_token
from opsplane.server.app import create_app
from tests.server.conftest import open_runtime

sdk_export = pytest.importorskip(
    "opentelemetry.sdk.trace.export.in_memory_span_exporter",
    reason="tracing tests need the otel extra: pip install 'opsplane[otel]'",
)


def test_a_request_is_traced_with_its_sql_statements(tmp_path: Path) -> None:
    from opsplane.server.tracing import enable_tracing  # noqa: PLC0415

    runtime = open_runtime(tmp_path)
    token = create_token(runtime.tokens, runtime.clock, "payments", read_only=True)
    app = create_app(runtime, start=False)
    exporter = sdk_export.InMemorySpanExporter()
    provider = enable_tracing(app, runtime.state.engine, exporter)
    try:
        with TestClient(app) as client:
            response = client.get(
                "/api/v1/namespaces/payments/services",
                headers={"Authorization": f"Bearer {token}"},
            )
        assert response.status_code == 200
        provider.force_flush()
        spans = exporter.get_finished_spans()
        server = [s for s in spans if s.kind.name == "SERVER"]
        assert [s.attributes.get("http.route") for s in server] == [
            "/api/v1/namespaces/{namespace}/services"
        ]
        trace_id = server[0].context.trace_id
        sql = [s for s in spans if "db.statement" in (s.attributes or {})]
        assert sql, "no SQL span"
        assert {s.context.trace_id for s in sql} == {trace_id}
    finally:
        provider.shutdown()
        runtime.stop()
