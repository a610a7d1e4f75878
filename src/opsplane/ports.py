"""Protocols for everything outside opsplane's core; each has an in-memory fake for tests.

The embedded metric store and a Prometheus server both answer :class:`SLIReader`; SQLite and
PostgreSQL both back :class:`StateStore` and :class:`Outbox`; webhooks, Slack, PagerDuty, email
and Alertmanager are :class:`Receiver` s. ``app/`` depends on these, never on an adapter;
``opsplane.testing`` holds the in-memory fakes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from opsplane.domain.analysis import AnalysisMetric, Measurement
from opsplane.domain.cost.budget import Budget
from opsplane.domain.cost.ledger import CostRecord, SpendRow
from opsplane.domain.evaluation import AlertStatus, AlertTransition, SLOStatus
from opsplane.domain.incidents import Incident
from opsplane.domain.notify import Notification, OutboxEntry
from opsplane.domain.remediation import Deployment
from opsplane.domain.rollout import Rollout
from opsplane.domain.routing.dispatch import LogEntry
from opsplane.domain.routing.silences import Silence
from opsplane.domain.slo import SLO
from opsplane.types import Millis


class Clock(Protocol):
    """Wall-clock time as Unix epoch milliseconds (UTC). Injected; never read in domain/."""

    def now_ms(self) -> Millis:
        """The current time."""
        ...


@dataclass(frozen=True, slots=True)
class Sample:
    """One counter or gauge sample.

    Attributes:
        labels: Sorted ``(name, value)`` pairs, ``__name__`` included.
        timestamp: Unix epoch milliseconds.
        value: The sample value.
    """

    labels: tuple[tuple[str, str], ...]
    timestamp: Millis
    value: float


class SampleSink(Protocol):
    """Where pushed, scraped or backfilled samples go."""

    def append(self, samples: Sequence[Sample]) -> int:
        """Store ``samples``; once this returns they survive a crash. Returns how many."""
        ...


class Scraper(Protocol):
    """Pulls one ``/metrics`` endpoint (Prometheus text or OpenMetrics)."""

    def scrape(self, url: str, at: Millis, labels: Mapping[str, str]) -> list[Sample]:
        """The endpoint's samples, stamped ``at`` unless they carry a time, with ``labels``.

        Raises:
            DatasourceError: the target is unreachable or answers something unparsable.
        """
        ...


@dataclass(frozen=True, slots=True)
class RatioRequest:
    """The error ratios one SLO needs at one instant: one per window (range length)."""

    slo: SLO
    windows: tuple[Millis, ...]


class SLIReader(Protocol):
    """Answers SLI error ratios the way PromQL does.

    Ranges follow Prometheus 2.x (the version Debian ships and the oracle runs): ``rate`` over
    the closed interval ``[at - w, at]``.
    """

    def error_ratios(
        self, requests: Sequence[RatioRequest], at: Millis
    ) -> list[Mapping[Millis, float | None]]:
        """For each request, ``{window: error ratio}``; ``None`` where there is no data."""
        ...


class StateStore(Protocol):
    """Durable SLO evaluation state: latest statuses, alert states and their history."""

    def load_alert_states(self) -> Mapping[tuple[str, str], AlertStatus]:
        """The last known state of every alert, keyed by ``(slo id, alert key)``."""
        ...

    def save_evaluation(
        self, statuses: Sequence[SLOStatus], transitions: Sequence[AlertTransition]
    ) -> None:
        """Record one evaluation tick atomically."""
        ...

    def alert_history(self, slo_id: str, limit: int = 100) -> list[AlertTransition]:
        """The latest alert transitions of an SLO, newest first."""
        ...


class Outbox(Protocol):
    """Durable storage of notifications until they are delivered (at least once)."""

    def enqueue(self, notifications: Sequence[Notification], now: Millis) -> int:
        """Store notifications, due at once; idempotent; committed on return. How many new."""
        ...

    def claim_due(self, now: Millis, limit: int, lease_ms: Millis) -> list[OutboxEntry]:
        """Lease up to ``limit`` due rows to the caller (state ``sending``, attempts + 1)."""
        ...

    def mark_sent(self, entry_id: int, now: Millis) -> bool:
        """Record a delivery; ``False`` if it was already recorded."""
        ...

    def mark_retry(self, entry_id: int, attempt: int, next_attempt_at: Millis, error: str) -> bool:
        """Reschedule the claimed attempt; ``False`` if its lease was lost to another worker."""
        ...

    def mark_dead(self, entry_id: int, attempt: int, error: str) -> bool:
        """Give up on the claimed attempt; ``False`` if its lease was lost to another worker."""
        ...


class Receiver(Protocol):
    """Delivers notifications to one destination (a webhook, Slack, PagerDuty, ...)."""

    @property
    def name(self) -> str:
        """The receiver's configured name (what :attr:`Notification.receiver` refers to)."""
        ...

    def send(self, notification: Notification) -> None:
        """Deliver ``notification`` once; returns only when the destination accepted it.

        Raises:
            ReceiverError: delivery failed; ``retryable`` says whether trying again may help.
                The message is safe to log and store.
        """
        ...


