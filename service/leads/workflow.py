"""A coordinator's work on a lead: move it through the pipeline, add a note, reassign it, retry
one of its emails. Each is a transaction body for `Database.write`, and each leaves its line on
the lead's timeline, with the coordinator as actor."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from service.errors import NotFound, Refused
from service.leads import messages
from service.leads.assignments import EndReason, end_turn, start_turn, stop_clock
from service.leads.notifications import queue_facilitator_email
from service.leads.pipeline import LeadStatus, allowed_next, can_move
from service.leads.timeline import EventKind, record
from service.mail.outbox import Requeued, retry_now
from service.models import DeskAudit, Facilitator, Lead, OutboxMessage
from service.settings import Settings

NOTE_MAX = 5000


def _lead(session: Session, lead_id: uuid.UUID, *, lock: bool = False) -> Lead:
    # lock: on PostgreSQL, a facilitator's answer and a reassignment of the same lead take turns.
    lead = session.get(Lead, lead_id, with_for_update=lock)
    if lead is None:
        raise NotFound(messages.LEAD_NOT_FOUND)
    return lead


def change_status(
    session: Session, *, lead_id: uuid.UUID, new_status: str, actor: str, now: datetime
) -> Lead:
    lead = _lead(session, lead_id)
    old = lead.status
    if not can_move(old, new_status):
        allowed = ", ".join(allowed_next(old)) or messages.TRANSITION_NONE
        raise Refused(messages.TRANSITION_REFUSED.format(old=old, new=new_status, allowed=allowed))
    lead.status = new_status
    lead.updated_at = now
    if new_status != LeadStatus.new:
        # Contacted, quoted or closed: the promise is kept (or moot), so no reminder or deadline.
        stop_clock(session, lead=lead, now=now)
    data = {"from": old, "to": new_status}
    record(session, lead_id=lead.id, kind=EventKind.status_changed, now=now, data=data, actor=actor)
    return lead


def add_note(session: Session, *, lead_id: uuid.UUID, text: str, actor: str, now: datetime) -> None:
    text = text.strip()
    if not text:
        raise Refused(messages.NOTE_EMPTY)
    if len(text) > NOTE_MAX:
        raise Refused(messages.NOTE_TOO_LONG.format(max=NOTE_MAX))
    lead = _lead(session, lead_id)
    record(session, lead_id=lead.id, kind=EventKind.note, now=now, data={"text": text}, actor=actor)


def update_lead(
    session: Session,
    *,
    lead_id: uuid.UUID,
    status: str | None,
    note: str | None,
    actor: str,
    now: datetime,
) -> None:
    """A status move and a note at once (the leads API): both are kept, or neither."""
    if status is not None:
        change_status(session, lead_id=lead_id, new_status=status, actor=actor, now=now)
    if note:
        add_note(session, lead_id=lead_id, text=note, actor=actor, now=now)


def reassign(
    session: Session,
    *,
    lead_id: uuid.UUID,
    facilitator_id: int,
    actor: str,
    settings: Settings,
    now: datetime,
) -> Facilitator:
    """Give the lead to another facilitator and queue that facilitator's email, together: the
    previous facilitator's turn (and link) ends, the new one's begins with a fresh deadline."""
    lead = _lead(session, lead_id, lock=True)
    if lead.erased_at is not None:  # nothing left to send a facilitator
        raise Refused(messages.LEAD_ERASED)
    facilitator = session.get(Facilitator, facilitator_id)
    if facilitator is None or not facilitator.active:
        raise Refused(messages.FACILITATOR_UNKNOWN)
    if lead.facilitator_id == facilitator.id:
        raise Refused(messages.REASSIGN_SAME)
    previous = lead.facilitator_id
    lead.facilitator_id = facilitator.id
    lead.updated_at = now
    lead.overdue_since = None
    end_turn(session, lead_id=lead.id, reason=EndReason.reassigned, now=now)
    start_turn(session, lead_id=lead.id, facilitator_id=facilitator.id, settings=settings, now=now)
    queue_facilitator_email(
        session=session, lead=lead, facilitator=facilitator, settings=settings, now=now
    )
    data = {
        "from_facilitator_id": previous,
        "to_facilitator_id": facilitator.id,
        "to_facilitator": facilitator.name,
    }
    record(session, lead_id=lead.id, kind=EventKind.reassigned, now=now, data=data, actor=actor)
    return facilitator


def retry_email(session: Session, *, outbox_id: int, actor: str, now: datetime) -> Requeued:
    """Make a failed email due now, and say on its lead's timeline (or in the desk's audit, for
    an email about no lead) who asked."""
    message = session.get(OutboxMessage, outbox_id)
    lead = session.get(Lead, message.lead_id) if message and message.lead_id else None
    if lead is not None and lead.erased_at is not None:  # its emails say nothing any more
        raise Refused(messages.LEAD_ERASED)
    requeued = retry_now(session=session, message_id=outbox_id, now=now)
    data = {
        "outbox_id": outbox_id,
        "email": requeued.kind,
        "was": requeued.was,
        "message_id": requeued.message_id,
    }
    if requeued.lead_id is not None:
        record(
            session,
            lead_id=requeued.lead_id,
            kind=EventKind.email_retry,
            now=now,
            data=data,
            actor=actor,
        )
    else:
        session.add(DeskAudit(actor=actor, action="email_retry", data=data, created_at=now))
    return requeued
