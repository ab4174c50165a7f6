"""CSV export of the current filter: streamed in keyset batches (constant memory), UTF-8 with a
BOM for spreadsheets, and every cell that a spreadsheet would run as a formula neutralised."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import datetime

from sqlalchemy.orm import Session

from service.db import Database
from service.leads.fields import LEAD_FIELDS, raw_values
from service.leads.queries import Cursor, LeadFilter, list_leads
from service.models import DeskAudit, Lead

BATCH = 1000
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
COLUMNS = tuple(f.name for f in LEAD_FIELDS)


def safe_cell(value: object) -> str:
    """A leading apostrophe keeps =, +, -, @ (and tab, CR) from starting a formula."""
    text = "" if value is None else value.isoformat() if isinstance(value, datetime) else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _row(lead: Lead) -> list[str]:
    values = raw_values(lead, facilitator=lead.facilitator.name if lead.facilitator else None)
    return [safe_cell(values[c]) for c in COLUMNS]


def record_export(session: Session, *, lead_filter: LeadFilter, actor: str, now: datetime) -> None:
    """Who exported which filter, and when (the desk's audit)."""
    session.add(
        DeskAudit(actor=actor, action="export_csv", data=lead_filter.query(), created_at=now)
    )


async def csv_chunks(*, database: Database, lead_filter: LeadFilter) -> AsyncIterator[bytes]:
    """The export, one keyset page of rows per chunk, on a read-only session of its own. The
    header leaves with the first page, so a failure before it is an error, not a cut file."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(COLUMNS)
    async with database.session() as session:
        cursor: Cursor | None = None
        while True:
            page = await list_leads(
                session=session, lead_filter=lead_filter, cursor=cursor, limit=BATCH
            )
            writer.writerows(_row(lead) for lead in page.leads)
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
            # Let the identity map forget the page: memory stays flat however many leads.
            session.expunge_all()
            if page.next is None:
                break
            cursor = page.next
