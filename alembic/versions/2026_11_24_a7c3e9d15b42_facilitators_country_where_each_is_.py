"""Facilitators: the country where each is established, for the privacy notice.

Revision ID: a7c3e9d15b42
Revises: 5d2e8b7c41a9
Create Date: 2026-11-24 20:50:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a7c3e9d15b42"
down_revision: str | None = "5d2e8b7c41a9"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("facilitators", sa.Column("country", sa.String(length=2), nullable=True))


def downgrade() -> None:
    op.drop_column("facilitators", "country")
