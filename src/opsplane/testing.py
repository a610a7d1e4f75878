"""In-memory fakes of the ports, for tests and demos (no I/O, deterministic time).

Each fake behaves like the real adapter as far as the port promises; none of them records
calls for assertions.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace

from opsplane.adapters.traffic.split import check_split
from opsplane.domain.analysis import (
    AnalysisMetric,
    Measurement,
    ResultValue,
    measurement_from_result,
)
from opsplane.domain.cost.budget import Budget
from opsplane.domain.cost.ledger import (
    DAY_MS,
    CostRecord,
    SpendRow,
    add_cost,
    day_of,
    first_of_each,
    from_nano,
    nano_of,
)
from opsplane.domain.cost.model import Breakdown
from opsplane.domain.evaluation import AlertStatus, AlertTransition, SLOStatus
from opsplane.domain.incidents import Incident
from opsplane.domain.notify import Notification, OutboxEntry, OutboxState
from opsplane.domain.remediation import Deployment
from opsplane.domain.rollout import Rollout
from opsplane.domain.routing.dispatch import LogEntry
from opsplane.domain.routing.silences import Silence
from opsplane.errors import ConflictError, DatasourceError
from opsplane.ports import RatioRequest, SameRun, Sample
from opsplane.types import Millis


@dataclass
class FakeClock:
    """A clock that only moves when told to."""

    now: Millis = 1_767_225_600_000  # 2026-01-01T00:00:00Z

    def now_ms(self) -> Millis:
        """The current fake time."""
        return self.now

    def advance(self, millis: Millis) -> None:
        """Move time forward."""
        self.now += millis


@dataclass
class ListSink:
    """A :class:`~opsplane.ports.SampleSink` that keeps samples in a list."""

    samples: list[Sample] = field(default_factory=list)

    def append(self, samples: Sequence[Sample]) -> int:
        """Keep ``samples``."""
        self.samples.extend(samples)
        return len(samples)


RatioFunction = Callable[[str, Millis, Millis], float | None]


@dataclass
class FunctionReader:
    """An :class:`~opsplane.ports.SLIReader` answering from ``ratio(slo_id, window, at)``."""

    ratio: RatioFunction

    def error_ratios(
        self, requests: Sequence[RatioRequest], at: Millis
    ) -> list[Mapping[Millis, float | None]]:
        """Ask the function for every window of every request."""
        return [{w: self.ratio(r.slo.id, w, at) for w in r.windows} for r in requests]


@dataclass
class InMemoryStateStore:
    """A :class:`~opsplane.ports.StateStore` in dictionaries."""

    statuses: dict[str, SLOStatus] = field(default_factory=dict)
    alerts: dict[tuple[str, str], AlertStatus] = field(default_factory=dict)
    transitions: list[AlertTransition] = field(default_factory=list)

    def load_alert_states(self) -> Mapping[tuple[str, str], AlertStatus]:
        """The last state of every alert."""
        return dict(self.alerts)

    def save_evaluation(
        self, statuses: Sequence[SLOStatus], transitions: Sequence[AlertTransition]
    ) -> None:
        """Keep the latest statuses and alert states; append the transitions."""
        for status in statuses:
            self.statuses[status.slo_id] = status
            for alert in status.alerts:
                self.alerts[(status.slo_id, alert.key)] = alert
        self.transitions.extend(transitions)

    def alert_history(self, slo_id: str, limit: int = 100) -> list[AlertTransition]:
        """Newest first."""
        mine = [t for t in self.transitions if t.slo_id == slo_id]
        return sorted(mine, key=lambda t: t.at, reverse=True)[:limit]


@dataclass
class InMemoryOutbox:
    """An outbox (:class:`opsplane.ports.Outbox`) in a dictionary.

    It keeps the SQL outbox's promises: idempotent enqueue, leases that expire, attempt
    numbers that fence off a worker whose lease was lost.
    """

    rows: dict[int, OutboxEntry] = field(default_factory=dict)

    def enqueue(self, notifications: Sequence[Notification], now: Millis) -> int:
        """Store the notifications not stored yet; how many were new."""
        known = {_identity(entry.notification) for entry in self.rows.values()}
        added = 0
        for notification in notifications:
            if _identity(notification) in known:
                continue
            known.add(_identity(notification))
            entry_id = len(self.rows) + 1
            self.rows[entry_id] = OutboxEntry(entry_id, notification, "pending", 0, now, now)
            added += 1
        return added

    def claim_due(self, now: Millis, limit: int, lease_ms: Millis) -> list[OutboxEntry]:
        """Lease the due rows, oldest due first."""
        due = sorted(
            (e for e in self.rows.values() if _is_due(e, now)),
            key=lambda e: (e.next_attempt_at, e.id),
        )[: max(limit, 0)]
        for entry in due:
            claimed = replace(
                entry, state="sending", attempts=entry.attempts + 1, next_attempt_at=now + lease_ms
            )
            self.rows[entry.id] = claimed
        return [self.rows[entry.id] for entry in due]

    def mark_sent(self, entry_id: int, now: Millis) -> bool:
        """Record a delivery."""
        entry = self.rows[entry_id]
        if entry.state == "sent":
            return False
        self.rows[entry_id] = replace(entry, state="sent", sent_at=now)
        return True

    def mark_retry(self, entry_id: int, attempt: int, next_attempt_at: Millis, error: str) -> bool:
        """Reschedule the claimed attempt."""
        return self._settle(entry_id, attempt, "pending", next_attempt_at, error)

    def mark_dead(self, entry_id: int, attempt: int, error: str) -> bool:
        """Give up on the claimed attempt."""
        return self._settle(entry_id, attempt, "dead", None, error)

    def entries(self, state: OutboxState | None = None) -> list[OutboxEntry]:
        """Every row (or those in ``state``), oldest first."""
        return [e for _, e in sorted(self.rows.items()) if state is None or e.state == state]

    def _settle(
        self, entry_id: int, attempt: int, state: OutboxState, at: Millis | None, error: str
    ) -> bool:
        entry = self.rows[entry_id]
        if entry.state != "sending" or entry.attempts != attempt:
            return False
        at = entry.next_attempt_at if at is None else at
        self.rows[entry_id] = replace(entry, state=state, next_attempt_at=at, last_error=error)
        return True


def _identity(notification: Notification) -> tuple[str, str, str, str]:
    n = notification
    return (n.dedup_key, n.receiver, n.kind, n.payload_hash)


def _is_due(entry: OutboxEntry, now: Millis) -> bool:
    return entry.state in ("pending", "sending") and entry.next_attempt_at <= now


@dataclass
class InboxReceiver:
    """A receiver that keeps what it is sent, after raising ``failures`` one send at a time."""

    failures: list[Exception] = field(default_factory=list)
    received: list[Notification] = field(default_factory=list)

    def send(self, notification: Notification) -> None:
        """Fail with the next scripted failure, if any; otherwise keep the notification."""
        if self.failures:
            raise self.failures.pop(0)
        self.received.append(notification)


@dataclass
class InMemorySilences:
    """A :class:`~opsplane.ports.SilenceStore` in a dict."""

    by_id: dict[str, Silence] = field(default_factory=dict)

    def save_silence(self, silence: Silence) -> None:
        """Insert or replace by id."""
        self.by_id[silence.id] = silence

    def silence(self, silence_id: str) -> Silence | None:
        """One silence, or ``None``."""
        return self.by_id.get(silence_id)

    def silences(self) -> list[Silence]:
        """Every silence."""
        return list(self.by_id.values())


@dataclass
class InMemoryIncidents:
    """An :class:`~opsplane.ports.IncidentStore` in a dict, with the SQL store's conflict rule."""

    by_id: dict[str, Incident] = field(default_factory=dict)

    def save_incident(self, incident: Incident) -> None:
        """Insert or update; a copy with a shorter timeline than the stored one conflicts."""
        stored = self.by_id.get(incident.id)
        if stored is not None and len(stored.timeline) > len(incident.timeline):
            raise ConflictError(f"incident {incident.id} changed since it was read")
        self.by_id[incident.id] = incident

    def incident(self, incident_id: str) -> Incident | None:
        """One incident, or ``None``."""
        return self.by_id.get(incident_id)

    def incidents(
        self, *, unresolved_only: bool = False, limit: int = 100, namespace: str | None = None
    ) -> list[Incident]:
        """Newest opened first."""
        found = [
            i
            for i in self.by_id.values()
            if (not unresolved_only or i.resolved_at is None)
            and (namespace is None or i.namespace == namespace)
        ]
        found.sort(key=lambda i: (i.opened_at, i.id), reverse=True)
        return found[: max(limit, 0)]


