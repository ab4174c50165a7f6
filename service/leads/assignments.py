"""A facilitator's turn with a lead: it starts when the lead is routed or reassigned to them and
ends when the lead moves on; it carries the deadline of the promise, a reminder half-way (both
scheduled work), and the personal link with which the facilitator answers without an account."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from service.models import Base, Lead, LeadAssignment
from service.schedule import cancel, schedule
from service.settings import Settings
from service.signing import BadToken, sign, unsign

REMIND = "respond_remind"
DEADLINE = "respond_deadline"
LINK_PURPOSE = "respond"
# A token is short (about 80 characters); anything much longer is not one of ours.
TOKEN_MAX = 200
_FACILITATOR_ID = re.compile(r"[0-9]{1,12}")
_TURNS = Base.metadata.tables["lead_assignments"]
_INSERT_TURN = insert(_TURNS).returning(_TURNS.c.id)  # built once: a submit starts a turn


class EndReason(StrEnum):
    declined = "declined"  # the facilitator said "not for us"
    overdue = "overdue"  # the deadline passed in silence and the lead was re-routed
    reassigned = "reassigned"  # a coordinator gave it to someone else


def job_keys(*, lead_id: uuid.UUID, facilitator_id: int | None, turn_id: int) -> list[str]:
    """The reminder's and the deadline's keys: naming the lead, the facilitator and the turn, so
    a new turn (even the same facilitator's again) has its own, and an ended one's can be
    cancelled."""
    return [
        f"remind:{lead_id}:{facilitator_id}:{turn_id}",
        f"deadline:{lead_id}:{facilitator_id}:{turn_id}",
    ]


def start_turn(
    session: Session, *, lead_id: uuid.UUID, facilitator_id: int, settings: Settings, now: datetime
) -> int:
    """The facilitator's turn begins now: the answer is due after QUOTE_RESPONSE_HOURS, with
    one reminder half-way. The turn's id."""
    due = now + settings.response_time
    turn = {"lead_id": lead_id, "facilitator_id": facilitator_id, "assigned_at": now, "due_at": due}
    turn_id: int = session.execute(_INSERT_TURN, turn).scalar_one()
    remind_key, deadline_key = job_keys(
        lead_id=lead_id, facilitator_id=facilitator_id, turn_id=turn_id
    )
    payload = {"turn_id": turn_id}
    reminder_at = now + settings.response_time / 2
    schedule(session, kind=REMIND, key=remind_key, due_at=reminder_at, now=now, payload=payload)
    schedule(session, kind=DEADLINE, key=deadline_key, due_at=due, now=now, payload=payload)
    return turn_id


def current_turn(session: Session, *, lead_id: uuid.UUID) -> LeadAssignment | None:
    turn: LeadAssignment | None = session.scalar(
        select(LeadAssignment)
        .where(LeadAssignment.lead_id == lead_id, LeadAssignment.ended_at.is_(None))
        .order_by(LeadAssignment.id.desc())
        .limit(1)
    )
    return turn


def end_turn(session: Session, *, lead_id: uuid.UUID, reason: EndReason, now: datetime) -> None:
    """The lead moves on: its current turn ends, with its pending reminder and deadline."""
    ended = session.execute(
        update(LeadAssignment)
        .where(LeadAssignment.lead_id == lead_id, LeadAssignment.ended_at.is_(None))
        .values(ended_at=now, end_reason=reason)
        .returning(LeadAssignment.id, LeadAssignment.facilitator_id),
        execution_options={"synchronize_session": False},
    ).all()
    keys = [
        key
        for turn_id, facilitator_id in ended
        for key in job_keys(lead_id=lead_id, facilitator_id=facilitator_id, turn_id=turn_id)
    ]
    if keys:
        cancel(session, keys=keys, now=now)


def stop_clock(session: Session, *, lead: Lead, now: datetime) -> None:
    """The patient has been answered, or the lead is closed: the current turn keeps going, but
    without its reminder or deadline, and the lead is not overdue."""
    lead.overdue_since = None
    turn = current_turn(session, lead_id=lead.id)
    if turn is not None:
        keys = job_keys(lead_id=lead.id, facilitator_id=turn.facilitator_id, turn_id=turn.id)
        cancel(session, keys=keys, now=now)


@dataclass(frozen=True, slots=True)
class Link:
    """What a personal link names: whose turn with which lead, and until when it works."""

    lead_id: uuid.UUID
    facilitator_id: int
    expires_at: datetime

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at


def respond_token(
    *, settings: Settings, lead_id: uuid.UUID, facilitator_id: int, now: datetime
) -> str:
    expires = now + timedelta(days=settings.respond_link_days)
    return sign(
        secret=settings.secret_key,
        purpose=LINK_PURPOSE,
        subject=f"{lead_id}:{facilitator_id}",
        expires_at=expires,
    )


def respond_url(
    *, settings: Settings, lead_id: uuid.UUID, facilitator_id: int, now: datetime
) -> str:
    """The facilitator's personal link to answer about this lead."""
    token = respond_token(
        settings=settings, lead_id=lead_id, facilitator_id=facilitator_id, now=now
    )
    return f"{settings.public_base_url.rstrip('/')}/respond/{token}"


def read_link(token: str, *, settings: Settings) -> Link:
    """The lead and facilitator a token names (expired or not); BadToken for anything that is
    not a respond link we signed."""
    if len(token) > TOKEN_MAX or not token.isascii():
        raise BadToken
    signed = unsign(token, secret=settings.secret_key, purpose=LINK_PURPOSE)
    lead_part, _, facilitator_part = signed.subject.partition(":")
    try:
        lead_id = uuid.UUID(lead_part)
    except ValueError:
        raise BadToken from None
    if not _FACILITATOR_ID.fullmatch(facilitator_part):
        raise BadToken
    return Link(lead_id=lead_id, facilitator_id=int(facilitator_part), expires_at=signed.expires_at)
