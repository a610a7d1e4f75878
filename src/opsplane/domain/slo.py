"""The one SLO model every input format is translated into.

Objectives are percentages (``99.9``) as in Sloth and the opsplane spec; OpenSLO's ratios
(``0.999``) are converted at the spec edge. Queries are PromQL templates in which
``{{.window}}`` stands for the range of the window being evaluated.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal, TypeAlias

from opsplane.domain.cost.budget import Budget
from opsplane.domain.windows import AlertWindows
from opsplane.types import AlertTier, Labels, Millis, Severity

ComparisonOp: TypeAlias = Literal["lt", "lte", "gt", "gte"]

WINDOW_VAR = re.compile(r"{{ *\.window *}}")
"""The ``{{.window}}`` placeholder of query templates (Sloth's convention, any spacing)."""


@dataclass(frozen=True, slots=True)
class EventsSLI:
    """Bad events over all events, as two rate queries (Sloth ``events``)."""

    error_query: str
    total_query: str


@dataclass(frozen=True, slots=True)
class GoodTotalSLI:
    """Good events over all events (OpenSLO ``ratioMetric`` good/total)."""

    good_query: str
    total_query: str


@dataclass(frozen=True, slots=True)
class RawSLI:
    """A query that already yields the error ratio (Sloth ``raw``, OpenSLO ``rawType: failure``)."""

    error_ratio_query: str


@dataclass(frozen=True, slots=True)
class LatencySLI:
    """Requests slower than ``threshold`` seconds are bad, read from a Prometheus histogram.

    ``metric`` is the histogram's base name (``http_request_duration_seconds``); the rules read
    ``<metric>_bucket{le="<threshold>"}`` and ``<metric>_count``. ``threshold`` must be one of the
    histogram's bucket bounds. ``selector`` holds extra label matchers, without braces.
    """

    metric: str
    threshold: float
    selector: str = ""


@dataclass(frozen=True, slots=True)
class ThresholdSLI:
    """A gauge-like query that is good while ``query <op> value`` (OpenSLO ``thresholdMetric``).

    The error ratio over a window is the fraction of 1-minute samples that broke the threshold.
    """

    query: str
    op: ComparisonOp
    value: float


SLI: TypeAlias = EventsSLI | GoodTotalSLI | RawSLI | LatencySLI | ThresholdSLI


@dataclass(frozen=True, slots=True)
class AlertMeta:
    """One burn-rate alert tier as the spec configures it."""

    disabled: bool = False
    labels: Labels = field(default_factory=dict)
    annotations: Labels = field(default_factory=dict)
    severity: Severity | None = None


@dataclass(frozen=True, slots=True)
class Alerting:
    """The alerts of one SLO: two burn-rate tiers and an optional no-data alert.

    ``no_data_for`` is how long the SLI may be absent before the no-data alert fires; ``None``
    disables it.
    """

    name: str = ""
    labels: Labels = field(default_factory=dict)
    annotations: Labels = field(default_factory=dict)
    page: AlertMeta = field(default_factory=AlertMeta)
    ticket: AlertMeta = field(default_factory=AlertMeta)
    no_data_for: Millis | None = None

    def tier(self, tier: AlertTier) -> AlertMeta:
        """The configuration of ``page`` or ``ticket``."""
        return self.page if tier == "page" else self.ticket


DEFAULT_SEVERITY: dict[AlertTier, Severity] = {"page": "P1", "ticket": "P3"}


@dataclass(frozen=True, slots=True)
class BurnRateCondition:
    """An OpenSLO ``AlertCondition`` of kind ``burnrate`` attached through an ``AlertPolicy``.

    Fires when the burn rate over ``lookback`` compares to ``threshold`` with ``op`` for at least
    ``alert_after``.
    """

    name: str
    severity: str
    op: ComparisonOp
    threshold: float
    lookback: Millis
    alert_after: Millis
    description: str = ""
    policy: str = ""
    targets: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Period:
    """The SLO period. Calendar periods use a nominal length in Prometheus rules.

    Prometheus range selectors cannot follow calendar boundaries, so rules for ``month`` use
    30d, ``quarter`` 90d and ``week`` 7d; the engine evaluates the true calendar period.
    """

    length: Millis
    calendar: Literal["week", "month", "quarter"] | None = None


@dataclass(frozen=True, slots=True)
class RuleIntervals:
    """Evaluation intervals of the generated rule groups (``None``: Prometheus' global one)."""

    sli: Millis | None = None
    metadata: Millis | None = None
    alerts: Millis | None = None


@dataclass(frozen=True, slots=True)
class SLO:
    """A service level objective over one SLI."""

    service: str
    name: str
    objective: float
    sli: SLI
    description: str = ""
    labels: Labels = field(default_factory=dict)
    period: Period | None = None
    windows: AlertWindows | None = None
    alerting: Alerting = field(default_factory=Alerting)
    conditions: tuple[BurnRateCondition, ...] = ()
    runbook: str | None = None
    info_labels: Labels = field(default_factory=dict)
    intervals: RuleIntervals = field(default_factory=RuleIntervals)
    dialect: Literal["promql", "metricsql"] = "promql"

    @property
    def id(self) -> str:
        """``<service>-<name>``, the id Sloth puts in ``sloth_id``."""
        return f"{self.service}-{self.name}"

    @property
    def objective_ratio(self) -> float:
        """The objective as a ratio (``99.9`` -> ``0.999``)."""
        return self.objective / 100

    @property
    def error_budget_ratio(self) -> float:
        """``(100 - objective) / 100``, computed in Sloth's order for identical floats."""
        return (100 - self.objective) / 100


@dataclass(frozen=True, slots=True)
class GoldenSignals:
    """The four golden signals as PromQL (``{{.window}}`` templated where a range is needed)."""

    requests: str | None = None
    errors: str | None = None
    latency: str | None = None
    saturation: str | None = None
    dependencies: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ScrapeConfig:
    """``/metrics`` endpoints the embedded store pulls from, and how often."""

    targets: tuple[str, ...]
    interval: Millis


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a service came from, kept so outputs can mirror the input (Sloth does)."""

    file: str
    index: int
    api_version: str
    kind: str
    name: str = ""
    namespace: str = ""
    labels: Labels = field(default_factory=dict)
    annotations: Labels = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Service:
    """A service and its SLOs: what one input document describes."""

    name: str
    slos: tuple[SLO, ...]
    origin: Origin
    namespace: str = "default"
    owner: str = ""
    labels: Labels = field(default_factory=dict)
    runbook: str | None = None
    golden: GoldenSignals | None = None
    scrape: ScrapeConfig | None = None
    budget: Budget | None = None
    """The cost budget of the spec's ``costs.budget`` (opsplane/v1 only), if any."""


def with_severities(
    services: Sequence[Service], severities: Mapping[AlertTier, Severity]
) -> list[Service]:
    """The services with ``severities`` as the default of each alert tier.

    The tier-to-severity mapping (``page`` -> ``P1``, ``ticket`` -> ``P3`` unless configured)
    applies where an SLO's spec names no severity for the tier; the no-data alert follows the
    ticket tier. A severity written in the spec always wins.
    """
    return [
        replace(service, slos=tuple(_slo_with_severities(slo, severities) for slo in service.slos))
        for service in services
    ]


def _slo_with_severities(slo: SLO, severities: Mapping[AlertTier, Severity]) -> SLO:
    page, ticket = slo.alerting.page, slo.alerting.ticket
    alerting = replace(
        slo.alerting,
        page=replace(page, severity=page.severity or severities.get("page")),
        ticket=replace(ticket, severity=ticket.severity or severities.get("ticket")),
    )
    return replace(slo, alerting=alerting)
