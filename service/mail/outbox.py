"""The durable outbox: queue rendered emails, claim due ones under a lease, record each outcome.

Nothing here commits: these are functions of the caller's write (`Database.write`), which
decides what else is written atomically with them (a lead and its emails; a send outcome and
what the rest of the service records about it). Queuing announces `QUEUED`, so a worker in
this process wakes once the write commits.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import format_datetime, make_msgid
from enum import StrEnum
from functools import cache

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from service.db import announce
from service.errors import NotFound, Refused
from service.mail.render import Email, address_of
from service.models import Base, OutboxMessage
from service.settings import Settings

QUEUED = "outbox"  # announced by a write that queued mail


class OutboxStatus(StrEnum):
    """pending -> sending (leased) -> sent | retry (due again at next_attempt_at) | dead;
    cancelled (never claimed) when what it was about no longer wants it sent."""

    pending = "pending"
    sending = "sending"
    sent = "sent"
    retry = "retry"
    dead = "dead"
    cancelled = "cancelled"


PENDING, SENDING, SENT, RETRY, DEAD, CANCELLED = OutboxStatus
# What survives `forget`: enough to recognise the email, nothing it said.
KEPT_HEADERS = ("From", "Date", "Message-ID")
RETRY_REFUSED = "Only an email that failed (retry or dead) can be retried."


@dataclass(frozen=True, slots=True)
class Requeued:
    """What a retry moved back to `pending`."""

    id: int
    lead_id: uuid.UUID | None
    kind: str
    was: str
    message_id: str


@dataclass(frozen=True, slots=True)
class Failure:
    """What the SMTP server (or the network) answered, as stored on the row and the timeline."""

    code: int | None
    text: str


@cache
def _domain_of(mail_from: str) -> str:
    return address_of(mail_from).rpartition("@")[2] or "quote-desk.localhost"


def _message_id(settings: Settings) -> str:
    return make_msgid(idstring="quote", domain=_domain_of(settings.mail_from))


def enqueue(
    *,
    session: Session,
    email: Email,
    lead_id: uuid.UUID | None,
    settings: Settings,
    now: datetime,
) -> OutboxMessage:
    """Queue `email` as it will be sent: every header, its Message-ID and Date, is fixed now.

    The row is written at once, in the caller's transaction (a Core insert: a submit queues
    two emails, and the unit of work's bookkeeping would cost more than the inserts).
    """
    announce(session, QUEUED)
    headers = {
        "From": settings.mail_from,
        "To": email.to,
        "Date": format_datetime(now),
        "Message-ID": _message_id(settings),
        **email.headers,
    }
    row = {
        "lead_id": lead_id,
        "kind": email.kind,
        "recipient": email.recipient,
        "subject": email.rendered.subject,
        "text": email.rendered.text,
        "html": email.rendered.html,
        "headers": headers,
        "message_id": headers["Message-ID"],
        "status": PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
        "updated_at": now,
    }
    session.execute(insert(Base.metadata.tables["outbox"]), row)
    return OutboxMessage(**row)


def claim(session: Session, *, now: datetime, limit: int, lease: timedelta) -> list[OutboxMessage]:
    """Lease up to `limit` due rows to the caller: pending or retry rows that are due, and
    rows whose lease expired (their worker died mid-send).

    One statement on both engines: PostgreSQL skips rows another worker has locked; SQLite
    ignores `skip_locked`, and is safe because the whole UPDATE runs under BEGIN IMMEDIATE.
    The attempt is counted here, so a message that kills its worker every time still ends.
    """
    due = or_(
        and_(OutboxMessage.status.in_((PENDING, RETRY)), OutboxMessage.next_attempt_at <= now),
        and_(OutboxMessage.status == SENDING, OutboxMessage.lease_expires_at <= now),
    )
    ids = (
        select(OutboxMessage.id)
        .where(due)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    claimed = session.scalars(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids))
        .values(
            status=SENDING,
            attempts=OutboxMessage.attempts + 1,
            lease_expires_at=now + lease,
            lease_token=secrets.token_hex(16),
            updated_at=now,
        )
        .returning(OutboxMessage),
        execution_options={"synchronize_session": False, "populate_existing": True},
    )
    return sorted(claimed, key=lambda message: message.id)


def _held(message: OutboxMessage) -> list[object]:
    return [
        OutboxMessage.id == message.id,
        OutboxMessage.status == SENDING,
        OutboxMessage.lease_token == message.lease_token,
    ]


def _settle(session: Session, message: OutboxMessage, now: datetime, **values: object) -> bool:
    """Write an outcome on a row this worker still holds; False, writing nothing, if the lease
    was lost meanwhile."""
    result = session.execute(
        update(OutboxMessage)
        .where(*_held(message))  # type: ignore[arg-type]
        .values(lease_expires_at=None, lease_token=None, updated_at=now, **values)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def mark_sent(*, session: Session, message: OutboxMessage, now: datetime) -> bool:
    """Record a delivery; also of an email cancelled while it was being sent (the delivery
    happened, and the row says so)."""
    return message.id in mark_all_sent(session=session, messages=[message], now=now)


def mark_all_sent(*, session: Session, messages: list[OutboxMessage], now: datetime) -> set[int]:
    """`mark_sent` for many rows in one statement; the ids recorded (not those whose lease was
    lost meanwhile). A lease token is one claim's, so a row still holding one of these tokens
    is still held by this worker."""
    if not messages:
        return set()
    recorded = session.scalars(
        update(OutboxMessage)
        .where(
            OutboxMessage.id.in_([message.id for message in messages]),
            OutboxMessage.status.in_((SENDING, CANCELLED)),
            OutboxMessage.lease_token.in_({message.lease_token for message in messages}),
        )
        .values(
            status=SENT,
            sent_at=now,
            last_error_code=None,
            last_error=None,
            lease_expires_at=None,
            lease_token=None,
            updated_at=now,
        )
        .returning(OutboxMessage.id),
        execution_options={"synchronize_session": False},
    )
    return set(recorded)


def mark_retry(
    *,
    session: Session,
    message: OutboxMessage,
    failure: Failure,
    next_attempt_at: datetime,
    now: datetime,
) -> bool:
    """Record a passing failure; the row is due again at `next_attempt_at`."""
    return _settle(
        session,
        message,
        now,
        status=RETRY,
        next_attempt_at=next_attempt_at,
        last_error_code=failure.code,
        last_error=failure.text,
    )


def mark_dead(*, session: Session, message: OutboxMessage, failure: Failure, now: datetime) -> bool:
    """Give up on the row."""
    return _settle(
        session,
        message,
        now,
        status=DEAD,
        last_error_code=failure.code,
        last_error=failure.text,
    )


def release(*, session: Session, message: OutboxMessage, now: datetime) -> None:
    """Hand back a claimed row that was not tried (the worker is stopping): due at once, and
    the claim's attempt is not counted."""
    session.execute(
        update(OutboxMessage)
        .where(*_held(message))  # type: ignore[arg-type]
        .values(
            status=RETRY if message.attempts > 1 else PENDING,
            attempts=OutboxMessage.attempts - 1,
            next_attempt_at=now,
            lease_expires_at=None,
            lease_token=None,
            updated_at=now,
        )
    )


