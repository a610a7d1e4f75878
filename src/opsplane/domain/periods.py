"""The period an SLO is evaluated over at an instant: rolling, or calendar-aligned in UTC.

A rolling period of length ``L`` evaluated at ``at`` is the range ``(at - L, at]``, the same
left-open range a PromQL range selector ``[L]`` reads in Prometheus 3.

A calendar period (ISO week starting Monday 00:00, month, quarter; all in UTC) runs from the
start of the calendar unit to ``at``. Ranges stay left-open, so an instant that falls exactly on
a boundary closes the unit that ends there: at ``2026-02-01T00:00:00Z`` a monthly SLO reports
the whole of January, and February's period starts one millisecond later. The length of a
calendar window is therefore always positive and at most one unit.

Prometheus rules cannot follow calendar boundaries and use the nominal length of
:class:`~opsplane.domain.slo.Period` instead (see ``docs/slo-math.md``, "Periods in rules").
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from opsplane.domain.duration import format_duration
from opsplane.domain.slo import Period
from opsplane.types import Millis

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
_QUARTER_MONTHS = 3


def to_datetime(at: Millis) -> datetime:
    """An epoch-millisecond instant as an aware UTC datetime (exact, no float rounding)."""
    return EPOCH + timedelta(milliseconds=at)


def to_millis(moment: datetime) -> Millis:
    """An aware datetime as epoch milliseconds, rounded down to the millisecond."""
    return (moment - EPOCH) // _MS


def calendar_start(unit: str, moment: datetime) -> datetime:
    """The start (UTC) of the week, month or quarter that contains ``moment``.

    Weeks are ISO 8601 weeks, which start on Monday (``date.weekday() == 0``).

    Raises:
        ValueError: ``unit`` is not ``week``, ``month`` or ``quarter``.
    """
    day = moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if unit == "week":
        return day - timedelta(days=day.weekday())
    if unit == "month":
        return day.replace(day=1)
    if unit == "quarter":
        first_month = (day.month - 1) // _QUARTER_MONTHS * _QUARTER_MONTHS + 1
        return day.replace(month=first_month, day=1)
    msg = f"unknown calendar unit {unit!r}: expected week, month or quarter"
    raise ValueError(msg)


def calendar_end(unit: str, start: datetime) -> datetime:
    """The start of the next unit after the one that begins at ``start``."""
    if unit == "week":
        return start + timedelta(days=7)
    months = 1 if unit == "month" else _QUARTER_MONTHS
    month_index = start.month - 1 + months
    return start.replace(year=start.year + month_index // 12, month=month_index % 12 + 1)


def period_window(
    slo_period: Period | None, default_period: Millis, at: Millis
) -> tuple[Millis, Millis]:
    """``(start, length)`` of the period evaluated at ``at``: the range ``(start, at]``.

    Args:
        slo_period: The SLO's period; ``None`` uses ``default_period`` (rolling), as the
            rule generator does (``RuleOptions.period``).
        default_period: The rolling period of SLOs that name none (``--period``).
        at: The evaluation instant, epoch milliseconds.

    Returns:
        The start of the period and its length ``at - start``. Rolling periods have their
        nominal length; calendar periods reach back to the last boundary strictly before
        ``at`` (see the module docstring).
    """
    if slo_period is None or slo_period.calendar is None:
        length = slo_period.length if slo_period is not None else default_period
        return at - length, length
    # The unit containing the last millisecond of (start, at]: instants on a boundary close it.
    start = to_millis(calendar_start(slo_period.calendar, to_datetime(at - 1)))
    return start, at - start


def period_name(slo_period: Period | None, default_period: Millis) -> str:
    """The period as ``slo status`` prints it: ``30d``, ``4w``, or ``week``, ``month``, ..."""
    if slo_period is not None and slo_period.calendar is not None:
        return slo_period.calendar
    return format_duration(slo_period.length if slo_period is not None else default_period)
