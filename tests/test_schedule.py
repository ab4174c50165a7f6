"""Scheduled work runs once however many workers run, survives a dead worker, retries a failing
handler without keeping half of its writes, and catches up after downtime."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from service.db import Database
from service.models import DeskAudit, ScheduledJob
from service.schedule import (
    JobStatus,
    Recurring,
    Scheduler,
    cancel,
    claim,
    schedule,
)
from service.settings import Settings
from tests.factories import fetch_all
from tests.smtp import Clock


def note(session: Session, *, job: ScheduledJob, now: datetime) -> None:
    """A handler whose work is visible: one audit row per run."""
    session.add(
        DeskAudit(actor="scheduler", action=job.kind, data={"key": job.key}, created_at=now)
    )


def broken(session: Session, *, job: ScheduledJob, now: datetime) -> None:
    note(session, job=job, now=now)  # written, then rolled back with the failure
    raise RuntimeError("the handler failed")


@pytest.fixture
async def databases(settings: Settings) -> AsyncIterator[Callable[[], Database]]:
    """Databases as separate worker processes would have them: each its own engine."""
    made: list[Database] = []

    def make() -> Database:
        made.append(Database(settings))
        return made[-1]

    yield make
    for database in made:
        await database.dispose()


async def runs(settings: Settings) -> list[str]:
    return sorted(row.data["key"] for row in await fetch_all(settings.database_url, DeskAudit))


async def test_a_key_is_scheduled_once_and_runs_once_when_due(
    settings: Settings, databases: Callable[[], Database], clock: Clock
) -> None:
    database = databases()
    for _ in range(2):  # asking twice schedules once
        await database.write(
            schedule, kind="note", key="k1", due_at=clock() + timedelta(hours=1), now=clock()
        )
    scheduler = Scheduler(database=database, handlers={"note": note}, clock=clock)
    assert await scheduler.run_due() == 0  # not due yet
    clock.advance(hours=1)
    assert await scheduler.run_due() == 1
    assert await scheduler.run_due() == 0
    assert await runs(settings) == ["k1"]
    (job,) = await fetch_all(settings.database_url, ScheduledJob)
    assert job.status == JobStatus.done and job.attempts == 1 and job.done_at is not None


async def test_a_cancelled_job_never_runs(
    settings: Settings, databases: Callable[[], Database], clock: Clock
) -> None:
    database = databases()
    await database.write(schedule, kind="note", key="reminder", due_at=clock(), now=clock())
    await database.write(cancel, keys=["reminder"], now=clock())
    assert await Scheduler(database=database, handlers={"note": note}, clock=clock).run_due() == 0
    assert await runs(settings) == []


async def test_a_failing_handler_keeps_nothing_and_is_retried_then_given_up(
    settings: Settings, databases: Callable[[], Database], clock: Clock
) -> None:
    database = databases()
    await database.write(schedule, kind="broken", key="b1", due_at=clock(), now=clock())
    scheduler = Scheduler(database=database, handlers={"broken": broken}, clock=clock)
    assert await scheduler.run_due() == 0
    (job,) = await fetch_all(settings.database_url, ScheduledJob)
    assert job.status == JobStatus.pending and job.attempts == 1
    assert job.last_error == "RuntimeError" and job.due_at > clock()
    assert await runs(settings) == []  # the handler's own write rolled back with it
    for _ in range(Scheduler.MAX_ATTEMPTS):
        clock.advance(minutes=6)
        await scheduler.run_due()
    (job,) = await fetch_all(settings.database_url, ScheduledJob)
    assert job.status == JobStatus.failed and job.attempts == Scheduler.MAX_ATTEMPTS


async def test_a_job_held_by_a_dead_worker_runs_when_its_lease_expires(
    settings: Settings, databases: Callable[[], Database], clock: Clock
) -> None:
    dead = databases()
    await dead.write(schedule, kind="note", key="orphan", due_at=clock(), now=clock())
    assert len(await dead.write(claim, now=clock(), limit=10, lease=timedelta(minutes=5))) == 1
    survivor = Scheduler(database=databases(), handlers={"note": note}, clock=clock)
    assert await survivor.run_due() == 0  # still leased
    clock.advance(minutes=6)
    assert await survivor.run_due() == 1
    assert await runs(settings) == ["orphan"]


async def test_recurring_work_is_due_once_per_period_and_a_late_worker_catches_up(
    settings: Settings, databases: Callable[[], Database], clock: Clock
) -> None:
    hourly = Recurring(kind="note", every=timedelta(hours=1))
    first = Scheduler(
        database=databases(), handlers={"note": note}, recurring=[hourly], clock=clock
    )
    second = Scheduler(
        database=databases(), handlers={"note": note}, recurring=[hourly], clock=clock
    )
    assert await first.run_due() == 1
    assert await second.run_due() == 0  # the same hour, already done
    clock.advance(hours=5)  # both were down; the one that starts first catches up
    assert await second.run_due() == 1
    assert await first.run_due() == 0
    assert len(await runs(settings)) == 2


# SQLite has one writer: concurrent workers are a PostgreSQL deployment.
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_three_workers_run_each_of_200_jobs_exactly_once(
    settings: Settings, databases: Callable[[], Database], clock: Clock
) -> None:
    database = databases()
    for n in range(200):
        await database.write(schedule, kind="note", key=f"job-{n}", due_at=clock(), now=clock())
    workers = [
        Scheduler(database=databases(), handlers={"note": note}, clock=clock, batch_size=7)
        for _ in range(3)
    ]
    counts = await asyncio.gather(*(worker.run_due() for worker in workers))
    assert sum(counts) == 200 and sum(1 for c in counts if c) >= 2  # they shared the work
    assert await runs(settings) == sorted(f"job-{n}" for n in range(200))
