"""Notifications, their retry policy and the outbox step machine (pure: no I/O, no clock).

A :class:`Notification` is what one receiver must be told about one alert group: it is stored
in the durable outbox *before* anything is sent, then delivered at least once. Its
:attr:`~Notification.delivery_id` is derived from its content, so the same notification
enqueued twice is one outbox row, and a receiver that sees the same id twice can drop the
duplicate (delivery is at-least-once; receiver-side dedup makes it effectively once).

The outbox step machine (:func:`advance`) decides what happens to a row after one attempt::

    pending --claim--> sending --Delivered---------------------------> sent
       ^                  |----Retryable, attempts/age left---------> pending (backoff)
       |                  |----Retryable, exhausted or Permanent----> dead
       +--lease expired---+  (a crash mid-send: the row is due again)

Failures are raised by receivers as :class:`ReceiverError`, which says whether to retry.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from random import Random
from typing import Literal, TypeAlias, TypeVar

from opsplane.domain.duration import DAY, MINUTE
from opsplane.errors import DeliveryError
from opsplane.types import Labels, Millis, Severity

NotificationKind: TypeAlias = Literal["firing", "resolved"]
OutboxState: TypeAlias = Literal["pending", "sending", "sent", "dead"]
SECOND: Millis = 1_000
_S = TypeVar("_S", bound=str)


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert of a group, in Alertmanager's terms.

    Attributes:
        labels: The alert's identity (``alertname``, ``service``, ``slo``, ``severity``, ...).
        annotations: Descriptive text (``summary``, ``description``, ``runbook_url``).
        starts_at: When it started firing.
        ends_at: When it resolved; ``None`` while it fires.
        generator_url: A link back to what produced it.
        status: ``firing`` or ``resolved``.
    """

    labels: Labels
    annotations: Labels = field(default_factory=dict)
    starts_at: Millis = 0
    ends_at: Millis | None = None
    generator_url: str = ""
    status: NotificationKind = "firing"


@dataclass(frozen=True, slots=True)
class Payload:
    """What a notification says, as plain data every receiver renders in its own format.

    Attributes:
        group_labels: The labels the alerts were grouped by.
        alerts: The group's alerts (possibly truncated; see ``truncated_alerts``).
        summary: The remediation summary: what burns, what changed, what to do.
        severity: ``P0`` (most urgent) to ``P3``.
        runbook_url: Where the runbook is, if known.
        dashboard_url: Where the dashboard is, if known.
        external_url: The URL of the opsplane instance that sent it.
        truncated_alerts: How many alerts were left out of ``alerts``.
    """

    group_labels: Labels
    alerts: tuple[Alert, ...]
    summary: str = ""
    severity: Severity = "P3"
    runbook_url: str | None = None
    dashboard_url: str | None = None
    external_url: str = ""
    truncated_alerts: int = 0


@dataclass(frozen=True, slots=True)
class Notification:
    """One message for one receiver about one alert group.

    Attributes:
        dedup_key: Stable for the alert group across firing and resolved (PagerDuty's
            ``dedup_key``, the webhook's ``groupKey``).
        receiver: The name of the receiver that must get it.
        kind: ``firing`` or ``resolved``.
        payload: What it says.
    """

    dedup_key: str
    receiver: str
    kind: NotificationKind
    payload: Payload

    @property
    def payload_hash(self) -> str:
        """SHA-256 of the canonical payload JSON: equal payloads, equal hashes."""
        return hashlib.sha256(canonical_json(payload_to_json(self.payload))).hexdigest()

    @property
    def delivery_id(self) -> str:
        """A stable id of this exact notification, sent along for receiver-side dedup."""
        identity = "\0".join((self.dedup_key, self.receiver, self.kind, self.payload_hash))
        return hashlib.sha256(identity.encode()).hexdigest()[:32]

    @property
    def title(self) -> str:
        """``[FIRING:2] CheckoutAvailability`` (Alertmanager's default title shape)."""
        name = self.payload.group_labels.get("alertname") or self.dedup_key
        if self.kind == "resolved":
            return f"[RESOLVED] {name}"
        firing = sum(alert.status == "firing" for alert in self.payload.alerts)
        return f"[FIRING:{firing}] {name}"


