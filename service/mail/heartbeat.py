"""The mail workers' heartbeats: each worker's last sign of life and its send attempts by outcome,
kept in the database so that any instance can tell whether mail is moving (/readyz, /metrics),
whichever process (a web process or `quote-desk worker`, on any machine) does the sending."""

from __future__ import annotations

import os
import secrets
import socket
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from service.db import dialect_insert
from service.mail.outbox import OutboxStatus
from service.models import Base, WorkerHeartbeat

# How a send attempt ended, as counted (an OutboxStatus: sent, retry or dead).
OUTCOMES = (OutboxStatus.sent, OutboxStatus.retry, OutboxStatus.dead)
_COLUMNS = {OutboxStatus.sent: "sent", OutboxStatus.retry: "retried", OutboxStatus.dead: "dead"}


@dataclass
class Heart:
    """One worker's heartbeat as it keeps it: who it is, and its attempts since it started."""

    started_at: datetime
    host: str = field(default_factory=socket.gethostname)
    pid: int = field(default_factory=os.getpid)
    attempts: Counter[str] = field(default_factory=Counter)
    worker_id: str = ""

    def __post_init__(self) -> None:
        # host:pid alone can come back after a restart (containers often run as pid 1).
        self.worker_id = self.worker_id or f"{self.host[:80]}:{self.pid}:{secrets.token_hex(4)}"

    def count(self, outcome: str) -> None:
        self.attempts[outcome] += 1


def beat(session: Session, *, heart: Heart, now: datetime) -> None:
    """Write the worker's row: it is alive at `now`, with these totals."""
    counts = {column: heart.attempts[outcome] for outcome, column in _COLUMNS.items()}
    values = {
        "worker_id": heart.worker_id,
        "host": heart.host[:255],
        "pid": heart.pid,
        "started_at": heart.started_at,
        "beat_at": now,
        **counts,
    }
    upsert = dialect_insert(session, Base.metadata.tables["worker_heartbeats"]).values(**values)
    session.execute(
        upsert.on_conflict_do_update(index_elements=["worker_id"], set_={"beat_at": now, **counts})
    )


@dataclass(frozen=True, slots=True)
class Pulse:
    """What the heartbeats say: when a worker last polled (None: no worker ever ran on this
    database), and the send attempts by outcome of every worker that ever ran."""

    last_beat: datetime | None
    attempts: dict[str, int]


async def pulse(*, session: AsyncSession) -> Pulse:
    row = (
        await session.execute(
            select(
                func.max(WorkerHeartbeat.beat_at),
                func.coalesce(func.sum(WorkerHeartbeat.sent), 0),
                func.coalesce(func.sum(WorkerHeartbeat.retried), 0),
                func.coalesce(func.sum(WorkerHeartbeat.dead), 0),
            )
        )
    ).one()
    # max() keeps the column's type: an aware UTC datetime on both engines.
    totals = zip(OUTCOMES, row[1:], strict=True)
    return Pulse(last_beat=row[0], attempts={str(outcome): int(total) for outcome, total in totals})
