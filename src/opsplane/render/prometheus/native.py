"""opsplane's own rules: Sloth's names and shapes, with better maths and more alerts.

Differences from ``--sloth-compat`` (see ``docs/slo-math.md``):

- The period SLI of event-based SLIs is count-based: the sum over the period of the bad-event
  rate divided by the sum of the total-event rate, both recorded every evaluation. Sloth's
  average of 5m ratios weighs a quiet night like a busy noon.
- An events SLI whose error query returns nothing (no errors yet) counts as zero errors rather
  than "no data" (``error or 0 * total``).
- Burn factors come from the budget fractions and each SLO's own period; a condition that can
  never fire (factor x budget >= 1) is left out with a warning.
- Alerts carry ``severity`` (P0-P3), a description with the numbers and the runbook link; an
  absent-data alert and OpenSLO burn-rate conditions are added when the spec asks for them.
"""

from __future__ import annotations

from opsplane.domain.alert_naming import condition_alertname, severity_level
from opsplane.domain.duration import format_duration
from opsplane.domain.slo import (
    DEFAULT_SEVERITY,
    SLO,
    BurnRateCondition,
    EventsSLI,
    Service,
)
from opsplane.domain.windows import AlertWindow, AlertWindows, tier_can_fire
from opsplane.render.prometheus import sli as sli_exprs
from opsplane.render.prometheus.model import Group, Rule, RuleOptions, rule_group
from opsplane.render.prometheus.promql import (
    WINDOW_LABEL,
    go_float,
    id_labels,
    label_filter,
    sli_error_metric,
    with_window,
)
from opsplane.render.prometheus.sloth_compat import meta_rules
from opsplane.types import AlertTier, Labels, Millis

BAD_RATE = "slo:sli_bad_events:rate"
TOTAL_RATE = "slo:sli_events:rate"
_OPS = {"lt": "<", "lte": "<=", "gt": ">", "gte": ">="}


def slo_groups(
    service: Service, slo: SLO, catalog: AlertWindows, opts: RuleOptions, warnings: list[str]
) -> list[Group]:
    """Recording and alert groups of one SLO."""
    labels = {**slo.labels, **opts.extra_labels}
    groups: list[Group] = []
    if not opts.disable_recordings:
        groups.append(
            rule_group(
                "opsplane-slo-sli-recordings-",
                slo,
                sli_rules(slo, catalog, labels),
                slo.intervals.sli,
            )
        )
        meta = meta_rules(
            slo,
            catalog=catalog,
            labels=labels,
            version=opts.version,
            mode="opsplane",
            spec=service.origin.api_version,
        )
        groups.append(
            rule_group("opsplane-slo-meta-recordings-", slo, meta, slo.intervals.metadata)
        )
    if not opts.disable_alerts:
        alerts = alert_rules(service, slo, catalog, warnings)
        if alerts:
            groups.append(rule_group("opsplane-slo-alerts-", slo, alerts, slo.intervals.alerts))
    return groups


def recorded_windows(slo: SLO, catalog: AlertWindows) -> list[Millis]:
    """Every window an alert reads: the catalog's plus OpenSLO lookback windows."""
    extra = {c.lookback for c in slo.conditions}
    return sorted((set(catalog.durations()) | extra) - {catalog.period})


