"""SLO engine state: latest statuses, alert states, alert history and evaluation ticks.

Revision ID: 0001
Revises:
Create Date: 2026-01-01

A migration is a frozen snapshot: spell tables out with ``op``, never import ``schema``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_STATES = "'inactive', 'pending', 'firing', 'resolved'"


def _nan_flagged(name: str) -> list[sa.schema.SchemaItem]:
    return [
        sa.Column(name, sa.Double(), nullable=True),
        sa.Column(f"{name}_nan", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            f"NOT ({name}_nan AND {name} IS NOT NULL)",
            name=op.f(f"ck_slo_status_{name}_nan_is_null"),
        ),
    ]


def _state_check(table: str, column: str) -> sa.CheckConstraint:
    return sa.CheckConstraint(f"{column} IN ({_STATES})", name=op.f(f"ck_{table}_{column}_valid"))


def upgrade() -> None:
    """Create the four tables of the SLO engine."""
    op.create_table(
        "slo_status",
        sa.Column("slo_id", sa.Text(), nullable=False),
        sa.Column("service", sa.Text(), nullable=False),
        sa.Column("slo", sa.Text(), nullable=False),
        sa.Column("objective", sa.Double(), nullable=False),
        sa.Column("period", sa.Text(), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("period_start", sa.BigInteger(), nullable=False),
        *_nan_flagged("period_error_ratio"),
        *_nan_flagged("budget_remaining"),
        *_nan_flagged("budget_consumed"),
        sa.Column("windows", _JSON, nullable=False),
        sa.PrimaryKeyConstraint("slo_id", name=op.f("pk_slo_status")),
    )
    op.create_table(
        "alert_state",
        sa.Column("slo_id", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("severity", sa.Text(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("active_at", sa.BigInteger(), nullable=True),
        sa.Column("fired_at", sa.BigInteger(), nullable=True),
        sa.Column("resolved_at", sa.BigInteger(), nullable=True),
        _state_check("alert_state", "state"),
        sa.ForeignKeyConstraint(
            ["slo_id"],
            ["slo_status.slo_id"],
            name=op.f("fk_alert_state_slo_id_slo_status"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("slo_id", "key", name=op.f("pk_alert_state")),
    )
    op.create_table(
        "alert_transition",
        sa.Column("id", _ROW_ID, autoincrement=True, nullable=False),
        sa.Column("slo_id", sa.Text(), nullable=False),
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("from_state", sa.Text(), nullable=False),
        sa.Column("to_state", sa.Text(), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        _state_check("alert_transition", "from_state"),
        _state_check("alert_transition", "to_state"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_transition")),
    )
    op.create_index(
        op.f("ix_alert_transition_slo_id_at"), "alert_transition", ["slo_id", "at"], unique=False
    )
    op.create_table(
        "evaluation_tick",
        sa.Column("id", _ROW_ID, autoincrement=True, nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("slo_count", sa.Integer(), nullable=False),
        sa.Column("duration_ms", sa.Double(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluation_tick")),
    )


def downgrade() -> None:
    """Drop the four tables."""
    op.drop_table("evaluation_tick")
    op.drop_index(op.f("ix_alert_transition_slo_id_at"), table_name="alert_transition")
    op.drop_table("alert_transition")
    op.drop_table("alert_state")
    op.drop_table("slo_status")
