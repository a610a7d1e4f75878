"""Rules exactly as Sloth v0.16 generates them (``--sloth-compat``).

A port of Sloth's three core generators (``internal/plugin/slo/core``): ``sli_rules_v1``,
``metadata_rules_v1`` and ``alert_rules_v1``, including their text layout, so that parsed YAML
is identical to Sloth's for the same input and flags.
"""

from __future__ import annotations

from opsplane.domain.slo import (
    SLO,
    AlertMeta,
    EventsSLI,
    GoodTotalSLI,
    LatencySLI,
    RawSLI,
    Service,
    ThresholdSLI,
)
from opsplane.domain.windows import AlertWindow, AlertWindows
from opsplane.render.prometheus import sli as sli_exprs
from opsplane.render.prometheus.model import Group, Rule, RuleOptions, rule_group
from opsplane.render.prometheus.promql import (
    WINDOW_LABEL,
    go_float,
    go_plain_float,
    id_labels,
    label_filter,
    sli_error_metric,
    with_window,
)
from opsplane.types import AlertTier, Labels, Millis

_MODES = {
    "prometheus/v1": "cli-gen-prom",
    "sloth.slok.dev/v1": "cli-gen-k8s",
    "openslo/v1alpha": "cli-gen-openslo",
}

_BURN_RATE_EXPR = """{metric}{filter}
/ on(sloth_id, sloth_slo, sloth_service) group_left
slo:error_budget:ratio{filter}
"""

_MWMB_EXPR = """(
    max({qs}{f} > ({qf} * {eb})) without ({w})
    and
    max({ql}{f} > ({qf} * {eb})) without ({w})
)
or
(
    max({ss}{f} > ({sf} * {eb})) without ({w})
    and
    max({sl}{f} > ({sf} * {eb})) without ({w})
)
"""


def slo_groups(service: Service, slo: SLO, catalog: AlertWindows, opts: RuleOptions) -> list[Group]:
    """SLI recordings, metadata recordings and alerts of one SLO, empty groups left out."""
    labels = {**slo.labels, **opts.extra_labels}
    groups: list[Group] = []
    if not opts.disable_recordings:
        sli = sli_rules(slo, catalog, labels)
        groups.append(rule_group("sloth-slo-sli-recordings-", slo, sli, slo.intervals.sli))
        mode = _MODES.get(service.origin.api_version, "opsplane")
        meta = meta_rules(
            slo,
            catalog=catalog,
            labels=labels,
            version=opts.version,
            mode=mode,
            spec=service.origin.api_version,
        )
        groups.append(rule_group("sloth-slo-meta-recordings-", slo, meta, slo.intervals.metadata))
    if not opts.disable_alerts:
        alerts = alert_rules(slo, catalog)
        if alerts:
            groups.append(rule_group("sloth-slo-alerts-", slo, alerts, slo.intervals.alerts))
    return groups


def sli_rules(slo: SLO, catalog: AlertWindows, labels: Labels) -> list[Rule]:
    """One ``slo:sli_error:ratio_rate<w>`` per alert window, then the optimised period rule."""
    rules = [_sli_rule(slo, w, sloth_sli_expr(slo, w), labels) for w in catalog.durations()]
    short = catalog.page_quick.short
    period = catalog.period
    ids = id_labels(slo.id, slo.service, slo.name)
    expr = (
        f"sum_over_time({sli_error_metric(short)}{label_filter(ids)}[{_w(period)}])\n"
        f"/ ignoring ({WINDOW_LABEL})\n"
        f"count_over_time({sli_error_metric(short)}{label_filter(ids)}[{_w(period)}])\n"
    )
    rules.append(_sli_rule(slo, period, expr, labels))
    return rules


def _w(window: Millis) -> str:
    return with_window("{{.window}}", window)


def _sli_rule(slo: SLO, window: Millis, expr: str, labels: Labels) -> Rule:
    merged = {**id_labels(slo.id, slo.service, slo.name), WINDOW_LABEL: _w(window), **labels}
    return {"record": sli_error_metric(window), "expr": expr, "labels": merged}


