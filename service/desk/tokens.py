"""Personal API tokens: created in the desk, shown once, stored as a SHA-256 digest."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from service.db import Database
from service.desk.access import token_digest
from service.models import ApiToken, Coordinator

PREFIX = "qd_"


async def create_token(
    *, database: Database, coordinator: Coordinator, name: str, now: datetime
) -> str:
    """Store a new token's digest and return the token itself, which is never stored."""
    token = PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(
        coordinator_id=coordinator.id,
        name=name[:100],
        token_sha256=token_digest(token),
        created_at=now,
    )
    await database.write(lambda session: session.add(row))
    return token


async def tokens_of(*, session: AsyncSession, coordinator: Coordinator) -> list[ApiToken]:
    return list(
        await session.scalars(
            select(ApiToken).where(ApiToken.coordinator_id == coordinator.id).order_by(ApiToken.id)
        )
    )


async def revoke_token(
    *, database: Database, coordinator: Coordinator, token_id: int, now: datetime
) -> None:
    revoke = (
        update(ApiToken)
        .where(ApiToken.id == token_id, ApiToken.coordinator_id == coordinator.id)
        .where(ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    await database.write(lambda session: session.execute(revoke))
