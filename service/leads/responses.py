"""A facilitator's answers about a lead, given through their personal link (contacted the
patient, sent a quote, not for us), and what follows when they answer or stay silent: a decline
re-routes the lead with the same fair rules, leaving out everyone who passed on it; half-way to
the deadline they get one reminder; at the deadline the lead is overdue (and re-routed too with
QUOTE_REROUTE_OVERDUE=true); the operator gets one digest an hour of newly overdue leads.

Writes are transaction bodies for `Database.write`; the scheduled ones are the handlers that
`background.lead_jobs` registers."""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from functools import partial
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from service.errors import NotFound, Refused
from service.leads import messages
from service.leads.assignments import (
    DEADLINE,
    REMIND,
    EndReason,
    Link,
    end_turn,
    start_turn,
    stop_clock,
)
from service.leads.notifications import (
    alert_unrouted,
    desk_url,
    facilitator_reminder,
    queue_facilitator_email,
)
from service.leads.pipeline import LeadStatus, can_move
from service.leads.routing import route_lead, routing_event
from service.leads.timeline import EventKind, record
from service.leads.workflow import change_status
from service.mail.alerts import operator_alert
from service.mail.outbox import enqueue
from service.models import Facilitator, Lead, LeadAssignment, LeadResponse, ScheduledJob
from service.schedule import Handler, Recurring
from service.settings import Settings

DIGEST = "overdue_digest"
ALERT_OVERDUE_DIGEST = "alert_overdue_digest"
NOTE_MAX = 2000
PRICE_MAX = 1_000_000_000
CLOSED = frozenset({LeadStatus.won, LeadStatus.lost, LeadStatus.spam, LeadStatus.duplicate})


class ResponseAction(StrEnum):
    contacted = "contacted"
    quoted = "quoted"
    declined = "declined"


class DeclineReason(StrEnum):
    not_offered = "not_offered"
    no_capacity = "no_capacity"
    not_suitable = "not_suitable"
    destination = "destination"
    other = "other"


# As the facilitator picks them and the coordinators read them.
DECLINE_REASONS: dict[str, str] = {
    DeclineReason.not_offered: "We do not offer this treatment",
    DeclineReason.no_capacity: "No capacity at the moment",
    DeclineReason.not_suitable: "Not suitable for this patient",
    DeclineReason.destination: "We do not work with this destination",
    DeclineReason.other: "Another reason",
}
CURRENCIES = ("EUR", "GBP", "USD", "CHF", "TRY", "PLN", "CZK", "HUF", "AED", "THB")


class TurnState(StrEnum):
    """What a facilitator's link finds."""

    open = "open"  # theirs to answer
    declined = "declined"  # they said "not for us", and it moved on
    moved = "moved"  # reassigned, or re-routed after their deadline: the link no longer works
    closed = "closed"  # won, lost, spam or duplicate: nothing more to do
    erased = "erased"  # the patient had it erased


def is_erased(lead: Lead) -> bool:
    """Whether the patient had the request erased (the privacy work sets `erased_at`)."""
    return getattr(lead, "erased_at", None) is not None


# --- What a facilitator sends -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Answer:
    action: ResponseAction
    reason: DeclineReason | None = None
    price_min: int | None = None
    price_max: int | None = None
    currency: str | None = None
    note: str | None = None


