"""Helpers for tests where facilitators answer: the personal link taken from an email as the
SMTP server received it, an answer posted the way the page's form posts it, background work
(the mail worker and the scheduler) as a separate worker process would run it, and the lead's
timeline as the desk prints it."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from httpx import Response
from litestar.testing import AsyncTestClient

from service.background import Background, background
from service.db import Database
from service.settings import Settings
from tests.factories import hidden_inputs
from tests.smtp import Clock, Received

LINK = re.compile(r"https://quotes\.example\.test(/respond/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)")
STAFF = ("Brussels Stroke Care", "Antwerp Rehab", "Ghent Neuro Clinic")


def link_in(received: Received) -> str:
    """The path of the one personal link in an email, the same in its text and HTML parts."""
    in_text = set(LINK.findall(received.text))
    in_html = set(LINK.findall(html.unescape(received.html)))
    assert len(in_text) == 1, f"{len(in_text)} personal links in the text part"
    assert in_html == in_text, "the HTML part links elsewhere"
    return in_text.pop()


async def answer(client: AsyncTestClient, path: str, **form: str) -> Response:  # type: ignore[type-arg]
    """Open the page (a GET, as the facilitator does), then post one of its forms."""
    page = await client.get(path)
    token = hidden_inputs(page.text).get("_csrf_token") or str(client.cookies["quote_csrf"])
    return await client.post(path, data={"_csrf_token": token, **form})


def shown_text(page: str) -> str:
    """A page's main content as a person reads it: tags gone, whitespace collapsed."""
    main = page[page.find("<main") : page.find("</main>")] if "<main" in page else page
    text = re.sub(r"<[^>]+>", " ", main)
    return " ".join(html.unescape(text).split())


MakeBackground = Callable[..., Background]


@pytest.fixture
async def make_background(settings: Settings, clock: Clock) -> AsyncIterator[MakeBackground]:
    """Background work as separate worker processes run it, each with its own engine; tests
    call `.scheduler.run_due()` and `.worker.drain()` instead of starting their loops."""
    made: list[Database] = []

    def make(worker_settings: Settings | None = None, **_: Any) -> Background:
        database = Database(worker_settings or settings)
        made.append(database)
        return background(database=database, settings=worker_settings or settings, clock=clock)

    yield make
    for database in made:
        await database.dispose()


async def run(*workers: Background) -> None:
    """Each worker runs its due scheduled work, then sends what is queued, in turn."""
    for work in workers:
        await work.scheduler.run_due()
        await work.worker.drain()
    for work in workers:  # mail queued by a scheduled job of a later worker
        await work.worker.drain()
