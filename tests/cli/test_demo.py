"""``opsplane demo`` (what ``make run`` runs): live data and a page within seconds, clean stop."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
import time

import httpx

from tests.cli.test_cli import REPO

READY_WITHIN_S = 15.0


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_demo_serves_live_slos_and_pages_then_stops_on_ctrl_c() -> None:
    port = _free_port()
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "opsplane", "demo", "--port", str(port)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    try:
        assert process.stdout is not None
        while time.monotonic() - started < READY_WITHIN_S:
            line = process.stdout.readline()
            lines.append(line)
            if line.startswith("PAGE [FIRING] CheckoutAvailability"):
                break
        elapsed = time.monotonic() - started
        output = "".join(lines)
        assert "PAGE [FIRING] CheckoutAvailability" in output, output
        token = re.search(r"token=(\S+)", output)
        assert token is not None
        headers = {"Authorization": f"Bearer {token.group(1)}"}
        status = httpx.get(f"http://127.0.0.1:{port}/api/v1/namespaces/demo/slos", headers=headers)
        slos = {s["id"]: s for s in status.json()["slos"]}
        assert sorted(slos) == [
            "catalog-availability",
            "checkout-availability",
            "search-availability",
        ]
        checkout = slos["checkout-availability"]
        assert checkout["windows"]["1h"]["burn_rate"] > 14.4  # the page condition holds
        assert 0 < checkout["budget_remaining"] < 1
        assert elapsed < READY_WITHIN_S

        api = f"http://127.0.0.1:{port}/api/v1/namespaces/demo"
        (rollout,) = httpx.get(f"{api}/rollouts", headers=headers).json()
        assert (rollout["service"], rollout["version"]) == ("search", "v1.8.0")
        costs = {
            c["service"]: c for c in httpx.get(f"{api}/costs", headers=headers).json()["services"]
        }
        assert sorted(costs) == ["catalog", "checkout", "search"]
        budgets = httpx.get(f"{api}/budgets", headers=headers).json()["budgets"]
        assert [b["name"] for b in budgets] == ["search-monthly"]
        while time.monotonic() - started < 2 * READY_WITHIN_S:  # the next tick alerts on it
            line = process.stdout.readline()
            lines.append(line)
            if line.startswith("PAGE [FIRING] CostBudgetThreshold: threshold 0.8"):
                break
        assert "PAGE [FIRING] CostBudgetThreshold: threshold 0.8" in "".join(lines)
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "opsplane demo: stopped" in out
    assert "Traceback" not in err
