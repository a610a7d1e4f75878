"""The server's tables: applied specs, API tokens, the leader lease; incident namespaces.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29

A migration is a frozen snapshot: spell tables out with ``op``, never import ``schema``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create ``service_spec``, ``api_token``, ``leader_lease``; incidents get a namespace."""
    with op.batch_alter_table("incident") as batch:
        batch.add_column(sa.Column("namespace", sa.Text(), nullable=False, server_default=""))
    op.create_table(
        "service_spec",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("namespace", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_service_spec")),
    )
    op.create_index(op.f("ix_service_spec_namespace"), "service_spec", ["namespace"], unique=False)
    op.create_table(
        "api_token",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("secret_sha256", sa.Text(), nullable=False),
        sa.Column("namespace", sa.Text(), nullable=False),
        sa.Column("read_only", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_token")),
    )
    op.create_table(
        "leader_lease",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("holder", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_leader_lease")),
    )


def downgrade() -> None:
    """Drop the three tables and the incident namespace."""
    with op.batch_alter_table("incident") as batch:
        batch.drop_column("namespace")
    op.drop_table("leader_lease")
    op.drop_table("api_token")
    op.drop_index(op.f("ix_service_spec_namespace"), table_name="service_spec")
    op.drop_table("service_spec")