class AnswerErrors(ValueError):
    """The form, refused field by field (each message beside its field)."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(", ".join(errors))
        self.errors = errors


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_GROUPING = re.compile(r"[\s,'\u2019\u202f]")  # spaces, commas, apostrophes between thousands


def _price(value: str, errors: dict[str, str], name: str) -> int | None:
    text = _GROUPING.sub("", value)[:40]
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or int(text) > PRICE_MAX:
        errors[name] = messages.RESPOND_PRICE
        return None
    return int(text)


def read_answer(form: Mapping[str, str]) -> Answer:
    """The answer a form posts, or AnswerErrors; only the fields of its action are read."""
    errors: dict[str, str] = {}
    action_text = form.get("action", "")
    if action_text not in ResponseAction.__members__:
        raise AnswerErrors({"action": messages.RESPOND_ACTION_UNKNOWN})
    action = ResponseAction(action_text)
    note = form.get("note", "").strip() or None
    if note is not None and len(note) > NOTE_MAX:
        errors["note"] = messages.RESPOND_NOTE_TOO_LONG.format(max=NOTE_MAX)
    elif note is not None and _CONTROL.search(note):
        errors["note"] = messages.RESPOND_TEXT_CHARACTERS
    if action is ResponseAction.contacted:
        return Answer(action=action)
    if action is ResponseAction.declined:
        reason = form.get("reason", "")
        if reason not in DeclineReason.__members__:
            errors["reason"] = messages.RESPOND_REASON_REQUIRED
        if errors:
            raise AnswerErrors(errors)
        return Answer(action=action, reason=DeclineReason(reason), note=note)
    low = _price(form.get("price_min", ""), errors, "price_min")
    high = _price(form.get("price_max", ""), errors, "price_max")
    currency = form.get("currency", "").strip().upper() or None
    if currency is not None and currency not in CURRENCIES:
        errors["currency"] = messages.RESPOND_CURRENCY
    if low is not None and high is not None and low > high:
        errors["price_max"] = messages.RESPOND_PRICE_RANGE
    if (low is not None or high is not None) and currency is None and "currency" not in errors:
        errors["currency"] = messages.RESPOND_CURRENCY_REQUIRED
    if errors:
        raise AnswerErrors(errors)
    priced = low is not None or high is not None
    return Answer(
        action=action,
        price_min=low,
        price_max=high,
        currency=currency if priced else None,
        note=note,
    )


# --- What a link finds --------------------------------------------------------------------


@dataclass
class Turn:
    """A facilitator's link, as it stands: their latest turn with the lead, and their answers."""

    lead: Lead
    facilitator: Facilitator
    turn: LeadAssignment | None
    answers: list[LeadResponse]
    state: TurnState

    def answer(self, action: ResponseAction) -> LeadResponse | None:
        return next((a for a in self.answers if a.action == action), None)

    @property
    def offered(self) -> tuple[ResponseAction, ...]:
        """The answers still to give: a quote follows contact; nothing follows a quote, and
        once they have contacted the patient the lead is theirs (no decline)."""
        if self.state is not TurnState.open or self.answer(ResponseAction.quoted):
            return ()
        if self.answer(ResponseAction.contacted):
            return (ResponseAction.quoted,)
        return tuple(ResponseAction)

    def refusal(self, settings: Settings) -> str:
        """Why this link can do nothing (for any state but open)."""
        if self.state is TurnState.erased:
            return messages.RESPOND_ERASED
        if self.state is TurnState.declined:
            return messages.RESPOND_DECLINED
        if self.state is TurnState.closed:
            return messages.RESPOND_CLOSED.format(status=self.lead.status)
        if self.turn is not None and self.turn.end_reason == EndReason.overdue:
            return messages.RESPOND_MOVED_OVERDUE.format(hours=settings.response_hours)
        if self.state is TurnState.moved:
            return messages.RESPOND_MOVED
        return messages.RESPOND_DONE


def find_turn(session: Session, *, link: Link, lock: bool = False) -> Turn:
    """What `link` finds; NotFound when the lead (or the facilitator) no longer exists."""
    lead = session.get(Lead, link.lead_id, with_for_update=lock)
    facilitator = session.get(Facilitator, link.facilitator_id)
    if lead is None or facilitator is None:
        raise NotFound(messages.RESPOND_GONE)
    latest = (
        select(LeadAssignment)
        .where(
            LeadAssignment.lead_id == lead.id,
            LeadAssignment.facilitator_id == facilitator.id,
        )
        .order_by(LeadAssignment.id.desc())
        .limit(1)
    )
    turn = session.scalar(latest.with_for_update() if lock else latest)
    answers = (
        list(
            session.scalars(
                select(LeadResponse)
                .where(LeadResponse.assignment_id == turn.id)
                .order_by(LeadResponse.id)
            )
        )
        if turn is not None
        else []
    )
    if is_erased(lead):
        state = TurnState.erased
    elif turn is not None and turn.end_reason == EndReason.declined:
        state = TurnState.declined
    elif turn is None or turn.ended_at is not None or lead.facilitator_id != facilitator.id:
        state = TurnState.moved
    elif lead.status in CLOSED:
        state = TurnState.closed
    else:
        state = TurnState.open
    return Turn(lead=lead, facilitator=facilitator, turn=turn, answers=answers, state=state)


# --- Answering ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Recorded:
    """An answer as stored; `already` when it was stored before (a second click)."""

    action: ResponseAction
    at: datetime
    already: bool


