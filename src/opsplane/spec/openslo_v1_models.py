"""The ``openslo/v1`` objects as pydantic models, and the small value types they share.

Field names follow the OpenSLO v1 spec (``OpenSLO/OpenSLO`` ``README.md``) and the official
Go SDK (``OpenSLO/go-sdk`` ``pkg/openslo/v1``). Unknown keys are ignored, as the SDK does.
Items that are either a reference or an inline object (alert policies, conditions and
notification targets) stay plain mappings here: the parser tells them apart so that each
error names the field the user wrote.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Generic, Literal, TypeAlias, TypeVar

from pydantic import BeforeValidator, Field

from opsplane.domain.duration import DAY, HOUR, MINUTE
from opsplane.domain.slo import ComparisonOp
from opsplane.spec.edge import Lenient
from opsplane.types import Millis

API_VERSION = "openslo/v1"

# go-sdk ``rules.StringDNSLabel()``: the RFC 1123 label every implementation must accept.
DNS_LABEL_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS_LABEL_MAX = 63

# go-sdk ``DurationShorthand``: ``[0-9]+[mhdwMQY]``; a month is 30d, a quarter 90d and a
# year 365d (``DurationShorthand.Duration()``).
_SHORTHAND_RE = re.compile(r"^(\d+)([mhdwMQY])$")
_SHORTHAND_UNITS: dict[str, Millis] = {
    "m": MINUTE,
    "h": HOUR,
    "d": DAY,
    "w": 7 * DAY,
    "M": 30 * DAY,
    "Q": 90 * DAY,
    "Y": 365 * DAY,
}


def _join_label(value: Any) -> Any:
    """OpenSLO label values are a string or a list of strings; lists are joined with ``,``."""
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ",".join(value)
    return value


LabelValue: TypeAlias = Annotated[str, BeforeValidator(_join_label)]


def dns_label_problem(name: str, what: str = "name") -> str | None:
    """Why ``name`` is not an RFC 1123 DNS label, or ``None`` when it is one."""
    if len(name) <= DNS_LABEL_MAX and DNS_LABEL_RE.match(name):
        return None
    return (
        f"invalid {what} {name!r}: must be an RFC 1123 DNS label (at most 63 lowercase letters, "
        "digits and '-', starting and ending with a letter or digit)"
    )


def parse_shorthand(text: str, *, allow_zero: bool = False) -> Millis:
    """Parse an OpenSLO duration shorthand such as ``5m``, ``28d`` or ``1M`` (a month).

    Raises:
        ValueError: the text is not ``<count><unit>`` with a unit in ``mhdwMQY``.
    """
    match = _SHORTHAND_RE.match(text.strip())
    if match is None:
        msg = (
            f"invalid duration {text!r}: use a count and one of m, h, d, w, M (month), "
            "Q (quarter) or Y (year), e.g. 5m, 28d or 1M"
        )
        raise ValueError(msg)
    millis = int(match.group(1)) * _SHORTHAND_UNITS[match.group(2)]
    if millis == 0 and not allow_zero:
        msg = f"invalid duration {text!r}: must be greater than zero"
        raise ValueError(msg)
    return millis


class Metadata(Lenient):
    """``metadata`` of every object; ``namespace`` is an opsplane extension."""

    name: str
    displayName: str = ""  # noqa: N815 - OpenSLO field names are camelCase
    namespace: str = ""
    labels: dict[str, LabelValue] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)


SpecT = TypeVar("SpecT")


class Obj(Lenient, Generic[SpecT]):
    """Any object: top-level (``apiVersion`` checked by the loader) or inlined in another."""

    kind: str = ""
    metadata: Metadata
    spec: SpecT


class MetricSource(Lenient):
    """Where a metric comes from: a DataSource reference, a type, or both."""

    metricSourceRef: str = ""  # noqa: N815
    type: str = ""
    spec: dict[str, Any] = Field(default_factory=dict)


class MetricSpec(Lenient):
    """One query of an SLI."""

    metricSource: MetricSource  # noqa: N815


class RatioMetric(Lenient):
    """good/total, bad/total or a raw ratio; ``counter`` defaults to true (a rate is taken)."""

    counter: bool = True
    good: MetricSpec | None = None
    bad: MetricSpec | None = None
    total: MetricSpec | None = None
    rawType: Literal["success", "failure"] | None = None  # noqa: N815
    raw: MetricSpec | None = None


class SLISpec(Lenient):
    """An SLI: exactly one of ``ratioMetric`` and ``thresholdMetric``."""

    description: str = ""
    thresholdMetric: MetricSpec | None = None  # noqa: N815
    ratioMetric: RatioMetric | None = None  # noqa: N815


class Calendar(Lenient):
    """Where a calendar-aligned window starts (not carried into the domain model).

    ``startTime`` is ``Any``: YAML reads the spec's ``2022-01-01 12:00:00`` as a timestamp.
    """

    startTime: Any = None  # noqa: N815
    timeZone: str = ""  # noqa: N815


class TimeWindow(Lenient):
    """A rolling or calendar-aligned window; ``isRolling`` defaults to "no calendar given"."""

    duration: str
    isRolling: bool | None = None  # noqa: N815
    calendar: Calendar | None = None


class Objective(Lenient):
    """One objective (threshold) of an SLO."""

    displayName: str = ""  # noqa: N815
    op: ComparisonOp | None = None
    value: float | None = None
    target: float | None = None
    targetPercent: float | None = None  # noqa: N815
    timeSliceTarget: float | None = None  # noqa: N815
    timeSliceWindow: str | None = None  # noqa: N815
    indicator: dict[str, Any] | None = None
    indicatorRef: str | None = None  # noqa: N815


class SLOSpec(Lenient):
    """An SLO over one SLI, with one domain SLO per objective."""

    description: str = ""
    service: str
    indicator: Obj[SLISpec] | None = None
    indicatorRef: str | None = None  # noqa: N815
    # Required, but checked by the parser so that the other problems are reported too.
    budgetingMethod: Literal["Occurrences", "Timeslices", "RatioTimeslices"] | None = None  # noqa: N815
    timeWindow: list[TimeWindow] | None = None  # noqa: N815
    objectives: list[Objective] = Field(min_length=1)
    alertPolicies: list[dict[str, Any]] | None = None  # noqa: N815


class BurnRate(Lenient):
    """``condition`` of an AlertCondition; ``burnrate`` is the only kind the spec defines."""

    kind: Literal["burnrate"] = "burnrate"
    op: ComparisonOp
    threshold: float
    lookbackWindow: str  # noqa: N815
    alertAfter: str = "0m"  # noqa: N815


class AlertConditionSpec(Lenient):
    """When an alert fires."""

    description: str = ""
    severity: str
    condition: BurnRate


class AlertPolicySpec(Lenient):
    """Conditions (exactly one) and who is notified."""

    description: str = ""
    alertWhenNoData: bool = False  # noqa: N815
    alertWhenResolved: bool = False  # noqa: N815
    alertWhenBreaching: bool = False  # noqa: N815
    conditions: list[dict[str, Any]]
    notificationTargets: list[dict[str, Any]] = Field(default_factory=list)  # noqa: N815


class AlertNotificationTargetSpec(Lenient):
    """Where notifications go (``email``, ``slack``, ...)."""

    description: str = ""
    target: str


class DataSourceSpec(Lenient):
    """A metrics backend; opsplane only reads ``type``."""

    type: str
    connectionDetails: Any = None  # noqa: N815


class ServiceSpec(Lenient):
    """A service; SLOs name it in ``spec.service``."""

    description: str = ""
