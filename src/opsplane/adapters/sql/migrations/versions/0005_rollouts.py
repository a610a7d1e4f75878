"""Rollouts: the state of each canary or blue-green rollout, saved after every step.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

A migration is a frozen snapshot: spell tables out with ``op``, never import ``schema``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    """Create ``rollout``."""
    op.create_table(
        "rollout",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("service", sa.Text(), nullable=False),
        sa.Column("phase", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.Column("started_at", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.Column("state", _JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rollout")),
    )
    op.create_index(
        op.f("ix_rollout_service_started_at"), "rollout", ["service", "started_at"], unique=False
    )
    op.create_index(op.f("ix_rollout_active"), "rollout", ["active"], unique=False)


def downgrade() -> None:
    """Drop ``rollout``."""
    op.drop_index(op.f("ix_rollout_active"), table_name="rollout")
    op.drop_index(op.f("ix_rollout_service_started_at"), table_name="rollout")
    op.drop_table("rollout")