def respond(
    session: Session, *, link: Link, answer: Answer, settings: Settings, now: datetime
) -> Recorded:
    """Record the facilitator's answer once, with what it causes: the pipeline move (contacted,
    quoted), or for a decline the lead's re-routing. A repeat finds the first answer."""
    turn = find_turn(session, link=link, lock=True)
    earlier = turn.answer(answer.action)
    if answer.action is ResponseAction.contacted and earlier is None:
        earlier = turn.answer(ResponseAction.quoted)  # a quote says they were in touch
    if earlier is not None:
        return Recorded(action=ResponseAction(earlier.action), at=earlier.created_at, already=True)
    if turn.state is not TurnState.open or turn.turn is None:
        raise Refused(turn.refusal(settings))
    if answer.action not in turn.offered:
        raise Refused(
            messages.RESPOND_DECLINE_AFTER_ANSWER
            if answer.action is ResponseAction.declined
            else turn.refusal(settings)
        )
    lead, facilitator, current = turn.lead, turn.facilitator, turn.turn
    session.add(
        LeadResponse(
            lead_id=lead.id,
            assignment_id=current.id,
            facilitator_id=facilitator.id,
            action=answer.action,
            reason=answer.reason,
            price_min=answer.price_min,
            price_max=answer.price_max,
            currency=answer.currency,
            note=answer.note,
            created_at=now,
        )
    )
    current.responded_at = current.responded_at or now
    lead.responded_at = lead.responded_at or now
    lead.updated_at = now
    stop_clock(session, lead=lead, now=now)
    record(
        session,
        lead_id=lead.id,
        kind=EventKind.responded,
        now=now,
        data=_answer_data(answer, facilitator),
        actor=facilitator.name,
    )
    if answer.action is ResponseAction.declined:
        end_turn(session, lead_id=lead.id, reason=EndReason.declined, now=now)
        reroute(session, lead=lead, settings=settings, now=now)
    else:
        targets = [LeadStatus.contacted]
        if answer.action is ResponseAction.quoted:
            targets.append(LeadStatus.quoted)
        for target in targets:
            if can_move(lead.status, target):
                change_status(
                    session, lead_id=lead.id, new_status=target, actor=facilitator.name, now=now
                )
    return Recorded(action=answer.action, at=now, already=False)


def _answer_data(answer: Answer, facilitator: Facilitator) -> dict[str, Any]:
    data: dict[str, Any] = {
        "action": answer.action,
        "facilitator_id": facilitator.id,
        "facilitator": facilitator.name,
    }
    if answer.reason is not None:
        data |= {"reason": answer.reason, "reason_label": DECLINE_REASONS[answer.reason]}
    if answer.price_min is not None or answer.price_max is not None:
        data |= {
            "price_min": answer.price_min,
            "price_max": answer.price_max,
            "currency": answer.currency,
        }
    if answer.note:
        data["text"] = answer.note  # shown under the line, like a coordinator's note
    return data


def passed_over(session: Session, *, lead_id: uuid.UUID) -> list[tuple[int, str, str]]:
    """The facilitators whose turn with the lead ended in a decline or a missed deadline, in
    order: (id, name, why)."""
    rows = session.execute(
        select(LeadAssignment.facilitator_id, Facilitator.name, LeadAssignment.end_reason)
        .join(Facilitator, Facilitator.id == LeadAssignment.facilitator_id)
        .where(
            LeadAssignment.lead_id == lead_id,
            LeadAssignment.end_reason.in_((EndReason.declined, EndReason.overdue)),
        )
        .order_by(LeadAssignment.id)
    )
    return [
        (facilitator_id, name, str(why)) for facilitator_id, name, why in rows if facilitator_id
    ]


