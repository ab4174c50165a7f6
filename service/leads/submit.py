"""Storing a quote request in one transaction: the lead, its consent proof, its routing to a
facilitator (whose turn, with its deadline, begins; for a follow-up, the first request's) and the
emails that announce it (queued in the outbox, sent after the commit)."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from service.content.documents import LEGAL_KINDS, article, legal_texts
from service.db import Database, announce, dialect_insert, is_postgresql
from service.leads.assignments import start_turn
from service.leads.consents import append as append_consents
from service.leads.consents import new_record as consent_record
from service.leads.notifications import announce_lead
from service.leads.pipeline import LeadStatus
from service.leads.reference import new_reference
from service.leads.refusals import Refusal
from service.leads.routing import route_lead, routing_event
from service.leads.schemas import QuoteRequest
from service.leads.timeline import EventKind, event_row
from service.models import Base, Consent, Lead
from service.settings import Settings

LANDING_ARTICLE = "stem-cell-stroke-belgium"
# The same address asking again for the same treatment within this time is a follow-up.
FOLLOW_UP_WINDOW = timedelta(hours=24)
_REFERENCE_ATTEMPTS = 8
_CONSENT_FIELDS = {
    "disclaimer": "consent_disclaimer",
    "health_data": "consent_health_data",
    "marketing": "consent_marketing",
}


@dataclass(frozen=True, slots=True)
class Client:
    """Where a request came from, as recorded on the consent proof."""

    ip: str | None
    user_agent: str | None
    source: str  # "form" or "api"


@dataclass(frozen=True, slots=True)
class Stored:
    lead: Lead
    created: bool  # False when the submission was a repeat of an earlier one


def store_legal_texts(session: Session) -> None:
    """Make sure every legal text the page shows is stored, keyed by its hash (at start-up)."""
    rows = [
        {"sha256": t.sha256, "kind": t.kind, "version": t.version, "label": t.label, "body": t.body}
        for t in legal_texts().values()
    ]
    insert_new = dialect_insert(session, Base.metadata.tables["legal_texts"])
    session.execute(insert_new.values(rows).on_conflict_do_nothing(index_elements=["sha256"]))


async def create_lead(
    *,
    database: Database,
    quote: QuoteRequest,
    submission_id: str,
    client: Client,
    settings: Settings,
    now: datetime,
    spam_reason: str | None = None,
) -> Stored:
    """Store the request once per `submission_id`; a repeat returns the lead already stored.

    A new lead (unless spam) is routed and its emails are queued before the commit, so an
    acknowledged lead always has its emails waiting; the caller wakes the mail worker after.
    """
    for _ in range(_REFERENCE_ATTEMPTS):
        rows = prepare_rows(quote, submission_id, client, now, spam_reason)
        try:
            lead = await database.write(
                store_lead, rows=rows, settings=settings, now=now, route=not spam_reason
            )
            return Stored(lead=lead, created=True)
        except IntegrityError:
            # The unique constraints decide, so the common case costs no extra query: this
            # submission is already stored, the random reference collided, or another request
            # created the default facilitator first (used on the next turn).
            async with database.session() as session:
                existing = await find_by_submission(session=session, submission_id=submission_id)
            if existing is not None:
                return Stored(lead=existing, created=False)
    raise RuntimeError("could not store the lead: references keep colliding")


@dataclass(frozen=True, slots=True)
class _Rows:
    lead: dict[str, Any]
    consents: list[dict[str, Any]]
    events: list[dict[str, Any]]


def prepare_rows(
    quote: QuoteRequest,
    submission_id: str,
    client: Client,
    now: datetime,
    spam_reason: str | None,
) -> _Rows:
    """Everything to insert, prepared before the write so the transaction stays short."""
    defaults = article(LANDING_ARTICLE)
    lead_id = uuid.uuid4()
    lead = {
        **quote.model_dump(
            exclude={"submission_id", "treatment", "destination", *_CONSENT_FIELDS.values()}
        ),
        "id": lead_id,
        "reference": new_reference(),
        "submission_id": submission_id,
        "status": LeadStatus.spam if spam_reason else LeadStatus.new,
        "source": client.source,
        "treatment": quote.treatment or defaults.treatment,
        "destination": quote.destination or defaults.destination,
        "created_at": now,
        "updated_at": now,
    }
    texts = legal_texts()
    consents = [
        consent_record(
            lead_id=lead_id,
            kind=kind,
            granted=getattr(quote, _CONSENT_FIELDS[kind]),
            legal_text_sha256=texts[kind].sha256,
            ip=client.ip,
            user_agent=client.user_agent,
            now=now,
        )
        for kind in LEGAL_KINDS
    ]
    event_data = {"source": client.source} | ({"spam": spam_reason} if spam_reason else {})
    events = [event_row(lead_id=lead_id, kind=EventKind.created, now=now, data=event_data)]
    return _Rows(lead=lead, consents=consents, events=events)


def store_lead(
    session: Session, *, rows: _Rows, settings: Settings, now: datetime, route: bool
) -> Lead:
    """The write itself: the lead, its events and consents; unless spam, its routing and emails.

    The rules for a patient who asks again hold for the form and the API alike, here: a request
    for the same treatment within FOLLOW_UP_WINDOW is a follow-up (linked to the first request,
    sent to its facilitator), and the patient's confirmations are capped per address and day.
    """
    lead = Lead(**rows.lead)
    lead.consents = [Consent(**row) for row in rows.consents]  # for the facilitator's email
    # Core inserts: the unit of work's bookkeeping would cost more than the writes themselves.
    with session.no_autoflush:
        decision, first = None, None
        if not route:
            announce(session, Refusal.spam)
        else:
            _one_request_per_address_at_a_time(session, lead.email)
            first = first_request(session=session, lead=lead, now=now)
            lead.follow_up_of = first.id if first is not None else None
            decision = route_lead(
                session=session,
                lead=lead,
                now=now,
                default_facilitator_email=settings.default_facilitator_email,
                follows_up=first,
            )
        events = rows.events
        if decision is not None:
            events = [*events, routing_event(lead=lead, decision=decision, now=now)]
        if first is not None:
            data = {"reference": lead.reference, "lead_id": str(lead.id)}
            events = [
                *events,
                event_row(lead_id=first.id, kind=EventKind.follow_up, now=now, data=data),
            ]
        tables = Base.metadata.tables
        session.execute(
            insert(tables["leads"]),
            {**rows.lead, "facilitator_id": lead.facilitator_id, "follow_up_of": lead.follow_up_of},
        )
        session.execute(insert(tables["lead_events"]), events)
        if decision is not None and decision.facilitator is not None:
            start_turn(
                session,
                lead_id=lead.id,
                facilitator_id=decision.facilitator.id,
                settings=settings,
                now=now,
            )
        if decision is not None:
            announce_lead(session=session, lead=lead, decision=decision, settings=settings, now=now)
        # Last: appending to the consent chain holds its lock until the commit.
        append_consents(session, records=rows.consents)
    return lead


# Built once (a submit's statements cost more to build than to run), its values given to
# execute().
_EARLIER_REQUEST = (
    select(Lead)
    .where(
        func.lower(Lead.email) == func.lower(bindparam("email")),
        Lead.created_at > bindparam("since"),
        func.lower(Lead.treatment) == func.lower(bindparam("treatment")),
        Lead.status != LeadStatus.spam,
    )
    .order_by(Lead.created_at.desc())
    .limit(1)
)


def first_request(*, session: Session, lead: Lead, now: datetime) -> Lead | None:
    """The request `lead` follows up: the newest from the same address (in any case) for the
    same treatment within FOLLOW_UP_WINDOW, not spam; or the one that request follows up, so
    every follow-up links to the first. (One row at most: an address that sends thousands of
    requests costs no more than one that sends two.)"""
    earlier: Lead | None = session.scalar(
        _EARLIER_REQUEST,
        {"email": lead.email, "since": now - FOLLOW_UP_WINDOW, "treatment": lead.treatment},
    )
    if earlier is not None and earlier.follow_up_of is not None:
        return session.get(Lead, earlier.follow_up_of) or earlier
    return earlier


def _one_request_per_address_at_a_time(session: Session, address: str) -> None:
    """On PostgreSQL, requests from one address wait for each other until commit, so that two
    at the same moment neither both pass the confirmation cap nor both miss being a follow-up.
    (SQLite runs one write at a time anyway.)"""
    if is_postgresql(session):
        digest = hashlib.sha256(address.lower().encode()).digest()
        session.execute(
            select(func.pg_advisory_xact_lock(int.from_bytes(digest[:8], "big", signed=True)))
        )


async def find_by_submission(*, session: AsyncSession, submission_id: str) -> Lead | None:
    lead: Lead | None = await session.scalar(
        select(Lead).where(Lead.submission_id == submission_id)
    )
    return lead


async def find_by_reference(*, session: AsyncSession, reference: str) -> Lead | None:
    lead: Lead | None = await session.scalar(select(Lead).where(Lead.reference == reference))
    return lead