class SilenceStore(Protocol):
    """Durable silences (created, expired and listed through the CLI and the API)."""

    def save_silence(self, silence: Silence) -> None:
        """Insert or replace a silence (by id); committed on return."""
        ...

    def silence(self, silence_id: str) -> Silence | None:
        """One silence, or ``None``."""
        ...

    def silences(self) -> list[Silence]:
        """Every silence, expired ones included, in no particular order."""
        ...


class IncidentStore(Protocol):
    """Durable incidents and their timelines."""

    def save_incident(self, incident: Incident) -> None:
        """Insert or update an incident; timeline events are append-only. Committed on return."""
        ...

    def incident(self, incident_id: str) -> Incident | None:
        """One incident, or ``None``."""
        ...

    def incidents(
        self, *, unresolved_only: bool = False, limit: int = 100, namespace: str | None = None
    ) -> list[Incident]:
        """Incidents (of one namespace), newest opened first."""
        ...


class DeploymentLog(Protocol):
    """Recorded deployments (RCA input and the "what changed" of remediation summaries)."""

    def record_deployment(self, deployment: Deployment) -> None:
        """Store a deployment; committed on return."""
        ...

    def deployments(self, since: Millis, service: str | None = None) -> list[Deployment]:
        """Deployments started at or after ``since``, newest first."""
        ...


class NotificationLog(Protocol):
    """Alertmanager's ``nflog``: what each alert group was last notified with."""

    def load_log(self) -> dict[str, LogEntry]:
        """Every entry, by group key."""
        ...

    def save_log(self, entries: Mapping[str, LogEntry], retain_after: Millis) -> None:
        """Upsert ``entries``; drop entries last written before ``retain_after``."""
        ...


@dataclass(frozen=True, slots=True)
class StoredSpec:
    """A service spec as applied through the API: its namespace, name and source text."""

    namespace: str
    name: str
    source: str
    updated_at: Millis


class SpecCatalog(Protocol):
    """The service specs applied to a server."""

    def put_spec(self, spec: StoredSpec) -> None:
        """Insert or replace.

        Raises:
            ConflictError: another namespace owns a service of that name.
        """
        ...

    def specs(self, namespace: str | None = None) -> list[StoredSpec]:
        """Every spec, or those of one namespace, by name."""
        ...

    def delete_spec(self, namespace: str, name: str) -> bool:
        """Remove a namespace's spec; ``False`` when there was none."""
        ...


@dataclass(frozen=True, slots=True)
class StoredToken:
    """An API token as stored: never the secret, only its SHA-256."""

    id: str
    secret_sha256: str
    namespace: str
    read_only: bool
    created_at: Millis
    description: str = ""


class TokenStore(Protocol):
    """API bearer tokens."""

    def add_token(self, token: StoredToken) -> None:
        """Store a new token."""
        ...

    def token(self, token_id: str) -> StoredToken | None:
        """One token by id, or ``None``."""
        ...


class Lease(Protocol):
    """A named lease that elects one holder at a time (leader election between replicas)."""

    def acquire(self, name: str, holder: str, now: Millis, ttl_ms: Millis) -> bool:
        """Take or renew the lease until ``now + ttl_ms``; whether ``holder`` holds it."""
        ...

    def release(self, name: str, holder: str) -> None:
        """Give the lease up if ``holder`` holds it."""
        ...


