"""Alertmanager time intervals (``time_intervals:``, ``mute_time_intervals:``).

A port of ``timeinterval/timeinterval.go``. A :class:`TimeInterval` contains an instant when
every field it sets contains it (fields it leaves unset do not restrict); within a field, one
range containing it is enough. A named interval is a list of them, and contains an instant
when any of them does (``Intervener.Mutes``).

- ``times``: ``start_time`` inclusive, ``end_time`` exclusive, minutes of the day;
  ``24:00`` is the end of the day.
- ``weekdays``: ``monday:friday`` or ``saturday`` (Sunday is 0).
- ``days_of_month``: ``1:5``, ``-1`` (the last day), ``-3:-1``; negative days count from
  the end of each month and ranges are clamped to the month (a ``31`` never matches April).
- ``months``: ``january:march`` or ``1:3``. ``years``: ``2024:2026``.
- ``location``: an IANA zone the fields are read in; UTC when absent. The spec layer
  resolves the name, so this module never reads the time zone database.

The parsing helpers raise ``ValueError`` with Alertmanager's messages.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import TypeVar

_T = TypeVar("_T")
_R = TypeVar("_R")
_VALID_TIME = re.compile(r"^((([01][0-9])|(2[0-3])):[0-5][0-9])$|(^24:00$)")
_GO_ATOI = re.compile(r"[+-]?[0-9]+")
WEEKDAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)


class IntervalFieldError(ValueError):
    """One entry of a time interval field is invalid; says which (``weekdays``, 2)."""

    def __init__(self, message: str, field: str, index: int) -> None:
        super().__init__(message)
        self.field = field
        self.index = index


@dataclass(frozen=True, slots=True)
class TimeRange:
    """Minutes of the day, ``[start_minute, end_minute)``; a day has 1440 minutes."""

    start_minute: int
    end_minute: int


@dataclass(frozen=True, slots=True)
class InclusiveRange:
    """``[begin, end]`` of weekdays (0 = Sunday), days of month, months (1 = January) or years."""

    begin: int
    end: int

    def __contains__(self, value: int) -> bool:
        return self.begin <= value <= self.end


@dataclass(frozen=True, slots=True)
class TimeInterval:
    """One entry of a named interval's ``time_intervals:`` list; ``None`` = not restricted."""

    times: tuple[TimeRange, ...] | None = None
    weekdays: tuple[InclusiveRange, ...] | None = None
    days_of_month: tuple[InclusiveRange, ...] | None = None
    months: tuple[InclusiveRange, ...] | None = None
    years: tuple[InclusiveRange, ...] | None = None
    location: tzinfo | None = None

    @classmethod
    def parse(
        cls,
        *,
        times: Sequence[tuple[str, str]] | None = None,
        weekdays: Sequence[str] | None = None,
        days_of_month: Sequence[str] | None = None,
        months: Sequence[str] | None = None,
        years: Sequence[str] | None = None,
        location: tzinfo | None = None,
    ) -> TimeInterval:
        """An interval from its YAML texts (``None``: the field is absent).

        Raises:
            IntervalFieldError: the first invalid entry, with Alertmanager's message.
        """
        return cls(
            times=_each("times", lambda t: parse_time_range(*t), times),
            weekdays=_each("weekdays", parse_weekday_range, weekdays),
            days_of_month=_each("days_of_month", parse_day_of_month_range, days_of_month),
            months=_each("months", parse_month_range, months),
            years=_each("years", parse_year_range, years),
            location=location,
        )

    def contains(self, instant: datetime) -> bool:
        """``TimeInterval.ContainsTime``, with ``instant`` read in :attr:`location` (or UTC).

        Raises:
            ValueError: ``instant`` is naive.
        """
        if instant.tzinfo is None:
            raise ValueError("a time interval needs an aware datetime")
        t = instant.astimezone(self.location or UTC)
        minute = t.hour * 60 + t.minute
        if self.times is not None and not any(
            r.start_minute <= minute < r.end_minute for r in self.times
        ):
            return False
        if self.days_of_month is not None and not _in_days_of_month(self.days_of_month, t):
            return False
        checks = (
            (self.months, t.month),
            (self.weekdays, (t.weekday() + 1) % 7),  # Go's time.Weekday: Sunday is 0
            (self.years, t.year),
        )
        return all(ranges is None or any(value in r for r in ranges) for ranges, value in checks)


def _each(
    field: str, parse: Callable[[_T], _R], values: Sequence[_T] | None
) -> tuple[_R, ...] | None:
    if values is None:
        return None
    found = []
    for i, value in enumerate(values):
        try:
            found.append(parse(value))
        except ValueError as exc:
            raise IntervalFieldError(str(exc), field, i) from exc
    return tuple(found)


