"""The Costs page's budgets and recommendations in a real browser (Chromium, against uvicorn).

The server, browser and signed-in tab are those of ``test_console_browser.py`` (its module
fixtures, instantiated again for this module). The page must render without any JavaScript
error, console error (a CSP violation included), failed request or 4xx/5xx answer, and the
wider table must still fit a laptop screen.
"""

# ruff: noqa: F811  # pytest fixtures are imported, then named again as test parameters

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from tests.server.test_console_browser import (  # noqa: F401  # fixtures, used by name
    DAY,
    Live,
    Tab,
    browser,
    live,
    tab,
)


def _gpt_4o_runs(live: Live) -> list[dict[str, object]]:
    """One gpt-4o run a day for the last 12 days: a cheaper model would do."""
    return [
        {
            "run_id": f"summarise-{i}",
            "service": "checkout",
            "actions": 0,
            "llm": [{"model": "gpt-4o", "input_tokens": 10_000, "output_tokens": 500}],
            "started_at": datetime.fromtimestamp((live.now - i * DAY) / 1000, tz=UTC).isoformat(),
        }
        for i in range(12)
    ]


def test_the_costs_page_shows_budgets_and_recommendations_cleanly(
    tab: Tab, live: Live, tmp_path: Path
) -> None:
    live.api("POST", "/runs", json={"runs": _gpt_4o_runs(live)})
    live.api("PUT", "/budgets/llm", json={"service": "checkout", "amount": "0.05"})
    live.api("PUT", "/budgets/everything", json={"amount": "1000"})
    tab.open("/ui/costs")
    budgets = tab.page.get_by_test_id("budgets")
    assert "service checkout" in budgets.inner_text()
    assert "namespace payments" in budgets.inner_text()
    assert budgets.locator("meter").count() >= 2
    advice = tab.page.get_by_test_id("recommendations").inner_text()
    assert "cheaper-model" in advice
    assert "gpt-4o" in advice
    tab.page.screenshot(path=str(tmp_path / "costs.png"), full_page=True)
    tab.assert_fits_the_screen()
    tab.assert_clean()
