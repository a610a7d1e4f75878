"""The Costs pages in a real browser (Chromium through Playwright, against uvicorn).

The server, browser and signed-in tab are those of ``test_console_browser.py`` (its module
fixtures, instantiated again for this module). The pages must render without any JavaScript
error, console error (a CSP violation included) or failed request, and fit a laptop screen.
"""

# ruff: noqa: F811  # pytest fixtures are imported, then named again as test parameters

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from tests.server.test_console_browser import (  # noqa: F401  # fixtures, used by name
    Live,
    Tab,
    browser,
    live,
    tab,
)


def _runs(live: Live) -> list[dict[str, object]]:
    started = datetime.fromtimestamp(live.now / 1000, tz=UTC).isoformat()
    return [
        {
            "run_id": f"nightly-{i}",
            "service": "checkout",
            "actions": 1200 * i,
            "compute": [{"capability": "build", "seconds": 42.5, "rate_per_second": "0.000016"}],
            "llm": [{"model": "gpt-4o-mini", "input_tokens": 12000, "output_tokens": 800}],
            "api_fees": [{"name": "search", "usd": "0.002"}],
            "started_at": started,
        }
        for i in range(1, 4)
    ]


def test_the_costs_page_and_a_run_page_render_cleanly(tab: Tab, live: Live, tmp_path: Path) -> None:
    response = live.api("POST", "/runs", json={"runs": _runs(live)})
    assert response.status_code in {200, 201}, response.text
    tab.open("/ui/costs")
    services = tab.page.get_by_test_id("service-costs")
    assert "checkout" in services.inner_text()
    assert "0.08688 USD" in services.inner_text()  # 3 x 0.00496 + (1 + 2 + 3) x 0.012
    tab.page.get_by_role("link", name="nightly-2").click()
    tab.page.get_by_test_id("lines").wait_for()
    assert tab.page.url.endswith("/ui/costs/runs/nightly-2")
    assert tab.page.get_by_test_id("run-total").inner_text() == "0.02896"
    tab.page.screenshot(path=str(tmp_path / "run.png"), full_page=True)
    tab.assert_fits_the_screen()
    tab.assert_clean()
