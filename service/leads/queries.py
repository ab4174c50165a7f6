"""Reading leads: the filters and keyset pages of the list, the counts per status, and one
lead's full record."""

from __future__ import annotations

import base64
import json
import math
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from litestar.stores.base import Store
from sqlalchemy import ColumnElement, String, and_, bindparam, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import selectinload
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.sqltypes import NullType

from service.edge import as_id
from service.errors import NotFound
from service.leads import messages
from service.leads.pipeline import STATUSES, LeadStatus, allowed_next
from service.mail.outbox import OutboxStatus
from service.models import Consent, Lead, LeadCount, OutboxMessage

PAGE_SIZE = 50
COUNTS_STORE = "desk_counts"  # the litestar store CountsCache keeps its counts in


@dataclass(frozen=True, slots=True)
class LeadFilter:
    """The list's filters, as they appear in the query string (and the export's)."""

    status: str = ""
    facilitator: int | None = None
    treatment: str = ""
    language: str = ""
    date_from: date | None = None
    date_to: date | None = None
    unrouted: bool = False
    dead_email: bool = False
    overdue: bool = False
    q: str = ""

    @classmethod
    def from_query(cls, params: Mapping[str, str]) -> LeadFilter:
        """Lenient: a value that does not parse is ignored rather than refused."""

        def text(name: str, limit: int = 200) -> str:
            return str(params.get(name, "") or "").strip()[:limit]

        def day(name: str) -> date | None:
            try:
                parsed = date.fromisoformat(text(name, 10)) if text(name) else None
            except ValueError:
                return None
            return None if parsed == date.max else parsed  # the day after it does not exist

        facilitator = text("facilitator")
        status = text("status")
        return cls(
            status=status if status in STATUSES else "",
            facilitator=as_id(facilitator),
            treatment=text("treatment"),
            language=text("language", 2),
            date_from=day("date_from"),
            date_to=day("date_to"),
            unrouted=text("unrouted") in ("1", "on", "true"),
            dead_email=text("dead_email") in ("1", "on", "true"),
            overdue=text("overdue") in ("1", "on", "true"),
            q=text("q"),
        )

    def query(self) -> dict[str, str]:
        """Only the filters that are set, for links (next page, export)."""
        out: dict[str, str] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is True:
                out[f.name] = "1"
            elif value not in (None, "", False):
                out[f.name] = str(value)
        return out

    def conditions(self) -> list[ColumnElement[bool]]:
        where: list[ColumnElement[bool]] = []
        if self.status:
            where.append(Lead.status == self.status)
        if self.facilitator is not None:
            where.append(Lead.facilitator_id == self.facilitator)
        if self.unrouted:
            where.append(Lead.facilitator_id.is_(None))
        if self.treatment:
            where.append(Lead.treatment == self.treatment)
        if self.language:
            where.append(Lead.language == self.language)
        if self.date_from:
            where.append(Lead.created_at >= datetime.combine(self.date_from, time(), UTC))
        if self.date_to:
            end = datetime.combine(self.date_to + timedelta(days=1), time(), UTC)
            where.append(Lead.created_at < end)
        if self.dead_email:
            # Dead emails are few: the outbox status index finds them, not a probe per lead.
            where.append(
                Lead.id.in_(
                    select(OutboxMessage.lead_id).where(OutboxMessage.status == OutboxStatus.dead)
                )
            )
        if self.overdue:
            # Overdue leads are few: the index on overdue_since finds them.
            where.append(Lead.overdue_since.is_not(None))
        if self.q:
            where.append(search_condition(self.q))
        return where


REFERENCE = re.compile(r"Q-[2-9A-HJKMNP-Z]{6}")
FULL_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
SEARCHED = (Lead.reference, Lead.email, Lead.full_name)
TRIGRAM = 3  # the shortest needle a trigram index finds


def search_condition(q: str) -> ColumnElement[bool]:
    """A reference or a whole email address is looked up by index; anything else is a
    case-insensitive substring of the name, email or reference, found by trigram indexes
    (three characters or more; a shorter one is a scan)."""
    if REFERENCE.fullmatch(q.upper()):
        return Lead.reference == q.upper()
    if FULL_EMAIL.fullmatch(q):
        local, _, domain = q.rpartition("@")
        return or_(Lead.email == q, Lead.email == f"{local}@{domain.lower()}")
    if len(q) >= TRIGRAM:
        return Substring(q)
    needle = q.lower()
    return or_(*(func.lower(c).contains(needle, autoescape=True) for c in SEARCHED))


