"""CSV export of the current filter: streamed in keyset batches (constant memory), UTF-8 with a
BOM for spreadsheets, and every cell that a spreadsheet would run as a formula neutralised."""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Select, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from service.db import Database
from service.leads.fields import LEAD_FIELDS
from service.leads.queries import Cursor, LeadFilter
from service.models import DeskAudit, Facilitator, Lead

logger = logging.getLogger("service.leads")

BATCH = 1000
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
COLUMNS = tuple(f.name for f in LEAD_FIELDS)
EXPORT_ACTION = "export_csv"  # desk_audit.action of an export


def safe_cell(value: object) -> str:
    """A leading apostrophe keeps =, +, -, @ (and tab, CR) from starting a formula."""
    text = "" if value is None else value.isoformat() if isinstance(value, datetime) else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def record_export(session: Session, *, lead_filter: LeadFilter, actor: str, now: datetime) -> None:
    """Who exported which filter, and when (the desk's audit)."""
    session.add(
        DeskAudit(actor=actor, action=EXPORT_ACTION, data=lead_filter.query(), created_at=now)
    )


def _query(lead_filter: LeadFilter, cursor: Cursor | None) -> Select[Any]:
    """One batch as plain columns, the facilitator's name joined in: no ORM object, so no
    relationship can be loaded lazily (which an async session cannot do), and nothing for the
    identity map to keep."""
    where = lead_filter.conditions()
    if cursor is not None:
        where.append(cursor.condition())
    columns = [
        Facilitator.name.label(c) if c == "facilitator" else getattr(Lead, c) for c in COLUMNS
    ]
    return (
        select(*columns, Lead.id)
        .select_from(Lead)
        .outerjoin(Facilitator, Lead.facilitator_id == Facilitator.id)
        .where(*where)
        .order_by(Lead.created_at.desc(), Lead.id.desc())
        .limit(BATCH)
    )


async def _batch(
    session: AsyncSession, lead_filter: LeadFilter, after: Row[Any] | None
) -> Sequence[Row[Any]]:
    cursor = Cursor(created_at=after.created_at, id=after.id) if after is not None else None
    rows: Sequence[Row[Any]] = (await session.execute(_query(lead_filter, cursor))).all()
    return rows


def _csv(rows: Iterable[Iterable[object]]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows([safe_cell(value) for value in row] for row in rows)
    return buffer.getvalue().encode()


def _cells(batch: Sequence[Row[Any]]) -> list[tuple[object, ...]]:
    return [tuple(row)[: len(COLUMNS)] for row in batch]


async def open_csv(*, database: Database, lead_filter: LeadFilter) -> AsyncIterator[bytes]:
    """The export as chunks, one batch each, with its first batch already read and written.

    Whatever fails before the header is sent (the query, a value that cannot be written) is
    an ordinary error response. A later batch that fails ends the response without its final
    chunk: the server closes the connection and every client reports an incomplete download,
    never a short file that looks whole.
    """
    session = database.session()  # read-only, kept for the whole export
    try:
        batch = await _batch(session, lead_filter, None)
        head = "\ufeff".encode() + _csv([COLUMNS]) + _csv(_cells(batch))
    except BaseException:
        await session.close()
        raise
    return _chunks(session, lead_filter, head, batch)


async def _chunks(
    session: AsyncSession, lead_filter: LeadFilter, head: bytes, batch: Sequence[Row[Any]]
) -> AsyncIterator[bytes]:
    written = len(batch)
    try:
        yield head
        while len(batch) == BATCH:
            batch = await _batch(session, lead_filter, batch[-1])
            if batch:
                yield _csv(_cells(batch))
                written += len(batch)
    except Exception as exc:
        # Counts and the error's type only: the message could quote a lead's values.
        logger.error(
            "CSV export stopped after %d rows (%s): the client gets an incomplete response",
            written,
            type(exc).__name__,
        )
        raise
    finally:
        await session.close()
