"""Retention: `quote-desk purge` erases old leads the patient's way (and says which, or only
would with --dry-run), once; the daily job does the same by itself, on a frozen clock."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner, Result
from litestar.testing import AsyncTestClient
from sqlalchemy import update
from sqlalchemy.ext.asyncio import create_async_engine

from service.app import create_app
from service.background import lead_jobs
from service.cli import main
from service.db import Database
from service.leads import retention
from service.models import Lead
from service.schedule import Recurring, Scheduler
from service.settings import Settings
from tests.factories import add_facilitators, fetch_all, outbox_rows, quote_form, stored_leads
from tests.factories import submit_form as post_form
from tests.smtp import MakeWorker, SmtpServer, mail_settings


@pytest.fixture
def settings(database_url: str, smtp: SmtpServer) -> Settings:
    return mail_settings(database_url, smtp)


class Frozen:
    """A clock that stands still until the test moves it."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def lead_at(settings: Settings, when: datetime, name: str) -> uuid.UUID:
    """A complete lead (consents, routing, emails) as submitted at `when`."""
    async with AsyncTestClient(app=create_app(settings, clock=Frozen(when))) as client:
        client.follow_redirects = False
        form = quote_form(full_name=name, email=f"{name.split()[0].lower()}@example.org")
        assert (await post_form(client, form)).status_code == 303
    leads = await stored_leads(settings.database_url)
    return next(lead.id for lead in leads if lead.full_name == name)


async def set_status(settings: Settings, lead_id: uuid.UUID, status: str, at: datetime) -> None:
    engine = create_async_engine(settings.database_url)
    async with engine.begin() as conn:
        await conn.execute(
            update(Lead).where(Lead.id == lead_id).values(status=status, updated_at=at)
        )
    await engine.dispose()


async def purge(settings: Settings, *args: str) -> Result:
    env = {"QUOTE_DATABASE_URL": settings.database_url, "QUOTE_ENV": "test"}
    return await asyncio.to_thread(CliRunner().invoke, main, ["purge", *args], env=env)


async def by_name(settings: Settings) -> dict[str, Lead]:
    leads = await stored_leads(settings.database_url)
    return {lead.reference: lead for lead in leads}


async def test_purge_erases_closed_and_old_open_leads_once(
    settings: Settings, smtp: SmtpServer, make_worker: MakeWorker
) -> None:
    await add_facilitators(settings.database_url, {"name": "Gent Care", "email": "c@gent.example"})
    now = datetime.now(UTC)
    lost = await lead_at(settings, now - timedelta(days=60), "Lost Long-Ago")
    won = await lead_at(settings, now - timedelta(days=60), "Won Lately")
    stale = await lead_at(settings, now - timedelta(days=400), "Open Forever")
    recent = await lead_at(settings, now - timedelta(days=100), "Open Recent")
    await set_status(settings, lost, "lost", now - timedelta(days=40))
    await set_status(settings, won, "won", now - timedelta(days=10))
    await make_worker().drain()  # every facilitator has their request
    sent = len(smtp.inbox.messages)
    refs = {lead.id: lead.reference for lead in await stored_leads(settings.database_url)}

    dry = await purge(settings, "--older-than", "30", "--dry-run")
    assert dry.exit_code == 0, dry.output
    assert dry.output.splitlines() == [
        "Would erase 2 lead(s) (dry run: nothing was changed):",
        f"{refs[stale]}  received {(now - timedelta(days=400)):%Y-%m-%d}  "
        "still open (new) and received more than 365 days ago",
        f"{refs[lost]}  received {(now - timedelta(days=60)):%Y-%m-%d}  "
        "closed (lost) and unchanged for more than 30 days",
    ]
    assert all(lead.erased_at is None for lead in await stored_leads(settings.database_url))

    done = await purge(settings, "--older-than", "30")
    assert done.exit_code == 0, done.output
    assert done.output.splitlines()[0] == "Erased 2 lead(s):"
    leads = {lead.id: lead for lead in await stored_leads(settings.database_url)}
    assert {i for i, lead in leads.items() if lead.erased_at} == {stale, lost}
    assert leads[lost].full_name == "[erased]" and leads[won].full_name == "Won Lately"
    erased = next(e for e in leads[lost].events if e.kind == "erased")
    assert erased.actor is None and erased.data["by"] == "retention"
    assert erased.data["reason"] == "closed (lost) and unchanged for more than 30 days"
    # Retention withdraws nothing: no new consent record, and no email to the patient.
    assert len(leads[lost].consents) == 3
    assert all(c.ip is None for c in leads[lost].consents)
    kinds = [row.kind for row in await outbox_rows(settings.database_url)]
    assert "privacy_erased" not in kinds and kinds.count("privacy_withdrawn") == 2
    await make_worker().drain()
    notices = smtp.inbox.messages[sent:]
    assert sorted(m.message["Subject"] for m in notices) == sorted(
        f"[{refs[i]}] Request withdrawn: please delete it" for i in (stale, lost)
    )
    assert all("end of its retention" in m.text for m in notices)

    again = await purge(settings, "--older-than", "30")
    assert again.exit_code == 0
    assert again.output.startswith("Nothing to erase: no closed lead unchanged for more than 30")
    wider = await purge(settings, "--older-than", "30", "--unclosed-older-than", "90")
    assert wider.output.splitlines()[0] == "Erased 1 lead(s):" and refs[recent] in wider.output

    verify = await asyncio.to_thread(
        CliRunner().invoke,
        main,
        ["consent", "verify"],
        env={"QUOTE_DATABASE_URL": settings.database_url},
    )
    assert verify.exit_code == 0 and "12 record(s)" in verify.output


