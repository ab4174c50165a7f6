"""PLACEHOLDER on the `desk` branch: the real outbox (rendering, claim, mark) is written on the
mail branch and replaces this file at integration. Only the signature the desk calls is kept."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from service.models import Facilitator, Lead, OutboxMessage
from service.settings import Settings


async def enqueue_facilitator_email(
    *,
    session: AsyncSession,
    lead: Lead,
    facilitator: Facilitator,
    settings: Settings,
    now: datetime,
) -> OutboxMessage:
    """Queue the "new lead" email to `facilitator`; the caller owns the transaction."""
    domain = settings.mail_from.rsplit("@", 1)[-1].rstrip(">") or "localhost"
    subject = f"New quote request {lead.reference}"
    text = f"A new quote request is waiting for you: {lead.reference}.\n"
    message = OutboxMessage(
        lead_id=lead.id,
        kind="facilitator_new_lead",
        recipient=facilitator.email,
        subject=subject,
        text=text,
        html=f"<p>A new quote request is waiting for you: {lead.reference}.</p>",
        headers={},
        message_id=f"<{uuid.uuid4().hex}@{domain}>",
        status="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
        updated_at=now,
    )
    session.add(message)
    return message