class MetricProvider(Protocol):
    """Measures one analysis metric: the embedded store, Prometheus, the canary judge, an SLO's
    burn rate, ... (Argo Rollouts' ``metricproviders.Provider``, synchronous here).
    """

    def measure(self, metric: AnalysisMetric, at: Millis) -> Measurement:
        """Read ``metric`` (its ``query``) at ``at`` and judge the result by its conditions.

        Implementations return
        :func:`~opsplane.domain.analysis.measurement_from_result`, whose phase is Error when
        a condition cannot be evaluated on the result (no data, a wrong type).

        Raises:
            DatasourceError: the backend is unreachable or answered something unusable.
                :meth:`~opsplane.domain.analysis.AnalysisRun.tick` records it as an Error
                measurement with the error's message; five in a row (more than
                ``consecutive_error_limit``) end the metric in Error.
        """
        ...


class TrafficRouter(Protocol):
    """Splits one service's traffic between its stable and canary (or blue and green) backends.

    Implementations: the built-in weighted reverse proxy, an nginx weighted-upstream writer
    (with a reload command), a webhook, and Argo Rollouts' own routers (generated manifests).
    """

    def set_weights(self, service: str, weights: Mapping[str, int]) -> None:
        """Route ``service``'s traffic by ``weights``: percent per backend name, summing to 100.

        Returns once the new split is in effect (or, for a router that cannot confirm, once it
        was handed over).

        Raises:
            DatasourceError: the router could not apply the split (unreachable, reload failed).
        """
        ...

    def weights(self, service: str) -> Mapping[str, int]:
        """The split currently in effect for ``service`` (empty when it has none)."""
        ...


class RolloutStore(Protocol):
    """Durable rollouts: each one's step-machine state, saved after every step.

    Writes are fenced by :attr:`~opsplane.domain.rollout.Rollout.revision`, so two coordinators
    (or a coordinator and an operator's promote) never overwrite each other's step.
    """

    def save_rollout(self, rollout: Rollout, previous: int | None) -> None:
        """Insert a new rollout (``previous`` is ``None``) or replace the one at ``previous``.

        Committed on return.

        Raises:
            ConflictError: the id exists already (insert), or its stored revision is not
                ``previous`` (someone else moved it since it was read).
        """
        ...

    def rollout(self, rollout_id: str) -> Rollout | None:
        """One rollout, or ``None``."""
        ...

    def rollouts(self, *, active_only: bool = False, service: str | None = None) -> list[Rollout]:
        """Rollouts (of one service), newest started first.

        ``active_only`` keeps those not yet Completed or Aborted, and those with commands still
        to carry out (an Aborted rollout whose rollback weights are not applied yet).
        """
        ...


SameRun = Callable[[CostRecord, CostRecord], bool]
"""Whether a stored run (first) and a run recorded again (second) are the same run."""


class CostLedger(Protocol):
    """Priced runs, durable once acknowledged, and the spend they add up to."""

    def record_costs(
        self, records: Sequence[CostRecord], *, same: SameRun | None = None
    ) -> list[bool]:
        """Store a batch in one transaction; per record, whether it was new.

        A record whose ``(namespace, run_id)`` is stored already is left as it is (retries are
        safe). With ``same``, each such record must be ``same(stored, record)``, checked in
        the same transaction: otherwise nothing of the batch is stored. Committed on return.

        Raises:
            ConflictError: a stored run is not ``same`` as the record (its run id is named).
        """
        ...

    def cost_record(self, namespace: str, run_id: str) -> CostRecord | None:
        """One run's record, or ``None``."""
        ...

    def cost_records(
        self,
        namespace: str,
        *,
        service: str | None = None,
        since: Millis | None = None,
        until: Millis | None = None,
        limit: int = 100,
    ) -> list[CostRecord]:
        """Records of a namespace (of one service), ``since <= at < until``, newest first."""
        ...

    def spend(self, namespace: str | None, since: Millis, until: Millis) -> list[SpendRow]:
        """Spend per service and UTC day, ``since <= at < until`` (every namespace: ``None``)."""
        ...


class BudgetStore(Protocol):
    """Budgets set through the API or CLI (budgets written in specs are not stored)."""

    def put_budget(self, budget: Budget, at: Millis) -> None:
        """Create or replace the budget named ``budget.name`` in its scope's namespace."""
        ...

    def budget(self, namespace: str, name: str) -> Budget | None:
        """One budget, or ``None``."""
        ...

    def budgets(self, namespace: str | None = None) -> list[Budget]:
        """Budgets (of one namespace), by namespace and name."""
        ...

    def delete_budget(self, namespace: str, name: str) -> bool:
        """Remove a budget; whether it existed."""
        ...