def reroute(session: Session, *, lead: Lead, settings: Settings, now: datetime) -> None:
    """Route a lead whose turn just ended (declined, or the deadline passed) to the next
    facilitator by the same rules, leaving out everyone who passed on it: the new facilitator
    gets the request and a turn of their own; with nobody left, the operator is alerted. The
    patient is not emailed again."""
    passed = passed_over(session, lead_id=lead.id)
    decision = route_lead(
        session=session,
        lead=lead,
        now=now,
        default_facilitator_email=settings.default_facilitator_email,
        exclude=frozenset(facilitator_id for facilitator_id, _, _ in passed),
    )
    lead.updated_at = now
    lead.overdue_since = None
    row = routing_event(lead=lead, decision=decision, now=now)
    data = row["data"] | {"passed": len(passed), "hours": settings.response_hours}
    if passed:
        data |= {"from_facilitator": passed[-1][1], "why": passed[-1][2]}
    if decision.facilitator is None:
        record(session, lead_id=lead.id, kind=EventKind.unrouted, now=now, data=data)
        names = [name for _, name, _ in passed]
        alert = alert_unrouted(lead=lead, reason=decision.reason, settings=settings, passed=names)
        if alert is not None:
            enqueue(session=session, email=alert, lead_id=lead.id, settings=settings, now=now)
        return
    start_turn(
        session,
        lead_id=lead.id,
        facilitator_id=decision.facilitator.id,
        settings=settings,
        now=now,
    )
    queue_facilitator_email(
        session=session, lead=lead, facilitator=decision.facilitator, settings=settings, now=now
    )
    record(session, lead_id=lead.id, kind=EventKind.rerouted, now=now, data=data)


# --- Scheduled: the reminder, the deadline, the digest --------------------------------------


def _waiting(session: Session, job: ScheduledJob) -> tuple[Lead, LeadAssignment] | None:
    """The lead and turn a reminder or deadline is about, if it is still waiting for this
    facilitator's first answer (else the job has nothing to do)."""
    turn = session.get(LeadAssignment, int(job.payload.get("turn_id", 0)))
    if turn is None:
        return None
    # The lead first, then its turn: the order an answer and a reassignment lock them in.
    lead = session.get(Lead, turn.lead_id, with_for_update=True)
    session.refresh(turn, with_for_update=True)
    if turn.ended_at is not None or turn.responded_at is not None:
        return None
    if (
        lead is None
        or lead.facilitator_id != turn.facilitator_id
        or lead.status != LeadStatus.new
        or is_erased(lead)
    ):
        return None
    return lead, turn


def remind(session: Session, *, job: ScheduledJob, now: datetime, settings: Settings) -> None:
    """Half-way to the deadline without an answer: one reminder, with the link again."""
    waiting = _waiting(session, job)
    if waiting is None:
        return
    lead, turn = waiting
    facilitator = turn.facilitator
    if facilitator is None or now >= turn.due_at:
        return  # a worker catching up past the deadline: the deadline's job speaks instead
    email = facilitator_reminder(
        lead=lead,
        facilitator=facilitator,
        assigned_at=turn.assigned_at,
        due_at=turn.due_at,
        settings=settings,
        now=now,
    )
    enqueue(session=session, email=email, lead_id=lead.id, settings=settings, now=now)
    turn.reminded_at = now
    data = {
        "facilitator_id": facilitator.id,
        "facilitator": facilitator.name,
        "hours": round((now - turn.assigned_at).total_seconds() / 3600),
        "due_at": turn.due_at.isoformat(),
    }
    record(session, lead_id=lead.id, kind=EventKind.reminded, now=now, data=data)


def deadline(session: Session, *, job: ScheduledJob, now: datetime, settings: Settings) -> None:
    """The promise's time is up without an answer: the lead is overdue (the desk shows it, the
    next digest lists it) and, with QUOTE_REROUTE_OVERDUE=true, goes to the next facilitator."""
    waiting = _waiting(session, job)
    if waiting is None:
        return
    lead, turn = waiting
    turn.overdue_at = now
    lead.overdue_since = turn.due_at
    name = turn.facilitator.name if turn.facilitator else None
    data = {"facilitator_id": turn.facilitator_id, "facilitator": name}
    data |= {"hours": settings.response_hours, "due_at": turn.due_at.isoformat()}
    record(session, lead_id=lead.id, kind=EventKind.overdue, now=now, data=data)
    if settings.reroute_overdue:
        end_turn(session, lead_id=lead.id, reason=EndReason.overdue, now=now)
        reroute(session, lead=lead, settings=settings, now=now)


@dataclass(frozen=True, slots=True)
class DigestLine:
    reference: str
    facilitator: str
    due: str
    late: str
    now_with: str
    desk_url: str


