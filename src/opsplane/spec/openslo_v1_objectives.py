"""OpenSLO v1 objectives and time windows: targets, time slices, op/value and the period.

See :mod:`opsplane.spec.openslo_v1` for the decisions on Timeslices, calendar windows and
``op``/``value`` on ratio SLIs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from opsplane.domain.slo import SLI, Period, ThresholdSLI
from opsplane.errors import Problem
from opsplane.spec.openslo_v1_catalog import Loc
from opsplane.spec.openslo_v1_models import Objective, TimeWindow, parse_shorthand
from opsplane.spec.openslo_v1_sli import Indicator, ThresholdQuery
from opsplane.spec.opsplane_v1 import CALENDAR_LENGTH
from opsplane.spec.parsed import Path

CalendarUnit = Literal["week", "month", "quarter"]

_CALENDARS: dict[str, CalendarUnit] = {
    "1w": "week",
    "week": "week",
    "1M": "month",
    "month": "month",
    "1Q": "quarter",
    "quarter": "quarter",
}


@dataclass(frozen=True, slots=True)
class SLIUse:
    """The SLI an SLO uses: translated (``None`` if broken), its metric kind, its path."""

    indicator: Indicator | None
    metric: Literal["ratio", "threshold"] | None
    path: Path


def target_percent(o: Objective, at: Loc) -> tuple[float | None, list[Problem]]:
    """The objective in percent, from ``target`` (a ratio) or ``targetPercent``."""
    if o.target is not None and o.targetPercent is not None:
        return None, [at.problem("target and targetPercent are mutually exclusive")]
    if o.targetPercent is not None:
        if 0 < o.targetPercent <= 100:
            return o.targetPercent, []
        msg = f"must be > 0 and <= 100 (a percentage), got {o.targetPercent:g}"
        return None, [at.problem(msg, "targetPercent")]
    if o.target is None:
        return None, [at.problem("is required: the objective as a ratio, e.g. 0.999", "target")]
    if not 0 < o.target <= 1:
        msg = f"must be > 0 and <= 1 (a ratio, e.g. 0.999), got {o.target:g}"
        return None, [at.problem(msg, "target")]
    return o.target * 100, []  # OpenSLO uses ratios, the domain percents (as Sloth does).


def timeslice_problems(o: Objective, at: Loc, method: str | None) -> list[Problem]:
    """The spec: ``timeSliceTarget`` for Timeslices, ``timeSliceWindow`` for both kinds."""
    problems: list[Problem] = []
    if method == "Timeslices":
        if o.timeSliceTarget is None:
            problems.append(
                at.problem("is required when budgetingMethod is Timeslices", "timeSliceTarget")
            )
        elif not 0 < o.timeSliceTarget <= 1:
            problems.append(
                at.problem(f"must be > 0 and <= 1, got {o.timeSliceTarget:g}", "timeSliceTarget")
            )
    if method in ("Timeslices", "RatioTimeslices"):
        if o.timeSliceWindow is None:
            problems.append(
                at.problem(f"is required when budgetingMethod is {method}", "timeSliceWindow")
            )
        else:
            try:
                parse_shorthand(o.timeSliceWindow)
            except ValueError as exc:
                problems.append(at.problem(str(exc), "timeSliceWindow"))
    return problems


def objective_sli(o: Objective, at: Loc, use: SLIUse) -> tuple[SLI | None, list[Problem]]:
    """A threshold SLI takes ``op`` and ``value`` from the objective; a ratio SLI forbids them.

    Checked on the SLI's shape, so the objective is reported even when the SLI is broken.
    """
    if use.metric == "threshold":
        return _threshold(o, at, use.indicator)
    if use.metric is None:
        return None, []
    msg = "is not allowed when the SLI is a ratioMetric (op and value apply to a thresholdMetric)"
    given = [at.problem(msg, k) for k, v in (("op", o.op), ("value", o.value)) if v is not None]
    if given or isinstance(use.indicator, ThresholdQuery):
        return None, given
    return use.indicator, []


def _threshold(
    o: Objective, at: Loc, indicator: Indicator | None
) -> tuple[SLI | None, list[Problem]]:
    if o.op is None or o.value is None:
        missing = [k for k, v in (("op", o.op), ("value", o.value)) if v is None]
        return None, [at.problem("is required with a thresholdMetric SLI", k) for k in missing]
    if not isinstance(indicator, ThresholdQuery):
        return None, []
    return ThresholdSLI(indicator.query, o.op, o.value), []


def slo_period(windows: list[TimeWindow] | None, at: Loc) -> tuple[Period | None, list[Problem]]:
    """The one ``timeWindow``: rolling (any shorthand) or calendar (a week, month, quarter)."""
    if not windows:
        return None, []
    if len(windows) > 1:
        return None, [at.problem("exactly one time window is allowed")]
    w, w_at = windows[0], at.at(0)
    if w.calendar is not None and w.isRolling:
        return None, [w_at.problem("cannot be set when isRolling is true", "calendar")]
    if w.calendar is not None:
        return _calendar(w.duration, w_at.at("duration"))
    if w.isRolling is False:
        return None, [w_at.problem("is required when isRolling is false", "calendar")]
    return _rolling(w.duration, w_at.at("duration"))


def _rolling(duration: str, at: Loc) -> tuple[Period | None, list[Problem]]:
    try:
        return Period(parse_shorthand(duration)), []
    except ValueError as exc:
        return None, [at.problem(str(exc))]


def _calendar(duration: str, at: Loc) -> tuple[Period | None, list[Problem]]:
    unit = _CALENDARS.get(duration.strip())
    if unit is not None:
        return Period(CALENDAR_LENGTH[unit], unit), []
    msg = f"calendar time windows must be 1w, 1M or 1Q (a week, month or quarter), got {duration!r}"
    if duration.strip() == "1m":
        msg += "; 1m is one minute: did you mean 1M (one month)?"
    return None, [at.problem(msg)]
