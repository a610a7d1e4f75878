"""The evaluated period: rolling ranges and UTC calendar units, boundaries included."""

from __future__ import annotations

from datetime import datetime

import pytest

from opsplane.domain.duration import DAY, HOUR, MINUTE
from opsplane.domain.periods import (
    calendar_end,
    calendar_start,
    period_name,
    period_window,
    to_datetime,
    to_millis,
)
from opsplane.domain.slo import Period


def ms(text: str) -> int:
    """Epoch milliseconds of an RFC 3339 instant."""
    return to_millis(datetime.fromisoformat(text))


WEEK = Period(7 * DAY, "week")
MONTH = Period(30 * DAY, "month")
QUARTER = Period(90 * DAY, "quarter")


@pytest.mark.parametrize(
    ("period", "at", "start"),
    [
        pytest.param(
            Period(30 * DAY),
            "2026-03-15T12:00:00Z",
            "2026-02-13T12:00:00Z",
            id="a rolling 30d period at noon on 15 March starts at noon on 13 February",
        ),
        pytest.param(
            Period(28 * DAY),
            "2026-03-01T00:00:00Z",
            "2026-02-01T00:00:00Z",
            id="a rolling 28d period reaches back exactly four weeks",
        ),
        pytest.param(
            None,
            "2026-01-31T00:00:00Z",
            "2026-01-01T00:00:00Z",
            id="an SLO without a period uses the rolling default period",
        ),
        pytest.param(
            WEEK,
            "2026-01-07T12:34:56Z",
            "2026-01-05T00:00:00Z",
            id="a calendar week starts on the ISO Monday at 00:00 UTC",
        ),
        pytest.param(
            WEEK,
            "2026-01-11T23:59:59.999Z",
            "2026-01-05T00:00:00Z",
            id="the last millisecond of a Sunday is still in the week that began on Monday",
        ),
        pytest.param(
            WEEK,
            "2026-01-12T00:00:00Z",
            "2026-01-05T00:00:00Z",
            id="an instant on Monday 00:00 closes the previous week (left-open ranges)",
        ),
        pytest.param(
            WEEK,
            "2026-01-12T00:00:00.001Z",
            "2026-01-12T00:00:00Z",
            id="one millisecond after Monday 00:00 the new week has begun",
        ),
        pytest.param(
            MONTH,
            "2026-02-15T08:00:00Z",
            "2026-02-01T00:00:00Z",
            id="a calendar month starts on the 1st at 00:00 UTC",
        ),
        pytest.param(
            MONTH,
            "2026-03-01T00:00:00Z",
            "2026-02-01T00:00:00Z",
            id="an instant on 1 March 00:00 reports the whole of February",
        ),
        pytest.param(
            MONTH,
            "2026-01-01T00:00:00Z",
            "2025-12-01T00:00:00Z",
            id="an instant on 1 January 00:00 reports December of the previous year",
        ),
        pytest.param(
            QUARTER,
            "2026-05-20T10:00:00Z",
            "2026-04-01T00:00:00Z",
            id="the second quarter starts on 1 April",
        ),
        pytest.param(
            QUARTER,
            "2026-12-31T23:59:59Z",
            "2026-10-01T00:00:00Z",
            id="the fourth quarter runs to the end of December",
        ),
        pytest.param(
            QUARTER,
            "2026-01-01T00:00:00.001Z",
            "2026-01-01T00:00:00Z",
            id="the first quarter starts on 1 January",
        ),
    ],
)
def test_period_window_starts_where_the_period_does(
    period: Period | None, at: str, start: str
) -> None:
    window_start, length = period_window(period, 30 * DAY, ms(at))
    assert window_start == ms(start)
    assert length == ms(at) - ms(start)


@pytest.mark.parametrize(
    ("at", "days"),
    [
        pytest.param("2026-03-01T00:00:00Z", 28, id="February 2026 has 28 days"),
        pytest.param("2024-03-01T00:00:00Z", 29, id="February 2024, a leap year, has 29 days"),
        pytest.param("2026-02-01T00:00:00Z", 31, id="January has 31 days"),
    ],
)
def test_a_month_evaluated_at_its_end_is_the_whole_calendar_month(at: str, days: int) -> None:
    assert period_window(MONTH, 30 * DAY, ms(at))[1] == days * DAY


def test_a_calendar_period_is_never_empty() -> None:
    at = ms("2026-04-01T00:00:00Z")
    assert period_window(QUARTER, 30 * DAY, at) == (ms("2026-01-01T00:00:00Z"), 90 * DAY)
    assert period_window(QUARTER, 30 * DAY, at + 1) == (at, 1)


def test_calendar_periods_ignore_the_default_period() -> None:
    at = ms("2026-02-15T00:00:00Z")
    assert period_window(MONTH, 7 * DAY, at) == period_window(MONTH, 90 * DAY, at)


def test_rolling_periods_work_before_the_epoch() -> None:
    assert period_window(Period(HOUR), 30 * DAY, -MINUTE) == (-MINUTE - HOUR, HOUR)
    assert period_window(WEEK, 30 * DAY, ms("1969-12-31T12:00:00Z")) == (
        ms("1969-12-29T00:00:00Z"),
        2 * DAY + 12 * HOUR,
    )


@pytest.mark.parametrize(
    ("period", "name"),
    [
        pytest.param(Period(30 * DAY), "30d", id="a rolling 30d period prints as 30d"),
        pytest.param(Period(28 * DAY), "4w", id="a rolling 28d period prints as Prometheus does"),
        pytest.param(None, "1w", id="the default period prints its length"),
        pytest.param(MONTH, "month", id="a calendar month prints as month"),
        pytest.param(QUARTER, "quarter", id="a calendar quarter prints as quarter"),
    ],
)
def test_period_name(period: Period | None, name: str) -> None:
    assert period_name(period, 7 * DAY) == name


@pytest.mark.parametrize(
    ("unit", "start", "end"),
    [
        pytest.param(
            "week", "2025-12-29T00:00:00Z", "2026-01-05T00:00:00Z", id="a week spans years"
        ),
        pytest.param(
            "month", "2025-12-01T00:00:00Z", "2026-01-01T00:00:00Z", id="December ends in January"
        ),
        pytest.param(
            "quarter", "2025-10-01T00:00:00Z", "2026-01-01T00:00:00Z", id="Q4 ends next year"
        ),
        pytest.param(
            "quarter", "2026-07-01T00:00:00Z", "2026-10-01T00:00:00Z", id="Q3 ends in October"
        ),
    ],
)
def test_calendar_end_is_the_next_units_start(unit: str, start: str, end: str) -> None:
    begin = datetime.fromisoformat(start)
    assert calendar_end(unit, begin) == datetime.fromisoformat(end)
    assert calendar_start(unit, datetime.fromisoformat(end)) == datetime.fromisoformat(end)


def test_an_unknown_calendar_unit_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown calendar unit 'year'"):
        calendar_start("year", to_datetime(0))


@pytest.mark.parametrize("at", [0, 1, -1, 1_767_225_600_123, -86_400_001])
def test_epoch_milliseconds_round_trip_exactly(at: int) -> None:
    assert to_millis(to_datetime(at)) == at