def canonical_json(data: object) -> bytes:
    """JSON with sorted keys and no spaces: one byte string per value, for hashing."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def payload_to_json(payload: Payload) -> dict[str, object]:
    """The payload as plain JSON data (how the outbox stores it)."""
    return {
        "group_labels": dict(payload.group_labels),
        "alerts": [
            {
                "labels": dict(a.labels),
                "annotations": dict(a.annotations),
                "starts_at": a.starts_at,
                "ends_at": a.ends_at,
                "generator_url": a.generator_url,
                "status": a.status,
            }
            for a in payload.alerts
        ],
        "summary": payload.summary,
        "severity": payload.severity,
        "runbook_url": payload.runbook_url,
        "dashboard_url": payload.dashboard_url,
        "external_url": payload.external_url,
        "truncated_alerts": payload.truncated_alerts,
    }


def payload_from_json(raw: Mapping[str, object]) -> Payload:
    """The inverse of :func:`payload_to_json`.

    Raises:
        ValueError: ``raw`` is not a stored payload.
    """
    try:
        alerts = tuple(_alert_from_json(item) for item in _items(raw["alerts"]))
        return Payload(
            group_labels=_labels(raw["group_labels"]),
            alerts=alerts,
            summary=str(raw["summary"]),
            severity=_one_of(raw["severity"], ("P0", "P1", "P2", "P3")),
            runbook_url=_optional_str(raw["runbook_url"]),
            dashboard_url=_optional_str(raw["dashboard_url"]),
            external_url=str(raw["external_url"]),
            truncated_alerts=_int(raw["truncated_alerts"]),
        )
    except (KeyError, TypeError) as exc:
        raise ValueError(f"not a stored notification payload: {exc}") from exc


def _alert_from_json(raw: Mapping[str, object]) -> Alert:
    ends_at = raw["ends_at"]
    return Alert(
        labels=_labels(raw["labels"]),
        annotations=_labels(raw["annotations"]),
        starts_at=_int(raw["starts_at"]),
        ends_at=None if ends_at is None else _int(ends_at),
        generator_url=str(raw["generator_url"]),
        status=_one_of(raw["status"], ("firing", "resolved")),
    )


def _items(raw: object) -> list[Mapping[str, object]]:
    if not isinstance(raw, list) or not all(isinstance(item, Mapping) for item in raw):
        raise TypeError(f"expected a list of objects, got {type(raw).__name__}")
    return raw


def _labels(raw: object) -> dict[str, str]:
    if not isinstance(raw, Mapping):
        raise TypeError(f"expected labels, got {type(raw).__name__}")
    return {str(name): str(value) for name, value in raw.items()}


def _int(raw: object) -> int:
    if not isinstance(raw, int) or isinstance(raw, bool):
        raise TypeError(f"expected an integer, got {raw!r}")
    return raw


def _optional_str(raw: object) -> str | None:
    return None if raw is None else str(raw)


def _one_of(raw: object, allowed: tuple[_S, ...]) -> _S:
    for value in allowed:
        if raw == value:
            return value
    raise TypeError(f"expected one of {allowed}, got {raw!r}")


def with_remediation(alert: Alert, payload: Payload) -> Alert:
    """``alert`` with the payload's remediation summary and links as annotations.

    For receivers that only carry Alertmanager's alert shape (webhook, Alertmanager): the
    summary becomes ``remediation``, the links ``runbook_url`` (the annotation name the
    Prometheus community mixins use) and ``dashboard_url``. The alert's own values win.
    """
    extra = {
        "remediation": payload.summary,
        "runbook_url": payload.runbook_url or "",
        "dashboard_url": payload.dashboard_url or "",
    }
    merged = {name: value for name, value in extra.items() if value}
    merged.update(alert.annotations)
    return replace(alert, annotations=merged)


def common_labels(label_sets: Sequence[Labels]) -> dict[str, str]:
    """The name/value pairs every set shares (Alertmanager's ``commonLabels``)."""
    if not label_sets:
        return {}
    first, *rest = label_sets
    return {k: v for k, v in first.items() if all(other.get(k) == v for other in rest)}


@dataclass(frozen=True, slots=True)
class Delivered:
    """The receiver accepted the notification."""


@dataclass(frozen=True, slots=True)
class Retryable:
    """A transient failure (timeout, connection error, 408, 429, 5xx): try again later.

    Attributes:
        reason: What happened, free of secrets.
        retry_after_ms: The receiver's ``Retry-After``, honoured as a lower bound.
    """

    reason: str
    retry_after_ms: Millis | None = None


@dataclass(frozen=True, slots=True)
class Permanent:
    """A failure that retrying cannot fix (a 4xx other than 408/429, a rejected address)."""

    reason: str


Outcome: TypeAlias = Delivered | Retryable | Permanent


class ReceiverError(DeliveryError):
    """A receiver failed to deliver; says whether a retry may succeed.

    The message must already be safe to log and store: no secrets, URLs as scheme and host.
    """

    def __init__(
        self, message: str, *, retryable: bool, retry_after_ms: Millis | None = None
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after_ms = retry_after_ms

    def outcome(self) -> Retryable | Permanent:
        """The step-machine outcome this failure stands for."""
        if self.retryable:
            return Retryable(str(self), self.retry_after_ms)
        return Permanent(str(self))


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with full jitter, bounded by attempts and age.

    The delay before attempt ``n + 1`` is uniform in ``[0, min(cap, base * factor**(n-1))]``
    ("full jitter", AWS Architecture Blog, *Exponential Backoff And Jitter*, 2015): it spreads
    retries of many failed notifications so a recovering receiver is not hit in lock-step.

    Attributes:
        base_ms: The ceiling of the first delay (1 s).
        factor: How the ceiling grows per attempt (2).
        cap_ms: The largest ceiling (5 min).
        max_attempts: Give up after this many attempts (``None``: no limit).
        max_age_ms: Give up when the next attempt would be later than this after enqueueing.
    """

    base_ms: Millis = SECOND
    factor: float = 2.0
    cap_ms: Millis = 5 * MINUTE
    max_attempts: int | None = 100
    max_age_ms: Millis | None = DAY

    def __post_init__(self) -> None:
        if self.base_ms <= 0 or self.factor < 1 or self.cap_ms < self.base_ms:
            raise ValueError("retry policy needs base > 0, factor >= 1 and cap >= base")
        if self.max_attempts is not None and self.max_attempts < 1:
            raise ValueError("retry policy needs max_attempts >= 1")

    def backoff_ms(self, attempt: int, rng: Random) -> Millis:
        """The jittered delay after failed attempt number ``attempt`` (1-based)."""
        # Past ~64 doublings the ceiling is the cap anyway; the bound avoids float overflow.
        exponent = min(max(attempt - 1, 0), 64)
        ceiling = min(float(self.cap_ms), self.base_ms * self.factor**exponent)
        return round(rng.uniform(0.0, ceiling))

    def exhausted(self, attempts: int, created_at: Millis, next_attempt_at: Millis) -> bool:
        """Whether to give up instead of attempting again at ``next_attempt_at``."""
        if self.max_attempts is not None and attempts >= self.max_attempts:
            return True
        return self.max_age_ms is not None and next_attempt_at - created_at > self.max_age_ms


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """One outbox row as the step machine sees it.

    Attributes:
        id: The row id.
        notification: What to deliver.
        state: ``pending`` (due at ``next_attempt_at``), ``sending`` (claimed; the lease ends
            at ``next_attempt_at``), ``sent`` or ``dead``.
        attempts: Claims so far, the current one included (a crash mid-send counts).
        next_attempt_at: When a pending row is due, or when a sending row's lease expires.
        created_at: When it was enqueued.
        last_error: The latest failure, already redacted.
        sent_at: When it was delivered.
    """

    id: int
    notification: Notification
    state: OutboxState
    attempts: int
    next_attempt_at: Millis
    created_at: Millis
    last_error: str | None = None
    sent_at: Millis | None = None


def advance(
    entry: OutboxEntry, outcome: Outcome, now: Millis, policy: RetryPolicy, rng: Random
) -> OutboxEntry:
    """The row after one attempt of a claimed (``sending``) row ended with ``outcome``.

    Raises:
        ValueError: ``entry`` is not ``sending``: only a claimed row has an attempt to judge.
    """
    if entry.state != "sending":
        raise ValueError(f"outbox row {entry.id} is {entry.state}, not sending")
    if isinstance(outcome, Delivered):
        return replace(entry, state="sent", sent_at=now)
    if isinstance(outcome, Permanent):
        return replace(entry, state="dead", last_error=outcome.reason)
    delay = policy.backoff_ms(entry.attempts, rng)
    if outcome.retry_after_ms is not None:
        delay = max(delay, outcome.retry_after_ms)
    next_at = now + delay
    if policy.exhausted(entry.attempts, entry.created_at, next_at):
        reason = f"gave up after {entry.attempts} attempts: {outcome.reason}"
        return replace(entry, state="dead", last_error=reason)
    return replace(entry, state="pending", next_attempt_at=next_at, last_error=outcome.reason)
