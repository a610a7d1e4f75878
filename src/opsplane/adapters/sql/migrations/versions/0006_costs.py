"""Costs: priced workflow runs and the budgets they are held against.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29

A migration is a frozen snapshot: spell tables out with ``op``, never import ``schema``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    """Create ``cost_run`` and ``budget``."""
    op.create_table(
        "cost_run",
        sa.Column("namespace", sa.Text(), nullable=False),
        sa.Column("run_id", sa.Text(), nullable=False),
        sa.Column("service", sa.Text(), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("received_at", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.Text(), nullable=False),
        sa.Column("total", sa.Text(), nullable=False),
        sa.Column("total_nano", sa.BigInteger(), nullable=False),
        sa.Column("breakdown", _JSON, nullable=False),
        sa.Column("record", _JSON, nullable=False),
        sa.PrimaryKeyConstraint("namespace", "run_id", name=op.f("pk_cost_run")),
    )
    op.create_index(
        op.f("ix_cost_run_namespace_service_at"),
        "cost_run",
        ["namespace", "service", "at"],
        unique=False,
    )
    op.create_index(op.f("ix_cost_run_at"), "cost_run", ["at"], unique=False)
    op.create_table(
        "budget",
        sa.Column("namespace", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("service", sa.Text(), nullable=True),
        sa.Column("amount", sa.Text(), nullable=False),
        sa.Column("currency", sa.Text(), nullable=False),
        sa.Column("period_kind", sa.Text(), nullable=False),
        sa.Column("period_start", sa.Text(), nullable=True),
        sa.Column("period_end", sa.Text(), nullable=True),
        sa.Column("thresholds", _JSON, nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "period_kind IN ('monthly', 'custom')", name=op.f("ck_budget_period_kind")
        ),
        sa.PrimaryKeyConstraint("namespace", "name", name=op.f("pk_budget")),
    )


def downgrade() -> None:
    """Drop ``budget`` and ``cost_run``."""
    op.drop_table("budget")
    op.drop_index(op.f("ix_cost_run_at"), table_name="cost_run")
    op.drop_index(op.f("ix_cost_run_namespace_service_at"), table_name="cost_run")
    op.drop_table("cost_run")
