"""Durable scheduled work: jobs with a due time in the database, claimed under a lease like the
outbox's emails, so each runs once however many workers run, and a worker that was down catches
up when it starts. What a job does is given by whoever builds the `Scheduler` (a handler per
kind); this module knows nothing of leads.

A handler runs inside the write that marks its job done: what it writes and "done" commit
together, or neither does and the job is tried again later.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from service.clock import Clock, utc_now
from service.db import Database, insert_new
from service.models import Base, ScheduledJob

logger = logging.getLogger("service.schedule")

Handler = Callable[..., None]  # handler(session, *, job: ScheduledJob, now: datetime)
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


class JobStatus(StrEnum):
    pending = "pending"
    running = "running"
    done = "done"
    failed = "failed"


@dataclass(frozen=True, slots=True)
class Recurring:
    """A kind that is due once in every period of `every` (an hourly digest, a daily purge)."""

    kind: str
    every: timedelta

    def slot(self, now: datetime) -> datetime:
        """The start of the period `now` falls in."""
        periods = (now - EPOCH) // self.every
        return EPOCH + periods * self.every


def schedule(
    session: Session,
    *,
    kind: str,
    key: str,
    due_at: datetime,
    now: datetime,
    payload: Mapping[str, Any] | None = None,
) -> None:
    """Have `kind` run at `due_at`; a key already scheduled (done or not) is left as it is."""
    row = {
        "kind": kind,
        "key": key,
        "payload": dict(payload or {}),
        "due_at": due_at,
        "status": JobStatus.pending,
        "attempts": 0,
        "created_at": now,
    }
    session.execute(insert_new(session, Base.metadata.tables["scheduled_jobs"], key="key"), row)


def cancel(session: Session, *, keys: list[str], now: datetime) -> None:
    """Drop pending work that is no longer wanted (a reminder after the answer came)."""
    session.execute(
        update(ScheduledJob)
        .where(ScheduledJob.key.in_(keys), ScheduledJob.status == JobStatus.pending)
        .values(status=JobStatus.done, done_at=now, last_error="cancelled")
    )


def claim(session: Session, *, now: datetime, limit: int, lease: timedelta) -> list[ScheduledJob]:
    """Lease up to `limit` due jobs, and jobs whose lease expired (their worker died)."""
    due = or_(
        and_(ScheduledJob.status == JobStatus.pending, ScheduledJob.due_at <= now),
        and_(ScheduledJob.status == JobStatus.running, ScheduledJob.lease_expires_at <= now),
    )
    ids = (
        select(ScheduledJob.id)
        .where(due)
        .order_by(ScheduledJob.due_at, ScheduledJob.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    claimed = session.scalars(
        update(ScheduledJob)
        .where(ScheduledJob.id.in_(ids))
        .values(
            status=JobStatus.running,
            attempts=ScheduledJob.attempts + 1,
            lease_expires_at=now + lease,
            lease_token=secrets.token_hex(16),
        )
        .returning(ScheduledJob),
        execution_options={"synchronize_session": False, "populate_existing": True},
    )
    return sorted(claimed, key=lambda job: (job.due_at, job.id))


def _held(job: ScheduledJob) -> list[Any]:
    return [
        ScheduledJob.id == job.id,
        ScheduledJob.status == JobStatus.running,
        ScheduledJob.lease_token == job.lease_token,
    ]


def run_job(session: Session, *, job: ScheduledJob, handler: Handler, now: datetime) -> bool:
    """Run the handler and mark the job done in one transaction; False, doing nothing, when the
    lease was lost meanwhile (another worker holds the job now)."""
    finished = session.execute(
        update(ScheduledJob)
        .where(*_held(job))
        .values(status=JobStatus.done, done_at=now, lease_expires_at=None, lease_token=None)
    )
    if not finished.rowcount:  # type: ignore[attr-defined]
        return False
    handler(session, job=job, now=now)
    return True


def record_failure(
    session: Session, *, job: ScheduledJob, error: str, retry_at: datetime | None
) -> None:
    """Try again at `retry_at`, or give up (`failed`) when it is None."""
    session.execute(
        update(ScheduledJob)
        .where(*_held(job))
        .values(
            status=JobStatus.pending if retry_at else JobStatus.failed,
            due_at=retry_at or job.due_at,
            lease_expires_at=None,
            lease_token=None,
            last_error=error[:1000],
        )
    )


def ensure_recurring(session: Session, *, recurring: list[Recurring], now: datetime) -> None:
    """Make sure this period's run of each recurring kind is scheduled (once, by key)."""
    for item in recurring:
        slot = item.slot(now)
        key = f"{item.kind}:{slot.isoformat()}"
        schedule(session, kind=item.kind, key=key, due_at=slot, now=now)


class Scheduler:
    """Runs due jobs: `run_due()` once (tests, catching up), or a loop polling every
    `poll_seconds` (`start()`/`stop()`, beside the mail worker)."""

    MAX_ATTEMPTS = 5
    RETRY_AFTER = timedelta(minutes=5)

    def __init__(
        self,
        *,
        database: Database,
        handlers: Mapping[str, Handler],
        recurring: list[Recurring] | None = None,
        clock: Clock = utc_now,
        poll_seconds: float = 30.0,
        lease: timedelta = timedelta(minutes=5),
        batch_size: int = 50,
    ) -> None:
        self.database = database
        self.handlers = dict(handlers)
        self.recurring = list(recurring or [])
        self.clock = clock
        self.poll_seconds = poll_seconds
        self.lease = lease
        self.batch_size = batch_size
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._stopping.clear()
            self._task = asyncio.create_task(self._loop(), name="scheduler")

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.run_due()
            except Exception as exc:  # the database is away: try again on the next turn
                logger.warning("scheduler: a turn failed (%s)", type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=self.poll_seconds)

    async def run_due(self) -> int:
        """Run every job due now, batch after batch; the number run."""
        if self.recurring:
            await self.database.write(ensure_recurring, recurring=self.recurring, now=self.clock())
        done = 0
        while jobs := await self.database.write(
            claim, now=self.clock(), limit=self.batch_size, lease=self.lease
        ):
            for job in jobs:
                done += await self._run(job)
            if len(jobs) < self.batch_size:
                break
        return done

    async def _run(self, job: ScheduledJob) -> int:
        handler = self.handlers.get(job.kind)
        if handler is None:
            await self.database.write(
                record_failure, job=job, error=f"no handler for {job.kind}", retry_at=None
            )
            return 0
        try:
            ran = await self.database.write(run_job, job=job, handler=handler, now=self.clock())
        except Exception as exc:
            # The handler's writes rolled back with it; kinds and ids only in the log.
            logger.warning("scheduled job #%d %s failed: %s", job.id, job.kind, type(exc).__name__)
            retry_at = self.clock() + self.RETRY_AFTER if job.attempts < self.MAX_ATTEMPTS else None
            await self.database.write(
                record_failure, job=job, error=type(exc).__name__, retry_at=retry_at
            )
            return 0
        return int(ran)


def cancel_about(session: Session, *, subject: str, now: datetime) -> int:
    """Drop every pending job whose key names `subject` (keys look like `<kind>:<subject>...`):
    the work about an erased lead. The number dropped."""
    result = session.execute(
        update(ScheduledJob)
        .where(
            ScheduledJob.key.contains(subject, autoescape=True),
            ScheduledJob.status == JobStatus.pending,
        )
        .values(status=JobStatus.done, done_at=now, last_error="cancelled")
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
