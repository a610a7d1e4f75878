"""The state schema as SQLAlchemy Core tables, the source that migrations are checked against.

Why Core tables rather than the typed ORM (``Mapped[...]``): what we persist are the frozen,
slotted dataclasses of :mod:`opsplane.domain.evaluation`, which the ORM cannot instrument, so
an ORM would add a second, mutable copy of every type plus an identity map and unit of work
that one-transaction-per-tick batch writes never use. Writes are dialect upserts
(``INSERT ... ON CONFLICT DO UPDATE``), which are Core constructs anyway, and the mapping
between rows and domain objects lives in one explicit place (:mod:`.codec`).

Conventions, identical on SQLite and PostgreSQL:

- Instants are Unix epoch **milliseconds** in ``BIGINT`` columns (:data:`opsplane.types.Millis`):
  exact, time-zone free, and the same unit the domain and Prometheus use.
- A float that may be NaN (``0/0`` on a window without traffic, as PromQL answers) is a
  ``DOUBLE`` column plus a ``<column>_nan`` flag: NaN is stored as NULL with the flag set,
  because SQLite silently turns a bound NaN into NULL, which would make NaN and "no data"
  (``None``) indistinguishable. PostgreSQL could store NaN natively, but one representation on
  both backends keeps rows portable. Infinities are stored natively (both backends keep them).
- Window statuses are JSON (JSONB on PostgreSQL); non-finite floats inside are the strings
  ``"NaN"``, ``"Infinity"`` and ``"-Infinity"`` since JSON has no such numbers.
- Constraint names follow :data:`NAMING_CONVENTION`, so migrations name them the same way on
  both backends.
"""

from __future__ import annotations

from typing import get_args

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from opsplane.domain.evaluation import AlertState
from opsplane.domain.notify import NotificationKind, OutboxState

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ALERT_STATES: tuple[AlertState, ...] = get_args(AlertState)
OUTBOX_STATES: tuple[OutboxState, ...] = get_args(OutboxState)
NOTIFICATION_KINDS: tuple[NotificationKind, ...] = get_args(NotificationKind)
NAN_FLAGGED = ("period_error_ratio", "budget_remaining", "budget_consumed")
"""The ``slo_status`` float columns that may hold NaN, each with a ``<name>_nan`` flag."""

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
"""JSON everywhere, JSONB on PostgreSQL (indexable, compact)."""

RowId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
"""A surrogate key: ``BIGINT`` identity on PostgreSQL; on SQLite only ``INTEGER PRIMARY KEY``
aliases the rowid and so auto-increments."""


def _state_check(column: str) -> sa.CheckConstraint:
    allowed = ", ".join(f"'{state}'" for state in ALERT_STATES)
    return sa.CheckConstraint(f"{column} IN ({allowed})", name=f"{column}_valid")


def _nan_flagged(name: str) -> tuple[sa.Column[float], sa.Column[bool], sa.CheckConstraint]:
    """A nullable double, its NaN flag, and the rule that a flagged value is stored as NULL."""
    return (
        sa.Column(name, sa.Double(), nullable=True),
        sa.Column(f"{name}_nan", sa.Boolean(), nullable=False),
        sa.CheckConstraint(f"NOT ({name}_nan AND {name} IS NOT NULL)", name=f"{name}_nan_is_null"),
    )


slo_status = sa.Table(
    "slo_status",
    metadata,
    sa.Column("slo_id", sa.Text(), primary_key=True),
    sa.Column("service", sa.Text(), nullable=False),
    sa.Column("slo", sa.Text(), nullable=False),
    sa.Column("objective", sa.Double(), nullable=False),
    sa.Column("period", sa.Text(), nullable=False),
    sa.Column("at", sa.BigInteger(), nullable=False),
    sa.Column("period_start", sa.BigInteger(), nullable=False),
    *(item for name in NAN_FLAGGED for item in _nan_flagged(name)),
    sa.Column("windows", Json, nullable=False),
)
"""The latest status of every SLO: one row per SLO, replaced on every tick."""