def sloth_sli_expr(slo: SLO, window: Millis) -> str:
    """The error-ratio expression for one window, in Sloth's layout."""
    sli = slo.sli
    if isinstance(sli, EventsSLI):
        return with_window(f"({sli.error_query})\n/\n({sli.total_query})\n", window)
    if isinstance(sli, RawSLI):
        return with_window(f"({sli.error_ratio_query})", window)
    if isinstance(sli, GoodTotalSLI):
        # Sloth's OpenSLO loader (internal/storage/io/openslo.go) turns good/total into a raw
        # "1 - good/total" query with this exact layout.
        raw = (
            f"\n  1 - (\n    (\n      {sli.good_query}\n    )\n    /\n"
            f"    (\n      {sli.total_query}\n    )\n  )\n"
        )
        return with_window(f"({raw})", window)
    if isinstance(sli, LatencySLI | ThresholdSLI):
        return with_window(f"({sli_exprs.error_ratio(sli)})", window)
    raise TypeError(sli)


def meta_rules(
    slo: SLO, *, catalog: AlertWindows, labels: Labels, version: str, mode: str, spec: str
) -> list[Rule]:
    """Sloth's metadata recordings: objective, budget, period, burn rates and info."""
    ids = id_labels(slo.id, slo.service, slo.name)
    base = {**ids, **labels}
    f = label_filter(ids)
    ratio = slo.objective / 100
    info = {
        **base,
        "sloth_version": version,
        "sloth_mode": mode,
        "sloth_spec": spec,
        "sloth_objective": go_plain_float(slo.objective),
        **slo.info_labels,
    }
    exprs = [
        ("slo:objective:ratio", f"vector({go_float(ratio)})"),
        ("slo:error_budget:ratio", f"vector(1-{go_float(ratio)})"),
        ("slo:time_period:days", f"vector({go_float(catalog.period / 86_400_000)})"),
        (
            "slo:current_burn_rate:ratio",
            _BURN_RATE_EXPR.format(metric=sli_error_metric(catalog.page_quick.short), filter=f),
        ),
        (
            "slo:period_burn_rate:ratio",
            _BURN_RATE_EXPR.format(metric=sli_error_metric(catalog.period), filter=f),
        ),
        ("slo:period_error_budget_remaining:ratio", f"1 - slo:period_burn_rate:ratio{f}"),
    ]
    rules: list[Rule] = [{"record": r, "expr": e, "labels": dict(base)} for r, e in exprs]
    rules.append({"record": "sloth_slo_info", "expr": "vector(1)", "labels": info})
    return rules


def alert_rules(slo: SLO, catalog: AlertWindows) -> list[Rule]:
    """The page and ticket multiwindow multi-burn-rate alerts (those not disabled)."""
    tiers: tuple[tuple[AlertTier, AlertWindow, AlertWindow], ...] = (
        ("page", catalog.page_quick, catalog.page_slow),
        ("ticket", catalog.ticket_quick, catalog.ticket_slow),
    )
    return [
        _alert_rule(slo, tier, quick, slow, catalog.period)
        for tier, quick, slow in tiers
        if not slo.alerting.tier(tier).disabled
    ]


def mwmb_expr(slo: SLO, quick: AlertWindow, slow: AlertWindow, period: Millis) -> str:
    """``(quick short and quick long) or (slow short and slow long)`` over budget x factor."""
    return _MWMB_EXPR.format(
        f=label_filter(id_labels(slo.id, slo.service, slo.name)),
        eb=go_float(slo.error_budget_ratio),
        w=WINDOW_LABEL,
        qs=sli_error_metric(quick.short),
        ql=sli_error_metric(quick.long),
        qf=go_float(quick.burn_factor(period)),
        ss=sli_error_metric(slow.short),
        sl=sli_error_metric(slow.long),
        sf=go_float(slow.burn_factor(period)),
    )


def _alert_rule(
    slo: SLO, tier: AlertTier, quick: AlertWindow, slow: AlertWindow, period: Millis
) -> Rule:
    meta: AlertMeta = slo.alerting.tier(tier)
    annotations = {
        "title": f"({tier}) {{{{$labels.sloth_service}}}} {{{{$labels.sloth_slo}}}} SLO error "
        "budget burn rate is too fast.",
        "summary": "{{$labels.sloth_service}} {{$labels.sloth_slo}} SLO error budget burn rate "
        "is over expected.",
        **slo.alerting.annotations,
        **meta.annotations,
    }
    labels = {"sloth_severity": tier, **slo.alerting.labels, **meta.labels}
    return {
        "alert": slo.alerting.name,
        "expr": mwmb_expr(slo, quick, slow, period),
        "labels": labels,
        "annotations": annotations,
    }
