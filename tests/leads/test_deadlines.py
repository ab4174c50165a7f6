"""The promise, kept by scheduled work: one reminder half-way to QUOTE_RESPONSE_HOURS, the lead
overdue at the deadline (the desk shows it, the operator gets one digest an hour at most), and
with QUOTE_REROUTE_OVERDUE=true the lead moves on as if the silent facilitator had declined.
Time is a clock the test moves; two workers, each with its own engine, run side by side and
nothing is sent twice."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.background import Background
from service.models import Lead, ScheduledJob
from service.settings import Settings
from tests.answering import MakeBackground, answer, link_in, shown_text
from tests.factories import add_facilitators, fetch_all, quote_data, stored_leads
from tests.signed_in import add_coordinator, sign_in
from tests.smtp import ALERT_EMAIL, Clock, Received, SmtpServer, mail_settings

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


async def side_by_side(*workers: Background) -> None:
    """The workers run their due work at the same time, then send what was queued."""
    await asyncio.gather(*(work.scheduler.run_due() for work in workers))
    for work in workers:
        await work.worker.drain()


async def submit(client: AsyncTestClient, **data: Any) -> str:  # type: ignore[type-arg]
    response = await client.post("/api/v1/quotes", json=quote_data(**data))
    assert response.status_code == 201
    return str(response.json()["reference"])


def subjects(smtp: SmtpServer, address: str, contains: str) -> list[Received]:
    return [m for m in smtp.inbox.to(address) if contains in m.message["Subject"]]


async def lead_by(settings: Settings, reference: str) -> Lead:
    (lead,) = [
        lead for lead in await stored_leads(settings.database_url) if lead.reference == reference
    ]
    return lead


async def test_one_reminder_then_overdue_and_one_digest_with_two_workers(
    client: AsyncTestClient,
    settings: Settings,
    smtp: SmtpServer,
    clock: Clock,
    make_background: MakeBackground,
) -> None:
    (brussels,) = await add_facilitators(settings.database_url, BRUSSELS)
    # Three patients: one patient asking three times would be a follow-up, twice over.
    first, second, third = [
        await submit(client, language="nl", email=email)
        for email in ("ana.peeters@example.org", "jan.jansen@example.org", "els.maes@example.org")
    ]
    one, two = make_background(), make_background()
    await side_by_side(one, two)
    assert len(subjects(smtp, brussels.email, "New quote request")) == 3

    clock.advance(hours=23, minutes=50)  # not yet half-way
    await side_by_side(one, two)
    assert subjects(smtp, brussels.email, "Reminder") == []

    clock.advance(minutes=20)  # half-way: one reminder per lead, whichever worker sends it
    await side_by_side(two, one)
    await side_by_side(one, two)
    reminders = subjects(smtp, brussels.email, "Reminder")
    assert sorted(r.message["Subject"].split("]")[0][1:] for r in reminders) == sorted(
        [first, second, third]
    )
    reminder = next(r for r in reminders if first in r.message["Subject"])
    words = " ".join(reminder.text.split())
    assert "The patient was promised an answer within 48 hours: by" in words
    assert "the coordinators are told the request is overdue." in words
    assert reminder.message["Reply-To"] == "Ana Peeters <ana.peeters@example.org>"

    # The first lead is answered from the reminder's link: its clock stops.
    assert (await answer(client, link_in(reminder), action="contacted")).status_code == 303

    clock.advance(hours=24)  # the deadline of the other two
    await side_by_side(one, two)
    clock.advance(hours=1)  # the next hour's digest, whichever worker runs it
    await side_by_side(two, one)
    clock.advance(hours=1)  # and nothing new the hour after
    await side_by_side(one, two)

    (digest,) = smtp.inbox.to(ALERT_EMAIL)
    assert digest.message["Subject"] == "[Quote Desk] 2 leads newly overdue"
    body = " ".join(digest.text.split())
    assert second in body and third in body and first not in body
    assert "Brussels Stroke Care, due" in body and "still waiting for an answer" in body
    assert "https://quotes.example.test/desk/leads?overdue=1" in body

    for reference, overdue in ((first, False), (second, True), (third, True)):
        lead = await lead_by(settings, reference)
        kinds = [e.kind for e in lead.events]
        assert kinds.count("reminded") == 1
        assert kinds.count("overdue") == int(overdue)
        assert (lead.overdue_since is not None) is overdue
    jobs = await fetch_all(settings.database_url, ScheduledJob)
    assert [j.key for j in jobs if j.status != "done"] == []
    assert len(subjects(smtp, brussels.email, "Reminder")) == 3  # still

    # The desk: the overdue filter, the badge with how late, and the lead's page.
    await add_coordinator(settings, "coco@example.org")
    assert (await sign_in(client, "coco@example.org")).status_code == 303
    listed = await client.get("/desk/leads?overdue=1")
    shown = re.findall(r">(Q-[A-Z0-9]{6})</a>", listed.text)
    assert sorted(shown) == sorted([second, third])
    assert "overdue by 2 h" in shown_text(listed.text)
    everything = shown_text((await client.get("/desk/leads")).text)
    assert everything.count("overdue by") == 2
    lead = await lead_by(settings, second)
    page = shown_text((await client.get(f"/desk/leads/{lead.id}")).text)
    assert "Time to first response none yet: overdue by 2 h" in page
    assert "Overdue: no answer from Brussels Stroke Care within 48 hours" in page
    answered = await lead_by(settings, first)
    page = shown_text((await client.get(f"/desk/leads/{answered.id}")).text)
    assert re.search(r"Time to first response 24 h \d+ min", page)
    assert "Brussels Stroke Care: contacted the patient" in page


async def test_an_answer_in_time_cancels_the_reminder_and_the_deadline(
    client: AsyncTestClient,
    settings: Settings,
    smtp: SmtpServer,
    clock: Clock,
    make_background: MakeBackground,
) -> None:
    (brussels,) = await add_facilitators(settings.database_url, BRUSSELS)
    reference = await submit(client)
    work = make_background()
    await side_by_side(work)
    (request,) = subjects(smtp, brussels.email, "New quote request")
    clock.advance(hours=2)
    assert (await answer(client, link_in(request), action="quoted")).status_code == 303
    for _ in range(4):
        clock.advance(hours=25)
        await side_by_side(work)
    assert subjects(smtp, brussels.email, "Reminder") == [] and smtp.inbox.to(ALERT_EMAIL) == []
    lead = await lead_by(settings, reference)
    assert lead.overdue_since is None
    assert not {"reminded", "overdue"} & {e.kind for e in lead.events}
    cancelled = [j for j in await fetch_all(settings.database_url, ScheduledJob) if j.last_error]
    assert sorted(j.key.split(":")[0] for j in cancelled) == ["deadline", "remind"]
    assert {j.last_error for j in cancelled} == {"cancelled"}


async def test_a_worker_that_was_down_catches_up_without_a_late_reminder(
    client: AsyncTestClient,
    settings: Settings,
    smtp: SmtpServer,
    clock: Clock,
    make_background: MakeBackground,
) -> None:
    (brussels,) = await add_facilitators(settings.database_url, BRUSSELS)
    reference = await submit(client)
    await side_by_side(make_background())
    clock.advance(days=3)  # every worker was down past the reminder and the deadline
    late = make_background()
    await side_by_side(late)
    clock.advance(hours=1)
    await side_by_side(late)
    assert subjects(smtp, brussels.email, "Reminder") == []
    (digest,) = smtp.inbox.to(ALERT_EMAIL)  # the deadline ran first, then this hour's digest
    assert f"{reference}: Brussels Stroke Care" in digest.text
    assert re.search(r"overdue by 24 h( \d+ min)?;", digest.text)
    lead = await lead_by(settings, reference)
    assert lead.overdue_since is not None


async def test_overdue_leads_move_on_when_asked_and_never_back(
    settings: Settings,
    smtp: SmtpServer,
    clock: Clock,
    make_background: MakeBackground,
) -> None:
    rerouting = mail_settings(settings.database_url, smtp, reroute_overdue=True)
    brussels, antwerp = await add_facilitators(settings.database_url, BRUSSELS, ANTWERP)
    async with AsyncTestClient(app=create_app(rerouting, clock=clock)) as client:
        client.follow_redirects = False
        reference = await submit(client, language="nl")
        one, two = make_background(rerouting), make_background(rerouting)
        await side_by_side(one, two)
        (request,) = subjects(smtp, brussels.email, "New quote request")
        old_link = link_in(request)

        clock.advance(hours=48, minutes=1)  # Brussels stayed silent: the lead moves on
        await side_by_side(two, one)
        (moved,) = subjects(smtp, antwerp.email, "New quote request")
        assert reference in moved.message["Subject"]
        old = await client.get(old_link)
        assert old.status_code == 410
        assert "after 48 hours without an answer" in shown_text(old.text)
        new_link = link_in(moved)
        assert (await client.get(new_link)).status_code == 200

        clock.advance(hours=1)
        await side_by_side(one, two)
        (digest,) = smtp.inbox.to(ALERT_EMAIL)
        assert "re-routed to Antwerp Rehab" in " ".join(digest.text.split())

        clock.advance(hours=23)  # Antwerp's reminder, half-way through its own 48 hours
        await side_by_side(one, two)
        clock.advance(hours=24)  # Antwerp is silent too: nobody is left, never Brussels again
        await side_by_side(one, two)
        clock.advance(hours=1)
        await side_by_side(two, one)
    assert len(subjects(smtp, brussels.email, "New quote request")) == 1
    assert len(subjects(smtp, antwerp.email, "Reminder")) == 1
    alerts = smtp.inbox.to(ALERT_EMAIL)
    assert [a.message["Subject"] for a in alerts] == [
        "[Quote Desk] 1 lead newly overdue",
        f"[Quote Desk] Lead {reference} has no facilitator",
        "[Quote Desk] 1 lead newly overdue",
    ]
    assert "it went to Brussels Stroke Care, Antwerp Rehab" in " ".join(alerts[1].text.split())
    assert len(smtp.inbox.to("ana.peeters@example.org")) == 1  # the confirmation, only
    lead = await lead_by(settings, reference)
    assert lead.facilitator_id is None and lead.overdue_since is None
    kinds = [e.kind for e in lead.events if e.kind in ("overdue", "rerouted", "unrouted")]
    assert kinds == ["overdue", "rerouted", "overdue", "unrouted"]


async def test_the_promise_is_the_setting_everywhere(
    settings: Settings, smtp: SmtpServer, clock: Clock, make_background: MakeBackground
) -> None:
    six = mail_settings(settings.database_url, smtp, response_hours=6)
    (brussels,) = await add_facilitators(settings.database_url, BRUSSELS)
    sentences = {
        "en": "within 6 hours",
        "fr": "dans les 6 heures",
        "nl": "binnen 6 uur",
        "de": "innerhalb von 6 Stunden",
    }
    async with AsyncTestClient(app=create_app(six, clock=clock)) as client:
        client.follow_redirects = False
        assert "We answer within 6 hours." in (await client.get("/")).text
        for language in sentences:
            reference = await submit(client, language=language, email=f"{language}@example.org")
            thanks = await client.get(f"/quote/thanks/{reference}")
            assert "contacts you within 6 hours" in thanks.text
        work = make_background(six)
        await side_by_side(work)
        for language, sentence in sentences.items():
            (confirmation,) = smtp.inbox.to(f"{language}@example.org")
            assert sentence in confirmation.text and sentence in confirmation.html
        for request in subjects(smtp, brussels.email, "New quote request"):
            assert "The patient expects to hear from you within 6 hours" in request.text
        clock.advance(hours=3, minutes=1)
        await side_by_side(work)
        assert len(subjects(smtp, brussels.email, "Reminder")) == 4
        clock.advance(hours=3)
        await side_by_side(work)
    overdue = [lead for lead in await stored_leads(settings.database_url) if lead.overdue_since]
    assert len(overdue) == 4


async def test_a_lead_declined_rerouted_reminded_and_answered_as_the_desk_prints_it(
    client: AsyncTestClient,
    settings: Settings,
    smtp: SmtpServer,
    clock: Clock,
    make_background: MakeBackground,
) -> None:
    """The README's closing example, line by line (the times aside)."""
    brussels, antwerp = await add_facilitators(settings.database_url, BRUSSELS, ANTWERP)
    reference = await submit(client, language="nl")
    work = make_background()
    await side_by_side(work)
    clock.advance(hours=1)
    (request,) = subjects(smtp, brussels.email, "New quote request")
    note = "Fully booked until March."
    await answer(client, link_in(request), action="declined", reason="no_capacity", note=note)
    await side_by_side(work)
    clock.advance(hours=24, minutes=1)
    await side_by_side(work)
    (reminder,) = subjects(smtp, antwerp.email, "Reminder")
    clock.advance(hours=3)
    await answer(client, link_in(reminder), action="contacted")
    clock.advance(hours=2)
    await answer(
        client,
        link_in(reminder),
        action="quoted",
        price_min="18000",
        price_max="22000",
        currency="EUR",
        note="Three weeks of intensive therapy; flights not included.",
    )
    await add_coordinator(settings, "coco@example.org")
    assert (await sign_in(client, "coco@example.org")).status_code == 303
    lead = await lead_by(settings, reference)
    page = (await client.get(f"/desk/leads/{lead.id}")).text
    timeline = page[page.index('<ol class="desk-timeline">') :]
    lines = [
        re.sub(
            r"^\d{4}-\d\d-\d\d \d\d:\d\d ",
            "",
            shown_text(re.sub(r"<details.*?</details>", "", item, flags=re.S)),
        )
        for item in re.findall(r"<li>(.*?)</li>", timeline[: timeline.index("</ol>")], re.S)
    ]
    assert lines == [
        "Antwerp Rehab Status changed from “contacted” to “quoted”",
        "Antwerp Rehab Sent a quote: EUR 18,000–22,000 (answered through the personal link) "
        "Three weeks of intensive therapy; flights not included.",
        "Antwerp Rehab Status changed from “new” to “contacted”",
        "Antwerp Rehab Contacted the patient (answered through the personal link)",
        "system Reminder sent to the facilitator (first attempt)",
        "system Reminder to Antwerp Rehab: no answer 24 hours after the request reached them",
        "system Request sent to the facilitator (first attempt)",
        "system Re-routed to Antwerp Rehab (Brussels Stroke Care declined); the request was "
        "emailed to them: nobody speaks Dutch, fewest recent leads for its capacity",
        "Brussels Stroke Care Declined: “No capacity at the moment” Fully booked until March.",
        "system Confirmation sent to the patient (first attempt)",
        "system Request sent to the facilitator (first attempt)",
        "system Routed to Brussels Stroke Care: speaks Dutch, fewest recent leads for its capacity",
        "system Request received through the API",
    ]
    assert len(smtp.inbox.to("ana.peeters@example.org")) == 1
