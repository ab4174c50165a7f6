"""The durable outbox: queue rendered emails, claim due ones under a lease, record each outcome.

Nothing here commits: these are functions of the caller's write (`Database.write`), which
decides what else is written atomically with them (the lead and its emails, a send outcome
and its event).
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import format_datetime, make_msgid

from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.orm import Session

from service.mail import emails
from service.mail.emails import Email
from service.mail.render import address_of
from service.models import Base, Facilitator, Lead, LeadEvent, OutboxMessage
from service.settings import Settings

PENDING, SENDING, SENT, RETRY, DEAD = "pending", "sending", "sent", "retry", "dead"


class MessageNotFound(LookupError):
    """No outbox row has this id."""


class MessageNotRetryable(ValueError):
    """The outbox row is not waiting in `retry` or `dead`."""


@dataclass(frozen=True, slots=True)
class Requeued:
    """What a retry moved back to `pending`."""

    lead_id: uuid.UUID | None
    kind: str
    was: str


@dataclass(frozen=True, slots=True)
class Failure:
    """What the SMTP server (or the network) answered, as stored on the row and the timeline."""

    code: int | None
    text: str


def _message_id(settings: Settings) -> str:
    domain = address_of(settings.mail_from).rpartition("@")[2] or "quote-desk.localhost"
    return make_msgid(idstring="quote", domain=domain)


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


def enqueue_facilitator_email(
    *,
    session: Session,
    lead: Lead,
    facilitator: Facilitator,
    settings: Settings,
    now: datetime,
) -> OutboxMessage:
    """Queue the new-lead email for `facilitator` (also used when a lead is reassigned)."""
    email = emails.facilitator_new_lead(
        session=session, lead=lead, facilitator=facilitator, settings=settings
    )
    return enqueue(session=session, email=email, lead_id=lead.id, settings=settings, now=now)


def enqueue_patient_confirmation(
    *,
    session: Session,
    lead: Lead,
    facilitator: Facilitator | None,
    settings: Settings,
    now: datetime,
) -> OutboxMessage:
    email = emails.patient_confirmation(lead=lead, facilitator=facilitator, settings=settings)
    return enqueue(session=session, email=email, lead_id=lead.id, settings=settings, now=now)


def enqueue_unrouted_alert(
    *, session: Session, lead: Lead, reason: str, settings: Settings, now: datetime
) -> OutboxMessage | None:
    """Tell the operator a lead has no facilitator; nothing to do when no ALERT_EMAIL is set."""
    if not settings.alert_email:
        return None
    email = emails.alert_unrouted(
        lead=lead, reason=reason, settings=settings, alert_email=settings.alert_email
    )
    return enqueue(session=session, email=email, lead_id=lead.id, settings=settings, now=now)


def claim(*, session: Session, now: datetime, limit: int, lease: timedelta) -> list[OutboxMessage]:
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


def _settle(
    session: Session,
    message: OutboxMessage,
    now: datetime,
    *,
    event: str,
    event_data: dict[str, object],
    **values: object,
) -> bool:
    """Write an outcome on a row this worker still holds, and its line on the lead's timeline;
    False, writing nothing, if the lease was lost meanwhile."""
    result = session.execute(
        update(OutboxMessage)
        .where(*_held(message))  # type: ignore[arg-type]
        .values(lease_expires_at=None, lease_token=None, updated_at=now, **values)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return False
    _timeline(session, message, now, event, {"attempt": message.attempts, **event_data})
    return True


def mark_sent(*, session: Session, message: OutboxMessage, now: datetime) -> bool:
    """Record a delivery."""
    return _settle(
        session,
        message,
        now,
        event="email_sent",
        event_data={},
        status=SENT,
        sent_at=now,
        last_error_code=None,
        last_error=None,
    )


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
        event="email_failed",
        event_data={
            "outcome": RETRY,
            "code": failure.code,
            "error": failure.text,
            "next_attempt_at": next_attempt_at.isoformat(),
        },
        status=RETRY,
        next_attempt_at=next_attempt_at,
        last_error_code=failure.code,
        last_error=failure.text,
    )


def mark_dead(
    *,
    session: Session,
    message: OutboxMessage,
    failure: Failure,
    settings: Settings,
    now: datetime,
) -> bool:
    """Give up on the row, and queue one alert to ALERT_EMAIL about it (alerts never alert)."""
    settled = _settle(
        session,
        message,
        now,
        event="email_failed",
        event_data={"outcome": DEAD, "code": failure.code, "error": failure.text},
        status=DEAD,
        last_error_code=failure.code,
        last_error=failure.text,
    )
    if settled and settings.alert_email and message.kind not in emails.ALERT_KINDS:
        lead = session.get(Lead, message.lead_id) if message.lead_id else None
        alert = emails.alert_dead_email(
            message=message,
            code=failure.code,
            error=failure.text,
            lead=lead,
            settings=settings,
            alert_email=settings.alert_email,
        )
        # On the lead's timeline too, so a coordinator sees that the operator was told.
        enqueue(session=session, email=alert, lead_id=message.lead_id, settings=settings, now=now)
    return settled


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


def retry_now(
    *, session: Session, message_id: int, now: datetime, actor: str | None = None
) -> Requeued:
    """Move a `retry` or `dead` row back to `pending`, due now (a coordinator's "retry").

    Its attempts stay as they were, so the history stays honest; the lead's timeline says who
    asked.
    """
    message = session.get(OutboxMessage, message_id, with_for_update=True)
    if message is None:
        raise MessageNotFound(message_id)
    if message.status not in (RETRY, DEAD):
        raise MessageNotRetryable(message_id)
    requeued = Requeued(lead_id=message.lead_id, kind=message.kind, was=message.status)
    message.status = PENDING
    message.next_attempt_at = now
    message.lease_expires_at = None
    message.lease_token = None
    message.updated_at = now
    if message.lead_id is not None:
        session.add(
            LeadEvent(
                lead_id=message.lead_id,
                kind="email_retry",
                actor=actor,
                data={
                    "outbox_id": message_id,
                    "email": message.kind,
                    "was": requeued.was,
                    "message_id": message.message_id,
                },
                created_at=now,
            )
        )
    return requeued


def _timeline(
    session: Session, message: OutboxMessage, now: datetime, kind: str, data: dict[str, object]
) -> None:
    if message.lead_id is None:
        return
    session.add(
        LeadEvent(
            lead_id=message.lead_id,
            kind=kind,
            data={
                "outbox_id": message.id,
                "email": message.kind,
                "message_id": message.message_id,
                **data,
            },
            created_at=now,
        )
    )
