"""The mail log: every outbox row, newest first, by status; one message as it was queued."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.errors import NotFound
from service.mail.outbox import OutboxStatus
from service.models import OutboxMessage

MAIL_STATUSES = tuple(OutboxStatus)
PAGE_SIZE = 50


@dataclass(frozen=True, slots=True)
class MailPage:
    messages: list[OutboxMessage]
    next_before: int | None


async def list_messages(
    *, session: AsyncSession, status: str, before: int | None, limit: int = PAGE_SIZE
) -> MailPage:
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit + 1)
    if status in MAIL_STATUSES:
        query = query.where(OutboxMessage.status == status)
    if before is not None:
        query = query.where(OutboxMessage.id < before)
    rows = list(await session.scalars(query))
    if len(rows) > limit:
        rows = rows[:limit]
        return MailPage(messages=rows, next_before=rows[-1].id)
    return MailPage(messages=rows, next_before=None)


async def mail_counts(*, session: AsyncSession) -> dict[str, int]:
    result = await session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
    )
    counts: dict[str, int] = dict.fromkeys(MAIL_STATUSES, 0)
    counts.update({status: count for status, count in result.all()})
    return counts


async def get_message(*, session: AsyncSession, outbox_id: int) -> OutboxMessage:
    message = await session.get(OutboxMessage, outbox_id)
    if message is None:
        raise NotFound("No email with this id.")
    return message
