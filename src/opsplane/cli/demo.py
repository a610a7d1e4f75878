"""``opsplane demo``: a live server on a temporary database, three simulated services.

What happens, in order (about 5 s on a laptop):

1. A server starts on a temporary SQLite database with the specs of three services in the
   ``demo`` namespace (``checkout``, ``search``, ``catalog``), each with an availability SLO
   whose SLI reads pushed good/total events, evaluated every 2 s.
2. Three days of history are pushed through the real ingest API (batches of 5,000 events), so
   windows, budgets and burn-down charts have data at once. ``checkout`` degraded 30 minutes
   ago (3 % errors against a 99.9 % objective): its page alert fires on the first evaluation.
3. A deployment of ``checkout`` is recorded just before the degradation (the incident will
   correlate it), and traffic continues live every second.
4. This month's workflow runs are priced and recorded through the cost API (``search`` calls a
   large model), and ``search`` gets a budget it has used 85 % of, so a budget alert follows
   the page; the Costs page and ``GET /budgets`` show spend, forecast and crossing date.
5. A canary rollout of ``search`` starts (10 -> 50 -> 100 %, each step gated on its
   availability SLO); with the default ``state`` router the wanted weights are only recorded.
6. Alerts are routed to a local log receiver (a webhook on 127.0.0.1 that prints them), and
   the console URL with a login token is printed. Ctrl-C stops everything cleanly.
"""

from __future__ import annotations

import json
import random
import signal
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import typer
import uvicorn

from opsplane.app.auth import create_token
from opsplane.app.events import events_sli
from opsplane.server.app import create_app
from opsplane.server.observability import configure_logging
from opsplane.server.runtime import Runtime, ServerSettings

NAMESPACE = "demo"
SERVICES = {  # name: (requests per minute, error ratio before, error ratio in the last 30 min)
    "checkout": (600, 0.0002, 0.03),
    "search": (1200, 0.0002, 0.0002),
    "catalog": (300, 0.0005, 0.0005),
}
HISTORY_MINUTES = 3 * 24 * 60
BATCH = 5_000
DEGRADED_MINUTES = 30
ROUTING = """
route:
  receiver: log
  group_by: [namespace, alertname, sloth_service]
  group_wait: 5s
  group_interval: 1m
  repeat_interval: 1h
receivers:
  - name: log
    webhook_configs: [{{url: "{url}"}}]
"""
SPEC = """
apiVersion: opsplane/v1
kind: Service
metadata: {{name: {name}, namespace: demo}}
runbook: https://runbooks.example/{name}
slos:
  - name: availability
    description: Requests to {name} that do not fail.
    objective: 99.9
    sli:
      events:
        error_query: '{error}'
        total_query: '{total}'
    alerting:
      name: {alert}Availability
      page: {{severity: P1}}
      ticket: {{severity: P3}}
{extra}"""
EXTRA = {
    "search": "delivery:\n"
    "  strategy: canary\n"
    "  steps: [10, 50, 100]\n"
    "  analysis: {metrics: [availability], interval: 10s, count: 3}\n",
}
RUNS_PER_DAY = 12
USAGE = {  # name: the usage of one of its workflow runs
    "checkout": {
        "actions": 900,
        "compute": [{"capability": "cpu", "seconds": 40, "rate_per_second": "0.000016"}],
        "llm": [{"model": "gpt-4o-mini", "input_tokens": 8_000, "output_tokens": 600}],
    },
    "search": {
        "actions": 1_500,
        "compute": [{"capability": "cpu", "seconds": 90, "rate_per_second": "0.000016"}],
        "llm": [{"model": "gpt-4o", "input_tokens": 30_000, "output_tokens": 2_000}],
        "api_fees": [{"name": "web-search", "usd": "0.005"}],
    },
    "catalog": {
        "actions": 300,
        "compute": [{"capability": "cpu", "seconds": 20, "rate_per_second": "0.000016"}],
    },
}
BUDGET_USED = Decimal("0.85")


def demo(port: int = 8080, host: str = "127.0.0.1") -> None:
    """A server with three simulated services; one burns and pages. Ctrl-C stops it."""
    with tempfile.TemporaryDirectory(prefix="opsplane-demo-") as tmp:
        _run(Path(tmp), host, port)


def _run(tmp: Path, host: str, port: int) -> None:
    configure_logging(json_logs=False, level=30)
    pages = _LogReceiver()
    specs = tmp / "specs"
    specs.mkdir()
    for name in SERVICES:
        sli = events_sli(NAMESPACE, name, "availability")
        text = SPEC.format(
            name=name,
            alert=name.capitalize(),
            error=sli.error_query,
            total=sli.total_query,
            extra=EXTRA.get(name, ""),
        )
        (specs / f"{name}.yaml").write_text(text, encoding="utf-8")
    routing = tmp / "routing.yaml"
    routing.write_text(ROUTING.format(url=pages.url), encoding="utf-8")
    base = f"http://{host}:{port}"
    settings = ServerSettings(
        db_url=f"sqlite:///{tmp / 'demo.db'}",
        metrics_dir=tmp / "demo.metrics",
        config_dir=specs,
        alerting=routing,
        interval_ms=2_000,
        external_url=base,
    )
    runtime = Runtime(settings)
    runtime.open()
    token = create_token(runtime.tokens, runtime.clock, NAMESPACE, read_only=False)
    server = uvicorn.Server(
        uvicorn.Config(create_app(runtime), host=host, port=port, log_config=None)
    )
    serving = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    serving.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        _wait_ready(base)
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as api:
            _backfill(api)
            _record_costs(api)
            _start_rollout(api)
            typer.echo(f"opsplane demo: console at {base}/ui/login?token={token}")
            typer.echo(f"API token for namespace {NAMESPACE!r}: {token}")
            typer.echo(
                "checkout is burning its error budget and search has used 85 % of its cost "
                "budget; alerts print below. Ctrl-C stops."
            )
            _traffic(api, stop)
    except KeyboardInterrupt:
        pass
    finally:
        server.should_exit = True
        serving.join(timeout=30)
        pages.close()
        typer.echo("opsplane demo: stopped")


