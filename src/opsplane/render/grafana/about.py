"""The words on an SLO dashboard: the "About" text of each SLO and how numbers are printed."""

from __future__ import annotations

from opsplane.domain.duration import format_duration
from opsplane.domain.slo import (
    SLI,
    SLO,
    BurnRateCondition,
    EventsSLI,
    GoodTotalSLI,
    LatencySLI,
    RawSLI,
    Service,
)
from opsplane.domain.windows import AlertWindow, AlertWindows, tier_can_fire
from opsplane.render.grafana.dashboard import runbook
from opsplane.types import AlertTier, Millis

TIERS: tuple[AlertTier, ...] = ("page", "ticket")
_OPS = {"lt": "<", "lte": "<=", "gt": ">", "gte": ">="}


def number(x: float) -> str:
    """The shortest text that reads back as ``x``, without a trailing ``.0``: 99.9, 99, 14.4."""
    text = repr(round(x, 10))
    return text.removesuffix(".0")


def period_name(slo: SLO, period: Millis) -> str:
    """``30d``, ``4w`` or ``calendar month (30d)`` for calendar periods."""
    if slo.period and slo.period.calendar:
        return f"calendar {slo.period.calendar} ({format_duration(period)})"
    return format_duration(period)


def about(slo: SLO, service: Service, windows: AlertWindows) -> str:
    """Markdown: description, objective, SLI kind, alert tiers and the runbook link."""
    lines = [f"**{slo.name}**" + (f": {slo.description}" if slo.description else ""), ""]
    budget = number(100 - slo.objective)
    lines.append(f"- Objective: {number(slo.objective)}% (error budget {budget}%)")
    lines.append(f"- SLI: {_sli_kind(slo.sli)}")
    lines.extend(f"- {t.capitalize()}s: {tier_text(slo, windows, t)}" for t in TIERS)
    lines.extend(f"- Alert condition {condition_text(c)}" for c in slo.conditions)
    url = runbook(slo, service)
    if url:
        lines.append(f"- Runbook: [{url}]({url})")
    return "\n".join(lines)


def _sli_kind(sli: SLI) -> str:
    if isinstance(sli, EventsSLI):
        return "events (errors / total)"
    if isinstance(sli, GoodTotalSLI):
        return "ratio (1 - good / total)"
    if isinstance(sli, RawSLI):
        return "raw error ratio"
    if isinstance(sli, LatencySLI):
        return f"latency (requests slower than {number(sli.threshold)}s are errors)"
    return f"threshold (samples where the query is not {sli.op} {number(sli.value)})"


def _condition(cond: AlertWindow, period: Millis, objective_ratio: float) -> str:
    factor = cond.burn_factor(period)
    text = f"{number(factor)}x over {format_duration(cond.long)} and {format_duration(cond.short)}"
    return text if tier_can_fire(factor, objective_ratio) else f"{text} (can never fire)"


def tier_pair(windows: AlertWindows, tier: AlertTier) -> tuple[AlertWindow, AlertWindow]:
    """The quick and the slow condition of one tier."""
    if tier == "page":
        return windows.page_quick, windows.page_slow
    return windows.ticket_quick, windows.ticket_slow


def tier_text(
    slo: SLO, windows: AlertWindows, tier: AlertTier, *, ignore_disabled: bool = False
) -> str:
    """``14.4x over 1h and 5m, 6x over 6h and 30m``, or ``disabled``."""
    if slo.alerting.tier(tier).disabled and not ignore_disabled:
        return "disabled"
    pair = tier_pair(windows, tier)
    return ", ".join(_condition(c, windows.period, slo.objective_ratio) for c in pair)


def condition_text(cond: BurnRateCondition) -> str:
    """``fast-burn (page): burn rate over 1h >= 5.6x for 5m`` (an OpenSLO AlertCondition)."""
    text = (
        f"{cond.name} ({cond.severity}): burn rate over {format_duration(cond.lookback)} "
        f"{_OPS[cond.op]} {number(cond.threshold)}x"
    )
    return f"{text} for {format_duration(cond.alert_after)}" if cond.alert_after else text
