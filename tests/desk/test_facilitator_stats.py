"""The stats page tells coordinators how each facilitator answers: requests received, response
rate, median time to first response, quotes sent, declines by reason and overdue leads, as
SVG charts with the numbers in a table, from answers given through the real links."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.settings import Settings
from tests.answering import MakeBackground, answer, link_in, run, shown_text
from tests.factories import add_facilitators, quote_data
from tests.signed_in import add_coordinator, sign_in
from tests.smtp import Clock, SmtpServer, mail_settings

BRUSSELS = {"name": "Brussels Stroke Care", "email": "quotes@brussels.example", "languages": ["nl"]}
ANTWERP = {"name": "Antwerp Rehab", "email": "team@antwerp.example", "languages": ["en", "fr"]}


@pytest.fixture
def settings(database_url: str, smtp: SmtpServer) -> Settings:
    return mail_settings(database_url, smtp)


@pytest.fixture
async def client(settings: Settings, clock: Clock) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    async with AsyncTestClient(app=create_app(settings, clock=clock)) as client:
        client.follow_redirects = False
        yield client


def cells(page: str, name: str) -> list[str]:
    row = re.search(rf'<tr><th scope="row">{name}</th>(.*?)</tr>', page)
    assert row, f"no row for {name}"
    return re.findall(r"<td>([^<]*)</td>", row.group(1))


async def test_each_facilitators_answers_in_charts_and_a_table(
    client: AsyncTestClient,  # type: ignore[type-arg]
    settings: Settings,
    smtp: SmtpServer,
    clock: Clock,
    make_background: MakeBackground,
) -> None:
    brussels, antwerp = await add_facilitators(settings.database_url, BRUSSELS, ANTWERP)
    for _ in range(3):
        response = await client.post("/api/v1/quotes", json=quote_data(language="nl"))
        assert response.status_code == 201
    work = make_background()
    await run(work)
    first, second, _silent = [link_in(m) for m in smtp.inbox.to(brussels.email)]

    clock.advance(hours=2)
    await answer(client, first, action="contacted")
    clock.advance(hours=1)
    await answer(client, first, action="quoted", price_min="15000", currency="EUR")
    clock.advance(hours=1)
    await answer(client, second, action="declined", reason="no_capacity")
    await run(work)
    (passed_on,) = smtp.inbox.to(antwerp.email)
    clock.advance(hours=6)
    await answer(client, link_in(passed_on), action="quoted")
    clock.advance(hours=40)  # the third lead's deadline passes in silence
    await run(work)

    await add_coordinator(settings, "coco@example.org")
    assert (await sign_in(client, "coco@example.org")).status_code == 303
    page = (await client.get("/desk/stats")).text
    assert page.count("<svg") == 8 and "style=" not in page and "<script" not in page
    # received, answered, response rate, median first response, quotes,
    # declined (not offered, no capacity, not suitable, destination, other), overdue
    assert cells(page, "Brussels Stroke Care") == [
        "3", "2", "67 %", "3.0 h", "1", "0", "1", "0", "0", "0", "1"
    ]  # fmt: skip
    assert cells(page, "Antwerp Rehab") == [
        "1", "1", "100 %", "6.0 h", "1", "0", "0", "0", "0", "0", "0"
    ]  # fmt: skip
    for title in (
        "Requests received per facilitator",
        "Share of requests answered through the personal link, per facilitator, in percent",
        "Median hours from receiving a request to the first answer, per facilitator",
        "Declines by reason",
    ):
        assert f">{title}</title>" in page
    assert "<title>No capacity at the moment: 1</title>" in page
    assert "<title>Brussels Stroke Care: 67</title>" in page

    # The lead that was declined, then quoted: both waits on its page.
    (reference,) = re.findall(r"\[(Q-[A-Z0-9]{6})\]", passed_on.message["Subject"])
    found = (await client.get(f"/desk/leads?q={reference}")).text
    lead_url = re.search(r'href="(/desk/leads/[0-9a-f-]{36})"', found).group(1)  # type: ignore[union-attr]
    lead_page = shown_text((await client.get(lead_url)).text)
    assert "Time to first response 4 h (Brussels Stroke Care: declined," in lead_page
    assert "Patient contacted after 10 h (Antwerp Rehab," in lead_page
    assert "Declined: “No capacity at the moment”" in lead_page
