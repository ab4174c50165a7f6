"""The desk's search through the trigram indexes (any case, any alphabet, forgotten on
erasure) and the daily counts behind the stats, which stay the leads' own counts whatever
writes them."""

from __future__ import annotations

import asyncio
import re
import statistics
from datetime import UTC, date, datetime, timedelta

import pytest
from click.testing import CliRunner
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import selectinload

from service.cli import main
from service.leads import queries
from service.leads.pipeline import STATUSES
from service.leads.queries import (
    CountedBy,
    counts_by,
    median_first_change,
    per_day,
    status_counts,
)
from service.leads.timeline import EventKind
from service.models import Lead
from service.settings import Settings
from tests.factories import (
    complete_cast,
    insert_complete_leads,
    quote_form,
    stored_leads,
    submit_form,
    update_row,
)
from tests.signed_in import csrf_token

T0 = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)


def references(page: str) -> list[str]:
    return re.findall(r'<a href="/desk/leads/[0-9a-f-]{36}">(Q-[A-Z0-9]+)</a>', page)


async def found(desk: AsyncTestClient, q: str) -> list[str]:  # type: ignore[type-arg]
    page = await desk.get("/desk/leads", params={"q": q})
    assert page.status_code == 200
    return references(page.text)


# Whether SQLite fetches each match, or walks the list's index testing each lead (a needle
# matching more than COMMON leads): the same leads either way.
@pytest.mark.parametrize("common", [queries.COMMON, 0], ids=["few", "many"])
async def test_search_finds_a_substring_in_any_case_and_alphabet(
    desk: AsyncTestClient,  # type: ignore[type-arg]
    settings: Settings,
    common: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(queries, "COMMON", common)
    cast = await complete_cast(settings.database_url)
    muller, jose, other = await insert_complete_leads(
        settings.database_url,
        3,
        cast=cast,
        times=[T0, T0 + timedelta(hours=1), T0 + timedelta(hours=2)],
    )
    await update_row(
        settings.database_url, Lead, muller.id, full_name="Jürgen Müller", email="jm@b.example"
    )
    await update_row(
        settings.database_url, Lead, jose.id, full_name="José Álvarez", email="jose@c.example"
    )
    await update_row(
        settings.database_url, Lead, other.id, full_name="Ana Peeters", email="ana@d.example"
    )

    assert await found(desk, "müller") == [muller.reference]
    assert await found(desk, "MÜLLER") == [muller.reference]
    assert await found(desk, "ürgen mü") == [muller.reference]
    assert await found(desk, "josé") == [jose.reference]
    assert await found(desk, "ÁLVAR") == [jose.reference]
    assert await found(desk, "c.exam") == [jose.reference]  # in the email
    assert await found(desk, jose.reference[2:6].lower()) == [jose.reference]
    assert await found(desk, "example") == [other.reference, jose.reference, muller.reference]
    assert await found(desk, "ee") == [other.reference]  # too short for trigrams: a scan
    for nothing in ("zzzz", "Müllerin", '"Müller"', "Mü%ler", "M_ller", "ana OR jose", "*"):
        assert await found(desk, nothing) == [], nothing
    # With a filter too.
    day = {"date_from": "2026-10-01", "date_to": "2026-10-01"}
    page = await desk.get("/desk/leads", params={"q": "ller", **day})
    assert references(page.text) == [muller.reference]


async def test_an_erased_lead_is_no_longer_found_by_name_or_address(
    desk: AsyncTestClient,  # type: ignore[type-arg]
    settings: Settings,
) -> None:
    assert (
        await submit_form(desk, quote_form(full_name="Renée Müller", email="renee@m.example"))
    ).status_code == 303
    (lead,) = await stored_leads(settings.database_url)
    assert await found(desk, "renée") == [lead.reference]
    erased = await desk.post(
        f"/desk/leads/{lead.id}/erase",
        data={"reason": "Asked by phone"},
        headers={"x-csrf-token": csrf_token(desk)},
    )
    assert erased.status_code == 303
    assert await found(desk, "renée") == []
    assert await found(desk, "müller") == []
    assert await found(desk, "renee@m") == []
    assert await found(desk, "renee@m.example") == []
    assert await found(desk, lead.reference) == [lead.reference]  # the proof stays


async def _counted(url: str, since: date) -> tuple[object, ...]:
    engine = create_async_engine(url)
    async with AsyncSession(engine) as session:
        counted = (
            await status_counts(session=session),
            await counts_by(session=session, dimension=CountedBy.facilitator, since=since),
            await counts_by(session=session, dimension=CountedBy.country, since=since),
            await per_day(session=session, since=since),
            await median_first_change(session=session, since=since),
        )
    await engine.dispose()
    return counted


async def _from_the_leads(url: str, since: date) -> tuple[object, ...]:
    """What the counts must say, counted from the leads themselves."""
    engine = create_async_engine(url)
    async with AsyncSession(engine) as session:
        leads = list(await session.scalars(select(Lead).options(selectinload(Lead.events))))
    await engine.dispose()
    statuses = dict.fromkeys(STATUSES, 0)
    facilitators: dict[str, int] = {}
    countries: dict[str, int] = {}
    days: dict[date, int] = {}
    waits: list[float] = []
    for lead in leads:
        statuses[lead.status] += 1
        day = lead.created_at.astimezone(UTC).date()
        if day >= since:
            key = str(lead.facilitator_id or "")
            facilitators[key] = facilitators.get(key, 0) + 1
            countries[lead.country] = countries.get(lead.country, 0) + 1
            days[day] = days.get(day, 0) + 1
            changes = [e.created_at for e in lead.events if e.kind == EventKind.status_changed]
            if changes:
                waits.append((min(changes) - lead.created_at).total_seconds())
    median = timedelta(seconds=statistics.median(waits)) if waits else None
    return statuses, facilitators, countries, days, median


async def test_the_daily_counts_stay_exact(
    desk: AsyncTestClient,  # type: ignore[type-arg]
    settings: Settings,
) -> None:
    url = settings.database_url
    now = datetime.now(UTC)
    since = (now - timedelta(days=89)).date()

    async def exact() -> None:
        *counted, median = await _counted(url, since)
        *truth, exact_median = await _from_the_leads(url, since)
        assert counted == truth
        if exact_median is None:
            assert median is None
        else:
            assert isinstance(median, timedelta) and isinstance(exact_median, timedelta)
            assert abs(median - exact_median) <= max(exact_median * 0.01, timedelta(seconds=1))

    assert (await submit_form(desk, quote_form(country="DE"))).status_code == 303  # unrouted
    await exact()
    cast = await complete_cast(url)
    old, recent, today = await insert_complete_leads(
        url,
        3,
        cast=cast,
        times=[now - timedelta(days=500), now - timedelta(days=3), now],
        country="FR",
    )
    await exact()
    token = {"x-csrf-token": csrf_token(desk)}
    for lead, status in ((recent, "lost"), (today, "contacted")):
        moved = await desk.post(
            f"/desk/leads/{lead.id}/status", data={"status": status}, headers=token
        )
        assert moved.status_code == 303
    await exact()
    reassigned = await desk.post(
        f"/desk/leads/{today.id}/reassign",
        data={"facilitator_id": str(cast.first.id)},
        headers=token,
    )
    assert reassigned.status_code == 303
    await exact()
    erased = await desk.post(
        f"/desk/leads/{recent.id}/erase", data={"reason": "Asked by phone"}, headers=token
    )
    assert erased.status_code == 303
    await exact()
    purged = await asyncio.to_thread(
        CliRunner().invoke,
        main,
        ["purge", "--older-than", "1", "--unclosed-older-than", "30"],
        env={"QUOTE_DATABASE_URL": url, "QUOTE_ENV": "test"},
    )
    assert purged.exit_code == 0, purged.output
    assert purged.output.startswith("Erased 1 lead(s)") and old.reference in purged.output
    await exact()
    counts, *_, median = await _counted(url, since)
    assert isinstance(counts, dict) and sum(counts.values()) == 4
    assert median is not None  # the two leads moved today

    page = (await desk.get("/desk/stats")).text
    assert "Unrouted" in page


async def test_counts_of_no_leads_are_zero(settings: Settings) -> None:
    since = date(2026, 1, 1)
    statuses, facilitators, countries, days, median = await _counted(settings.database_url, since)
    assert statuses == dict.fromkeys(STATUSES, 0)
    assert facilitators == countries == days == {}
    assert median is None
