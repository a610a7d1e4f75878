"""The Alertmanager receiver posts alerts to ``/api/v2/alerts``: a local server, then a real one."""

from __future__ import annotations

import base64
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from opsplane.adapters.notify import AlertmanagerConfig, AlertmanagerReceiver
from opsplane.adapters.notify.webhook import fingerprint
from tests.adapters.notify.factories import DASHBOARD, RUNBOOK, SUMMARY, notification
from tests.adapters.notify.http_server import RecordingServer

ANNOTATIONS = {
    "summary": "checkout availability burns its budget",
    "remediation": SUMMARY,
    "runbook_url": RUNBOOK,
    "dashboard_url": DASHBOARD,
}
READY_TIMEOUT_S = 20.0


def test_a_firing_alert_is_posted_without_an_end(
    server: RecordingServer, client: httpx.Client
) -> None:
    config = AlertmanagerConfig("am", url=server.url("/prefix/"))
    page = notification()
    AlertmanagerReceiver(config, client).send(page)
    (request,) = server.requests
    assert request.path == "/prefix/api/v2/alerts"
    assert request.json() == [
        {
            "labels": dict(page.payload.alerts[0].labels),
            "annotations": ANNOTATIONS,
            "startsAt": "2026-01-01T00:00:00Z",
            "generatorURL": "http://opsplane.example/slos/checkout-availability",
        }
    ]


def test_a_resolved_alert_ends_in_the_past_and_credentials_become_basic_auth(
    server: RecordingServer, client: httpx.Client
) -> None:
    url = server.url("/").replace("http://", "http://opsplane:pa55word@")
    AlertmanagerReceiver(AlertmanagerConfig("am", url=url), client).send(
        notification(kind="resolved")
    )
    (request,) = server.requests
    assert request.json()[0]["endsAt"] == "2026-01-01T00:01:30Z"
    assert (
        request.headers["authorization"]
        == "Basic " + base64.b64encode(b"opsplane:pa55word").decode()
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def alertmanager(tmp_path: Path) -> Iterator[str]:
    """A real ``prometheus-alertmanager`` (Debian) on 127.0.0.1; its base URL."""
    binary = shutil.which("prometheus-alertmanager") or shutil.which("alertmanager")
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("CI must run the Alertmanager integration test")
        pytest.skip("prometheus-alertmanager not installed")
    config = tmp_path / "alertmanager.yml"
    config.write_text("route: {receiver: 'null'}\nreceivers: [{name: 'null'}]\n")
    port = _free_port()
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={config}",
            f"--storage.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not _ready(base):
            assert time.monotonic() < deadline, "Alertmanager did not become ready"
            assert process.poll() is None, "Alertmanager exited"
            time.sleep(0.05)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def _ready(base: str) -> bool:
    try:
        return httpx.get(f"{base}/-/ready", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def test_a_real_alertmanager_shows_the_pushed_alert_then_its_resolution(
    alertmanager: str, client: httpx.Client
) -> None:
    receiver = AlertmanagerReceiver(AlertmanagerConfig("am", url=alertmanager), client)
    page = notification()
    receiver.send(page)
    (alert,) = httpx.get(f"{alertmanager}/api/v2/alerts").json()
    labels = dict(page.payload.alerts[0].labels)
    assert (alert["labels"], alert["annotations"]) == (labels, ANNOTATIONS)
    assert alert["status"]["state"] == "active"
    assert alert["startsAt"] == "2026-01-01T00:00:00.000Z"
    assert alert["fingerprint"] == fingerprint(labels)

    receiver.send(notification(kind="resolved"))
    active = httpx.get(f"{alertmanager}/api/v2/alerts", params={"active": "true"}).json()
    assert active == []
