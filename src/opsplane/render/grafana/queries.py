"""PromQL text for dashboards: spec templates turned into Grafana queries.

Spec queries are templates in which ``{{.window}}`` is the range (Sloth's convention). On a
dashboard the range is Grafana's ``$__rate_interval``, which is at least four scrape intervals
and so never too short for ``rate()`` (Grafana docs, "Prometheus template variables").

The recording-rule metric and label names are Sloth's (``slo:sli_error:ratio_rate<window>``,
``sloth_id``, ...), because the rules opsplane generates keep them.
"""

from __future__ import annotations

import json
import re

import promql_parser

from opsplane.domain.duration import format_duration
from opsplane.domain.slo import WINDOW_VAR
from opsplane.render.prometheus.promql import SLI_ERROR_METRIC
from opsplane.types import Millis

RATE_INTERVAL = "$__rate_interval"
_PLAIN_SUM = re.compile(r"^\s*sum\s*(?=\()", re.IGNORECASE)
# Expressions that need no parentheses as the operand of a binary operator.
_ATOMIC = (
    promql_parser.AggregateExpr,
    promql_parser.Call,
    promql_parser.VectorSelector,
    promql_parser.MatrixSelector,
    promql_parser.ParenExpr,
    promql_parser.NumberLiteral,
)

SLI_ERROR = SLI_ERROR_METRIC
ERROR_BUDGET = "slo:error_budget:ratio"
PERIOD_BURN_RATE = "slo:period_burn_rate:ratio"
BUDGET_REMAINING = "slo:period_error_budget_remaining:ratio"
CURRENT_BURN_RATE = "slo:current_burn_rate:ratio"
SLO_INFO = "sloth_slo_info"
ID_LABELS = "sloth_id, sloth_slo, sloth_service"


def on_dashboard(template: str) -> str:
    """A spec query with ``{{.window}}`` replaced by ``$__rate_interval``."""
    return WINDOW_VAR.sub(RATE_INTERVAL, template).strip()


def parse(template: str) -> promql_parser.Expr | None:
    """The parsed form of a spec query (its window set to 5m), or None if it does not parse."""
    try:
        return promql_parser.parse(WINDOW_VAR.sub("5m", template))
    except ValueError:
        return None


def operand(template: str) -> str:
    """The query ready to stand beside a binary operator: parenthesised unless atomic."""
    text = on_dashboard(template)
    return text if isinstance(parse(template), _ATOMIC) else f"({text})"


def by_version(template: str) -> str | None:
    """The query split by the ``version`` label, if it is a plain ``sum(...)``.

    ``sum(rate(x[1m]))`` becomes ``sum by (version) (rate(x[1m]))``. Anything else (a
    ``sum by``, a ``sum(...) / ...``, a ``max``) returns None: rewriting arbitrary PromQL to
    keep a label is not attempted.
    """
    expr = parse(template)
    if not isinstance(expr, promql_parser.AggregateExpr) or expr.modifier is not None:
        return None
    if str(expr.op).lower() != "sum" or expr.param is not None:
        return None
    text = on_dashboard(template)
    if not _PLAIN_SUM.match(text):
        return None
    return _PLAIN_SUM.sub("sum by (version) ", text, count=1)


def ratio(numerator: str, denominator: str) -> str:
    """``numerator / denominator`` with each side parenthesised as needed."""
    return f"{operand(numerator)} / {operand(denominator)}"


def one_minus(expr: str) -> str:
    """``1 - (expr)``: a success ratio from an error ratio."""
    return f"1 - ({expr})"


def matcher(label: str, value: str) -> str:
    """``label="value"``, the value quoted as PromQL expects (JSON string escapes)."""
    return f"{label}={json.dumps(value, ensure_ascii=False)}"


def slo_selector(metric: str, slo_id: str) -> str:
    """``metric{sloth_id="<id>"}``."""
    return f"{metric}{{{matcher('sloth_id', slo_id)}}}"


def window_metric(window: Millis) -> str:
    """``slo:sli_error:ratio_rate5m`` and friends; the window printed as Prometheus does."""
    return SLI_ERROR + format_duration(window)


def burn_rate(slo_id: str, window: Millis) -> str:
    """The burn rate over one window: that window's error ratio over the error budget.

    Same expression as Sloth's alert rules, with the budget joined on the id labels.
    """
    return (
        f"{slo_selector(window_metric(window), slo_id)}"
        f" / on({ID_LABELS}) group_left"
        f" {slo_selector(ERROR_BUDGET, slo_id)}"
    )


def bucket_rate(bucket_selector: str) -> str:
    """Per-bucket request rates of a classic histogram, the input of a heatmap or a quantile."""
    return f"sum by (le) (rate({bucket_selector}[{RATE_INTERVAL}]))"


def quantile(q: float, bucket_selector: str) -> str:
    """``histogram_quantile`` over the buckets' rates."""
    return f"histogram_quantile({q}, {bucket_rate(bucket_selector)})"


def latency_buckets(metric: str, selector: str) -> str:
    """The bucket series of a latency SLI's histogram, e.g. ``x_bucket{job="a"}``."""
    return f"{metric}_bucket{{{selector}}}" if selector else f"{metric}_bucket"