def _in_days_of_month(ranges: Sequence[InclusiveRange], t: datetime) -> bool:
    """The ``days_of_month`` check of ``ContainsTime``, negative days and clamping included."""
    days = calendar.monthrange(t.year, t.month)[1]
    for r in ranges:
        begin = days + r.begin + 1 if r.begin < 0 else r.begin
        end = days + r.end + 1 if r.end < 0 else r.end
        if begin > days:  # a day this month does not have
            continue
        begin, end = _clamp(begin, -days, days), _clamp(end, -days, days)
        if begin <= t.day <= end:
            return True
    return False


def _clamp(n: int, low: int, high: int) -> int:
    return low if n <= low else min(n, high)


def active_intervals(
    names: Sequence[str], intervals: Mapping[str, Sequence[TimeInterval]], instant: datetime
) -> list[str]:
    """``Intervener.Mutes``: which of the named intervals contain ``instant``.

    Raises:
        KeyError: a name is not defined (configuration validation prevents this).
    """
    return [name for name in names if any(ti.contains(instant) for ti in intervals[name])]


def parse_time_range(start: str, end: str) -> TimeRange:
    """``TimeRange.UnmarshalYAML``: ``start_time``/``end_time`` as ``HH:MM``.

    Raises:
        ValueError: a time is missing or malformed, or start is not before end.
    """
    if not start or not end:
        raise ValueError("both start and end times must be provided")
    begin, finish = _parse_time(start), _parse_time(end)
    if begin >= finish:
        raise ValueError("start time cannot be equal or greater than end time")
    return TimeRange(begin, finish)


def _parse_time(text: str) -> int:
    if not _VALID_TIME.search(text):
        raise ValueError(f"couldn't parse timestamp {text}, invalid format")
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def parse_weekday_range(text: str) -> InclusiveRange:
    """``WeekdayRange.UnmarshalYAML``: ``monday:friday`` or ``sunday``."""
    r = _range(text, _weekday)
    if r.begin > r.end:
        raise ValueError("start day cannot be before end day")
    return r


def parse_day_of_month_range(text: str) -> InclusiveRange:
    """``DayOfMonthRange.UnmarshalYAML``: ``1:15``, ``-1``, ``-7:-1``."""
    r = _range(text, _atoi)
    for day in (r.begin, r.end):
        if day == 0 or not -31 <= day <= 31:
            raise ValueError(f"{day} is not a valid day of the month: out of range")
    if r.begin < 0 < r.end:
        raise ValueError("end day must be negative if start day is negative")
    # negative days can only be compared against the shortest month (28 days)
    check_begin = 28 + r.begin if r.begin < 0 else r.begin
    check_end = 28 + r.end if r.end < 0 else r.end
    if check_begin > check_end:
        raise ValueError(f"end day {r.end} is always before start day {r.begin}")
    return r


def parse_month_range(text: str) -> InclusiveRange:
    """``MonthRange.UnmarshalYAML``: ``january:march``, ``12`` or ``1:3``."""
    r = _range(text, _month)
    if r.begin > r.end:
        begin, end = _month_name(r.begin), _month_name(r.end)
        raise ValueError(f"end month {end} is before start month {begin}")
    return r


def parse_year_range(text: str) -> InclusiveRange:
    """``YearRange.UnmarshalYAML``: ``2024`` or ``2024:2026``."""
    r = _range(text, _atoi)
    if r.begin > r.end:
        raise ValueError(f"end year {r.end} is before start year {r.begin}")
    return r


def _range(text: str, member: Callable[[str], int]) -> InclusiveRange:
    """``stringableRangeFromString``: one member, or two separated by ``:``."""
    parts = text.lower().split(":")
    if len(parts) > 2:
        raise ValueError(f"couldn't parse range {text.lower()}, invalid format")
    return InclusiveRange(member(parts[0]), member(parts[-1]))


def _atoi(text: str) -> int:
    """Go's ``strconv.Atoi``: an optional sign and decimal digits, nothing else."""
    if not _GO_ATOI.fullmatch(text):
        raise ValueError(f'strconv.Atoi: parsing "{text}": invalid syntax')
    return int(text)


def _weekday(text: str) -> int:
    if text not in WEEKDAYS:
        raise ValueError(f"{text} is not a valid weekday")
    return WEEKDAYS.index(text)


def _month(text: str) -> int:
    if text in MONTHS:
        return MONTHS.index(text) + 1
    try:
        return _atoi(text)
    except ValueError:
        raise ValueError(f"{text} is not a valid month") from None


def _month_name(month: int) -> str:
    return MONTHS[month - 1] if 1 <= month <= 12 else ""