def sli_rules(slo: SLO, catalog: AlertWindows, labels: Labels) -> list[Rule]:
    """Error ratio per window, event rates over the short window, and the period ratio."""
    ratio = error_ratio_template(slo)
    rules = [
        _rule(slo, sli_error_metric(w), with_window(ratio, w), w, labels)
        for w in recorded_windows(slo, catalog)
    ]
    short, period = catalog.page_quick.short, catalog.period
    f = label_filter(id_labels(slo.id, slo.service, slo.name))
    rates = sli_exprs.event_rates(slo.sli)
    if rates is None:
        # A ratio-only SLI has no counts to weigh by: fall back to the time average.
        src = f"{sli_error_metric(short)}{f}[{format_duration(period)}]"
        expr = f"sum_over_time({src})\n/ ignoring ({WINDOW_LABEL})\ncount_over_time({src})\n"
    else:
        bad, total = rates
        if isinstance(slo.sli, EventsSLI):
            bad = f"({bad}) or (0 * ({total}))"
        suffix = format_duration(short)
        rules.append(_rule(slo, BAD_RATE + suffix, with_window(bad, short), short, labels))
        rules.append(_rule(slo, TOTAL_RATE + suffix, with_window(total, short), short, labels))
        p = format_duration(period)
        expr = (
            f"sum_over_time({BAD_RATE}{suffix}{f}[{p}])\n/\n"
            f"sum_over_time({TOTAL_RATE}{suffix}{f}[{p}])\n"
        )
    rules.append(_rule(slo, sli_error_metric(period), expr, period, labels))
    return rules


def error_ratio_template(slo: SLO) -> str:
    """The window error ratio of an SLO as a ``{{.window}}`` template, as the rules record it.

    The embedded store and ``--prometheus`` both evaluate exactly this expression, so the
    engine, Prometheus and the recording rules agree on every window.
    """
    sli = slo.sli
    if isinstance(sli, EventsSLI):
        return f"(({sli.error_query}) or (0 * ({sli.total_query})))\n/\n({sli.total_query})\n"
    return sli_exprs.error_ratio(sli)


def _rule(slo: SLO, record: str, expr: str, window: Millis, labels: Labels) -> Rule:
    merged = {
        **id_labels(slo.id, slo.service, slo.name),
        WINDOW_LABEL: format_duration(window),
        **labels,
    }
    return {"record": record, "expr": expr, "labels": merged}


def alert_rules(
    service: Service, slo: SLO, catalog: AlertWindows, warnings: list[str]
) -> list[Rule]:
    """Burn-rate tiers, the no-data alert and OpenSLO conditions."""
    rules: list[Rule] = []
    tiers: tuple[AlertTier, ...] = ("page", "ticket")
    for tier in tiers:
        rule = _tier_rule(service, slo, tier, catalog, warnings)
        if rule is not None:
            rules.append(rule)
    if slo.alerting.no_data_for is not None and slo.alerting.name:
        rules.append(_no_data_rule(service, slo, catalog, slo.alerting.no_data_for))
    rules += [_condition_rule(service, slo, c) for c in slo.conditions]
    return rules


def _tier_rule(
    service: Service, slo: SLO, tier: AlertTier, catalog: AlertWindows, warnings: list[str]
) -> Rule | None:
    meta = slo.alerting.tier(tier)
    if meta.disabled or not slo.alerting.name:
        return None
    conds = (
        (catalog.page_quick, catalog.page_slow)
        if tier == "page"
        else (catalog.ticket_quick, catalog.ticket_slow)
    )
    live = [c for c in conds if _can_fire(slo, c, catalog.period, tier, warnings)]
    if not live:
        return None
    severity = meta.severity or DEFAULT_SEVERITY[tier]
    labels = {"severity": severity, "sloth_severity": tier, **slo.alerting.labels, **meta.labels}
    annotations = {
        "title": f"({tier}) {{{{$labels.sloth_service}}}} {{{{$labels.sloth_slo}}}} SLO error "
        "budget burn rate is too fast.",
        "summary": "{{$labels.sloth_service}} {{$labels.sloth_slo}} SLO error budget burn rate "
        "is over expected.",
        "description": _describe(slo, live, catalog.period),
        **_links(service, slo),
        **slo.alerting.annotations,
        **meta.annotations,
    }
    return {
        "alert": slo.alerting.name,
        "expr": burn_expr(slo, live, catalog.period),
        "labels": labels,
        "annotations": annotations,
    }


