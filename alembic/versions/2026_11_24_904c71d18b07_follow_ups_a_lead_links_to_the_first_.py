"""Follow-ups and a patient's recent requests.

A lead that follows up an earlier request (the same address, the same treatment, within a
day) links to that first request. A patient's recent requests are found by their address in
any case: the cap on confirmations per address and the follow-up rule read them.

Revision ID: 904c71d18b07
Revises: 29b1f3c1766c
Create Date: 2026-11-24 15:40:21.779356
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "904c71d18b07"
down_revision: str | None = "29b1f3c1766c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.add_column(sa.Column("follow_up_of", sa.Uuid(), nullable=True))
        batch_op.create_index(batch_op.f("ix_leads_follow_up_of"), ["follow_up_of"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_leads_follow_up_of_leads"),
            "leads",
            ["follow_up_of"],
            ["id"],
            ondelete="SET NULL",
        )
    # After the batch: SQLite cannot reflect an index on an expression, so a batch that copies
    # the table (as above) would leave it behind. A later batch on leads must create it again.
    op.create_index(
        "ix_leads_email_lower_created_at", "leads", [sa.text("lower(email)"), "created_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_leads_email_lower_created_at", table_name="leads")
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_leads_follow_up_of_leads"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_leads_follow_up_of"))
        batch_op.drop_column("follow_up_of")
