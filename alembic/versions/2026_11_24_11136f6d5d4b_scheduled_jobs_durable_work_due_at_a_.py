"""Scheduled jobs: durable work due at a time (reminders, deadlines, digests, retention),
claimed under a lease like the outbox, so it runs once however many workers run.

Revision ID: 11136f6d5d4b
Revises: fa6a41001ada
Create Date: 2026-11-24 15:18:56.402549
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "11136f6d5d4b"
down_revision: str | None = "fa6a41001ada"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "scheduled_jobs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("lease_token", sa.String(length=32), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduled_jobs")),
        sa.UniqueConstraint("key", name=op.f("uq_scheduled_jobs_key")),
    )
    op.create_index("ix_scheduled_jobs_status_due_at", "scheduled_jobs", ["status", "due_at"])


def downgrade() -> None:
    op.drop_index("ix_scheduled_jobs_status_due_at", table_name="scheduled_jobs")
    op.drop_table("scheduled_jobs")
