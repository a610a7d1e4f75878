"""Silences, incidents with their timelines, deployments and the notification log.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29

A migration is a frozen snapshot: spell tables out with ``op``, never import ``schema``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_ROW_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Create the silence, incident, incident_event, deployment and notification_log tables."""
    op.create_table(
        "silence",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("matchers", _JSON, nullable=False),
        sa.Column("starts_at", sa.BigInteger(), nullable=False),
        sa.Column("ends_at", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_silence")),
    )
    op.create_index(op.f("ix_silence_ends_at"), "silence", ["ends_at"], unique=False)
    op.create_table(
        "incident",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("group_key", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("severity", sa.Text(), nullable=False),
        sa.Column("opened_at", sa.BigInteger(), nullable=False),
        sa.Column("acknowledged_at", sa.BigInteger(), nullable=True),
        sa.Column("resolved_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident")),
    )
    op.create_index(
        op.f("ix_incident_group_key_resolved_at"),
        "incident",
        ["group_key", "resolved_at"],
        unique=False,
    )
    op.create_index(op.f("ix_incident_opened_at"), "incident", ["opened_at"], unique=False)
    op.create_table(
        "incident_event",
        sa.Column("incident_id", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incident.id"],
            name=op.f("fk_incident_event_incident_id_incident"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("incident_id", "position", name=op.f("pk_incident_event")),
    )
    op.create_table(
        "deployment",
        sa.Column("id", _ROW_ID, autoincrement=True, nullable=False),
        sa.Column("service", sa.Text(), nullable=False),
        sa.Column("version", sa.Text(), nullable=False),
        sa.Column("started_at", sa.BigInteger(), nullable=False),
        sa.Column("finished_at", sa.BigInteger(), nullable=True),
        sa.Column("author", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deployment")),
    )
    op.create_index(
        op.f("ix_deployment_service_started_at"),
        "deployment",
        ["service", "started_at"],
        unique=False,
    )
    op.create_table(
        "notification_log",
        sa.Column("group_key", sa.Text(), nullable=False),
        sa.Column("firing", _JSON, nullable=False),
        sa.Column("resolved", _JSON, nullable=False),
        sa.Column("at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("group_key", name=op.f("pk_notification_log")),
    )
    op.create_index(op.f("ix_notification_log_at"), "notification_log", ["at"], unique=False)


def downgrade() -> None:
    """Drop the five tables."""
    op.drop_index(op.f("ix_notification_log_at"), table_name="notification_log")
    op.drop_table("notification_log")
    op.drop_index(op.f("ix_deployment_service_started_at"), table_name="deployment")
    op.drop_table("deployment")
    op.drop_table("incident_event")
    op.drop_index(op.f("ix_incident_opened_at"), table_name="incident")
    op.drop_index(op.f("ix_incident_group_key_resolved_at"), table_name="incident")
    op.drop_table("incident")
    op.drop_index(op.f("ix_silence_ends_at"), table_name="silence")
    op.drop_table("silence")
