"""The one submit path's rules for a patient who asks again, the same for the form and the API:
a cap on confirmations per address and day, and follow-ups that stay with the facilitator who
has the first request. As a real SMTP server and the desk show them."""

from __future__ import annotations

import asyncio
import html
import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from service.app import create_app
from service.db import Database
from service.leads.schemas import QuoteRequest
from service.leads.submit import Client, prepare_rows, store_lead
from service.models import Lead
from service.settings import Settings
from tests.factories import (
    add_facilitators,
    outbox_rows,
    quote_data,
    quote_form,
    stored_leads,
    submit_form,
)
from tests.smtp import Clock, MakeWorker, SmtpServer, mail_settings

PATIENT = "ana.peeters@example.org"
FIRST = {"name": "Brussels Stroke Care", "email": "quotes@brussels-care.example"}
SECOND = {"name": "Ghent Rehab", "email": "hello@ghent-rehab.example"}


@pytest.fixture
def settings(database_url: str, smtp: SmtpServer) -> Settings:
    return mail_settings(database_url, smtp)


@pytest.fixture
async def patient(settings: Settings, clock: Clock) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    """A patient's browser, on the app with the test's clock."""
    async with AsyncTestClient(app=create_app(settings, clock=clock)) as client:
        client.follow_redirects = False
        yield client


async def submit_api(client: AsyncTestClient, **overrides: object) -> None:  # type: ignore[type-arg]
    response = await client.post("/api/v1/quotes", json=quote_data(**overrides))
    assert response.status_code == 201, response.text


def by_reference(leads: list[Lead]) -> dict[str, Lead]:
    return {lead.reference: lead for lead in leads}


# The cap on confirmations


async def test_an_address_gets_three_confirmations_a_day_and_the_facilitator_every_request(
    patient: AsyncTestClient,  # type: ignore[type-arg]
    admin: AsyncTestClient,  # type: ignore[type-arg]
    settings: Settings,
    smtp: SmtpServer,
    make_worker: MakeWorker,
    clock: Clock,
) -> None:
    (facilitator,) = await add_facilitators(settings.database_url, FIRST)
    # Five different requests (no follow-ups), through both doors, the address in any case.
    await submit_api(patient, treatment="Stem cells 1")
    assert (await submit_form(patient, quote_form(treatment="Stem cells 2"))).status_code == 303
    await submit_api(patient, treatment="Stem cells 3", email="Ana.Peeters@example.org")
    await submit_api(patient, treatment="Stem cells 4")
    assert (await submit_form(patient, quote_form(treatment="Stem cells 5"))).status_code == 303
    await make_worker().drain()

    assert len(smtp.inbox.to(facilitator.email)) == 5
    confirmed = [m for m in smtp.inbox.messages if m.rcpt_tos[0].lower() == PATIENT]
    assert len(confirmed) == 3

    leads = await stored_leads(settings.database_url)
    withheld = [lead for lead in leads if "confirmation_withheld" in [e.kind for e in lead.events]]
    assert [lead.treatment for lead in withheld] == ["Stem cells 4", "Stem cells 5"]
    # The desk says why, on the lead.
    page = html.unescape((await admin.get(f"/desk/leads/{withheld[0].id}")).text)
    assert (
        "No confirmation was sent to the patient: this address already received 3 "
        "confirmations in the last 24 hours" in page
    )

    # A day later the address is confirmed again.
    clock.advance(hours=24, minutes=1)
    await submit_api(patient, treatment="Stem cells 6")
    await make_worker(clock=clock).drain()
    confirmed = [m for m in smtp.inbox.messages if m.rcpt_tos[0].lower() == PATIENT]
    assert len(confirmed) == 4


