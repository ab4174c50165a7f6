"""Storing a quote request in one transaction: the lead, its consent proof, its routing to a
facilitator and the emails that announce it (queued in the outbox, sent after the commit)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from service.content.documents import LEGAL_KINDS, article, legal_texts
from service.db import write_transaction
from service.leads.reference import new_reference
from service.leads.routing import route_lead
from service.leads.schemas import QuoteRequest
from service.mail.outbox import (
    enqueue_facilitator_email,
    enqueue_patient_confirmation,
    enqueue_unrouted_alert,
)
from service.models import Consent, Lead, LeadEvent, LegalText
from service.settings import Settings

LANDING_ARTICLE = "stem-cell-stroke-belgium"
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


async def store_legal_texts(*, session: AsyncSession) -> None:
    """Make sure every legal text the page shows is stored, keyed by its hash."""
    rows = [
        {"sha256": t.sha256, "kind": t.kind, "version": t.version, "label": t.label, "body": t.body}
        for t in legal_texts().values()
    ]
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    async with write_transaction(session):
        await session.execute(
            dialect.insert(LegalText).values(rows).on_conflict_do_nothing(index_elements=["sha256"])
        )


async def create_lead(
    *,
    session: AsyncSession,
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
        try:
            async with write_transaction(session):
                if existing := await find_by_submission(
                    session=session, submission_id=submission_id
                ):
                    return Stored(lead=existing, created=False)
                lead = _insert(session, quote, submission_id, client, now, spam_reason)
                if not spam_reason:
                    await _route_and_announce(
                        session=session, lead=lead, settings=settings, now=now
                    )
            return Stored(lead=lead, created=True)
        except IntegrityError:
            # Either the same submission was stored concurrently (found above on the next
            # turn), the random reference collided (a new one is drawn), or another request
            # created the default facilitator first (found on the next turn).
            continue
    raise RuntimeError("could not store the lead: references keep colliding")


def _insert(
    session: AsyncSession,
    quote: QuoteRequest,
    submission_id: str,
    client: Client,
    now: datetime,
    spam_reason: str | None,
) -> Lead:
    defaults = article(LANDING_ARTICLE)
    lead = Lead(
        id=uuid.uuid4(),  # known before the insert: routing and the emails refer to it
        reference=new_reference(),
        submission_id=submission_id,
        status="spam" if spam_reason else "new",
        source=client.source,
        **quote.model_dump(
            exclude={"submission_id", "treatment", "destination", *_CONSENT_FIELDS.values()}
        ),
        treatment=quote.treatment or defaults.treatment,
        destination=quote.destination or defaults.destination,
        created_at=now,
        updated_at=now,
    )
    texts = legal_texts()
    lead.consents = [
        Consent(
            kind=kind,
            granted=getattr(quote, _CONSENT_FIELDS[kind]),
            legal_text_sha256=texts[kind].sha256,
            ip=client.ip,
            user_agent=client.user_agent,
            created_at=now,
        )
        for kind in LEGAL_KINDS
    ]
    event_data = {"source": client.source}
    if spam_reason:
        event_data["spam"] = spam_reason
    lead.events = [LeadEvent(kind="created", data=event_data, created_at=now)]
    session.add(lead)
    return lead


async def _route_and_announce(
    *, session: AsyncSession, lead: Lead, settings: Settings, now: datetime
) -> None:
    # Nothing here needs the new rows in the database yet: holding the flush until the commit
    # inserts the lead, its consents, events and emails together (a submit's main cost).
    with session.no_autoflush:
        decision = await route_lead(
            session=session,
            lead=lead,
            now=now,
            default_facilitator_email=settings.default_facilitator_email,
        )
        if decision.facilitator is not None:
            await enqueue_facilitator_email(
                session=session,
                lead=lead,
                facilitator=decision.facilitator,
                settings=settings,
                now=now,
            )
        else:
            await enqueue_unrouted_alert(
                session=session, lead=lead, reason=decision.reason, settings=settings, now=now
            )
        await enqueue_patient_confirmation(
            session=session, lead=lead, facilitator=decision.facilitator, settings=settings, now=now
        )


async def find_by_submission(*, session: AsyncSession, submission_id: str) -> Lead | None:
    lead: Lead | None = await session.scalar(
        select(Lead).where(Lead.submission_id == submission_id)
    )
    return lead


async def find_by_reference(*, session: AsyncSession, reference: str) -> Lead | None:
    lead: Lead | None = await session.scalar(select(Lead).where(Lead.reference == reference))
    return lead
