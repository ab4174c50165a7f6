"""Facilitators answer: each facilitator's turn with a lead (its deadline, reminder, overdue
time, how it ended), their answers through the personal link, and on the lead its first answer
and since when it is overdue (indexed for the desk's filter).

Revision ID: 0a1f7a31a0ac
Revises: 11136f6d5d4b
Create Date: 2026-11-24 15:28:31.398399
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0a1f7a31a0ac"
down_revision: str | None = "11136f6d5d4b"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "lead_assignments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("lead_id", sa.Uuid(), nullable=False),
        sa.Column("facilitator_id", sa.Integer(), nullable=True),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("responded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("overdue_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("digested_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["facilitator_id"],
            ["facilitators.id"],
            name=op.f("fk_lead_assignments_facilitator_id_facilitators"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"],
            ["leads.id"],
            name=op.f("fk_lead_assignments_lead_id_leads"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead_assignments")),
    )
    op.create_index(
        "ix_lead_assignments_facilitator_id_assigned_at",
        "lead_assignments",
        ["facilitator_id", "assigned_at"],
    )
    op.create_index(op.f("ix_lead_assignments_lead_id"), "lead_assignments", ["lead_id"])
    op.create_index("ix_lead_assignments_overdue_at", "lead_assignments", ["overdue_at"])

    op.create_table(
        "lead_responses",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("lead_id", sa.Uuid(), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("facilitator_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=True),
        sa.Column("price_min", sa.Integer(), nullable=True),
        sa.Column("price_max", sa.Integer(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["lead_assignments.id"],
            name=op.f("fk_lead_responses_assignment_id_lead_assignments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["facilitator_id"],
            ["facilitators.id"],
            name=op.f("fk_lead_responses_facilitator_id_facilitators"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["lead_id"],
            ["leads.id"],
            name=op.f("fk_lead_responses_lead_id_leads"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lead_responses")),
        sa.UniqueConstraint(
            "assignment_id", "action", name=op.f("uq_lead_responses_assignment_id")
        ),
    )
    op.create_index(
        "ix_lead_responses_facilitator_id_created_at",
        "lead_responses",
        ["facilitator_id", "created_at"],
    )
    op.create_index(op.f("ix_lead_responses_lead_id"), "lead_responses", ["lead_id"])

    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.add_column(sa.Column("responded_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("overdue_since", sa.DateTime(timezone=True), nullable=True))
    op.create_index("ix_leads_overdue_since", "leads", ["overdue_since"])


def downgrade() -> None:
    op.drop_index("ix_leads_overdue_since", table_name="leads")
    with op.batch_alter_table("leads", schema=None) as batch_op:
        batch_op.drop_column("overdue_since")
        batch_op.drop_column("responded_at")

    op.drop_index(op.f("ix_lead_responses_lead_id"), table_name="lead_responses")
    op.drop_index("ix_lead_responses_facilitator_id_created_at", table_name="lead_responses")
    op.drop_table("lead_responses")

    op.drop_index("ix_lead_assignments_overdue_at", table_name="lead_assignments")
    op.drop_index(op.f("ix_lead_assignments_lead_id"), table_name="lead_assignments")
    op.drop_index("ix_lead_assignments_facilitator_id_assigned_at", table_name="lead_assignments")
    op.drop_table("lead_assignments")
