"""The console in a real browser: Debian's Chromium, driven by Playwright, against uvicorn.

One server for the module runs on a free port of 127.0.0.1, with four weeks of history for the
``payments`` namespace: a small incident six days ago, deployments, and 10 % errors on
``checkout`` for the last hour, so its page fires. Each test opens pages at 1366x768 (a
laptop) and fails on any JavaScript error, console error or failed request.

Without Chromium the tests skip, except under CI (``CI`` set), where they fail.
``OPSPLANE_UPDATE_SCREENSHOT=1`` also writes the README's screenshot, ``docs/img/console.png``.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Page,
    Request,
    ViewportSize,
    sync_playwright,
)

from opsplane.app.auth import create_token
from opsplane.domain.incidents import Incident, TimelineEvent
from opsplane.server.app import create_app
from opsplane.server.console import formatting
from opsplane.server.runtime import Runtime
from tests.server.conftest import open_runtime, spec

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOT = Path(__file__).parents[2] / "docs" / "img" / "console.png"
VIEWPORT: ViewportSize = {"width": 1366, "height": 768}  # a common laptop screen
TIMEOUT_MS = 10_000
MINUTE = 60_000
HOUR = 60 * MINUTE
DAY = 24 * HOUR


def _require_chromium() -> str:
    if CHROMIUM is not None:
        return CHROMIUM
    message = "Chromium is not installed (apt-get install chromium); the console browser tests"
    if os.environ.get("CI"):
        pytest.fail(f"{message} must run under CI")
    pytest.skip(f"{message} are skipped")


@dataclass
class Live:
    """A running server and what the tests need to talk to it."""

    url: str
    runtime: Runtime
    tokens: dict[str, str]
    http: httpx.Client
    now: int = field(default_factory=lambda: int(time.time() * 1000))

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """A call of the payments namespace's API with its read-write token."""
        headers = {
            "Authorization": f"Bearer {self.tokens['payments']}",
            **kwargs.pop("headers", {}),
        }
        response = self.http.request(
            method, f"/api/v1/namespaces/payments{path}", headers=headers, **kwargs
        )
        assert response.status_code < 300, response.text
        return response


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _iso(at: int) -> str:
    return datetime.fromtimestamp(at / 1000, tz=UTC).isoformat()


def _history(service: str, now: int, error_ratio: Callable[[int], float]) -> list[dict[str, Any]]:
    """Every 30 minutes for 29 days, then every minute for the last 90: 1000 events a minute."""
    start, recent = now - 29 * DAY, now - 90 * MINUTE
    spans = [(t, 30 * MINUTE) for t in range(start, recent, 30 * MINUTE)]
    spans += [(t, MINUTE) for t in range(recent, now + 1, MINUTE)]
    events = []
    for t, span in spans:
        total = 1000 * span // MINUTE
        bad = round(total * error_ratio(now - t))
        events.append(
            {
                "service": service,
                "slo": "availability",
                "good": total - bad,
                "total": total,
                "timestamp": _iso(t),
            }
        )
    return events


def _checkout_errors(age: int) -> float:
    """10 % for the last hour, 2 % for four hours six days ago, else 0.01 %."""
    if age <= HOUR:
        return 0.1
    if 6 * DAY - 4 * HOUR <= age <= 6 * DAY:
        return 0.02
    return 0.0001


def _seed(live: Live) -> None:
    now = live.now
    live.api(
        "POST",
        "/services",
        content=spec("ledger", "payments"),
        headers={"Content-Type": "application/yaml"},
    )
    events = _history("checkout", now, _checkout_errors) + _history(
        "ledger", now, lambda _: 0.00005
    )
    live.api("POST", "/events", json={"events": events})
    for service, version, age, author in (
        ("checkout", "v1.8", 6 * DAY + 10 * MINUTE, "ci-bot"),
        ("checkout", "v1.9", 3 * DAY, "ci-bot"),
        ("ledger", "v4.2", 2 * DAY, "alice"),
        ("checkout", "v2.0", 65 * MINUTE, "bob"),
    ):
        body = {"service": service, "version": version, "startedAt": _iso(now - age)}
        live.api("POST", "/deployments", json={**body, "author": author})
    opened = now - 6 * DAY + 5 * MINUTE
    live.runtime.incidents.save_incident(
        Incident(
            "inc-7f3a",
            '{}:{alertname="CheckoutAvailability"}',
            "CheckoutAvailability",
            "P1",
            opened,
            (
                TimelineEvent(opened, "fired", "CheckoutAvailability fired"),
                TimelineEvent(
                    opened, "deployment_correlated", "checkout v1.8 deployed 15m before it fired"
                ),
                TimelineEvent(opened + 30_000, "notified", "oncall-pager/pagerduty[0]"),
                TimelineEvent(opened + 4 * MINUTE, "acknowledged", "acknowledged by alice"),
                TimelineEvent(opened + 3 * HOUR, "resolved", "all alerts of the group resolved"),
            ),
            acknowledged_at=opened + 4 * MINUTE,
            resolved_at=opened + 3 * HOUR,
            namespace="payments",
        )
    )


