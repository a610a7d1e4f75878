"""The dispatcher (``dispatch``): Alertmanager's grouping, flush timing, repeats and inhibition."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opsplane.domain.duration import HOUR, MINUTE
from opsplane.domain.routing import InhibitRule, Matcher, Route, RouteConfig
from opsplane.domain.routing.dispatch import Alert, Dispatcher, Flush
from opsplane.types import Millis

SECOND = 1_000


def tree(**overrides: object) -> RouteConfig:
    """A root with explicit timings: group_wait 30s, group_interval 5m, repeat_interval 1h."""
    fields: dict[str, object] = {
        "receiver": "default",
        "group_by": ("alertname",),
        "group_wait": 30 * SECOND,
        "group_interval": 5 * MINUTE,
        "repeat_interval": HOUR,
    }
    fields.update(overrides)
    return RouteConfig(**fields)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Event:
    """At ``at``, ``alertname`` (with ``labels``) fires, or resolves when ``resolve``."""

    at: Millis
    alertname: str
    resolve: bool = False
    labels: tuple[tuple[str, str], ...] = ()
    starts_at: Millis | None = None

    def alert(self) -> Alert:
        labels = {"alertname": self.alertname, **dict(self.labels)}
        starts = self.at if self.starts_at is None else self.starts_at
        return Alert(labels, starts, self.at if self.resolve else None)


def run(
    dispatcher: Dispatcher, events: Sequence[Event], until: Millis
) -> list[tuple[Millis, Flush]]:
    """Feed the events in order, waking the dispatcher at each ``next_wakeup`` up to ``until``."""
    out: list[tuple[Millis, Flush]] = []

    def advance(to: Millis) -> None:
        while (wake := dispatcher.next_wakeup()) is not None and wake <= to:
            out.extend((wake, flush) for flush in dispatcher.due(wake))

    for event in events:
        advance(event.at)
        dispatcher.receive(event.alert(), event.at)
    advance(until)
    return out


Summary = tuple[Millis, str, tuple[str, ...], tuple[str, ...]]


def summary(flushes: list[tuple[Millis, Flush]]) -> list[Summary]:
    """Each flush as (time, receiver, firing alert names, resolved alert names)."""
    return [
        (
            at,
            f.receiver,
            tuple(_name(a) for a in f.firing),
            tuple(_name(a) for a in f.resolved),
        )
        for at, f in flushes
    ]


def _name(alert: Alert) -> str:
    extra = ",".join(f"{k}={v}" for k, v in sorted(alert.labels.items()) if k != "alertname")
    return f"{alert.labels['alertname']}{{{extra}}}" if extra else alert.labels["alertname"]


ONE_GROUP = tree(group_by=())
TEAM_A = (("team", "a"),)
CONTINUE = tree(
    routes=(
        RouteConfig(receiver="a", match=TEAM_A, continue_=True),
        RouteConfig(receiver="b", match=TEAM_A),
    )
)

TIMING = [
    (
        "a new group flushes exactly at group_wait",
        tree(),
        [Event(0, "A")],
        30 * SECOND,
        [(30 * SECOND, "default", ("A",), ())],
    ),
    ("a new group does not flush before group_wait", tree(), [Event(0, "A")], 29_999, []),
    (
        "an alert older than group_wait flushes a new group at once",
        tree(),
        [Event(10 * MINUTE, "A", starts_at=0)],
        11 * MINUTE,
        [(10 * MINUTE, "default", ("A",), ())],
    ),
    (
        "a second alert into an existing group waits for group_interval",
        ONE_GROUP,
        [Event(0, "A"), Event(40 * SECOND, "B")],
        330 * SECOND,
        [(30 * SECOND, "default", ("A",), ()), (330 * SECOND, "default", ("A", "B"), ())],
    ),
    (
        "a second alert into an existing group is not sent before group_interval",
        ONE_GROUP,
        [Event(0, "A"), Event(40 * SECOND, "B")],
        330 * SECOND - 1,
        [(30 * SECOND, "default", ("A",), ())],
    ),
    (
        "an unchanged group is re-sent on the first tick strictly after repeat_interval",
        tree(),
        [Event(0, "A")],
        30 * SECOND + 70 * MINUTE,
        [(30 * SECOND, "default", ("A",), ()), (30 * SECOND + 65 * MINUTE, "default", ("A",), ())],
    ),
    (
        "an unchanged group is not re-sent at exactly repeat_interval",
        tree(),
        [Event(0, "A")],
        30 * SECOND + 64 * MINUTE,
        [(30 * SECOND, "default", ("A",), ())],
    ),
    (
        "a resolved alert is sent once as resolved and then dropped",
        ONE_GROUP,
        [Event(0, "A"), Event(0, "B"), Event(100 * SECOND, "B", resolve=True)],
        30 * SECOND + 30 * MINUTE,
        [
            (30 * SECOND, "default", ("A", "B"), ()),
            (330 * SECOND, "default", ("A",), ("B",)),
        ],
    ),
    (
        "a group whose alerts all resolved is flushed once more, then never again",
        tree(),
        [Event(0, "A"), Event(60 * SECOND, "A", resolve=True)],
        5 * HOUR,
        [(30 * SECOND, "default", ("A",), ()), (330 * SECOND, "default", (), ("A",))],
    ),
    (
        "an alert resolved before group_wait is never sent",
        tree(),
        [Event(0, "A"), Event(10 * SECOND, "A", resolve=True)],
        HOUR,
        [],
    ),
    (
        "continue routes produce a flush for every receiver matched",
        CONTINUE,
        [Event(0, "A", labels=TEAM_A)],
        MINUTE,
        [(30 * SECOND, "a", ("A{team=a}",), ()), (30 * SECOND, "b", ("A{team=a}",), ())],
    ),
    (
        "group_by '...' makes a group of each label set",
        tree(group_by=None, group_by_all=True),
        [Event(0, "A", labels=(("instance", "1"),)), Event(0, "A", labels=(("instance", "2"),))],
        MINUTE,
        [
            (30 * SECOND, "default", ("A{instance=1}",), ()),
            (30 * SECOND, "default", ("A{instance=2}",), ()),
        ],
    ),
    (
        "group_by alertname puts instances of one alert together, in instance order",
        tree(),
        [Event(0, "A", labels=(("instance", "2"),)), Event(0, "A", labels=(("instance", "1"),))],
        MINUTE,
        [(30 * SECOND, "default", ("A{instance=1}", "A{instance=2}"), ())],
    ),
]


@pytest.mark.parametrize(
    ("config", "events", "until", "expected"),
    [case[1:] for case in TIMING],
    ids=[case[0] for case in TIMING],
)
def test_flush_timing(
    config: RouteConfig, events: list[Event], until: Millis, expected: list[Summary]
) -> None:
    assert summary(run(Dispatcher(Route.build(config)), events, until)) == expected


def test_the_group_key_is_the_route_key_then_the_group_labels() -> None:
    config = tree(routes=(RouteConfig(receiver="a", match=TEAM_A, group_by=("team", "env")),))
    flushes = run(
        Dispatcher(Route.build(config)),
        [Event(0, "A", labels=(("team", "a"), ("env", 'p"1')))],
        MINUTE,
    )
    assert [f.group_key for _, f in flushes] == ['{}/{team="a"}:{env="p\\"1", team="a"}']
    assert [f.group_labels for _, f in flushes] == [(("env", 'p"1'), ("team", "a"))]


def test_next_wakeup_is_the_earliest_due_time_and_none_without_groups() -> None:
    config = tree(routes=(RouteConfig(receiver="fast", match=TEAM_A, group_wait=5 * SECOND),))
    dispatcher = Dispatcher(Route.build(config))
    assert dispatcher.next_wakeup() is None
    dispatcher.receive(Event(0, "A").alert(), 0)
    assert dispatcher.next_wakeup() == 30 * SECOND
    dispatcher.receive(Event(SECOND, "B", labels=TEAM_A).alert(), SECOND)
    assert dispatcher.next_wakeup() == 6 * SECOND
    assert [f.receiver for f in dispatcher.due(6 * SECOND)] == ["fast"]
    assert dispatcher.next_wakeup() == 30 * SECOND


def test_an_empty_group_is_removed() -> None:
    dispatcher = Dispatcher(Route.build(tree()))
    run(dispatcher, [Event(0, "A"), Event(MINUTE, "A", resolve=True)], 330 * SECOND)
    assert dispatcher.group_keys() == []
    assert dispatcher.next_wakeup() is None


def test_without_send_resolved_resolved_alerts_are_not_sent() -> None:
    dispatcher = Dispatcher(Route.build(ONE_GROUP), send_resolved=False)
    events = [Event(0, "A"), Event(0, "B"), Event(MINUTE, "B", resolve=True)]
    assert summary(run(dispatcher, events, HOUR)) == [(30 * SECOND, "default", ("A", "B"), ())]


INHIBIT = InhibitRule(
    source_matchers=(Matcher("=", "severity", "critical"),),
    target_matchers=(Matcher("=", "severity", "warning"),),
    equal=("cluster",),
)


def test_a_firing_source_mutes_targets_whose_equal_labels_agree() -> None:
    dispatcher = Dispatcher(Route.build(tree()), inhibit_rules=[INHIBIT])
    events = [
        Event(0, "Down", labels=(("cluster", "x"), ("severity", "critical"))),
        Event(0, "Slow", labels=(("cluster", "x"), ("severity", "warning"))),
        Event(0, "Slow", labels=(("cluster", "y"), ("severity", "warning"))),
    ]
    assert summary(run(dispatcher, events, MINUTE)) == [
        (30 * SECOND, "default", ("Down{cluster=x,severity=critical}",), ()),
        (30 * SECOND, "default", ("Slow{cluster=y,severity=warning}",), ()),
    ]


def test_a_target_is_sent_once_its_source_resolved() -> None:
    dispatcher = Dispatcher(Route.build(tree(group_by=())), inhibit_rules=[INHIBIT])
    events = [
        Event(0, "Down", labels=(("severity", "critical"),)),
        Event(0, "Slow", labels=(("severity", "warning"),)),
        Event(MINUTE, "Down", resolve=True, labels=(("severity", "critical"),)),
    ]
    assert summary(run(dispatcher, events, 330 * SECOND)) == [
        (30 * SECOND, "default", ("Down{severity=critical}",), ()),
        (330 * SECOND, "default", ("Slow{severity=warning}",), ("Down{severity=critical}",)),
    ]


events_strategy = st.lists(
    st.tuples(
        st.integers(0, 20 * MINUTE),
        st.sampled_from(["A", "B", "C"]),
        st.sampled_from(["1", "2"]),
        st.booleans(),
    ),
    max_size=25,
)


def _events(steps: list[tuple[int, str, str, bool]]) -> list[Event]:
    at, out = 0, []
    for gap, name, instance, resolve in steps:
        at += gap
        out.append(Event(at, name, resolve, (("instance", instance),)))
    return out


@settings(max_examples=150, deadline=None)
@given(
    steps=events_strategy,
    group_wait=st.integers(0, 2 * MINUTE),
    group_interval=st.integers(SECOND, 10 * MINUTE),
    repeat_interval=st.integers(MINUTE, 2 * HOUR),
)
def test_no_unchanged_group_is_sent_more_often_than_repeat_interval(
    steps: list[tuple[int, str, str, bool]],
    group_wait: Millis,
    group_interval: Millis,
    repeat_interval: Millis,
) -> None:
    config = tree(
        group_wait=group_wait, group_interval=group_interval, repeat_interval=repeat_interval
    )
    flushes = run(Dispatcher(Route.build(config)), _events(steps), 30 * HOUR)
    last: dict[tuple[str, str], tuple[Millis, object]] = {}
    for at, flush in flushes:
        content = (
            frozenset(a.fingerprint for a in flush.firing),
            frozenset(a.fingerprint for a in flush.resolved),
        )
        previous = last.get((flush.receiver, flush.group_key))
        if previous is not None and previous[1] == content:
            assert at - previous[0] > repeat_interval
        last[(flush.receiver, flush.group_key)] = (at, content)


@settings(max_examples=150, deadline=None)
@given(
    steps=events_strategy,
    group_wait=st.integers(0, 2 * MINUTE),
    group_interval=st.integers(SECOND, 10 * MINUTE),
)
def test_a_firing_alert_that_opens_a_group_is_sent_within_group_wait(
    steps: list[tuple[int, str, str, bool]], group_wait: Millis, group_interval: Millis
) -> None:
    dispatcher = Dispatcher(Route.build(tree(group_wait=group_wait, group_interval=group_interval)))
    events = _events(steps)
    flushes: list[tuple[Millis, Flush]] = []
    opened: list[tuple[int, str]] = []
    for i, event in enumerate(events):
        before = set(dispatcher.group_keys())
        flushes += run(dispatcher, [event], event.at)
        opened += [(i, key) for key in dispatcher.group_keys() if key not in before]
    flushes += run(dispatcher, [], events[-1].at + group_wait if events else 0)
    for i, key in opened:
        event, fingerprint = events[i], events[i].alert().fingerprint
        # The flush at arrival + group_wait runs before events of that instant are received.
        resolved_later = any(
            e.resolve and e.alert().fingerprint == fingerprint
            for e in events[i + 1 :]
            if e.at < event.at + group_wait
        )
        if event.resolve or resolved_later:
            continue
        assert any(
            f.group_key == key
            and event.at <= at <= event.at + group_wait
            and fingerprint in {a.fingerprint for a in f.firing}
            for at, f in flushes
        )
