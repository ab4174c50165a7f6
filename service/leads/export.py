"""CSV export of the current filter: streamed in keyset batches (constant memory), UTF-8 with a
BOM for spreadsheets, and every cell that a spreadsheet would run as a formula neutralised."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.db import Database
from service.leads.fields import LEAD_FIELDS, raw_values
from service.leads.queries import Cursor, LeadFilter
from service.models import DeskAudit, Facilitator, Lead

BATCH = 1000
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
COLUMNS = tuple(f.name for f in LEAD_FIELDS)


def safe_cell(value: object) -> str:
    """A leading apostrophe keeps =, +, -, @ (and tab, CR) from starting a formula."""
    text = "" if value is None else value.isoformat() if isinstance(value, datetime) else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _row(lead: Lead, facilitators: dict[int, str]) -> list[str]:
    values = raw_values(lead, facilitator=facilitators.get(lead.facilitator_id or 0))
    return [safe_cell(values[c]) for c in COLUMNS]


def record_export(session: Session, *, lead_filter: LeadFilter, actor: str, now: datetime) -> None:
    """Who exported which filter, and when (the desk's audit)."""
    session.add(
        DeskAudit(actor=actor, action="export_csv", data=lead_filter.query(), created_at=now)
    )


async def csv_chunks(*, database: Database, lead_filter: LeadFilter) -> AsyncIterator[bytes]:
    """The export, one batch of rows per chunk; a session of its own, read-only."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    yield ("\ufeff" + buffer.getvalue()).encode()
    async with database.session() as session:
        facilitators = {f.id: f.name for f in await session.scalars(select(Facilitator))}
        cursor: Cursor | None = None
        while True:
            where = lead_filter.conditions()
            if cursor is not None:
                where.append(cursor.condition())
            batch = list(
                await session.scalars(
                    select(Lead)
                    .where(*where)
                    .order_by(Lead.created_at.desc(), Lead.id.desc())
                    .limit(BATCH)
                    .execution_options(populate_existing=False)
                )
            )
            if not batch:
                break
            buffer.seek(0)
            buffer.truncate()
            writer.writerows(_row(lead, facilitators) for lead in batch)
            yield buffer.getvalue().encode()
            cursor = Cursor(created_at=batch[-1].created_at, id=batch[-1].id)
            # Let the identity map forget the batch: memory stays flat however many leads.
            session.expunge_all()
            if len(batch) < BATCH:
                break