async def test_the_cap_holds_for_two_requests_at_the_same_moment(
    settings: Settings,
    patient: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    """Another instance's request for the same address is being stored, not yet committed:
    this one waits for it, then counts its confirmation."""
    await add_facilitators(settings.database_url, FIRST)
    await submit_api(patient, treatment="Stem cells 1")
    await submit_api(patient, treatment="Stem cells 2")

    now = datetime.now(UTC)

    def rows(treatment: str) -> Any:
        quote = QuoteRequest.model_validate(quote_data(treatment=treatment))
        client = Client(ip="192.0.2.1", user_agent=None, source="api")
        return prepare_rows(quote, uuid.uuid4().hex, client, now, None)

    engine = create_async_engine(settings.database_url)
    database = Database(settings)
    try:
        async with AsyncSession(engine) as other_instance:
            await other_instance.run_sync(
                lambda session: store_lead(
                    session, rows=rows("Stem cells 3"), settings=settings, now=now, route=True
                )
            )
            this_one = asyncio.create_task(
                database.write(
                    store_lead, rows=rows("Stem cells 4"), settings=settings, now=now, route=True
                )
            )
            await asyncio.wait({this_one}, timeout=2)  # (without waiting, it is done by now)
            await other_instance.commit()
        await this_one
    finally:
        await database.dispose()
        await engine.dispose()

    kinds = [row.kind for row in await outbox_rows(settings.database_url)]
    assert kinds.count("patient_confirmation") == 3
    leads = {lead.treatment: lead for lead in await stored_leads(settings.database_url)}
    assert [e.kind for e in leads["Stem cells 4"].events][-1] == "confirmation_withheld"


async def test_the_cap_is_a_setting(database_url: str, smtp: SmtpServer, clock: Clock) -> None:
    settings = mail_settings(database_url, smtp, confirmations_per_address_per_day=1)
    async with AsyncTestClient(app=create_app(settings, clock=clock)) as client:
        await submit_api(client, treatment="Stem cells 1")
        await submit_api(client, treatment="Stem cells 2")
    kinds = [row.kind for row in await outbox_rows(database_url)]
    assert kinds.count("patient_confirmation") == 1


# Follow-ups


async def test_asking_again_for_the_same_treatment_is_a_follow_up_to_the_same_facilitator(
    patient: AsyncTestClient,  # type: ignore[type-arg]
    admin: AsyncTestClient,  # type: ignore[type-arg]
    settings: Settings,
    smtp: SmtpServer,
    make_worker: MakeWorker,
    clock: Clock,
) -> None:
    first_facilitator, second_facilitator = await add_facilitators(
        settings.database_url, FIRST, SECOND
    )
    await submit_api(patient)
    (first,) = await stored_leads(settings.database_url)
    has_it = (
        first_facilitator if first.facilitator_id == first_facilitator.id else second_facilitator
    )
    other = second_facilitator if has_it is first_facilitator else first_facilitator

    # Again, an hour later, through the form, the address and treatment typed differently:
    # the other facilitator has fewer leads now, but the follow-up stays with the first one.
    clock.advance(hours=1)
    form = quote_form(
        email="Ana.Peeters@example.org",
        treatment="stem cell therapy for stroke rehabilitation ",
        medical_summary="I forgot: I also had a second, smaller stroke in 2024.",
    )
    assert (await submit_form(patient, form)).status_code == 303
    # And once more: still a follow-up of the first request, not of the second.
    clock.advance(hours=2)
    await submit_api(patient)
    await make_worker(clock=clock).drain()

    first, second, third = await stored_leads(settings.database_url)
    for follow_up in (second, third):
        assert follow_up.follow_up_of == first.id
        assert follow_up.facilitator_id == has_it.id
    assert smtp.inbox.to(other.email) == []
    subjects = [m.message["Subject"] for m in smtp.inbox.to(has_it.email)]
    assert len(subjects) == 3
    assert "follow-up" not in subjects[0].lower()
    for subject, lead in zip(subjects[1:], (second, third), strict=True):
        assert subject.startswith(f"[{lead.reference}] Follow-up to {first.reference}")
    body = smtp.inbox.to(has_it.email)[1].text
    assert f"follows up request {first.reference}" in body
    assert "a second, smaller stroke" in body

    # The desk: the list marks follow-ups, each follow-up links to the first request, and the
    # first request lists its follow-ups.
    listed = (await admin.get("/desk/leads")).text
    assert len(re.findall(rf"Follow-up of <a href=\"/desk/leads/{first.id}\">", listed)) == 2
    page = html.unescape((await admin.get(f"/desk/leads/{second.id}")).text)
    assert f'Follow-up of <a href="/desk/leads/{first.id}">{first.reference}</a>' in page
    assert "a follow-up of " + first.reference in page  # the routing line on the timeline
    page = html.unescape((await admin.get(f"/desk/leads/{first.id}")).text)
    for follow_up in (second, third):
        assert f'<a href="/desk/leads/{follow_up.id}">{follow_up.reference}</a>' in page
        assert f"Follow-up received: {follow_up.reference}" in page


async def test_not_a_follow_up_another_treatment_a_day_later_or_after_spam(
    patient: AsyncTestClient,  # type: ignore[type-arg]
    settings: Settings,
    clock: Clock,
) -> None:
    await add_facilitators(settings.database_url, FIRST)
    await submit_api(patient, website="http://spam.example")  # spam: never a first request
    await submit_api(patient)
    await submit_api(patient, treatment="Physiotherapy")
    clock.advance(hours=24, minutes=1)
    await submit_api(patient)
    leads = await stored_leads(settings.database_url)
    assert [(lead.status, lead.follow_up_of) for lead in leads] == [
        ("spam", None),
        ("new", None),
        ("new", None),
        ("new", None),
    ]


async def test_a_follow_up_of_a_request_whose_facilitator_left_is_routed_again(
    patient: AsyncTestClient,  # type: ignore[type-arg]
    admin: AsyncTestClient,  # type: ignore[type-arg]
    settings: Settings,
) -> None:
    (facilitator,) = await add_facilitators(settings.database_url, FIRST)
    await submit_api(patient)
    token = {"x-csrf-token": admin.cookies["quote_csrf"]}
    disabled = await admin.post(
        f"/desk/facilitators/{facilitator.id}/active", headers=token, data={"active": "0"}
    )
    assert disabled.status_code == 303
    (replacement,) = await add_facilitators(settings.database_url, SECOND)
    await submit_api(patient)
    first, second = await stored_leads(settings.database_url)
    assert second.follow_up_of == first.id
    assert second.facilitator_id == replacement.id