@dataclass
class InMemoryDeployments:
    """A :class:`~opsplane.ports.DeploymentLog` in a list."""

    recorded: list[Deployment] = field(default_factory=list)

    def record_deployment(self, deployment: Deployment) -> None:
        """Keep it."""
        self.recorded.append(deployment)

    def deployments(self, since: Millis, service: str | None = None) -> list[Deployment]:
        """Started at or after ``since``, newest first."""
        found = [
            d
            for d in self.recorded
            if d.started_at >= since and (service is None or d.service == service)
        ]
        return sorted(found, key=lambda d: d.started_at, reverse=True)


@dataclass
class InMemoryNotificationLog:
    """A :class:`~opsplane.ports.NotificationLog` in a dict."""

    entries: dict[str, LogEntry] = field(default_factory=dict)

    def load_log(self) -> dict[str, LogEntry]:
        """A copy of every entry."""
        return dict(self.entries)

    def save_log(self, entries: Mapping[str, LogEntry], retain_after: Millis) -> None:
        """Upsert, then drop old entries."""
        self.entries.update(entries)
        self.entries = {k: e for k, e in self.entries.items() if e.at >= retain_after}


@dataclass
class FunctionMetricProvider:
    """A :class:`~opsplane.ports.MetricProvider` answering from ``result(metric, at)``.

    The result is judged by the metric's conditions, as a real provider judges what its
    backend answered; a function that raises ``DatasourceError`` plays a failing backend.
    """

    result: Callable[[AnalysisMetric, Millis], ResultValue]

    def measure(self, metric: AnalysisMetric, at: Millis) -> Measurement:
        """Ask the function, then evaluate the metric's conditions on its answer."""
        value = self.result(metric, at)
        return measurement_from_result(metric, value, started_at=at, finished_at=at)


