"""Privacy: the consent hash chain (existing records are chained here, in the order stored),
erased leads, and the requests for a fresh privacy link (counted to limit them).

Revision ID: f82e437c27c2
Revises: 904c71d18b07
Create Date: 2026-11-24 15:30:53.222407
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# The chain's own hashing, so that `quote-desk consent verify` accepts what this chains.
from service.leads.consents import GENESIS, personal_hash, record_hash
from service.models import UTCDateTime

revision: str = "f82e437c27c2"
down_revision: str | None = "904c71d18b07"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 1000
CHAIN_COLUMNS = ("personal_hash", "prev_hash", "record_hash")


def upgrade() -> None:
    op.add_column("leads", sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "privacy_link_requests",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_link_requests")),
    )
    op.create_index(
        "ix_privacy_link_requests_key_created_at",
        "privacy_link_requests",
        ["key", "created_at"],
    )
    op.add_column("consents", sa.Column("personal_salt", sa.String(length=32), nullable=True))
    for name in CHAIN_COLUMNS:
        op.add_column("consents", sa.Column(name, sa.String(length=64), nullable=True))
    _chain_existing_records()
    with op.batch_alter_table("consents") as batch_op:
        for name in CHAIN_COLUMNS:
            batch_op.alter_column(name, existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(op.f("uq_consents_prev_hash"), ["prev_hash"])


def _chain_existing_records() -> None:
    """Link every stored record, oldest first, in batches (constant memory)."""
    consents = sa.table(
        "consents",
        sa.column("id", sa.Integer()),
        sa.column("lead_id", sa.Uuid()),
        sa.column("kind", sa.String()),
        sa.column("granted", sa.Boolean()),
        sa.column("legal_text_sha256", sa.String()),
        sa.column("ip", sa.String()),
        sa.column("user_agent", sa.String()),
        sa.column("created_at", UTCDateTime()),
        sa.column("personal_salt", sa.String()),
        sa.column("personal_hash", sa.String()),
        sa.column("prev_hash", sa.String()),
        sa.column("record_hash", sa.String()),
    )
    chain = (
        sa.update(consents)
        .where(consents.c.id == sa.bindparam("b_id"))
        .values(
            personal_salt=sa.bindparam("b_salt"),
            personal_hash=sa.bindparam("b_personal"),
            prev_hash=sa.bindparam("b_prev"),
            record_hash=sa.bindparam("b_record"),
        )
    )
    bind = op.get_bind()
    prev, last_id = GENESIS, 0
    while True:
        rows = bind.execute(
            sa.select(consents).where(consents.c.id > last_id).order_by(consents.c.id).limit(BATCH)
        ).all()
        if not rows:
            return
        updates = []
        for row in rows:
            salt = secrets.token_hex(16)
            personal = personal_hash(salt=salt, ip=row.ip, user_agent=row.user_agent)
            linked = record_hash(
                prev_hash=prev,
                lead_id=row.lead_id,
                kind=row.kind,
                granted=row.granted,
                legal_text_sha256=row.legal_text_sha256,
                created_at=row.created_at,
                personal_hash=personal,
            )
            updates.append(
                {
                    "b_id": row.id,
                    "b_salt": salt,
                    "b_personal": personal,
                    "b_prev": prev,
                    "b_record": linked,
                }
            )
            prev = linked
        bind.execute(chain, updates)
        last_id = rows[-1].id


def downgrade() -> None:
    with op.batch_alter_table("consents") as batch_op:
        batch_op.drop_constraint(op.f("uq_consents_prev_hash"), type_="unique")
        for name in ("personal_salt", *CHAIN_COLUMNS):
            batch_op.drop_column(name)
    op.drop_index("ix_privacy_link_requests_key_created_at", table_name="privacy_link_requests")
    op.drop_table("privacy_link_requests")
    op.drop_column("leads", "erased_at")
