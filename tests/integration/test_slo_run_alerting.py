"""``opsplane slo run --alerting``: a burning SLO pages a real local webhook, end to end.

The user's path: ingest metrics, run the evaluator with an Alertmanager routing file, get a
version-4 webhook carrying the remediation summary, find the incident in the state database,
and stop the process cleanly with SIGTERM.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

from opsplane.adapters.sql.incidents import SqlIncidents
from tests.adapters.notify.http_server import RecordingServer, recording_server
from tests.cli.test_cli import REPO, opsplane, service, write_yaml

MINUTES = 90


def burning_metrics(path: Path, now_s: int) -> Path:
    """10 req/s for the last 90 minutes up to ``now_s``; 5 % fail (a 50x burn on 99.9 %)."""
    start = now_s - 60 * (MINUTES - 1)
    ok = [
        f'http_requests_total{{job="shop",code="200"}} {i * 570} {start + 60 * i}'
        for i in range(MINUTES)
    ]
    bad = [
        f'http_requests_total{{job="shop",code="500"}} {i * 30} {start + 60 * i}'
        for i in range(MINUTES)
    ]
    path.write_text("# TYPE http_requests counter\n" + "\n".join(ok + bad) + "\n# EOF\n")
    return path


def routing(path: Path, server: RecordingServer) -> Path:
    path.write_text(
        f"""
route:
  receiver: pager
  group_by: [alertname]
  group_wait: 1s
  group_interval: 5m
  repeat_interval: 4h
receivers:
  - name: pager
    webhook_configs: [{{url: "{server.url("/hook")}"}}]
"""
    )
    return path


def wait_for(server: RecordingServer, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.requests:
            return True
        time.sleep(0.1)
    return False


def test_a_burning_slo_pages_the_webhook_and_opens_an_incident(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'state.db'}"
    spec = write_yaml(tmp_path / "shop.yaml", service("shop", 99.9))
    metrics = burning_metrics(tmp_path / "shop.om", int(time.time()))
    assert opsplane("ingest", "openmetrics", metrics, "--db", db).returncode == 0
    with recording_server() as server:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "opsplane", "slo", "run", str(spec), "--db", db),
                *("--interval", "1s", "--alerting", str(routing(tmp_path / "r.yaml", server))),
                *("--dashboard-url", "http://console.local/slos/{slo_id}"),
            ],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            delivered = wait_for(server, timeout_s=30)
        finally:
            process.send_signal(signal.SIGTERM)
            out, err = process.communicate(timeout=30)
    assert delivered, f"no webhook within 30 s; stderr: {err}"
    assert process.returncode == 0, err
    assert "Traceback" not in err
    body = server.requests[0].json()
    assert (body["version"], body["status"], body["receiver"]) == ("4", "firing", "pager")
    alert = next(a for a in body["alerts"] if a["labels"]["sloth_severity"] == "page")
    assert alert["labels"]["severity"] == "P1"
    remediation = alert["annotations"]["remediation"]
    assert "shop/availability is burning its error budget" in remediation
    assert "Dashboard: http://console.local/slos/shop-availability" in remediation
    assert "page" in out  # the transition lines: inactive -> firing
    with SqlIncidents.open(db) as incidents:
        (incident,) = incidents.incidents()
    assert [e.kind for e in incident.timeline][:2] == ["fired", "notified"]