def _wait_for_page_alert(live: Live) -> dict[str, Any]:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        found = live.http.get(
            "/api/v1/namespaces/payments/slos/checkout-availability",
            headers={"Authorization": f"Bearer {live.tokens['payments']}"},
        )
        if found.status_code == 200:
            body: dict[str, Any] = found.json()
            if any(a["state"] == "firing" and a["severity"] == "page" for a in body["alerts"]):
                return body
        time.sleep(0.2)
    pytest.fail("checkout's page alert did not fire within 15 s")


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    _require_chromium()
    runtime = open_runtime(tmp_path_factory.mktemp("live"))
    tokens = {
        ns: create_token(runtime.tokens, runtime.clock, ns, read_only=False)
        for ns in ("payments", "search")
    }
    port = _free_port()
    config = uvicorn.Config(
        create_app(runtime), host="127.0.0.1", port=port, log_config=None, ws="none"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while not server.started and thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.started, "uvicorn did not start within 10 s"
        url = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=url, timeout=10) as http:
            found = Live(url, runtime, tokens, http)
            found.api(
                "POST",
                "/services",
                content=spec("checkout", "payments"),
                headers={"Content-Type": "application/yaml"},
            )
            _seed(found)
            yield found
    finally:
        server.should_exit = True  # uvicorn drains, then the app's lifespan stops the runtime
        thread.join(timeout=30)


@pytest.fixture(scope="module")
def browser(live: Live) -> Iterator[Browser]:
    with sync_playwright() as p:
        launched = p.chromium.launch(
            executable_path=_require_chromium(), args=["--no-sandbox"], timeout=TIMEOUT_MS
        )
        try:
            yield launched
        finally:
            launched.close()


@dataclass
class Tab:
    """A signed-in page and every error it reported."""

    page: Page
    live: Live
    errors: list[str]

    def open(self, path: str) -> None:
        response = self.page.goto(f"{self.live.url}{path}")
        assert response is not None
        assert response.ok, f"{path}: HTTP {response.status}"

    def assert_clean(self) -> None:
        assert self.errors == [], "\n".join(self.errors)

    def assert_fits_the_screen(self) -> None:
        width = self.page.evaluate("document.documentElement.scrollWidth")
        assert width <= VIEWPORT["width"], f"the page scrolls sideways: {width}px"


def _console(errors: list[str], message: ConsoleMessage) -> None:
    # Errors include CSP violations and resources that failed to load.
    if message.type == "error":
        errors.append(f"console error: {message.text} ({message.location})")


def _request_failed(errors: list[str], request: Request) -> None:
    # Leaving a page cancels what it still loads (often the favicon): not an error.
    if request.failure != "net::ERR_ABORTED":
        errors.append(f"request failed: {request.url}: {request.failure}")


@pytest.fixture
def tab(browser: Browser, live: Live, tmp_path: Path) -> Iterator[Tab]:
    context = browser.new_context(viewport=VIEWPORT, base_url=live.url)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
    page.on(
        "console",
        lambda msg: (
            errors.append(f"console {msg.type}: {msg.text}")
            if msg.type in ("error", "warning")
            else None
        ),
    )
    page.on("requestfailed", lambda req: _request_failed(errors, req))
    page.on(
        "response",
        lambda res: errors.append(f"HTTP {res.status}: {res.url}") if res.status >= 400 else None,
    )
    found = Tab(page, live, errors)
    found.open(f"/ui/login?token={live.tokens['payments']}")
    assert page.url == f"{live.url}/ui/"
    try:
        yield found
    finally:
        page.screenshot(path=str(tmp_path / "last.png"))
        context.close()


