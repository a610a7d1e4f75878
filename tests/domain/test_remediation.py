"""The remediation summary says what burns, what changed, and where to look."""

from __future__ import annotations

from opsplane.domain.duration import HOUR, MINUTE
from opsplane.domain.evaluation import SLOStatus, WindowStatus
from opsplane.domain.remediation import Deployment, remediation

AT = 10 * HOUR
STATUS = SLOStatus(
    slo_id="shop-availability", service="shop", slo="availability", objective=99.9,
    period="30d", at=AT, period_start=0,
    windows=(WindowStatus(5 * MINUTE, 0.02, 20.0), WindowStatus(HOUR, 0.0155, 15.5),
             WindowStatus(6 * HOUR, 0.0005, 0.5)),
    period_error_ratio=0.0004, budget_remaining=0.6, budget_consumed=0.4, alerts=(),
)  # fmt: skip


def test_the_summary_lists_burning_windows_recent_deployments_and_links() -> None:
    deploys = [
        Deployment("shop", "v41", AT - 8 * HOUR),  # outside the 6h lookback
        Deployment("shop", "v42", AT - 23 * MINUTE, author="ana"),
        Deployment("cart", "v7", AT - 5 * MINUTE),  # another service
    ]
    summary = remediation(STATUS, deploys, runbook="https://rb/shop", dashboard="https://g/d/x")
    assert summary.text() == (
        "shop/availability is burning its error budget (99.9% over 30d; budget left 60.0%).\n"
        "- 5m: error ratio 2.000%, burn rate 20.0x\n"
        "- 1h: error ratio 1.550%, burn rate 15.5x\n"
        "Recent changes:\n"
        "- v42 deployed 23m ago by ana\n"
        "Runbook: https://rb/shop\n"
        "Dashboard: https://g/d/x"
    )


def test_without_deployments_the_summary_says_so() -> None:
    summary = remediation(STATUS, [], runbook=None, dashboard=None)
    assert "Recent changes: no deployment in the lookback window." in summary.text()
    assert "Runbook" not in summary.text()
