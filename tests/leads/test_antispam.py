"""Bot signals on the quote form, through the app: a page's signed render time serves that
page's one submission, and a reused or forged one marks the lead as spam (stored, not mailed)."""

from __future__ import annotations

import uuid

from litestar.testing import AsyncTestClient

from service.settings import Settings
from tests.factories import open_form, outbox_rows, quote_form, stored_leads, submit_form


async def test_one_page_serves_one_submission(client: AsyncTestClient, settings: Settings) -> None:
    hidden = await open_form(client)
    assert (await submit_form(client, hidden=hidden)).status_code == 303
    # The same page's render time, under new submission ids: a bot reusing one page.
    for name in ("Bot One", "Bot Two", "Bot Three"):
        reused = {**hidden, "submission_id": uuid.uuid4().hex}
        response = await submit_form(client, quote_form(full_name=name), hidden=reused)
        assert response.status_code == 303  # never refused: a person could be mistaken

    first, *reuses = await stored_leads(settings.database_url)
    assert (first.full_name, first.status) == ("Ana Peeters", "new")
    assert [(lead.full_name, lead.status) for lead in reuses] == [
        ("Bot One", "spam"),
        ("Bot Two", "spam"),
        ("Bot Three", "spam"),
    ]
    assert {lead.events[0].data["spam"] for lead in reuses} == {"render time missing or forged"}
    assert {row.lead_id for row in await outbox_rows(settings.database_url)} <= {first.id}


async def test_a_render_time_without_its_submission_id_is_forged(
    client: AsyncTestClient, settings: Settings
) -> None:
    hidden = await open_form(client)
    del hidden["submission_id"]
    assert (await submit_form(client, hidden=hidden)).status_code == 303
    (lead,) = await stored_leads(settings.database_url)
    assert lead.status == "spam"


async def test_a_double_click_is_still_one_genuine_lead(
    client: AsyncTestClient, settings: Settings
) -> None:
    hidden = await open_form(client)
    first = await submit_form(client, hidden=hidden)
    again = await submit_form(client, hidden=hidden)
    assert first.headers["location"] == again.headers["location"]
    (lead,) = await stored_leads(settings.database_url)
    assert lead.status == "new"
