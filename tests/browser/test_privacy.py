"""A patient on a phone exercises their rights alone: submits, opens the personal link from the
email that reached the mail server, downloads their data, stops news by email, and erases the
request. Then the database, the outbox, the mail server and the logs are checked."""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from click.testing import CliRunner

from service.cli import main
from service.content.documents import legal_texts
from service.leads.translations import PRIVACY
from service.settings import Settings
from tests.browser.test_quote_form import fill_quote
from tests.conftest import blocking
from tests.factories import add_facilitators, every_value, outbox_rows, stored_leads
from tests.smtp import Received, SmtpServer, mail_settings

pytestmark = pytest.mark.browser

PATIENT = "ana.peeters@example.org"
FACILITATOR = {"name": "Brussels Stroke Care", "email": "quotes@brussels-care.example"}
PERSONAL = ("Ana Peeters", "Peeters", "ana.peeters", "+32470123456", "Left side weakness")
NL = PRIVACY["nl"]
TEST_SIDE = {"mail.log", "httpx"}  # the test's own mail server and HTTP client


@pytest.fixture
def settings(database_url: str, smtp: SmtpServer) -> Settings:
    """The live app sends its mail itself, to the test's SMTP server."""
    return mail_settings(database_url, smtp, mailer_enabled=True, mail_poll_seconds=0.2)


def arrived(smtp: SmtpServer, count: int, within: float = 15.0) -> list[Received]:
    deadline = time.monotonic() + within
    while len(smtp.inbox.messages) < count:
        assert time.monotonic() < deadline, f"{len(smtp.inbox.messages)} of {count} emails"
        time.sleep(0.05)
    return smtp.inbox.messages


def eventually(check: Callable[[], bool], within: float = 15.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, "did not happen in time"
        time.sleep(0.1)


def test_a_patient_downloads_withdraws_and_erases_alone(  # type: ignore[no-untyped-def]
    page, live_url: str, settings: Settings, smtp: SmtpServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    blocking(add_facilitators(settings.database_url, FACILITATOR))

    page.goto(live_url + "/")
    privacy_link = page.locator("fieldset", has_text="Consent").get_by_role(
        "link", name="how we handle personal data"
    )
    assert privacy_link.get_attribute("href") == "/privacy"
    fill_quote(page)
    page.get_by_label("Medical situation", exact=False).fill("Left side weakness; cane.")
    page.get_by_label(legal_texts()["marketing"].label).check()
    page.get_by_role("button", name="Send my request").click()
    page.wait_for_url(re.compile(r"/quote/thanks/Q-[2-9A-Z]{6}$"))
    reference = page.url.rsplit("/", 1)[1]

    # The confirmation reached the mail server; its link is the patient's way in.
    confirmation = next(m for m in arrived(smtp, 2) if m.rcpt_tos == [PATIENT])
    found = re.search(r"https?://\S+?(/privacy/[\w-]+\.[\w-]+)", confirmation.text)
    assert found and found.group(0) in confirmation.html
    page.goto(live_url + found.group(1))
    assert page.get_by_role("heading", level=1).inner_text() == NL["page_title"].format(
        reference=reference
    )
    assert page.locator("html").get_attribute("lang") == "nl"
    assert "Left side weakness; cane." in page.locator("main").inner_text()

    with page.expect_download() as download:
        page.get_by_role("button", name=NL["download_button"]).click()
    data = json.loads(open(download.value.path(), encoding="utf-8").read())  # noqa: SIM115
    assert download.value.suggested_filename == f"quote-request-{reference}.json"
    assert data["fields"]["full_name"] == "Ana Peeters" and data["reference"] == reference
    assert {c["kind"] for c in data["consents"]} == {"disclaimer", "health_data", "marketing"}

    page.get_by_role("button", name=NL["marketing_button"]).click()
    page.wait_for_url(re.compile(r"\?done=marketing$"))
    assert NL["marketing_done"] in page.get_by_role("status").inner_text()
    assert page.get_by_role("button", name=NL["marketing_button"]).count() == 0

    # A fresh link asked for while the patient's mail server turns emails away for a while:
    # it waits in the outbox, unsent, when the request is erased.
    smtp.inbox.refuse = lambda address: "451 4.7.1 Try again later" if address == PATIENT else None
    personal_page = page.url
    page.goto(live_url + "/privacy/link?lang=nl")
    page.get_by_label(NL["new_link_label"]).fill(PATIENT)
    page.get_by_role("button", name=NL["new_link_button"]).click()
    assert NL["new_link_sent"] in page.get_by_role("status").inner_text()
    eventually(lambda: _status(settings, "privacy_link") == "retry")
    smtp.inbox.refuse = lambda address: None

    page.goto(personal_page)
    page.get_by_label(NL["erase_confirm"]).check()
    page.get_by_role("button", name=NL["erase_button"]).click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == NL["erased_title"]
    assert "Ana" not in page.locator("main").inner_text()

    # The mail server: the facilitator is asked to delete it; the patient hears it is done.
    messages = arrived(smtp, 4)
    withdrawal = next(m for m in messages[2:] if m.rcpt_tos == [FACILITATOR["email"]])
    last = next(m for m in messages[2:] if m.rcpt_tos == [PATIENT])
    assert withdrawal.message["Subject"] == f"[{reference}] Request withdrawn: please delete it"
    assert last.message["Subject"] == f"Uw aanvraag {reference} is gewist"
    for message in (withdrawal, last):
        assert not any(p in message.text or p in message.html for p in PERSONAL[:2])

    # The database: nothing personal left, the proof intact.
    eventually(lambda: _status(settings, "privacy_erased") == "sent")
    (lead,) = blocking(stored_leads(settings.database_url))
    assert lead.erased_at is not None and lead.reference == reference
    assert [(c.kind, c.granted) for c in sorted(lead.consents, key=lambda c: c.id)] == [
        ("disclaimer", True),
        ("health_data", True),
        ("marketing", True),
        ("marketing", False),
        ("health_data", False),
    ]
    # In a thread, as a shell runs a command: Playwright keeps an event loop in this one.
    with ThreadPoolExecutor(max_workers=1) as shell:
        verified = shell.submit(
            CliRunner().invoke,
            main,
            ["consent", "verify"],
            env={"QUOTE_DATABASE_URL": settings.database_url},
        ).result()
    assert verified.exit_code == 0 and "5 record(s)" in verified.output
    left = blocking(every_value(settings.database_url))
    for needle in PERSONAL:
        assert needle not in left, needle

    # The outbox: every body gone, the unsent link cancelled, the last two emails sent.
    rows = {row.kind: row for row in blocking(outbox_rows(settings.database_url))}
    assert {kind: row.status for kind, row in rows.items()} == {
        "facilitator_new_lead": "sent",
        "patient_confirmation": "sent",
        "privacy_link": "cancelled",
        "privacy_withdrawn": "sent",
        "privacy_erased": "sent",
    }
    for kind in ("facilitator_new_lead", "patient_confirmation", "privacy_link", "privacy_erased"):
        assert (rows[kind].subject, rows[kind].text, rows[kind].html) == ("[erased]",) * 3
    assert rows["privacy_erased"].recipient == "[erased]"

    # And nothing personal reached the logs, from the form to the last email.
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name not in TEST_SIDE)
    assert "email sent: outbox #" in logged  # the app's own log lines are in there
    for needle in PERSONAL:
        assert needle not in logged, needle


def _status(settings: Settings, kind: str) -> str | None:
    rows = [row for row in blocking(outbox_rows(settings.database_url)) if row.kind == kind]
    return rows[-1].status if rows else None
