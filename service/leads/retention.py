"""Retention: erasing, the same way a patient does, the leads kept long enough. Closed leads
(won, lost, spam, duplicate) are erased once unchanged for a number of days; open ones once
received longer ago than a second limit. `quote-desk purge` runs it by hand; with
QUOTE_RETENTION_DAYS set, the scheduler runs it daily. Erased leads are skipped, so a run
repeated (or interrupted and run again) erases each lead once."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from service.db import Database
from service.leads import messages
from service.leads.pipeline import LeadStatus
from service.leads.privacy import ErasedBy, erase
from service.models import Lead, ScheduledJob
from service.schedule import Recurring, schedule
from service.settings import Settings

CLOSED = (LeadStatus.won, LeadStatus.lost, LeadStatus.spam, LeadStatus.duplicate)
RETENTION_JOB = "retention"
BATCH = 200  # leads erased per write: a long purge never holds the writer for long
MAX_DAYS = 36_500  # a century: any longer is a typo


@dataclass(frozen=True, slots=True)
class Limits:
    """Closed leads unchanged for more than `closed_days`; open ones older than `open_days`."""

    closed_days: int
    open_days: int


@dataclass(frozen=True, slots=True)
class Due:
    lead_id: uuid.UUID
    reference: str
    received: datetime
    reason: str


def due_leads(
    session: Session, *, limits: Limits, now: datetime, limit: int | None = None
) -> list[Due]:
    """The leads the limits say to erase now, oldest first (none already erased)."""
    closed_before = now - timedelta(days=limits.closed_days)
    open_before = now - timedelta(days=limits.open_days)
    query = (
        select(Lead.id, Lead.reference, Lead.status, Lead.created_at)
        .where(
            Lead.erased_at.is_(None),
            or_(
                and_(Lead.status.in_(CLOSED), Lead.updated_at < closed_before),
                and_(Lead.status.not_in(CLOSED), Lead.created_at < open_before),
            ),
        )
        .order_by(Lead.created_at, Lead.id)
        .limit(limit)
    )
    found = []
    for lead_id, reference, status, created_at in session.execute(query):
        if status in CLOSED:
            reason = messages.RETENTION_CLOSED.format(status=status, days=limits.closed_days)
        else:
            reason = messages.RETENTION_OPEN.format(status=status, days=limits.open_days)
        found.append(Due(lead_id, reference, created_at, reason))
    return found


def erase_due(
    session: Session,
    *,
    limits: Limits,
    settings: Settings,
    now: datetime,
    limit: int | None = None,
) -> list[Due]:
    """Erase up to `limit` (BATCH) due leads in the caller's write; the ones erased."""
    found = due_leads(session, limits=limits, now=now, limit=limit or BATCH)
    for lead in found:
        erase(
            session,
            lead_id=lead.lead_id,
            by=ErasedBy.retention,
            reason=lead.reason,
            settings=settings,
            now=now,
        )
    return found


async def purge(
    *, database: Database, limits: Limits, settings: Settings, now: datetime, dry_run: bool
) -> list[Due]:
    """Erase every due lead, batch after batch (or, with `dry_run`, only say which)."""
    if dry_run:
        async with database.session() as session:
            return await session.run_sync(lambda s: due_leads(s, limits=limits, now=now))
    erased: list[Due] = []
    while batch := await database.write(erase_due, limits=limits, settings=settings, now=now):
        erased += batch
        if len(batch) < BATCH:
            break
    return erased


def limits_of(settings: Settings) -> Limits | None:
    """The daily rule's limits, or None when QUOTE_RETENTION_DAYS is not set."""
    if settings.retention_days is None:
        return None
    return Limits(closed_days=settings.retention_days, open_days=settings.retention_unclosed_days)


def daily_job(settings: Settings) -> tuple[Callable[..., None], Recurring] | None:
    """The scheduler's handler and its daily recurrence, when retention is on."""
    limits = limits_of(settings)
    if limits is None:
        return None

    def run(session: Session, *, job: ScheduledJob, now: datetime) -> None:
        erased = erase_due(session, limits=limits, settings=settings, now=now)
        if len(erased) == BATCH:  # more are due: another run, at once, in its own write
            key = f"{RETENTION_JOB}:more:{job.id}"  # one follow-up per run
            schedule(session, kind=RETENTION_JOB, key=key, due_at=now, now=now)

    return run, Recurring(kind=RETENTION_JOB, every=timedelta(days=1))
