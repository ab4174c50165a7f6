"""The work a process does besides answering requests: the mail worker and the scheduler,
wired to what the leads record about their emails and to the lead's scheduled jobs. The web app
runs both in-process (unless QUOTE_MAILER_ENABLED=false); `quote-desk worker` runs them alone."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from service.clock import Clock, utc_now
from service.db import Database
from service.leads import responses
from service.leads.notifications import LeadMailEvents
from service.leads.retention import daily_job as retention_job
from service.mail.worker import Worker
from service.schedule import Handler, Recurring, Scheduler
from service.settings import Settings


def lead_jobs(settings: Settings) -> tuple[dict[str, Handler], list[Recurring]]:
    """The scheduled work of the lead's life, by kind, and what recurs: the facilitator's
    reminder and deadline, the operator's hourly digest of overdue leads, and (with
    QUOTE_RETENTION_DAYS) the daily retention run."""
    handlers: dict[str, Handler] = {}
    recurring: list[Recurring] = []
    parts = [responses.jobs(settings)]
    if retention := retention_job(settings):
        handler, every = retention
        parts.append(({every.kind: handler}, [every]))
    for part_handlers, part_recurring in parts:
        handlers |= part_handlers
        recurring += part_recurring
    return handlers, recurring


def mail_worker(*, database: Database, settings: Settings, **options: Any) -> Worker:
    """The mail worker, with each email's fate written on its lead's timeline."""
    return Worker(database=database, settings=settings, events=LeadMailEvents(settings), **options)


@dataclass
class Background:
    worker: Worker
    scheduler: Scheduler

    def start(self) -> None:
        self.worker.start()
        self.scheduler.start()

    async def stop(self) -> None:
        await self.scheduler.stop()
        await self.worker.stop()


def background(*, database: Database, settings: Settings, clock: Clock = utc_now) -> Background:
    handlers, recurring = lead_jobs(settings)
    return Background(
        worker=mail_worker(database=database, settings=settings, clock=clock),
        scheduler=Scheduler(
            database=database,
            handlers=handlers,
            recurring=recurring,
            clock=clock,
            poll_seconds=settings.schedule_poll_seconds,
        ),
    )