class Substring(ColumnElement[bool]):
    """`q` inside a lead's reference, email or name, in any case, by the search index of the
    engine: the FTS5 table `leads_search` (trigram tokenizer) on SQLite, the pg_trgm indexes
    on lower(column) on PostgreSQL (both made by the migration 5d2e8b7c41a9)."""

    inherit_cache = False  # the needle is not a cache key's bound value: compiled each time
    # A condition as it is: a Boolean would be compared with 1 on SQLite.
    type = NullType()  # type: ignore[assignment]

    def __init__(self, q: str, *, common: bool = False) -> None:
        self.q = q
        # SQLite: many leads match, so a page of them is found sooner by walking the list's
        # index and testing each lead than by fetching every match and sorting them.
        self.common = common

    @property
    def phrase(self) -> str:
        """An FTS5 phrase of the needle's trigrams, quoted so that no character is syntax."""
        return '"' + self.q.replace('"', '""') + '"'


@compiles(Substring, "sqlite")
def _substring_sqlite(element: Substring, compiler: SQLCompiler, **kw: Any) -> str:
    # `+rowid` keeps SQLite from looking the matches up by rowid: it walks the order's index.
    matches = "IN (SELECT rowid FROM leads_search WHERE leads_search MATCH :phrase)"
    rowid = "+leads.rowid " if element.common else "leads.rowid "
    condition = text(rowid + matches).bindparams(phrase=element.phrase)
    return compiler.process(condition, **kw)


COMMON = 1000  # matches beyond which a page of a SQLite search walks the list's index


async def _planned(session: AsyncSession, condition: ColumnElement[bool]) -> ColumnElement[bool]:
    """A substring search on SQLite, told whether its needle is common (counted in the search
    index, up to COMMON): 2 ms that spare a sort of thousands of leads, or a walk of all."""
    if not isinstance(condition, Substring) or session.get_bind().dialect.name != "sqlite":
        return condition
    found = await session.scalar(
        text(
            "SELECT count(*) FROM (SELECT 1 FROM leads_search WHERE leads_search MATCH :phrase "
            "LIMIT :limit)"
        ).bindparams(phrase=condition.phrase, limit=COMMON + 1)
    )
    return Substring(condition.q, common=(found or 0) > COMMON)


@compiles(Substring)
def _substring(element: Substring, compiler: SQLCompiler, **kw: Any) -> str:
    # One whole pattern, not '%' || needle || '%': the planner sees it and picks the index.
    escaped = re.sub(r"([/%_])", r"/\1", element.q.lower())
    pattern = bindparam("pattern", f"%{escaped}%", type_=String())
    condition = or_(*(func.lower(c).like(pattern, escape="/") for c in SEARCHED))
    return f"({compiler.process(condition, **kw)})"


@dataclass(frozen=True, slots=True)
class Cursor:
    """Position after the last lead shown: (created_at, id), newest first."""

    created_at: datetime
    id: uuid.UUID

    def encode(self) -> str:
        raw = f"{self.created_at.isoformat()}|{self.id.hex}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, value: str | None) -> Cursor | None:
        if not value:
            return None
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
            stamp, _, ident = raw.partition("|")
            created_at = datetime.fromisoformat(stamp)
            if created_at.tzinfo is None:
                return None
            return cls(created_at=created_at.astimezone(UTC), id=uuid.UUID(hex=ident))
        except (ValueError, OverflowError):  # not a cursor, or a time outside the calendar
            return None

    def condition(self) -> ColumnElement[bool]:
        # The first term is an index range; the second breaks ties within one timestamp.
        return and_(
            Lead.created_at <= self.created_at,
            or_(Lead.created_at < self.created_at, Lead.id < self.id),
        )


@dataclass(frozen=True, slots=True)
class LeadPage:
    leads: list[Lead]
    next: Cursor | None  # where the next (older) page starts

    @property
    def next_cursor(self) -> str | None:
        return self.next.encode() if self.next else None


async def list_leads(
    *, session: AsyncSession, lead_filter: LeadFilter, cursor: Cursor | None, limit: int = PAGE_SIZE
) -> LeadPage:
    """One page of leads matching the filter, newest first (keyset, no OFFSET)."""
    where = [await _planned(session, condition) for condition in lead_filter.conditions()]
    if cursor is not None:
        where.append(cursor.condition())
    rows = list(
        await session.scalars(
            select(Lead)
            .options(selectinload(Lead.facilitator), selectinload(Lead.first_request))
            .where(*where)
            .order_by(Lead.created_at.desc(), Lead.id.desc())
            .limit(limit + 1)
        )
    )
    if len(rows) > limit:
        rows = rows[:limit]
        return LeadPage(leads=rows, next=Cursor(created_at=rows[-1].created_at, id=rows[-1].id))
    return LeadPage(leads=rows, next=None)


class CountedBy(StrEnum):
    """What `lead_counts` counts the leads of a day by (its `dimension`)."""

    status = "status"
    facilitator = "facilitator"  # the value is the facilitator's id, "" for unrouted
    country = "country"
    # The value is the bucket of the wait until the lead's first status change: the wait in
    # seconds is about FIRST_CHANGE_STEP ** bucket (-1: under a second).
    first_change = "first_change"


FIRST_CHANGE_STEP = 1.01  # buckets 1% wide, as the migration 5d2e8b7c41a9 counts them


