"""Muting at flush: silences and a route's ``mute_time_intervals``/``active_time_intervals``.

Alertmanager's notification pipeline drops muted alerts before deduplication, so a muted group
records nothing and its alerts are notified at the first flush after the mute ends.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from opsplane.domain.duration import HOUR, MINUTE
from opsplane.domain.routing import Matcher, Route, RouteConfig
from opsplane.domain.routing.dispatch import Alert, Dispatcher, Flush, Silencer
from opsplane.domain.routing.timeintervals import TimeInterval
from opsplane.types import Labels, Millis

SECOND = 1_000
# 2026-03-02 is a Monday; 08:00 UTC.
MONDAY_8AM = int(datetime(2026, 3, 2, 8, 0, tzinfo=UTC).timestamp() * 1000)
NINE_TO_FIVE = {"office": (TimeInterval.parse(times=[("09:00", "17:00")]),)}


def _routes(*siblings: RouteConfig, **child: object) -> Route:
    """``team=db`` to a child route configured by ``child``, then the given sibling routes."""
    sub = RouteConfig(matchers=(Matcher("=", "team", "db"),), **child)  # type: ignore[arg-type]
    return Route.build(
        RouteConfig(
            receiver="default",
            group_by=("alertname",),
            group_wait=30 * SECOND,
            group_interval=5 * MINUTE,
            repeat_interval=4 * HOUR,
            routes=(sub, *siblings),
        )
    )


def _flushes(
    dispatcher: Dispatcher, start: Millis, until: Millis, silenced: Silencer | None = None
) -> list[tuple[Millis, Flush]]:
    """Fire one ``team=db`` alert at ``start``, re-sent every minute, and collect the flushes."""
    alert = Alert({"alertname": "Slow", "team": "db"}, start)
    out: list[tuple[Millis, Flush]] = []
    for now in range(start, until, MINUTE):
        dispatcher.receive(alert, now)
        while (wake := dispatcher.next_wakeup()) is not None and wake < now + MINUTE:
            found = dispatcher.due(wake, silenced) if silenced else dispatcher.due(wake)
            out += [(wake, flush) for flush in found]
    return out


def test_a_silenced_alert_is_not_sent_and_is_sent_once_the_silence_ends() -> None:
    silence_ends = 20 * MINUTE

    def silenced(labels: Labels) -> bool:
        return labels.get("team") == "db" and clock[0] < silence_ends

    clock = [0]
    dispatcher = Dispatcher(_routes())
    sent: list[Millis] = []
    alert = Alert({"alertname": "Slow", "team": "db"}, 0)
    for now in range(0, HOUR, MINUTE):
        dispatcher.receive(alert, now)
        while (wake := dispatcher.next_wakeup()) is not None and wake < now + MINUTE:
            clock[0] = wake
            sent += [wake for _ in dispatcher.due(wake, silenced)]
    # Flushes at 30s, 5m30s, ... are muted until 20m; the 20m30s flush is the first one sent.
    assert sent == [20 * MINUTE + 30 * SECOND]


def test_a_route_inside_a_mute_time_interval_sends_nothing_until_it_ends() -> None:
    dispatcher = Dispatcher(_routes(mute_time_intervals=("office",)), time_intervals=NINE_TO_FIVE)
    start = MONDAY_8AM + 50 * MINUTE  # 08:50, fires into the 09:00-17:00 mute
    flushes = _flushes(dispatcher, start, MONDAY_8AM + 10 * HOUR)
    # Sent at 08:50:30, before the mute. The repeat due at 12:50:30 (repeat_interval 4h) is
    # muted and goes out at the first flush after 17:00, at 17:00:30.
    assert [at for at, _ in flushes] == [start + 30 * SECOND, MONDAY_8AM + 9 * HOUR + 30 * SECOND]
    assert {flush.receiver for _, flush in flushes} == {"default"}


def test_a_route_outside_its_active_time_intervals_waits_for_the_next_active_flush() -> None:
    dispatcher = Dispatcher(_routes(active_time_intervals=("office",)), time_intervals=NINE_TO_FIVE)
    flushes = _flushes(dispatcher, MONDAY_8AM, MONDAY_8AM + 2 * HOUR)
    # Group flushes run at 08:00:30 + k*5m; the first inside 09:00-17:00 is 09:00:30.
    assert [at for at, _ in flushes] == [MONDAY_8AM + HOUR + 30 * SECOND]


def test_time_intervals_mute_only_the_routes_that_name_them() -> None:
    oncall = RouteConfig(receiver="oncall")
    dispatcher = Dispatcher(
        _routes(oncall, mute_time_intervals=("office",), continue_=True),
        time_intervals=NINE_TO_FIVE,
    )
    start = MONDAY_8AM + 2 * HOUR  # 10:00, inside the interval
    flushes = _flushes(dispatcher, start, start + 10 * MINUTE)
    receivers: Sequence[str] = [flush.receiver for _, flush in flushes]
    # The muted child sends nothing; its sibling, reached through continue, is not muted.
    assert receivers == ["oncall"]
