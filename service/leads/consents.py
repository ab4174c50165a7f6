"""Consent records and the hash chain that makes them tamper-evident: building a record,
appending records to the chain one writer at a time, removing a record's personal fields
without breaking the chain, and walking it to the first broken link.

Each record's `record_hash` is the SHA-256 of the previous record's hash and of the record's
canonical fields: the lead, the kind, granted or not, the legal text's hash, the time, and
`personal_hash` in place of the IP address and browser. `personal_hash` is salted with a random
value stored beside it, and erasure removes the salt with the IP and browser: the hash left
behind then commits to them without letting anyone test guesses against it.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from service.db import is_postgresql
from service.leads import messages
from service.models import Base, Consent, Lead

GENESIS = "0" * 64  # the predecessor of the first record
_HEAD = "SELECT record_hash FROM consents ORDER BY id DESC LIMIT 1"
# The PostgreSQL advisory lock every append takes (any constant; only appends use it).
CHAIN_LOCK = 0x5144_4348_4149_4E  # "QDCHAIN"


def personal_hash(*, salt: str, ip: str | None, user_agent: str | None) -> str:
    canonical = json.dumps([salt, ip, user_agent], ensure_ascii=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def record_hash(
    *,
    prev_hash: str,
    lead_id: uuid.UUID,
    kind: str,
    granted: bool,
    legal_text_sha256: str,
    created_at: datetime,
    personal_hash: str,
) -> str:
    canonical = json.dumps(
        {
            "created_at": created_at.astimezone(UTC).isoformat(timespec="microseconds"),
            "granted": bool(granted),
            "kind": kind,
            "lead_id": str(lead_id),
            "legal_text_sha256": legal_text_sha256,
            "personal_hash": personal_hash,
        },
        ensure_ascii=True,
        separators=(",", ":"),
        sort_keys=True,
    )
    return hashlib.sha256(f"{prev_hash}\n{canonical}".encode()).hexdigest()


def new_record(
    *,
    lead_id: uuid.UUID,
    kind: str,
    granted: bool,
    legal_text_sha256: str,
    ip: str | None,
    user_agent: str | None,
    now: datetime,
) -> dict[str, Any]:
    """A consent row, ready for `append` (which links it into the chain)."""
    salt = secrets.token_hex(16)
    return {
        "lead_id": lead_id,
        "kind": kind,
        "granted": granted,
        "legal_text_sha256": legal_text_sha256,
        "ip": ip,
        "user_agent": user_agent,
        "created_at": now,
        "personal_salt": salt,
        "personal_hash": personal_hash(salt=salt, ip=ip, user_agent=user_agent),
    }


def _link(row: dict[str, Any], prev_hash: str) -> dict[str, Any]:
    linked = {**row, "prev_hash": prev_hash}
    linked["record_hash"] = record_hash(
        prev_hash=prev_hash,
        lead_id=row["lead_id"],
        kind=row["kind"],
        granted=row["granted"],
        legal_text_sha256=row["legal_text_sha256"],
        created_at=row["created_at"],
        personal_hash=row["personal_hash"],
    )
    return linked


def head(db: Session | Connection) -> str:
    """The chain's last hash, for an append in this transaction: on PostgreSQL, first the lock
    that queues appends until the transaction ends (two writes appending at once would both
    read the same last record and fork the chain; SQLite has one writer at a time already)."""
    # Plain SQL on the connection: built and run through SQLAlchemy's statement machinery,
    # this one-row read cost a submit more than its three inserts (`python -m bench --only
    # profile`); the SQL is the same on both engines, and holds no value from outside.
    conn = db if isinstance(db, Connection) else db.connection()
    if is_postgresql(conn):
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({CHAIN_LOCK:d})")
    last = conn.exec_driver_sql(_HEAD).scalar()
    return str(last) if last else GENESIS


def link(records: Iterable[dict[str, Any]], *, prev: str) -> list[dict[str, Any]]:
    """`records` linked one after the other from `prev`: inserted in this order (the ids follow
    the chain), after `head` in the same transaction."""
    linked = []
    for row in records:
        linked.append(_link(row, prev))
        prev = linked[-1]["record_hash"]
    return linked


def append(session: Session, *, records: Sequence[dict[str, Any]]) -> None:
    """Link `records` after the chain's last record and insert them, in the caller's write.

    The unique `prev_hash` refuses a fork should anything bypass `head`'s lock. Callers append
    last, so the lock is held briefly (until the commit).
    """
    if not records:
        return
    # One executemany: both drivers run its rows in order, so the ids follow the chain.
    linked = link(records, prev=head(session))
    session.connection().execute(insert(Base.metadata.tables["consents"]), linked)


def forget_personal(session: Session, *, lead_id: uuid.UUID) -> None:
    """Remove the IP addresses and browsers of a lead's consent records, and their salts: the
    records stay, and so does the chain (it covers `personal_hash`, which stays)."""
    session.execute(
        update(Consent)
        .where(Consent.lead_id == lead_id)
        .values(ip=None, user_agent=None, personal_salt=None)
    )


@dataclass(frozen=True, slots=True)
class Broken:
    """The first record that does not check out, and why."""

    consent_id: int
    created_at: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class ChainReport:
    records: int
    head: str  # the last record's hash (GENESIS for an empty chain)
    broken: Broken | None
    anchor_found: bool | None  # None when no anchor was asked about

    @property
    def intact(self) -> bool:
        return self.broken is None and self.anchor_found is not False


def check(row: Consent, *, expected_prev: str, erased: bool) -> str | None:
    """Why `row` breaks the chain after a record whose hash is `expected_prev`, or None."""
    if row.prev_hash != expected_prev:
        return messages.CHAIN_NOT_LINKED
    if row.personal_salt is not None:
        salted = personal_hash(salt=row.personal_salt, ip=row.ip, user_agent=row.user_agent)
        if salted != row.personal_hash:
            return messages.CHAIN_PERSONAL_CHANGED
    elif row.ip is not None or row.user_agent is not None:
        return messages.CHAIN_PERSONAL_CHANGED
    elif not erased:
        return messages.CHAIN_PERSONAL_REMOVED
    recomputed = record_hash(
        prev_hash=row.prev_hash,
        lead_id=row.lead_id,
        kind=row.kind,
        granted=row.granted,
        legal_text_sha256=row.legal_text_sha256,
        created_at=row.created_at,
        personal_hash=row.personal_hash,
    )
    if recomputed != row.record_hash:
        return messages.CHAIN_FIELDS_CHANGED
    return None


async def verify(
    *, session: AsyncSession, anchor: str | None = None, batch: int = 1000
) -> ChainReport:
    """Walk the chain in order, in batches, and stop at the first broken link. With `anchor`
    (a head noted earlier), also say whether that record is still in the chain: a chain
    recomputed from scratch by someone with access to the database would no longer hold it."""
    expected, count, last_id = GENESIS, 0, 0
    anchor_found = None if anchor is None else anchor == GENESIS
    while True:
        rows = (
            await session.execute(
                select(Consent, Lead.erased_at)
                .outerjoin(Lead, Lead.id == Consent.lead_id)
                .where(Consent.id > last_id)
                .order_by(Consent.id)
                .limit(batch)
            )
        ).all()
        for row, erased_at in rows:
            reason = check(row, expected_prev=expected, erased=erased_at is not None)
            if reason is not None:
                broken = Broken(consent_id=row.id, created_at=row.created_at, reason=reason)
                return ChainReport(count, expected, broken, anchor_found)
            expected, count = row.record_hash, count + 1
            if anchor is not None and row.record_hash == anchor:
                anchor_found = True
        if len(rows) < batch:
            return ChainReport(count, expected, None, anchor_found)
        last_id = rows[-1][0].id
        session.expunge_all()  # constant memory over millions of records