@dataclass
class InMemoryRollouts:
    """A :class:`~opsplane.ports.RolloutStore` in a dict, with the SQL store's revision fence."""

    by_id: dict[str, Rollout] = field(default_factory=dict)

    def save_rollout(self, rollout: Rollout, previous: int | None) -> None:
        """Insert (``previous`` is ``None``) or replace the rollout stored at ``previous``."""
        stored = self.by_id.get(rollout.id)
        if previous is None and stored is not None:
            raise ConflictError(f"rollout {rollout.id} exists already")
        if previous is not None and (stored is None or stored.revision != previous):
            raise ConflictError(f"rollout {rollout.id} changed since it was read")
        self.by_id[rollout.id] = rollout

    def rollout(self, rollout_id: str) -> Rollout | None:
        """One rollout, or ``None``."""
        return self.by_id.get(rollout_id)

    def rollouts(self, *, active_only: bool = False, service: str | None = None) -> list[Rollout]:
        """Newest started first."""
        found = [
            r
            for r in self.by_id.values()
            if (not active_only or not r.terminal or r.pending)
            and (service is None or r.service == service)
        ]
        return sorted(found, key=lambda r: (r.started_at, r.id), reverse=True)


@dataclass
class InMemoryTrafficRouter:
    """A :class:`~opsplane.ports.TrafficRouter` that keeps each service's split in a dict.

    It checks splits as every real router does (``check_split``: whole percents adding up
    to 100, and, given ``backends``, only those names). Set ``unavailable`` to play a router
    that cannot be reached: ``set_weights`` then raises ``DatasourceError`` and changes
    nothing.
    """

    backends: Sequence[str] | None = None
    splits: dict[str, dict[str, int]] = field(default_factory=dict)
    unavailable: bool = False

    def set_weights(self, service: str, weights: Mapping[str, int]) -> None:
        """Keep ``weights`` as ``service``'s split."""
        split = check_split(service, weights, self.backends)
        if self.unavailable:
            raise DatasourceError(f"traffic router unavailable: split of {service!r} not applied")
        self.splits[service] = split

    def weights(self, service: str) -> Mapping[str, int]:
        """``service``'s split, or an empty one."""
        return dict(self.splits.get(service, {}))