def _wait_ready(base: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError("the demo server did not start")


def _events(minute_ms: int, degraded: bool, rng: random.Random) -> list[dict[str, Any]]:
    out = []
    for name, (rate, before, after) in SERVICES.items():
        total = max(1, round(rate * rng.uniform(0.8, 1.2)))
        bad = round(total * (after if degraded else before) * rng.uniform(0.5, 1.5))
        out.append(
            {
                "service": name,
                "slo": "availability",
                "good": total - bad,
                "total": total,
                "timestamp": _iso(minute_ms),
            }
        )
    return out


def _iso(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + "Z"


def _backfill(api: httpx.Client) -> None:
    rng = random.Random(7)  # noqa: S311  # simulated traffic, not security
    now = (time.time_ns() // 1_000_000) // 60_000 * 60_000
    batch: list[dict[str, Any]] = []
    for minute in range(HISTORY_MINUTES, 0, -1):
        at = now - minute * 60_000
        batch += _events(at, minute <= DEGRADED_MINUTES, rng)
    for start in range(0, len(batch), BATCH):
        chunk = {"events": batch[start : start + BATCH]}
        api.post(f"/api/v1/namespaces/{NAMESPACE}/events", json=chunk).raise_for_status()
    deploy = {"service": "checkout", "version": "v2.4.1", "author": "alice"}
    deploy["startedAt"] = _iso(now - (DEGRADED_MINUTES + 2) * 60_000)
    api.post(f"/api/v1/namespaces/{NAMESPACE}/deployments", json=deploy).raise_for_status()


def _record_costs(api: httpx.Client) -> None:
    """This month's runs of every service, then a budget ``search`` has used 85 % of."""
    now = time.time_ns() // 1_000_000
    today = datetime.fromtimestamp(now / 1000, tz=UTC)
    first = today.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    runs = []
    for day in range(today.day):
        for i in range(RUNS_PER_DAY):
            at = first + timedelta(days=day, hours=i * 24 / RUNS_PER_DAY)
            if at >= today:
                break
            for name, usage in USAGE.items():
                run_id = f"{name}-{at:%Y%m%dT%H%M}"
                runs.append(
                    {"run_id": run_id, "service": name, **usage, "started_at": at.isoformat()}
                )
    spent = Decimal(0)
    if runs:
        answer = api.post(f"/api/v1/namespaces/{NAMESPACE}/runs", json={"runs": runs})
        answer.raise_for_status()
        costs = answer.json()["runs"]
        spent = sum((Decimal(r["total"]) for r in costs if r["service"] == "search"), Decimal(0))
    amount = max(spent / BUDGET_USED, Decimal(1)).quantize(Decimal("0.01"))
    budget = {"service": "search", "amount": str(amount)}
    api.put(
        f"/api/v1/namespaces/{NAMESPACE}/budgets/search-monthly", json=budget
    ).raise_for_status()


def _start_rollout(api: httpx.Client) -> None:
    rollout = {"service": "search", "version": "v1.8.0", "stable_version": "v1.7.2"}
    api.post(f"/api/v1/namespaces/{NAMESPACE}/rollouts", json=rollout).raise_for_status()


def _traffic(api: httpx.Client, stop: threading.Event) -> None:
    rng = random.Random(11)  # noqa: S311  # simulated traffic
    while not stop.wait(1.0):
        events = [dict(e, timestamp=None) for e in _events(0, True, rng)]
        for event in events:  # one second of a per-minute rate
            event["total"] = max(1, round(event["total"] / 60))
            event["good"] = min(event["good"], event["total"])
            if event["service"] == "checkout" and rng.random() < 0.5:
                event["good"] = event["total"] - 1
        api.post(f"/api/v1/namespaces/{NAMESPACE}/events", json={"events": events})


def _tier(labels: dict[str, str]) -> str:
    """``page (P1)`` for an SLO alert, ``threshold 0.8 (P3)`` for a budget alert."""
    kind = labels.get("sloth_severity") or f"threshold {labels.get('threshold')}"
    return f"{kind} ({labels.get('severity')})"


class _LogReceiver:
    """A local webhook that prints every page it receives: the demo's on-call."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                alerts = body.get("alerts", [])
                tiers = ", ".join(_tier(a["labels"]) for a in alerts)
                notes = alerts[0]["annotations"] if alerts else {}
                summary = notes.get("remediation") or notes.get("summary", "")
                typer.echo(
                    f"PAGE [{body['status'].upper()}] {body['groupLabels'].get('alertname')}: "
                    f"{tiers}\n{summary}\n"
                )
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._http.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._http.server_address[1]}/page"
        self._thread = threading.Thread(target=self._http.serve_forever, args=(0.1,), daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._http.shutdown()
        self._http.server_close()