def test_the_services_page_shows_budget_firing_alerts_and_deployments(
    tab: Tab, live: Live, tmp_path: Path
) -> None:
    status = _wait_for_page_alert(live)
    tab.open("/ui/")
    row = tab.page.locator('tr[data-slo="checkout-availability"]')
    row.wait_for()
    text = row.inner_text()
    assert "checkout" in text
    assert "99.9%" in text
    assert formatting.percent(status["budget_remaining"], 1) in text
    assert "CheckoutAvailability · page · P1" in text
    assert "v2.0" in text
    assert tab.page.locator('tr[data-slo="ledger-availability"]').count() == 1
    assert int(tab.page.get_by_test_id("firing-count").inner_text()) >= 1
    tab.page.screenshot(path=str(tmp_path / "services.png"), full_page=True)
    tab.assert_fits_the_screen()
    tab.assert_clean()


def test_the_services_table_refreshes_itself_without_a_reload(tab: Tab, live: Live) -> None:
    tab.open("/ui/")
    tab.page.evaluate("window.notReloaded = true")
    live.api("POST", "/deployments", json={"service": "ledger", "version": "v4.3-refresh"})
    row = tab.page.locator('tr[data-slo="ledger-availability"]')
    row.get_by_text("v4.3-refresh").wait_for(timeout=8_000)  # one 5 s refresh and some slack
    assert tab.page.evaluate("window.notReloaded") is True
    tab.assert_clean()


def test_the_slo_page_draws_the_burn_down_with_deployment_markers(
    tab: Tab, live: Live, tmp_path: Path
) -> None:
    _wait_for_page_alert(live)
    tab.open("/ui/slos/checkout-availability")
    chart = tab.page.locator('[data-chart="burn-down"][data-rendered="true"]')
    chart.wait_for()
    box = chart.locator("canvas").first.bounding_box()
    assert box is not None
    assert box["width"] > 600
    assert box["height"] > 200
    assert int(chart.get_attribute("data-markers") or 0) == 3  # v1.8, v1.9, v2.0 of checkout
    windows = tab.page.locator("table.windows").inner_text()
    assert "5m" in windows
    assert "100x" in windows
    assert "firing" in tab.page.locator("table.history").inner_text()
    runbook = tab.page.locator("a.runbook")
    assert runbook.get_attribute("href") == "https://runbooks.example/checkout"
    tab.page.screenshot(path=str(tmp_path / "slo.png"), full_page=True)
    if os.environ.get("OPSPLANE_UPDATE_SCREENSHOT") == "1":
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        tab.page.screenshot(path=str(SCREENSHOT))
    tab.assert_fits_the_screen()
    tab.assert_clean()


def test_the_incidents_page_shows_the_timeline_mtta_and_mttr(tab: Tab) -> None:
    tab.open("/ui/incidents")
    incident = tab.page.locator("details.incident", has_text="acknowledged by alice")
    incident.locator("summary").click()  # resolved incidents start folded
    assert incident.locator(".timeline li").count() == 5
    assert "checkout v1.8 deployed 15m before it fired" in incident.inner_text()
    assert tab.page.get_by_test_id("mtta").inner_text() == "4m"
    assert tab.page.get_by_test_id("mttr").inner_text() == "3h"
    tab.assert_fits_the_screen()
    tab.assert_clean()


def test_the_deployments_page_lists_the_namespaces_deployments(tab: Tab) -> None:
    tab.open("/ui/deployments?days=30")
    table = tab.page.locator("table.deployments").inner_text()
    for version in ("v1.8", "v1.9", "v2.0", "v4.2"):
        assert version in table
    tab.assert_fits_the_screen()
    tab.assert_clean()


def test_signing_in_through_the_form_returns_to_the_page_asked_for(
    browser: Browser, live: Live
) -> None:
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(f"{live.url}/ui/deployments")
        assert page.url.startswith(f"{live.url}/ui/login?next=")
        page.get_by_label("Token").fill(live.tokens["payments"])
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{live.url}/ui/deployments")
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_url(f"{live.url}/ui/login")
        assert errors == []
    finally:
        context.close()
