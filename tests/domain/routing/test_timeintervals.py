"""Time intervals contain an instant as Alertmanager's ``timeinterval`` package says.

Each field that is set must contain the instant (fields are ANDed), one of its ranges is
enough (ranges are ORed), fields left out do not restrict. Instants are read in ``location``
(UTC when absent). The expectations follow ``timeinterval/timeinterval.go`` and its tests.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from opsplane.domain.routing import TimeInterval, active_intervals
from opsplane.domain.routing.timeintervals import (
    IntervalFieldError,
    parse_day_of_month_range,
    parse_month_range,
    parse_time_range,
    parse_weekday_range,
    parse_year_range,
)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


BUSINESS_HOURS = TimeInterval.parse(times=[("09:00", "17:00")], weekdays=["monday:friday"])
LAST_DAY = TimeInterval.parse(days_of_month=["-1"])

CONTAINS = [
    # (sentence, interval, instant, expected)
    ("the start minute is inside", BUSINESS_HOURS, "2024-01-08T09:00:00+00:00", True),
    ("the last minute before the end is inside", BUSINESS_HOURS, "2024-01-08T16:59:59+00:00", True),
    ("the end minute is outside", BUSINESS_HOURS, "2024-01-08T17:00:00+00:00", False),
    ("a Saturday is not monday:friday", BUSINESS_HOURS, "2024-01-13T10:00:00+00:00", False),
    (
        "without a location the instant is read in UTC",
        BUSINESS_HOURS,
        "2024-01-08T10:00:00+09:00",
        False,
    ),
    (
        "24:00 is the end of the day",
        TimeInterval.parse(times=[("23:00", "24:00")]),
        "2024-01-01T23:59:00+00:00",
        True,
    ),
    ("sunday is day 0", TimeInterval.parse(weekdays=["sunday"]), "2024-01-07T12:00:00+00:00", True),
    ("-1 is the last day of a leap February", LAST_DAY, "2024-02-29T12:00:00+00:00", True),
    ("-1 is not the 28th of a leap February", LAST_DAY, "2024-02-28T12:00:00+00:00", False),
    ("-1 is the 30th of April", LAST_DAY, "2024-04-30T00:00:00+00:00", True),
    (
        "-3:-1 starts on the 26th of a 28-day February",
        TimeInterval.parse(days_of_month=["-3:-1"]),
        "2023-02-26T00:00:00+00:00",
        True,
    ),
    (
        "-3:-1 does not contain the 25th of that February",
        TimeInterval.parse(days_of_month=["-3:-1"]),
        "2023-02-25T23:59:00+00:00",
        False,
    ),
    (
        "15:-1 runs to the end of the month",
        TimeInterval.parse(days_of_month=["15:-1"]),
        "2024-04-30T12:00:00+00:00",
        True,
    ),
    (
        "31 never matches April",
        TimeInterval.parse(days_of_month=["31"]),
        "2024-04-30T12:00:00+00:00",
        False,
    ),
    (
        "28:31 is clamped to April's 30 days",
        TimeInterval.parse(days_of_month=["28:31"]),
        "2024-04-30T12:00:00+00:00",
        True,
    ),
    (
        "-31:-30 matches no day of a 28-day February (Go quirk)",
        TimeInterval.parse(days_of_month=["-31:-30"]),
        "2023-02-01T00:00:00+00:00",
        False,
    ),
    (
        "months by name",
        TimeInterval.parse(months=["january:march"]),
        "2024-03-31T23:59:00+00:00",
        True,
    ),
    ("months by number", TimeInterval.parse(months=["4:6"]), "2024-03-31T23:59:00+00:00", False),
    ("years", TimeInterval.parse(years=["2024:2025"]), "2026-01-01T00:00:00+00:00", False),
    (
        "one matching range of a field is enough",
        TimeInterval.parse(weekdays=["monday", "saturday"]),
        "2024-01-13T10:00:00+00:00",
        True,
    ),
    (
        "an empty list contains nothing",
        TimeInterval.parse(times=[]),
        "2024-01-08T10:00:00+00:00",
        False,
    ),
    ("no fields contain everything", TimeInterval(), "1999-12-31T23:59:59+00:00", True),
]


@pytest.mark.parametrize(
    ("sentence", "interval", "instant", "expected"), CONTAINS, ids=[row[0] for row in CONTAINS]
)
def test_an_interval_contains_an_instant(
    sentence: str, interval: TimeInterval, instant: str, expected: bool
) -> None:
    assert interval.contains(at(instant)) is expected, sentence


def test_fields_are_read_in_the_location() -> None:
    sydney = TimeInterval.parse(
        times=[("09:00", "17:00")], weekdays=["tuesday"], location=ZoneInfo("Australia/Sydney")
    )
    # 22:00 UTC on Monday 1 January 2024 is 09:00 on Tuesday 2 January in Sydney (UTC+11)
    assert sydney.contains(datetime(2024, 1, 1, 22, 0, tzinfo=UTC))
    assert not sydney.contains(datetime(2024, 1, 2, 22, 0, tzinfo=UTC))


def test_a_naive_instant_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        TimeInterval().contains(datetime(2024, 1, 1))  # noqa: DTZ001  # naive on purpose


def test_active_intervals_names_those_that_contain_the_instant() -> None:
    intervals = {"business": (BUSINESS_HOURS,), "month-end": (LAST_DAY,)}
    instant = at("2024-01-31T10:00:00+00:00")  # a Wednesday and the last day of January
    assert active_intervals(["month-end", "business"], intervals, instant) == [
        "month-end",
        "business",
    ]
    assert active_intervals(["business"], intervals, at("2024-01-31T18:00:00+00:00")) == []


PARSE_ERRORS = [
    (
        "a time must be HH:MM",
        lambda: parse_time_range("9:00", "17:00"),
        "couldn't parse timestamp 9:00, invalid format",
    ),
    ("24:01 is not a time", lambda: parse_time_range("00:00", "24:01"), "invalid format"),
    (
        "start before end",
        lambda: parse_time_range("10:00", "10:00"),
        "start time cannot be equal or greater than end time",
    ),
    (
        "both times are needed",
        lambda: parse_time_range("", "10:00"),
        "both start and end times must be provided",
    ),
    (
        "weekdays in order",
        lambda: parse_weekday_range("friday:monday"),
        "start day cannot be before end day",
    ),
    ("weekday names", lambda: parse_weekday_range("funday"), "funday is not a valid weekday"),
    (
        "day 0 does not exist",
        lambda: parse_day_of_month_range("0"),
        "0 is not a valid day of the month: out of range",
    ),
    (
        "day 32 does not exist",
        lambda: parse_day_of_month_range("1:32"),
        "32 is not a valid day of the month",
    ),
    (
        "a negative start needs a negative end",
        lambda: parse_day_of_month_range("-1:5"),
        "end day must be negative if start day is negative",
    ),
    (
        "-1:-3 is always empty",
        lambda: parse_day_of_month_range("-1:-3"),
        "end day -3 is always before start day -1",
    ),
    (
        "month order",
        lambda: parse_month_range("march:january"),
        "end month january is before start month march",
    ),
    ("month names", lambda: parse_month_range("smarch"), "smarch is not a valid month"),
    (
        "year order",
        lambda: parse_year_range("2025:2024"),
        "end year 2024 is before start year 2025",
    ),
    (
        "years are integers",
        lambda: parse_year_range("20x4"),
        'strconv.Atoi: parsing "20x4": invalid syntax',
    ),
    (
        "a range has at most two parts",
        lambda: parse_year_range("1:2:3"),
        "couldn't parse range 1:2:3, invalid format",
    ),
]


@pytest.mark.parametrize(
    ("sentence", "parse", "message"), PARSE_ERRORS, ids=[row[0] for row in PARSE_ERRORS]
)
def test_invalid_fields_are_refused_with_alertmanagers_message(
    sentence: str, parse: object, message: str
) -> None:
    assert callable(parse)
    with pytest.raises(ValueError, match=message.replace("(", r"\(")) as caught:
        parse()
    assert message in str(caught.value), sentence


def test_names_are_case_insensitive() -> None:
    assert parse_weekday_range("Monday:FRIDAY") == parse_weekday_range("monday:friday")
    assert parse_month_range("December") == parse_month_range("12")


def test_the_first_invalid_entry_says_where_it_is() -> None:
    with pytest.raises(IntervalFieldError, match="funday") as caught:
        TimeInterval.parse(weekdays=["monday", "funday"])
    assert (caught.value.field, caught.value.index) == ("weekdays", 1)