alert_state = sa.Table(
    "alert_state",
    metadata,
    sa.Column(
        "slo_id",
        sa.Text(),
        sa.ForeignKey("slo_status.slo_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("key", sa.Text(), primary_key=True),
    sa.Column("position", sa.Integer(), nullable=False),
    sa.Column("name", sa.Text(), nullable=False),
    sa.Column("severity", sa.Text(), nullable=False),
    sa.Column("state", sa.Text(), nullable=False),
    sa.Column("active_at", sa.BigInteger(), nullable=True),
    sa.Column("fired_at", sa.BigInteger(), nullable=True),
    sa.Column("resolved_at", sa.BigInteger(), nullable=True),
    _state_check("state"),
)
"""The current state of every alert of every SLO; ``position`` keeps the status' alert order."""

alert_transition = sa.Table(
    "alert_transition",
    metadata,
    sa.Column("id", RowId, primary_key=True, autoincrement=True),
    sa.Column("slo_id", sa.Text(), nullable=False),
    sa.Column("key", sa.Text(), nullable=False),
    sa.Column("name", sa.Text(), nullable=False),
    sa.Column("from_state", sa.Text(), nullable=False),
    sa.Column("to_state", sa.Text(), nullable=False),
    sa.Column("at", sa.BigInteger(), nullable=False),
    _state_check("from_state"),
    _state_check("to_state"),
    sa.Index(None, "slo_id", "at"),
)
"""Append-only alert history. No foreign key: history outlives an SLO removed from the spec."""

evaluation_tick = sa.Table(
    "evaluation_tick",
    metadata,
    sa.Column("id", RowId, primary_key=True, autoincrement=True),
    sa.Column("at", sa.BigInteger(), nullable=False),
    sa.Column("slo_count", sa.Integer(), nullable=False),
    sa.Column("duration_ms", sa.Double(), nullable=True),
)
"""One row per saved evaluation tick: evaluation lag (now - latest ``at``) and cost."""

outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("id", RowId, primary_key=True, autoincrement=True),
    sa.Column("dedup_key", sa.Text(), nullable=False),
    sa.Column("receiver", sa.Text(), nullable=False),
    sa.Column("kind", sa.Text(), nullable=False),
    sa.Column("payload", Json, nullable=False),
    sa.Column("payload_hash", sa.Text(), nullable=False),
    sa.Column("state", sa.Text(), nullable=False),
    sa.Column("attempts", sa.Integer(), nullable=False),
    sa.Column("next_attempt_at", sa.BigInteger(), nullable=False),
    sa.Column("last_error", sa.Text(), nullable=True),
    sa.Column("created_at", sa.BigInteger(), nullable=False),
    sa.Column("sent_at", sa.BigInteger(), nullable=True),
    sa.CheckConstraint(
        f"state IN ({', '.join(repr(s) for s in OUTBOX_STATES)})", name="state_valid"
    ),
    sa.CheckConstraint(
        f"kind IN ({', '.join(repr(k) for k in NOTIFICATION_KINDS)})", name="kind_valid"
    ),
    sa.UniqueConstraint("dedup_key", "receiver", "kind", "payload_hash"),
    sa.Index(None, "state", "next_attempt_at"),
)
"""The notification outbox: every notification is a row before it is sent (see :mod:`.outbox`).

``next_attempt_at`` is when a ``pending`` row is due, or when a ``sending`` row's lease ends;
the unique key makes enqueueing the same notification twice a no-op.
"""

silence = sa.Table(
    "silence",
    metadata,
    sa.Column("id", sa.Text(), primary_key=True),
    sa.Column("matchers", Json, nullable=False),
    sa.Column("starts_at", sa.BigInteger(), nullable=False),
    sa.Column("ends_at", sa.BigInteger(), nullable=False),
    sa.Column("created_by", sa.Text(), nullable=False),
    sa.Column("comment", sa.Text(), nullable=False),
    sa.Column("updated_at", sa.BigInteger(), nullable=False),
    sa.Index(None, "ends_at"),
)
"""Silences; ``matchers`` is a JSON list of ``{name, type, value}`` as the v2 API spells them."""

incident = sa.Table(
    "incident",
    metadata,
    sa.Column("id", sa.Text(), primary_key=True),
    sa.Column("group_key", sa.Text(), nullable=False),
    sa.Column("title", sa.Text(), nullable=False),
    sa.Column("severity", sa.Text(), nullable=False),
    sa.Column("opened_at", sa.BigInteger(), nullable=False),
    sa.Column("acknowledged_at", sa.BigInteger(), nullable=True),
    sa.Column("resolved_at", sa.BigInteger(), nullable=True),
    sa.Column("namespace", sa.Text(), nullable=False, server_default=""),
    sa.Index(None, "group_key", "resolved_at"),
    sa.Index(None, "opened_at"),
)
"""Incidents; their timelines are in ``incident_event``."""

incident_event = sa.Table(
    "incident_event",
    metadata,
    sa.Column(
        "incident_id",
        sa.Text(),
        sa.ForeignKey("incident.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("position", sa.Integer(), primary_key=True),
    sa.Column("at", sa.BigInteger(), nullable=False),
    sa.Column("kind", sa.Text(), nullable=False),
    sa.Column("detail", sa.Text(), nullable=False),
)
"""Incident timelines, append-only: ``position`` orders the events of one incident."""

deployment = sa.Table(
    "deployment",
    metadata,
    sa.Column("id", RowId, primary_key=True, autoincrement=True),
    sa.Column("service", sa.Text(), nullable=False),
    sa.Column("version", sa.Text(), nullable=False),
    sa.Column("started_at", sa.BigInteger(), nullable=False),
    sa.Column("finished_at", sa.BigInteger(), nullable=True),
    sa.Column("author", sa.Text(), nullable=False),
    sa.Index(None, "service", "started_at"),
)
"""Deployments of services: annotations, remediation summaries and RCA input."""

notification_log = sa.Table(
    "notification_log",
    metadata,
    sa.Column("group_key", sa.Text(), primary_key=True),
    sa.Column("firing", Json, nullable=False),
    sa.Column("resolved", Json, nullable=False),
    sa.Column("at", sa.BigInteger(), nullable=False),
    sa.Index(None, "at"),
)
"""Alertmanager's ``nflog``: what each alert group was last notified with (label sets as
lists of ``[name, value]`` pairs), so a restart does not notify an unchanged group again."""

service_spec = sa.Table(
    "service_spec",
    metadata,
    sa.Column("name", sa.Text(), primary_key=True),
    sa.Column("namespace", sa.Text(), nullable=False),
    sa.Column("source", sa.Text(), nullable=False),
    sa.Column("updated_at", sa.BigInteger(), nullable=False),
    sa.Index(None, "namespace"),
)
"""Applied service specs as submitted (YAML or JSON text), one per service name.

Service names are unique across namespaces, because SLO ids (``<service>-<slo>``) key the
evaluation state; applying a name another namespace owns is a conflict.
"""

api_token = sa.Table(
    "api_token",
    metadata,
    sa.Column("id", sa.Text(), primary_key=True),
    sa.Column("secret_sha256", sa.Text(), nullable=False),
    sa.Column("namespace", sa.Text(), nullable=False),
    sa.Column("read_only", sa.Boolean(), nullable=False),
    sa.Column("created_at", sa.BigInteger(), nullable=False),
    sa.Column("description", sa.Text(), nullable=False),
)
"""API bearer tokens: only the SHA-256 of the secret part is stored."""

leader_lease = sa.Table(
    "leader_lease",
    metadata,
    sa.Column("name", sa.Text(), primary_key=True),
    sa.Column("holder", sa.Text(), nullable=False),
    sa.Column("expires_at", sa.BigInteger(), nullable=False),
)
"""Leases that elect one replica for singleton work (evaluation and alert routing)."""

rollout = sa.Table(
    "rollout",
    metadata,
    sa.Column("id", sa.Text(), primary_key=True),
    sa.Column("service", sa.Text(), nullable=False),
    sa.Column("phase", sa.Text(), nullable=False),
    sa.Column("active", sa.Boolean(), nullable=False),
    sa.Column("revision", sa.BigInteger(), nullable=False),
    sa.Column("started_at", sa.BigInteger(), nullable=False),
    sa.Column("updated_at", sa.BigInteger(), nullable=False),
    sa.Column("state", Json, nullable=False),
    sa.Index(None, "service", "started_at"),
    sa.Index(None, "active"),
)
"""Rollouts: the step machine's whole state as a versioned JSON document
(:mod:`opsplane.domain.rollout_codec`), plus the columns that select and fence it. ``active``
is "not ended, or with commands still to carry out"; ``revision`` fences concurrent writers."""

cost_run = sa.Table(
    "cost_run",
    metadata,
    sa.Column("namespace", sa.Text(), primary_key=True),
    sa.Column("run_id", sa.Text(), primary_key=True),
    sa.Column("service", sa.Text(), nullable=False),
    sa.Column("at", sa.BigInteger(), nullable=False),
    sa.Column("received_at", sa.BigInteger(), nullable=False),
    sa.Column("currency", sa.Text(), nullable=False),
    sa.Column("total", sa.Text(), nullable=False),
    sa.Column("total_nano", sa.BigInteger(), nullable=False),
    sa.Column("breakdown", Json, nullable=False),
    sa.Column("record", Json, nullable=False),
    sa.Index(None, "namespace", "service", "at"),
    sa.Index(None, "at"),
)
"""Priced workflow runs, one row per ``(namespace, run_id)``: recording a run again is a no-op.

``total`` and the ``breakdown`` amounts are exact decimal strings; ``total_nano`` is the total
in billionths of the currency unit (rounded half-even), so spend can be summed in SQL.
``record`` is the run as received plus its priced lines (the run's metadata)."""

budget = sa.Table(
    "budget",
    metadata,
    sa.Column("namespace", sa.Text(), primary_key=True),
    sa.Column("name", sa.Text(), primary_key=True),
    sa.Column("service", sa.Text(), nullable=True),
    sa.Column("amount", sa.Text(), nullable=False),
    sa.Column("currency", sa.Text(), nullable=False),
    sa.Column("period_kind", sa.Text(), nullable=False),
    sa.Column("period_start", sa.Text(), nullable=True),
    sa.Column("period_end", sa.Text(), nullable=True),
    sa.Column("thresholds", Json, nullable=False),
    sa.Column("updated_at", sa.BigInteger(), nullable=False),
    sa.CheckConstraint("period_kind IN ('monthly', 'custom')", name="period_kind"),
)
"""Cost budgets set through the API or CLI, per namespace or per service (``service``).

``amount`` is a decimal string; a custom period's ``[start, end)`` days are ISO dates;
``thresholds`` is a JSON list of decimal strings (fractions of ``amount``)."""
