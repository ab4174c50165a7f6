"""A facilitator in a real Chromium, on a phone-sized screen, opens the personal link from the
email the SMTP server received and gives each answer once: contacted, a quote with a price
range, and "not for us" (the lead then goes to the next facilitator). No CSP violation."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from service.background import mail_worker
from service.db import Database
from service.settings import Settings
from tests.answering import link_in
from tests.conftest import blocking
from tests.factories import add_facilitators, quote_data
from tests.smtp import SmtpServer, mail_settings

pytestmark = pytest.mark.browser

BRUSSELS = {"name": "Brussels Stroke Care", "email": "quotes@brussels.example", "languages": ["nl"]}
ANTWERP = {"name": "Antwerp Rehab", "email": "team@antwerp.example", "languages": ["en", "fr"]}


@pytest.fixture
def settings(database_url: str, smtp: SmtpServer) -> Settings:
    return mail_settings(database_url, smtp)


async def _deliver(settings: Settings) -> None:
    database = Database(settings)
    try:
        await mail_worker(database=database, settings=settings).drain()
    finally:
        await database.dispose()


def _watch(page: Any) -> tuple[list[str], list[str]]:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    failed: list[str] = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    return errors, failed


def test_each_answer_through_the_emailed_link(  # type: ignore[no-untyped-def]
    page, live_url: str, settings: Settings, smtp: SmtpServer
) -> None:
    blocking(add_facilitators(settings.database_url, BRUSSELS, ANTWERP))
    references = []
    for _ in range(3):
        created = httpx.post(f"{live_url}/api/v1/quotes", json=quote_data(language="nl"))
        assert created.status_code == 201
        references.append(created.json()["reference"])
    blocking(_deliver(settings))
    links = {
        reference: link_in(
            next(m for m in smtp.inbox.to(BRUSSELS["email"]) if reference in m.message["Subject"])
        )
        for reference in references
    }
    errors, failed = _watch(page)
    contacted, quoted, declined = references

    page.goto(f"{live_url}{links[contacted]}")
    assert page.get_by_role("heading", level=1).inner_text() == f"Quote request {contacted}"
    page.get_by_role("button", name="I have contacted the patient").click()
    page.get_by_role("status").filter(
        has_text="Thank you: we have recorded that you have contacted the patient."
    ).wait_for()
    assert page.get_by_role("button", name="I have contacted the patient").count() == 0

    page.goto(f"{live_url}{links[quoted]}")
    page.get_by_label("Lowest price (optional)").fill("18 000")
    page.get_by_label("Highest price (optional)").fill("22 000")
    page.get_by_label("Currency").select_option("GBP")
    page.get_by_label("Note for the coordinators (optional)").fill("Three weeks, flights extra.")
    page.get_by_role("button", name="I have sent a quote").click()
    page.get_by_role("status").filter(
        has_text="we have recorded that you have sent a quote"
    ).wait_for()
    told = page.locator(".respond-answers").inner_text()
    assert "you have sent a quote (GBP 18,000–22,000)" in told
    assert "Three weeks, flights extra." in told

    page.goto(f"{live_url}{links[declined]}")
    page.get_by_label("Why is this request not for you?").select_option(
        label="No capacity at the moment"
    )
    page.get_by_label("Anything the coordinators should know (optional)").fill("Full until May")
    page.get_by_role("button", name="Not for us").click()
    page.get_by_role("status").filter(
        has_text="we have recorded that this request is not for you"
    ).wait_for()
    assert "it has been passed to another facilitator" in page.locator("main").inner_text()
    assert "Ana Peeters" not in page.content()

    blocking(_deliver(settings))
    (passed_on,) = smtp.inbox.to(ANTWERP["email"])
    assert declined in passed_on.message["Subject"]
    assert [url for url in failed if not url.endswith("/favicon.ico")] == []
    assert [e for e in errors if "404" not in e] == []
