"""Many patients at once: every simultaneous submit is stored, none fails on a locked database."""

from __future__ import annotations

import asyncio
import uuid

from litestar.testing import AsyncTestClient

from service.settings import Settings
from tests.factories import open_form, quote_form, stored_leads


async def test_fifty_simultaneous_submits_make_fifty_leads(
    client: AsyncTestClient, settings: Settings
) -> None:
    hidden = await open_form(client)

    async def submit(n: int) -> int:
        fields = {**hidden, "submission_id": uuid.uuid4().hex}
        form = quote_form(full_name=f"Patient {n:02d}", email=f"patient{n}@example.org")
        return (await client.post("/quote", data={**fields, **form})).status_code

    statuses = await asyncio.gather(*(submit(n) for n in range(50)))

    assert statuses == [303] * 50
    leads = await stored_leads(settings.database_url)
    assert sorted(lead.full_name for lead in leads) == [f"Patient {n:02d}" for n in range(50)]
    assert len({lead.reference for lead in leads}) == 50
    assert all(len(lead.consents) == 3 and len(lead.events) >= 1 for lead in leads)


async def test_same_submission_sent_concurrently_is_stored_once(
    client: AsyncTestClient, settings: Settings
) -> None:
    hidden = await open_form(client)
    responses = await asyncio.gather(
        *(client.post("/quote", data={**hidden, **quote_form()}) for _ in range(10))
    )
    assert {r.status_code for r in responses} == {303}
    assert len({r.headers["location"] for r in responses}) == 1
    assert len(await stored_leads(settings.database_url)) == 1