@dataclass
class InMemoryBudgets:
    """A :class:`~opsplane.ports.BudgetStore` in a dict keyed by ``(namespace, name)``."""

    by_key: dict[tuple[str, str], Budget] = field(default_factory=dict)

    def put_budget(self, budget: Budget, at: Millis) -> None:
        """Create or replace."""
        self.by_key[(budget.scope.namespace, budget.name)] = budget

    def budget(self, namespace: str, name: str) -> Budget | None:
        """One budget, or ``None``."""
        return self.by_key.get((namespace, name))

    def budgets(self, namespace: str | None = None) -> list[Budget]:
        """By namespace and name."""
        return [b for k, b in sorted(self.by_key.items()) if namespace in (None, k[0])]

    def delete_budget(self, namespace: str, name: str) -> bool:
        """Remove; whether it existed."""
        return self.by_key.pop((namespace, name), None) is not None


@dataclass
class InMemoryCostLedger:
    """A :class:`~opsplane.ports.CostLedger` in a dict, with the SQL ledger's semantics.

    Recording an existing ``(namespace, run_id)`` keeps the first record; spend sums each
    run's total rounded half-even to 1e-9, as the SQL ledger's ``total_nano`` does.
    """

    by_key: dict[tuple[str, str], CostRecord] = field(default_factory=dict)

    def record_costs(
        self, records: Sequence[CostRecord], *, same: SameRun | None = None
    ) -> list[bool]:
        """Keep the records not stored yet; per record, whether it was new.

        Raises:
            ConflictError: a stored run is not ``same`` as the record; nothing was stored.
        """
        first = first_of_each(records)
        if same is not None:
            clashes = [
                key[1]
                for key, r in first.items()
                if key in self.by_key and not same(self.by_key[key], r)
            ]
            if clashes:
                raise ConflictError(f"runs recorded already with other usage: {', '.join(clashes)}")
        new = {key for key in first if key not in self.by_key}
        for key in new:
            self.by_key[key] = first[key]
        return [
            first[(r.namespace, r.run_id)] is r and (r.namespace, r.run_id) in new for r in records
        ]

    def cost_record(self, namespace: str, run_id: str) -> CostRecord | None:
        """One run's record, or ``None``."""
        return self.by_key.get((namespace, run_id))

    def cost_records(
        self,
        namespace: str,
        *,
        service: str | None = None,
        since: Millis | None = None,
        until: Millis | None = None,
        limit: int = 100,
    ) -> list[CostRecord]:
        """Newest first (by ``at``, then run id)."""
        found = [
            r
            for r in self.by_key.values()
            if r.namespace == namespace
            and service in (None, r.service)
            and (since is None or r.at >= since)
            and (until is None or r.at < until)
        ]
        found.sort(key=lambda r: (r.at, r.run_id), reverse=True)
        return found[: max(limit, 0)]

    def records_by_id(self, namespace: str, run_ids: Collection[str]) -> dict[str, CostRecord]:
        """The stored records of ``run_ids`` in ``namespace``."""
        found = (self.by_key.get((namespace, run_id)) for run_id in run_ids)
        return {r.run_id: r for r in found if r is not None}

    def service_costs(
        self, namespace: str, since: Millis, until: Millis
    ) -> list[tuple[str, Breakdown, int]]:
        """Per service and currency: the exact sum of breakdowns and the run count."""
        sums: dict[tuple[str, str], tuple[Breakdown, int]] = {}
        for r in self.by_key.values():
            if r.namespace == namespace and since <= r.at < until:
                add_cost(sums, r.service, r.breakdown)
        return [(service, total, runs) for (service, _), (total, runs) in sorted(sums.items())]

    def spend(self, namespace: str | None, since: Millis, until: Millis) -> list[SpendRow]:
        """Spend per namespace, service, UTC day and currency, in that order."""
        sums: dict[tuple[str, str, int, str], tuple[int, int]] = {}
        for r in self.by_key.values():
            if namespace in (None, r.namespace) and since <= r.at < until:
                key = (r.namespace, r.service, r.at // DAY_MS, r.currency)
                nanos, runs = sums.get(key, (0, 0))
                sums[key] = (nanos + nano_of(r.total), runs + 1)
        return [
            SpendRow(ns, service, day_of(day * DAY_MS).date(), currency, from_nano(nanos), runs)
            for (ns, service, day, currency), (nanos, runs) in sorted(sums.items())
        ]
