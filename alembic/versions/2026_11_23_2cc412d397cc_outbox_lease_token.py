"""Outbox lease token: which claim of a row holds its lease.

A worker whose lease expired (the row was claimed again by another worker) must not record
its outcome over the newer claim's; marks are conditional on the token.

Revision ID: 2cc412d397cc
Revises: c0317683f04a
Create Date: 2026-11-23 19:15:42.439048
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "2cc412d397cc"
down_revision: str | None = "c0317683f04a"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lease_token", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("lease_token")