async def counts_by(
    *, session: AsyncSession, dimension: CountedBy, since: date | None = None
) -> dict[str, int]:
    """Leads by status, facilitator or country (arrived on `since` or later), from the daily
    counts the triggers on `leads` keep: a few rows per day, not a row per lead."""
    total = func.sum(LeadCount.count)
    query = select(LeadCount.value, total).where(LeadCount.dimension == dimension)
    if since is not None:
        query = query.where(LeadCount.day >= since)
    result = await session.execute(query.group_by(LeadCount.value).having(total > 0))
    return {value: int(count) for value, count in result.all()}


async def per_day(*, session: AsyncSession, since: date) -> dict[date, int]:
    total = func.sum(LeadCount.count)
    result = await session.execute(
        select(LeadCount.day, total)
        .where(LeadCount.dimension == CountedBy.status, LeadCount.day >= since)
        .group_by(LeadCount.day)
    )
    return {day: int(count) for day, count in result.all()}


async def median_first_change(*, session: AsyncSession, since: date) -> timedelta | None:
    """The median wait of the leads that arrived on `since` or later until their first status
    change, read from the buckets of the daily counts (within 1% of the exact median)."""
    waits = {
        int(bucket): n
        for bucket, n in (
            await counts_by(session=session, dimension=CountedBy.first_change, since=since)
        ).items()
    }
    total = sum(waits.values())
    if not total:
        return None

    def nth(rank: int) -> float:  # the wait of the rank-th lead, shortest first
        seen = 0
        for bucket in sorted(waits):
            seen += waits[bucket]
            if seen > rank:
                return 0.0 if bucket < 0 else FIRST_CHANGE_STEP**bucket
        raise AssertionError(rank)

    middle = (nth((total - 1) // 2) + nth(total // 2)) / 2
    return timedelta(seconds=middle)


async def status_counts(*, session: AsyncSession) -> dict[str, int]:
    counts: dict[str, int] = dict.fromkeys(STATUSES, 0)
    counts.update(await counts_by(session=session, dimension=CountedBy.status))
    return counts


class CountsCache:
    """Counts per status for the list's header, kept for `ttl` seconds in a store shared by every
    instance (Redis with QUOTE_REDIS_URL). Since the daily counts, counting reads a few rows per
    day (some ms) rather than the whole status index (~85 ms at a million leads on SQLite). A
    status change clears it for everyone."""

    KEY = "status_counts"

    def __init__(self, *, ttl: float, store: Store) -> None:
        self.ttl = ttl
        self.store = store

    async def get(self, *, session: AsyncSession) -> dict[str, int]:
        if self.ttl <= 0:
            return await status_counts(session=session)
        if (cached := await self.store.get(self.KEY)) is not None:
            counts: dict[str, int] = json.loads(cached)
            return counts
        counts = await status_counts(session=session)
        # Stores keep whole seconds (Redis's EX); a shorter time would be none at all.
        kept = timedelta(seconds=max(1, math.ceil(self.ttl)))
        await self.store.set(self.KEY, json.dumps(counts), expires_in=kept)
        return counts

    async def clear(self) -> None:
        await self.store.delete(self.KEY)


async def treatment_choices(*, session: AsyncSession) -> list[str]:
    """The distinct treatments, by skipping along the (treatment, created_at) index: one seek
    per value instead of a scan of every lead."""
    step = select(func.min(Lead.treatment).label("value")).cte("step", recursive=True)
    following = select(
        select(func.min(Lead.treatment)).where(Lead.treatment > step.c.value).scalar_subquery()
    ).where(step.c.value.is_not(None))
    step = step.union_all(following)
    return [v for v in await session.scalars(select(step.c.value)) if v is not None]


@dataclass(frozen=True, slots=True)
class LeadRecord:
    lead: Lead
    emails: list[OutboxMessage]
    allowed_next: tuple[LeadStatus, ...]
    follow_ups: list[Lead]  # the patient's later requests for the same treatment, oldest first


async def lead_record(*, session: AsyncSession, lead_id: uuid.UUID) -> LeadRecord:
    lead = await session.scalar(
        select(Lead)
        .where(Lead.id == lead_id)
        .options(
            selectinload(Lead.consents).selectinload(Consent.legal_text),
            selectinload(Lead.events),
            selectinload(Lead.facilitator),
            selectinload(Lead.first_request),
        )
    )
    if lead is None:
        raise NotFound(messages.LEAD_NOT_FOUND)
    follow_ups = list(
        await session.scalars(
            select(Lead).where(Lead.follow_up_of == lead_id).order_by(Lead.created_at, Lead.id)
        )
    )
    emails = list(
        await session.scalars(
            select(OutboxMessage).where(OutboxMessage.lead_id == lead_id).order_by(OutboxMessage.id)
        )
    )
    return LeadRecord(
        lead=lead, emails=emails, allowed_next=allowed_next(lead.status), follow_ups=follow_ups
    )
