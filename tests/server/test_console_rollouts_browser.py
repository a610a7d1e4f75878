"""The Rollouts pages in a real browser (Chromium through Playwright, against uvicorn).

The server, browser and signed-in tab are those of ``test_console_browser.py`` (its module
fixtures, instantiated again for this module); the server's own coordinator moves the
rollouts. The pages must render without any JavaScript error, console error (a CSP violation
included), failed request or 4xx/5xx answer, and fit a laptop screen.
"""

# ruff: noqa: F811  # pytest fixtures are imported, then named again as test parameters

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from tests.server.conftest import spec
from tests.server.test_console_browser import (  # noqa: F401  # fixtures, used by name
    Live,
    Tab,
    browser,
    live,
    tab,
)

MANUAL = "delivery:\n  steps: [10, 100]\n  pause: manual\n"
ANALYSED = MANUAL + "  analysis:\n    metrics: [availability]\n    interval: 1m\n    count: 3\n"


def _apply(live: Live, service: str, delivery: str = MANUAL) -> None:
    live.api(
        "POST",
        "/services",
        content=spec(service, "payments") + delivery,
        headers={"Content-Type": "application/yaml"},
    )


def _started(live: Live, service: str, version: str, phase: str = "Paused") -> str:
    """Start a rollout; wait until the server's coordinator has moved it to 10 % in ``phase``."""
    body = {"service": service, "version": version, "stable_version": "v1", "author": "ana"}
    rollout_id: str = live.api("POST", "/rollouts", json=body).json()["id"]
    deadline = time.monotonic() + 10
    while True:
        found: dict[str, Any] = live.api("GET", f"/rollouts/{rollout_id}").json()
        if found["phase"] == phase and found["canary_weight"] == 10 and not found["pending"]:
            return rollout_id
        assert time.monotonic() < deadline, found
        time.sleep(0.05)


def test_the_rollouts_page_and_a_rollout_page_render_cleanly(
    tab: Tab, live: Live, tmp_path: Path
) -> None:
    _apply(live, "cart")
    _apply(live, "basket")
    _apply(live, "till", ANALYSED)  # its SLO has no data: a long error message to wrap
    aborted = _started(live, "basket", "v7")
    live.api("POST", f"/rollouts/{aborted}/abort", json={"reason": "checkout errors doubled"})
    analysed = _started(live, "till", "v3", "Progressing")
    running = _started(live, "cart", "v2")

    tab.open("/ui/rollouts")
    row = tab.page.locator(f'[data-testid="active-rollouts"] tr[data-rollout="{running}"]')
    assert "Paused" in row.get_by_test_id("phase").inner_text()
    assert row.get_by_test_id("weights").inner_text() == "stable 90% canary 10%"
    canary = row.locator("rect.split-canary")
    assert canary.get_attribute("width") == "10"
    assert canary.bounding_box() is not None  # drawn, not collapsed by the CSP
    analysis = tab.page.locator(f'tr[data-rollout="{analysed}"]').inner_text()
    assert "availability" in analysis
    assert "no data returned from the metric provider" in analysis
    ended = tab.page.locator(f'[data-testid="recent-rollouts"] tr[data-rollout="{aborted}"]')
    assert ended.get_by_test_id("message").inner_text() == "checkout errors doubled"
    tab.page.screenshot(path=str(tmp_path / "rollouts.png"), full_page=True)
    tab.assert_fits_the_screen()

    tab.page.evaluate("window.notReloaded = true")
    live.api("POST", f"/rollouts/{running}/promote", json={"full": True})
    live.api("POST", f"/rollouts/{analysed}/abort", json={"reason": "no data"})
    tab.page.get_by_text("No rollout in progress.").wait_for(timeout=8_000)  # one 5 s refresh
    assert tab.page.evaluate("window.notReloaded") is True

    tab.open(f"/ui/rollouts/{aborted}")
    assert tab.page.locator('ol.steps li[aria-current="step"]').inner_text() == (
        "STOPPED pause until promoted"
    )
    tab.page.screenshot(path=str(tmp_path / "rollout.png"), full_page=True)
    tab.assert_fits_the_screen()
    tab.assert_clean()