def _can_fire(slo: SLO, cond: AlertWindow, period: Millis, tier: str, warnings: list[str]) -> bool:
    factor = cond.burn_factor(period)
    if tier_can_fire(factor, slo.objective_ratio):
        return True
    warnings.append(
        f"{slo.id}: {tier} condition {format_duration(cond.long)}/{format_duration(cond.short)} "
        f"needs a burn rate of {factor:.4g}x, an error ratio of "
        f"{factor * slo.error_budget_ratio:.4g} > 1 on a {slo.objective:g}% objective; "
        "it can never fire and is left out"
    )
    return False


def burn_expr(slo: SLO, conds: list[AlertWindow], period: Millis) -> str:
    """``(short and long over factor x budget) or ...`` for each condition."""
    f = label_filter(id_labels(slo.id, slo.service, slo.name))
    eb = go_float(slo.error_budget_ratio)
    parts = []
    for c in conds:
        factor = go_float(c.burn_factor(period))
        pair = [
            f"    max({sli_error_metric(w)}{f} > ({factor} * {eb})) without ({WINDOW_LABEL})"
            for w in (c.short, c.long)
        ]
        parts.append("(\n" + "\n    and\n".join(pair) + "\n)")
    return "\nor\n".join(parts) + "\n"


def _describe(slo: SLO, conds: list[AlertWindow], period: Millis) -> str:
    p = format_duration(period)
    items = [
        f"{c.burn_factor(period):.4g}x over {format_duration(c.long)} and "
        f"{format_duration(c.short)} ({c.budget_percent:g}% of the {p} budget)"
        for c in conds
    ]
    return (
        f"{slo.objective:g}% objective over {p}; the error budget is burning faster than "
        + " or ".join(items)
        + "."
    )


def _links(service: Service, slo: SLO) -> dict[str, str]:
    runbook = slo.runbook or service.runbook
    return {"runbook_url": runbook} if runbook else {}


def _no_data_rule(service: Service, slo: SLO, catalog: AlertWindows, wait: Millis) -> Rule:
    f = label_filter(id_labels(slo.id, slo.service, slo.name))
    severity = slo.alerting.ticket.severity or DEFAULT_SEVERITY["ticket"]
    return {
        "alert": f"{slo.alerting.name}NoData",
        "expr": f"absent({sli_error_metric(catalog.page_quick.short)}{f})\n",
        "for": format_duration(wait),
        "labels": {
            "severity": severity,
            "sloth_severity": "no_data",
            "sloth_id": slo.id,
            "sloth_service": slo.service,
            "sloth_slo": slo.name,
            **slo.alerting.labels,
        },
        "annotations": {
            "summary": f"{slo.service} {slo.name} SLO has no SLI data.",
            "description": f"No SLI data for {format_duration(wait)}: the SLO cannot be evaluated "
            "and its burn-rate alerts cannot fire.",
            **_links(service, slo),
        },
    }


def _condition_rule(service: Service, slo: SLO, cond: BurnRateCondition) -> Rule:
    f = label_filter(id_labels(slo.id, slo.service, slo.name))
    ratio = f"max({sli_error_metric(cond.lookback)}{f}) without ({WINDOW_LABEL})"
    expr = (
        f"{ratio} / {go_float(slo.error_budget_ratio)} {_OPS[cond.op]} {go_float(cond.threshold)}\n"
    )
    rule: Rule = {
        "alert": condition_alertname(slo, cond),
        "expr": expr,
        "labels": {
            "severity": severity_level(cond.severity),
            "sloth_severity": cond.severity,
            **slo.alerting.labels,
        },
        "annotations": {
            "summary": f"{slo.service} {slo.name}: burn rate over "
            f"{format_duration(cond.lookback)} {_OPS[cond.op]} {cond.threshold:g}x.",
            "description": cond.description or f"OpenSLO alert policy {cond.policy}",
            "alert_policy": cond.policy,
            **({"notification_targets": ",".join(cond.targets)} if cond.targets else {}),
            **_links(service, slo),
        },
    }
    if cond.alert_after:
        rule["for"] = format_duration(cond.alert_after)
    return rule