def retry_now(*, session: Session, message_id: int, now: datetime) -> Requeued:
    """Move a `retry` or `dead` row back to `pending`, due now (a coordinator's "retry").

    Its attempts stay as they were, so the history stays honest.
    """
    message = session.get(OutboxMessage, message_id, with_for_update=True)
    if message is None:
        raise NotFound("No email with this id.")
    if message.status not in (RETRY, DEAD):
        raise Refused(RETRY_REFUSED)
    requeued = Requeued(
        id=message.id,
        lead_id=message.lead_id,
        kind=message.kind,
        was=message.status,
        message_id=message.message_id,
    )
    message.status = PENDING
    message.next_attempt_at = now
    message.lease_expires_at = None
    message.lease_token = None
    message.updated_at = now
    announce(session, QUEUED)
    return requeued


def cancel_unsent(session: Session, *, lead_id: uuid.UUID, now: datetime) -> int:
    """Cancel every email about `lead_id` that was not sent (pending, retry, dead, or being
    sent right now); the number cancelled. A cancelled email is never claimed nor retried. One
    being sent keeps its lease token: if that delivery succeeds, `mark_sent` still records it;
    if it fails, the email stays cancelled."""
    result = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.lead_id == lead_id,
            OutboxMessage.status.in_((PENDING, RETRY, DEAD, SENDING)),
        )
        .values(status=CANCELLED, updated_at=now)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def forget(
    session: Session,
    *,
    messages: list[OutboxMessage],
    recipients: set[str],
    marker: str,
    now: datetime,
) -> None:
    """Replace what `messages` said with `marker`: subject, text and HTML, every header but
    the sender, date and Message-ID, the last error (a server's answer can quote an address),
    and the recipient when it is one of `recipients` (compared in lower case)."""
    for message in messages:
        message.subject = marker
        message.text = marker
        message.html = marker
        message.headers = {k: v for k, v in message.headers.items() if k in KEPT_HEADERS}
        if message.recipient.lower() in recipients:
            message.recipient = marker
        if message.last_error is not None:
            message.last_error = marker
        message.updated_at = now
    session.flush()


@dataclass(frozen=True, slots=True)
class Backlog:
    """The emails not sent (yet), by status, and how long the oldest due one has waited."""

    counts: dict[str, int]
    oldest_due_seconds: float


BACKLOG_STATUSES = (PENDING, SENDING, RETRY, DEAD)


async def backlog(*, session: AsyncSession, now: datetime) -> Backlog:
    """Read along the status index only: `sent` rows, two per lead forever, are not counted."""
    counts = {str(status): 0 for status in BACKLOG_STATUSES}
    rows = await session.execute(
        select(OutboxMessage.status, func.count())
        .where(OutboxMessage.status.in_(BACKLOG_STATUSES))
        .group_by(OutboxMessage.status)
    )
    counts |= {status: int(count) for status, count in rows.all()}
    # Due since: its time for a pending or retry row, the end of its lease for a row whose
    # worker died holding it.
    waiting = await session.scalar(
        select(func.min(OutboxMessage.next_attempt_at)).where(
            OutboxMessage.status.in_((PENDING, RETRY)), OutboxMessage.next_attempt_at <= now
        )
    )
    abandoned = await session.scalar(
        select(func.min(OutboxMessage.lease_expires_at)).where(
            OutboxMessage.status == SENDING, OutboxMessage.lease_expires_at <= now
        )
    )
    due = [at for at in (waiting, abandoned) if at is not None]
    oldest = max(0.0, (now - min(due)).total_seconds()) if due else 0.0
    return Backlog(counts=counts, oldest_due_seconds=oldest)
