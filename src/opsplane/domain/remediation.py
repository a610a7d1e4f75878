"""The remediation summary every firing notification carries.

What is burning (SLO, windows, burn rate, budget left), what changed recently (deployments in
the last hours), the runbook and the dashboard: the four things an on-call engineer looks up
first, written into the page so the first minute is spent acting, not searching.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from opsplane.domain.duration import HOUR, format_duration
from opsplane.domain.evaluation import SLOStatus
from opsplane.types import Millis


@dataclass(frozen=True, slots=True)
class Deployment:
    """A recorded deployment of a service (later issues record them; RCA input)."""

    service: str
    version: str
    started_at: Millis
    finished_at: Millis | None = None
    author: str = ""


@dataclass(frozen=True, slots=True)
class Remediation:
    """The summary as data (for JSON receivers) and as text (for chat and email)."""

    headline: str
    burning: tuple[str, ...]
    recent_changes: tuple[str, ...]
    runbook: str | None
    dashboard: str | None

    def text(self) -> str:
        """Plain text, one fact per line."""
        lines = [self.headline, *(f"- {b}" for b in self.burning)]
        if self.recent_changes:
            lines += ["Recent changes:", *(f"- {c}" for c in self.recent_changes)]
        else:
            lines.append("Recent changes: no deployment in the lookback window.")
        if self.runbook:
            lines.append(f"Runbook: {self.runbook}")
        if self.dashboard:
            lines.append(f"Dashboard: {self.dashboard}")
        return "\n".join(lines)


def remediation(
    status: SLOStatus,
    deployments: Sequence[Deployment],
    *,
    runbook: str | None,
    dashboard: str | None,
    lookback: Millis = 6 * HOUR,
) -> Remediation:
    """The summary for one SLO at ``status.at``; deployments newest first, within ``lookback``."""
    budget = status.budget_remaining
    left = "unknown" if budget is None else f"{budget:.1%}"
    headline = (
        f"{status.service}/{status.slo} is burning its error budget "
        f"({status.objective:g}% over {status.period}; budget left {left})."
    )
    return Remediation(
        headline=headline,
        burning=tuple(_burning(status)),
        recent_changes=tuple(_changes(status, deployments, lookback)),
        runbook=runbook,
        dashboard=dashboard,
    )


def _burning(status: SLOStatus) -> list[str]:
    lines = []
    for w in sorted(status.windows, key=lambda w: w.window):
        if w.burn_rate is None or w.error_ratio is None or w.burn_rate < 1:
            continue
        ratio, burn = f"{w.error_ratio:.3%}", f"{w.burn_rate:.1f}x"
        lines.append(f"{format_duration(w.window)}: error ratio {ratio}, burn rate {burn}")
    return lines or ["no window burns faster than the budget allows (a slower condition fired)"]


def _changes(status: SLOStatus, deployments: Sequence[Deployment], lookback: Millis) -> list[str]:
    recent = [
        d
        for d in deployments
        if d.service == status.service and status.at - lookback <= d.started_at <= status.at
    ]
    recent.sort(key=lambda d: d.started_at, reverse=True)
    return [
        f"{d.version} deployed {_ago(status.at - d.started_at)} ago"
        + (f" by {d.author}" if d.author else "")
        for d in recent
    ]


def _ago(millis: Millis) -> str:
    """Whole seconds, at least one: ``23m``, ``1h2m5s``."""
    return format_duration(max(millis // 1000, 1) * 1000)