async def test_purge_refuses_nonsense_limits(settings: Settings) -> None:
    for args in (["--older-than", "0"], ["--older-than", "x"], [], ["--older-than", "9" * 30]):
        result = await purge(settings, *args)
        assert result.exit_code == 2, args


def scheduler(settings: Settings, clock: Frozen) -> Scheduler:
    """The scheduler with the retention job alone (the other recurring work would be counted
    too); the worker gets it from `lead_jobs`, as the test checks."""
    daily = retention.daily_job(settings)
    assert daily is not None
    handler, every = daily
    database = Database(settings)
    return Scheduler(
        database=database, handlers={every.kind: handler}, recurring=[every], clock=clock
    )


async def test_the_daily_job_erases_on_the_day_it_is_due(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Off unless QUOTE_RETENTION_DAYS is set; then the worker runs it once a day.
    assert retention.RETENTION_JOB not in lead_jobs(settings)[0]
    daily = settings.model_copy(update={"retention_days": 30})
    handlers, recurring = lead_jobs(daily)
    assert retention.RETENTION_JOB in handlers
    assert Recurring(kind=retention.RETENTION_JOB, every=timedelta(days=1)) in recurring
    start = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    ids = [await lead_at(daily, start, f"Patient {n} Closed") for n in range(5)]
    for lead_id in ids:
        await set_status(daily, lead_id, "spam", start)
    clock = Frozen(start + timedelta(days=29, hours=23))  # 31 March, 08:00: due at 09:00
    work = scheduler(daily, clock)
    monkeypatch.setattr(retention, "BATCH", 2)  # several runs, each in its own write
    try:
        assert await work.run_due() == 1  # the day's run: nothing due yet
        clock.now += timedelta(hours=4)
        assert await work.run_due() == 0  # due now, but today's run is done
        assert not any(lead.erased_at for lead in await stored_leads(daily.database_url))

        clock.now = datetime(2026, 4, 1, 0, 5, tzinfo=UTC)
        runs = [await work.run_due() for _ in range(4)]
        assert runs == [1, 1, 1, 0]  # 2 + 2 + 1 erased, then nothing more today
        leads = await stored_leads(daily.database_url)
        assert all(lead.erased_at == clock.now for lead in leads)
        events = [e for lead in leads for e in lead.events if e.kind == "erased"]
        assert [e.data["reason"] for e in events] == [
            "closed (spam) and unchanged for more than 30 days"
        ] * 5
        clock.now += timedelta(days=1)
        assert await work.run_due() == 1  # the next day's run, with nothing left to do
    finally:
        await work.database.dispose()
    jobs = await fetch_all(daily.database_url, retention.ScheduledJob)
    assert sorted(j.key.split(":")[1] for j in jobs) == [
        "2026-03-31T00",
        "2026-04-01T00",
        "2026-04-02T00",
        "more",
        "more",
    ]