def digest(session: Session, *, job: ScheduledJob, now: datetime, settings: Settings) -> None:
    """Every turn that went overdue since the last digest, in one email to QUOTE_ALERT_EMAIL
    (none when there is nothing new): at most one an hour, never one per lead."""
    rows = session.execute(
        select(LeadAssignment, Lead)
        .join(Lead, Lead.id == LeadAssignment.lead_id)
        .where(LeadAssignment.overdue_at.is_not(None), LeadAssignment.digested_at.is_(None))
        .order_by(LeadAssignment.overdue_at, LeadAssignment.id)
        .with_for_update(of=LeadAssignment)
    ).all()
    if not rows:
        return
    session.execute(
        update(LeadAssignment)
        .where(LeadAssignment.id.in_([turn.id for turn, _ in rows]))
        .values(digested_at=now),
        execution_options={"synchronize_session": False},
    )
    names = {row.id: row.name for row in session.execute(select(Facilitator.id, Facilitator.name))}
    lines = [
        DigestLine(
            reference=lead.reference,
            facilitator=names.get(turn.facilitator_id or 0, "a removed facilitator"),
            due=turn.due_at.strftime("%Y-%m-%d %H:%M UTC"),
            late=span(now - turn.due_at),
            now_with=_now_with(lead, turn, names),
            desk_url=desk_url(settings, lead),
        )
        for turn, lead in rows
    ]
    base = settings.public_base_url.rstrip("/")
    context = {
        "count": len(lines),
        "lines": lines,
        "hours": settings.response_hours,
        "overdue_url": f"{base}/desk/leads?overdue=1",
    }
    alert = operator_alert(ALERT_OVERDUE_DIGEST, context=context, settings=settings)
    if alert is not None:
        enqueue(session=session, email=alert, lead_id=None, settings=settings, now=now)


def _now_with(lead: Lead, turn: LeadAssignment, names: Mapping[int, str]) -> str:
    if lead.facilitator_id is None:
        return "nobody: unrouted"
    if lead.facilitator_id != turn.facilitator_id:
        return f"re-routed to {names.get(lead.facilitator_id, 'another facilitator')}"
    if turn.responded_at is not None:
        return "answered since"
    return "still waiting for an answer"


def jobs(settings: Settings) -> tuple[dict[str, Handler], list[Recurring]]:
    """The handlers of this module's scheduled work, by kind, and the hourly digest."""
    handlers: dict[str, Handler] = {
        REMIND: partial(remind, settings=settings),
        DEADLINE: partial(deadline, settings=settings),
        DIGEST: partial(digest, settings=settings),
    }
    return handlers, [Recurring(kind=DIGEST, every=timedelta(hours=1))]


# --- Reading, for the desk and the API ------------------------------------------------------


def span(delta: timedelta) -> str:
    """A duration as a coordinator reads it: 45 min, 26 h 20 min (under two days, the hours
    of the promise), 3 d 4 h."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    hours, minutes = divmod(minutes, 60)
    if hours >= 48:
        days, hours = divmod(hours, 24)
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    return f"{minutes} min"


@dataclass(frozen=True, slots=True)
class LeadAnswers:
    """A lead's turns and its facilitators' answers, oldest first."""

    turns: list[LeadAssignment] = field(default_factory=list)
    answers: list[LeadResponse] = field(default_factory=list)

    @property
    def current(self) -> LeadAssignment | None:
        return next((t for t in reversed(self.turns) if t.ended_at is None), None)

    def due_at(self, lead: Lead) -> datetime | None:
        """When the current facilitator's first answer is due; None once the clock stopped
        (answered, or the lead left `new`)."""
        current = self.current
        if current is None or current.responded_at or lead.status != LeadStatus.new:
            return None
        return current.due_at

    def first_answer(self, lead: Lead) -> tuple[timedelta, LeadResponse] | None:
        """How long the lead waited for a facilitator's first answer, and that answer."""
        if not self.answers:
            return None
        first = self.answers[0]
        return first.created_at - lead.created_at, first

    def first_contact(self, lead: Lead) -> tuple[timedelta, LeadResponse] | None:
        """How long the patient waited to be contacted (a decline is no answer to them)."""
        contact = next((a for a in self.answers if a.action != ResponseAction.declined), None)
        if contact is None:
            return None
        return contact.created_at - lead.created_at, contact


async def lead_answers(*, session: AsyncSession, lead_id: uuid.UUID) -> LeadAnswers:
    turns = await session.scalars(
        select(LeadAssignment).where(LeadAssignment.lead_id == lead_id).order_by(LeadAssignment.id)
    )
    answers = await session.scalars(
        select(LeadResponse).where(LeadResponse.lead_id == lead_id).order_by(LeadResponse.id)
    )
    return LeadAnswers(turns=list(turns), answers=list(answers))
