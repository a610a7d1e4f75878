"""A pure Alertmanager dispatcher as a step machine: grouping, flush timing, repeats, inhibition.

The timing logic of Alertmanager's ``dispatch/dispatch.go`` (``Dispatcher.processAlert`` and
``aggrGroup``) together with the decision of ``notify/notify.go``'s ``DedupStage.needsUpdate``
and ``MuteStage`` (inhibition), with time passed in and no goroutines, timers or I/O:

- :meth:`Dispatcher.receive` routes an alert to every matched node (``Route.Match``) and puts it
  into that node's group for the values of its ``group_by`` labels (all labels for ``...``),
  creating the group with its first flush due ``group_wait`` later.
- :meth:`Dispatcher.due` flushes every group whose time has come, re-arms it ``group_interval``
  later and returns the notifications that the dedup stage lets through: a group is sent when
  it has new firing alerts, newly resolved alerts, or when ``repeat_interval`` has passed since
  its last notification. Resolved alerts are dropped after a flush and an empty group is removed.
- Muting happens at flush, in the order of ``notify.BuildPipeline``: inhibited alerts are left
  out (``MuteStage`` with the inhibitor); a route outside all its ``active_time_intervals`` or
  inside one of its ``mute_time_intervals`` sends nothing (``TimeActiveStage``,
  ``TimeMuteStage``); silenced alerts are left out (``MuteStage`` with the silencer). A flush
  with nothing left sends nothing and records nothing, so the alerts notify once unmuted.
- :meth:`Dispatcher.next_wakeup` is when :meth:`Dispatcher.due` next has work.

The notification log (``nflog``) is kept by group key: every sent flush carries its
:class:`LogEntry` for the caller to persist, and a dispatcher built with ``log=`` (after a
restart) dedups against it, so an unchanged group is not notified again before
``repeat_interval``. Differences from Alertmanager: the log is keyed by group key alone
(upstream adds the receiver integration; one group has one receiver here, and integrations
share its outcome); a re-received alert replaces the stored one, keeping the earlier
``starts_at`` while the stored one is still firing (a reduced ``types.Alert.Merge``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TypeAlias

from opsplane.domain.routing.inhibit import InhibitRule, mutes
from opsplane.domain.routing.matchers import go_quote
from opsplane.domain.routing.route import Route
from opsplane.domain.routing.timeintervals import TimeInterval, active_intervals
from opsplane.types import Labels, Millis

LabelPairs: TypeAlias = tuple[tuple[str, str], ...]
"""A label set as sorted ``(name, value)`` pairs: hashable, and its own fingerprint."""
Silencer: TypeAlias = Callable[[Labels], bool]
"""Whether an active silence mutes an alert with these labels (at the flush being made)."""


def _never(_labels: Labels) -> bool:
    return False


@dataclass(frozen=True, slots=True)
class Alert:
    """An alert as the dispatcher sees it (``types.Alert``).

    Attributes:
        labels: The identifying labels.
        starts_at: When it started firing, epoch milliseconds.
        ends_at: When it ends or ended; ``None`` fires until told otherwise.
        annotations: Informational labels, passed through to the notification.
    """

    labels: Labels
    starts_at: Millis
    ends_at: Millis | None = None
    annotations: Labels = field(default_factory=dict)

    @property
    def fingerprint(self) -> LabelPairs:
        """The label set, which identifies the alert (``model.LabelSet.Fingerprint``)."""
        return tuple(sorted(self.labels.items()))

    def resolved(self, now: Millis) -> bool:
        """``Alert.ResolvedAt(now)``: ``ends_at`` is set and not after ``now``."""
        return self.ends_at is not None and self.ends_at <= now


@dataclass(frozen=True, slots=True)
class Flush:
    """One notification to send: a group's alerts for one receiver.

    Attributes:
        receiver: The route's receiver.
        group_key: ``aggrGroup.GroupKey()``: the route key, ``:``, then the group labels as
            ``model.LabelSet.String()`` prints them, e.g. ``{}/{team="db"}:{alertname="Down"}``.
        group_labels: The group's ``group_by`` label values.
        firing: The group's firing alerts, in ``types.AlertSlice`` order.
        resolved: The group's resolved alerts (empty unless the dispatcher sends resolved).
        route: The route node the group belongs to.
    """

    receiver: str
    group_key: str
    group_labels: LabelPairs
    firing: tuple[Alert, ...]
    resolved: tuple[Alert, ...]
    route: Route
    log: LogEntry | None = None


@dataclass(frozen=True, slots=True)
class LogEntry:
    """What was last notified for a group (``nflogpb.Entry``)."""

    firing: frozenset[LabelPairs]
    resolved: frozenset[LabelPairs]
    at: Millis


@dataclass(slots=True)
class _Group:
    """The mutable state of one ``aggrGroup``: its alerts, timer and notification log."""

    route: Route
    labels: LabelPairs
    key: str
    next_at: Millis
    alerts: dict[LabelPairs, Alert] = field(default_factory=dict)
    flushed: bool = False
    last: LogEntry | None = None


def group_key(route: Route, labels: LabelPairs) -> str:
    """``aggrGroup.GroupKey()``: ``routeKey + ":" + groupLabels.String()``."""
    pairs = ", ".join(f"{name}={go_quote(value)}" for name, value in labels)
    return f"{route.key}:{{{pairs}}}"


def needs_update(
    entry: LogEntry | None,
    firing: frozenset[LabelPairs],
    resolved: frozenset[LabelPairs],
    repeat: Millis,
    now: Millis,
    *,
    send_resolved: bool = True,
) -> bool:
    """``DedupStage.needsUpdate``: whether a flush with these alerts is sent.

    Sent when nothing was sent before and something fires; when something fires that was not
    sent as firing; when all resolved and the last notification had firing alerts; when newly
    resolved alerts exist (if resolved alerts are sent); otherwise only once ``repeat`` has
    passed since the last notification (strictly: ``entry.Timestamp.Before(now - repeat)``).
    """
    if entry is None:
        return bool(firing)
    if not firing <= entry.firing:
        return True
    if not firing:
        return bool(entry.firing)
    if send_resolved and not resolved <= entry.resolved:
        return True
    return entry.at < now - repeat


def _alert_order(alert: Alert) -> tuple[bool, str, bool, str, LabelPairs]:
    """``types.AlertSlice.Less``: by ``job``, then ``instance`` (missing last), then labels."""
    job, instance = alert.labels.get("job"), alert.labels.get("instance")
    return (job is None, job or "", instance is None, instance or "", alert.fingerprint)


class Dispatcher:
    """Alertmanager's dispatcher as a step machine over injected time (epoch milliseconds).

    Args:
        root: The routing tree.
        inhibit_rules: Applied at flush time, as the ``MuteStage`` does: an alert of the group
            is left out while a firing received alert inhibits it (``Inhibitor.Mutes``, which,
            like upstream, does not look at the muted alert's own state).
        send_resolved: The receivers' ``send_resolved``; when false, resolved alerts are
            tracked for deduplication but not sent, and an all-resolved flush sends nothing.
        time_intervals: The named intervals routes refer to in ``mute_time_intervals`` and
            ``active_time_intervals``.
        log: The notification log persisted before a restart, by group key: a group created
            for one of these keys dedups against its entry.
    """

    __slots__ = ("_alerts", "_groups", "_intervals", "_log", "_root", "_rules", "_send_resolved")

    def __init__(
        self,
        root: Route,
        *,
        inhibit_rules: Sequence[InhibitRule] = (),
        send_resolved: bool = True,
        time_intervals: Mapping[str, Sequence[TimeInterval]] | None = None,
        log: Mapping[str, LogEntry] | None = None,
    ) -> None:
        self._root = root
        self._log = dict(log or {})
        self._rules = tuple(inhibit_rules)
        self._send_resolved = send_resolved
        self._intervals = dict(time_intervals or {})
        self._groups: dict[tuple[str, LabelPairs], _Group] = {}
        self._alerts: dict[LabelPairs, Alert] = {}

    def receive(self, alert: Alert, now: Millis) -> None:
        """``Dispatcher.processAlert`` for every route the alert matches."""
        old = self._alerts.get(alert.fingerprint)
        if old is not None and not old.resolved(now):
            alert = replace(alert, starts_at=min(old.starts_at, alert.starts_at))
        self._alerts[alert.fingerprint] = alert
        for route in self._root.match(alert.labels):
            self._insert(route, alert, now)

    def _insert(self, route: Route, alert: Alert, now: Millis) -> None:
        """``aggrGroup.insert``, creating the group (first flush after ``group_wait``) if new.

        An alert that started more than ``group_wait`` ago flushes a group that has not been
        flushed yet at once (``ag.next.Reset(0)``), so old alerts are not held back again.
        """
        labels = tuple(sorted(route.opts.group_labels(alert.labels).items()))
        group = self._groups.get((route.id, labels))
        if group is None:
            key = group_key(route, labels)
            group = _Group(route, labels, key, now + route.opts.group_wait)
            group.last = self._log.pop(key, None)
            self._groups[(route.id, labels)] = group
        group.alerts[alert.fingerprint] = alert
        if not group.flushed and alert.starts_at + route.opts.group_wait < now:
            group.next_at = min(group.next_at, now)

    def due(self, now: Millis, silenced: Silencer = _never) -> list[Flush]:
        """Flush every group whose timer expired by ``now``; the notifications to send.

        ``silenced`` says which alerts the silences active at ``now`` mute. Each expired group is
        re-armed ``group_interval`` after ``now`` (``ag.next.Reset``), flushed once however late
        ``now`` is, and removed when it is left empty. Groups are taken in order of their due
        time, then of creation.
        """
        expired = sorted(
            (item for item in self._groups.items() if item[1].next_at <= now),
            key=lambda item: item[1].next_at,
        )
        flushes: list[Flush] = []
        sources = [a.labels for a in self._alerts.values() if not a.resolved(now)]
        for ident, group in expired:
            group.next_at = now + group.route.opts.group_interval
            group.flushed = True
            flush = self._flush(group, now, sources, silenced)
            if flush is not None:
                flushes.append(flush)
            if not group.alerts:
                del self._groups[ident]
        self._alerts = {fp: a for fp, a in self._alerts.items() if not a.resolved(now)}
        return flushes

    def _flush(
        self, group: _Group, now: Millis, sources: Iterable[Labels], silenced: Silencer
    ) -> Flush | None:
        """``aggrGroup.flush`` through the mute and dedup stages.

        Resolved alerts leave the group afterwards (``DeleteIfNotModified``) whether or not a
        notification went out, as upstream does once the pipeline returns without error.
        """
        alerts = sorted(group.alerts.values(), key=_alert_order)
        for alert in alerts:
            if alert.resolved(now):
                del group.alerts[alert.fingerprint]
        active = list(sources)
        shown = [a for a in alerts if not (self._rules and mutes(self._rules, a.labels, active))]
        if shown and self._time_muted(group.route, now):
            return None
        shown = [a for a in shown if not silenced(a.labels)]
        firing = tuple(a for a in shown if not a.resolved(now))
        resolved = tuple(a for a in shown if a.resolved(now))
        if not shown:
            return None
        firing_set = frozenset(a.fingerprint for a in firing)
        resolved_set = frozenset(a.fingerprint for a in resolved)
        opts = group.route.opts
        if not needs_update(
            group.last,
            firing_set,
            resolved_set,
            opts.repeat_interval,
            now,
            send_resolved=self._send_resolved,
        ):
            return None
        group.last = LogEntry(firing_set, resolved_set, now)
        if not self._send_resolved:
            if not firing:
                return None
            resolved = ()
        return Flush(
            opts.receiver, group.key, group.labels, firing, resolved, group.route, group.last
        )

    def _time_muted(self, route: Route, now: Millis) -> bool:
        """``TimeActiveStage`` and ``TimeMuteStage``: the route is muted at ``now``."""
        opts = route.opts
        if not (opts.active_time_intervals or opts.mute_time_intervals):
            return False
        instant = datetime.fromtimestamp(now / 1000, UTC)
        names = opts.active_time_intervals
        if names and not active_intervals(names, self._intervals, instant):
            return True
        return bool(active_intervals(opts.mute_time_intervals, self._intervals, instant))

    def next_wakeup(self) -> Millis | None:
        """The earliest time a group is due, or ``None`` when there are no groups."""
        return min((g.next_at for g in self._groups.values()), default=None)

    def group_keys(self) -> list[str]:
        """The keys of the current groups, in creation order (for inspection)."""
        return [g.key for g in self._groups.values()]
