"""Personal API tokens: created in the desk, shown once, stored as a SHA-256 digest."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from service.models import ApiToken, Coordinator

PREFIX = "qd_"


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, *, coordinator_id: int, name: str, now: datetime) -> str:
    """Store a new token's digest and return the token itself, which is never stored."""
    token = PREFIX + secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            coordinator_id=coordinator_id,
            name=name[:100],
            token_sha256=token_digest(token),
            created_at=now,
        )
    )
    return token


async def tokens_of(*, session: AsyncSession, coordinator: Coordinator) -> list[ApiToken]:
    return list(
        await session.scalars(
            select(ApiToken).where(ApiToken.coordinator_id == coordinator.id).order_by(ApiToken.id)
        )
    )


def revoke_token(session: Session, *, coordinator_id: int, token_id: int, now: datetime) -> None:
    """Revoke one of the coordinator's own tokens (another's id changes nothing)."""
    session.execute(
        update(ApiToken)
        .where(ApiToken.id == token_id, ApiToken.coordinator_id == coordinator_id)
        .where(ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def mark_used(session: Session, *, token_id: int, now: datetime) -> None:
    session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))
