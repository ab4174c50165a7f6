"""A facilitator answers through the personal link in their email (contacted, quoted, not for
us) and the lead follows: the pipeline moves, a decline re-routes it with the same fair rules
leaving out everyone who passed, the link of a lead that moved on says so, and no input makes
the answer page fail. Everything goes through HTTP, the real SMTP sink and the mail worker."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.db import Database
from service.leads.assignments import read_link, respond_token
from service.leads.responses import TurnState, find_turn
from service.models import Lead, LeadAssignment, LeadEvent, LeadResponse, OutboxMessage
from service.settings import Settings
from service.signing import sign
from tests.answering import answer, link_in, shown_text
from tests.factories import add_facilitators, fetch_all, hidden_inputs, quote_data, stored_leads
from tests.signed_in import add_coordinator, csrf_token, sign_in
from tests.smtp import ALERT_EMAIL, Clock, MakeWorker, SmtpServer, mail_settings

BRUSSELS = {"name": "Brussels Stroke Care", "email": "quotes@brussels.example", "languages": ["nl"]}
# Empty languages mean "any": these two speak English and French only, so a Dutch-speaking
# patient goes to Brussels first.
ANTWERP = {"name": "Antwerp Rehab", "email": "team@antwerp.example", "languages": ["en", "fr"]}
GHENT = {"name": "Ghent Neuro Clinic", "email": "info@ghent.example", "languages": ["en", "fr"]}
PATIENT = "ana.peeters@example.org"


@pytest.fixture
def settings(database_url: str, smtp: SmtpServer) -> Settings:
    return mail_settings(database_url, smtp)


@pytest.fixture
async def client(settings: Settings, clock: Clock) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    async with AsyncTestClient(app=create_app(settings, clock=clock)) as client:
        client.follow_redirects = False
        yield client


async def new_lead(client: AsyncTestClient, make_worker: MakeWorker, **data: Any) -> Lead:  # type: ignore[type-arg]
    response = await client.post("/api/v1/quotes", json=quote_data(**data))
    assert response.status_code == 201
    await make_worker().drain()
    (lead,) = [
        lead
        for lead in await stored_leads(client.app.state.settings.database_url)
        if str(lead.id) == response.json()["id"]
    ]
    return lead


def requests_to(smtp: SmtpServer, address: str) -> list[Any]:
    return [m for m in smtp.inbox.to(address) if "New quote request" in m.message["Subject"]]


async def rows(settings: Settings) -> dict[str, int]:
    """How many rows of everything an answer could write."""
    counted = {}
    for model in (LeadResponse, LeadEvent, LeadAssignment, OutboxMessage):
        counted[model.__tablename__] = len(await fetch_all(settings.database_url, model))
    (lead,) = await fetch_all(settings.database_url, Lead)
    counted[f"status={lead.status} facilitator={lead.facilitator_id}"] = 1
    return counted


async def test_each_answer_from_the_emailed_link_moves_the_lead(
    client: AsyncTestClient, settings: Settings, smtp: SmtpServer, make_worker: MakeWorker
) -> None:
    (brussels,) = await add_facilitators(settings.database_url, BRUSSELS)
    lead = await new_lead(client, make_worker)
    (request,) = requests_to(smtp, brussels.email)
    path = link_in(request)
    words = " ".join(request.text.split())
    assert (
        "tell us with one click (no account needed; the link is yours and works for 30 days)"
        in (words)
    )

    # The page shows the request as the email does, and the three answers.
    page = await client.get(path)
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert "noindex" in page.headers["x-robots-tag"]
    text = shown_text(page.text)
    for value in (
        f"Quote request {lead.reference}",
        "For Brussels Stroke Care",
        "Ana Peeters",
        PATIENT,
        "+32470123456",
        "Left side weakness since the stroke; walking with a cane.",
        "Spring 2027",
        "promised an answer within 48 hours",
    ):
        assert value in text, value
    for button in ("I have contacted the patient", "I have sent a quote", "Not for us"):
        assert button in text

    contacted = await answer(client, path, action="contacted")
    assert contacted.status_code == 303
    page = await client.get(contacted.headers["location"])
    text = shown_text(page.text)
    assert "Thank you: we have recorded that you have contacted the patient." in text
    assert "I have contacted the patient" not in text and "Not for us" not in text
    assert "I have sent a quote" in text  # what is left to say

    quoted = await answer(
        client,
        path,
        action="quoted",
        price_min="18 000",
        price_max="22,000",
        currency="EUR",
        note="Three weeks of intensive therapy,\nflights not included.",
    )
    page = await client.get(quoted.headers["location"])
    text = shown_text(page.text)
    assert "we have recorded that you have sent a quote" in text
    assert "you have sent a quote (EUR 18,000–22,000)" in text
    assert "You have told us everything we need about this request." in text

    (stored,) = await stored_leads(settings.database_url)
    assert stored.status == "quoted"
    assert stored.responded_at is not None and stored.overdue_since is None
    lines = [(e.kind, e.actor, e.data.get("action"), e.data.get("to")) for e in stored.events]
    assert lines[-4:] == [
        ("responded", "Brussels Stroke Care", "contacted", None),
        ("status_changed", "Brussels Stroke Care", None, "contacted"),
        ("responded", "Brussels Stroke Care", "quoted", None),
        ("status_changed", "Brussels Stroke Care", None, "quoted"),
    ]
    (quote_row,) = [
        r for r in await fetch_all(settings.database_url, LeadResponse) if r.action == "quoted"
    ]
    assert (quote_row.price_min, quote_row.price_max, quote_row.currency) == (18000, 22000, "EUR")
    assert quote_row.note == "Three weeks of intensive therapy,\nflights not included."
    # The patient heard from the facilitator, not from us again.
    assert len(smtp.inbox.to(PATIENT)) == 1


async def test_a_quote_straight_away_walks_the_pipeline_through_contacted(
    client: AsyncTestClient, settings: Settings, smtp: SmtpServer, make_worker: MakeWorker
) -> None:
    (brussels,) = await add_facilitators(settings.database_url, BRUSSELS)
    await new_lead(client, make_worker)
    path = link_in(requests_to(smtp, brussels.email)[0])
    assert (await answer(client, path, action="quoted")).status_code == 303
    (stored,) = await stored_leads(settings.database_url)
    moves = [(e.data["from"], e.data["to"]) for e in stored.events if e.kind == "status_changed"]
    assert stored.status == "quoted" and moves == [("new", "contacted"), ("contacted", "quoted")]
    # A quote says they were in touch: "contacted" afterwards finds the quote.
    late = await answer(client, path, action="contacted")
    assert late.headers["location"].endswith("?already=quoted")
    assert len(await fetch_all(settings.database_url, LeadResponse)) == 1


async def test_a_second_click_says_what_was_already_recorded(
    client: AsyncTestClient, settings: Settings, smtp: SmtpServer, make_worker: MakeWorker
) -> None:
    (brussels,) = await add_facilitators(settings.database_url, BRUSSELS)
    await new_lead(client, make_worker)
    path = link_in(requests_to(smtp, brussels.email)[0])
    first = await answer(client, path, action="contacted")
    before = await rows(settings)
    again = await answer(client, path, action="contacted")
    assert again.status_code == 303 and again.headers["location"].endswith("?already=contacted")
    page = await client.get(again.headers["location"])
    assert "This was already recorded: that you have contacted the patient." in page.text
    assert await rows(settings) == before

    # Having contacted the patient, the lead is theirs: "not for us" is refused, nothing changes.
    refused = await answer(client, path, action="declined", reason="no_capacity")
    assert refused.status_code == 409
    assert "You told us you have already contacted the patient." in shown_text(refused.text)
    assert await rows(settings) == before
    assert first.headers["location"].endswith("?recorded=contacted")

    # A quote after contact is news; the same quote twice is not.
    assert (
        (await answer(client, path, action="quoted"))
        .headers["location"]
        .endswith("?recorded=quoted")
    )
    after_quote = await rows(settings)
    late = await answer(client, path, action="quoted", price_min="5", currency="EUR")
    assert late.headers["location"].endswith("?already=quoted")
    assert await rows(settings) == after_quote


async def test_answers_sent_at_once_are_recorded_once(
    client: AsyncTestClient, settings: Settings, smtp: SmtpServer, make_worker: MakeWorker
) -> None:
    """A double click, or the same link open in two tabs: the answers race, one is recorded."""
    (brussels,) = await add_facilitators(settings.database_url, BRUSSELS)
    await new_lead(client, make_worker)
    path = link_in(requests_to(smtp, brussels.email)[0])
    token = hidden_inputs((await client.get(path)).text)["_csrf_token"]
    answers = await asyncio.gather(
        *(client.post(path, data={"_csrf_token": token, "action": "contacted"}) for _ in range(6))
    )
    outcomes = sorted(a.headers["location"].rsplit("?", 1)[1] for a in answers)
    assert outcomes == ["already=contacted"] * 5 + ["recorded=contacted"]
    assert len(await fetch_all(settings.database_url, LeadResponse)) == 1
    (stored,) = await stored_leads(settings.database_url)
    assert [e.kind for e in stored.events].count("status_changed") == 1


async def test_a_get_never_changes_anything(
    client: AsyncTestClient, settings: Settings, smtp: SmtpServer, make_worker: MakeWorker
) -> None:
    """Mail scanners open every link, and sometimes follow the page's links too."""
    (brussels,) = await add_facilitators(settings.database_url, BRUSSELS)
    await new_lead(client, make_worker)
    path = link_in(requests_to(smtp, brussels.email)[0])
    before = await rows(settings)
    for url in (path, f"{path}?recorded=declined", f"{path}?action=declined&reason=other"):
        for _ in range(3):
            assert (await client.get(url)).status_code == 200
            assert (await client.head(url)).status_code in (200, 405)
    assert await rows(settings) == before


async def test_decline_reroutes_never_back_and_alerts_when_nobody_is_left(
    client: AsyncTestClient, settings: Settings, smtp: SmtpServer, make_worker: MakeWorker
) -> None:
    clinics = await add_facilitators(settings.database_url, BRUSSELS, ANTWERP, GHENT)
    names = {clinic.email: clinic.name for clinic in clinics}
    lead = await new_lead(client, make_worker, language="nl")
    # Brussels speaks the patient's language: first. Then the others, by the same fair rules.
    order: list[str] = []
    links: list[str] = []
    for reason in ("no_capacity", "not_offered", "other"):
        (current,) = [
            email for email in names if len(requests_to(smtp, email)) > order.count(email)
        ]
        assert current not in order, "a facilitator who declined got the lead again"
        order.append(current)
        links.append(link_in(requests_to(smtp, current)[-1]))
        declined = await answer(
            client, links[-1], action="declined", reason=reason, note=f"{reason} note"
        )
        assert declined.status_code == 303
        page = await client.get(declined.headers["location"])
        assert page.status_code == 200
        text = shown_text(page.text)
        assert "we have recorded that this request is not for you" in text
        assert "it has been passed to another facilitator" in text
        assert "Ana Peeters" not in text  # no longer theirs to see
        await make_worker().drain()
    assert order[0] == "quotes@brussels.example" and sorted(order) == sorted(names)
    for email in names:
        assert len(requests_to(smtp, email)) == 1

    # Nobody is left: the operator is told who passed, the patient is not emailed again.
    (alert,) = smtp.inbox.to(ALERT_EMAIL)
    assert alert.message["Subject"] == f"[Quote Desk] Lead {lead.reference} has no facilitator"
    assert "has no facilitator left: it went to " + ", ".join(names[e] for e in order) in (
        " ".join(alert.text.split())
    )
    assert len(smtp.inbox.to(PATIENT)) == 1

    (stored,) = await stored_leads(settings.database_url)
    assert stored.facilitator_id is None and stored.status == "new"
    kinds = [e.kind for e in stored.events if e.kind in ("responded", "rerouted", "unrouted")]
    assert kinds == ["responded", "rerouted", "responded", "rerouted", "responded", "unrouted"]
    reasons = [e.data["reason_label"] for e in stored.events if e.kind == "responded"]
    assert reasons == [
        "No capacity at the moment",
        "We do not offer this treatment",
        "Another reason",
    ]
    # Every old link now says it was declined, and refuses to do anything else.
    for path in links:
        again = await answer(client, path, action="contacted")
        assert again.status_code == 409
        assert "passed to another facilitator" in shown_text(again.text)


async def test_the_default_facilitator_is_left_out_too_once_it_declined(
    settings: Settings, smtp: SmtpServer, make_worker: MakeWorker, clock: Clock
) -> None:
    with_default = mail_settings(
        settings.database_url, smtp, default_facilitator_email="fallback@desk.example"
    )
    async with AsyncTestClient(app=create_app(with_default, clock=clock)) as client:
        client.follow_redirects = False
        await new_lead(client, lambda: make_worker(with_default))
        (request,) = requests_to(smtp, "fallback@desk.example")
        assert (
            await answer(client, link_in(request), action="declined", reason="not_offered")
        ).status_code == 303
    await make_worker(with_default).drain()
    assert len(requests_to(smtp, "fallback@desk.example")) == 1
    (alert,) = smtp.inbox.to(ALERT_EMAIL)
    assert "declined it or let it pass, and no other is left" in " ".join(alert.text.split())


async def test_links_that_were_tampered_with_expired_or_moved_on_do_nothing(
    client: AsyncTestClient,
    settings: Settings,
    smtp: SmtpServer,
    make_worker: MakeWorker,
    clock: Clock,
) -> None:
    brussels, antwerp = await add_facilitators(settings.database_url, BRUSSELS, ANTWERP)
    lead = await new_lead(client, make_worker, language="nl")
    path = link_in(requests_to(smtp, brussels.email)[0])
    token = path.rsplit("/", 1)[1]
    before = await rows(settings)

    # Tampered: one character of the signature or of the body changed, or signed for another
    # purpose (a patient's privacy link), or naming another facilitator without the key.
    body, mac = token.split(".")
    flipped = "A" if mac[0] != "A" else "B"
    forged_subject = sign(
        secret="not-the-key-" + "x" * 40,
        purpose="respond",
        subject=f"{lead.id}:{antwerp.id}",
        expires_at=clock() + timedelta(days=3),
    )
    privacy = sign(
        secret=settings.secret_key,
        purpose="privacy",
        subject=f"{lead.id}:{brussels.id}",
        expires_at=clock() + timedelta(days=3),
    )
    for bad in (f"{body}.{flipped}{mac[1:]}", f"{body[:-2]}xx.{mac}", forged_subject, privacy):
        page = await client.get(f"/respond/{bad}")
        assert page.status_code == 404
        assert "This link is not valid." in page.text
        assert (await answer(client, f"/respond/{bad}", action="contacted")).status_code == 404
    assert await rows(settings) == before

    # Expired: after QUOTE_RESPOND_LINK_DAYS the link says so, and an answer is refused.
    clock.advance(days=30, seconds=1)
    expired = await client.get(path)
    assert expired.status_code == 410 and "This link has expired." in expired.text
    assert (await answer(client, path, action="contacted")).status_code == 410
    assert await rows(settings) == before
    clock.advance(days=-30, seconds=-1)

    # Reassigned by a coordinator: the old link says so; the new facilitator's works.
    await add_coordinator(settings, "coco@example.org")
    async with AsyncTestClient(app=create_app(settings, clock=clock)) as desk:
        desk.follow_redirects = False
        assert (await sign_in(desk, "coco@example.org")).status_code == 303
        moved = await desk.post(
            f"/desk/leads/{lead.id}/reassign",
            data={"facilitator_id": str(antwerp.id)},
            headers={"x-csrf-token": csrf_token(desk)},
        )
        assert moved.status_code == 303
    await make_worker().drain()
    old = await client.get(path)
    assert old.status_code == 410
    assert "passed to another facilitator, so this link no longer works" in shown_text(old.text)
    assert "Ana Peeters" not in old.text
    refused = await answer(client, path, action="contacted")
    assert refused.status_code == 409
    (new_request,) = requests_to(smtp, antwerp.email)
    new_path = link_in(new_request)
    assert new_path != path
    assert (await answer(client, new_path, action="contacted")).status_code == 303
    (stored,) = await stored_leads(settings.database_url)
    assert stored.status == "contacted"
    assert [r.facilitator_id for r in await fetch_all(settings.database_url, LeadResponse)] == [
        antwerp.id
    ]


async def test_a_closed_or_erased_lead_offers_nothing(
    client: AsyncTestClient,
    settings: Settings,
    smtp: SmtpServer,
    make_worker: MakeWorker,
    clock: Clock,
) -> None:
    (brussels,) = await add_facilitators(settings.database_url, BRUSSELS)
    lead = await new_lead(client, make_worker)
    path = link_in(requests_to(smtp, brussels.email)[0])
    link = read_link(path.rsplit("/", 1)[1], settings=settings)
    database = Database(settings)
    try:
        await database.write(_set_status, lead_id=lead.id, status="spam")
        page = await client.get(path)
        assert page.status_code == 200
        assert "This request is closed (spam). There is nothing more to do." in page.text
        assert "Not for us" not in page.text and "Ana Peeters" not in page.text
        assert (await answer(client, path, action="contacted")).status_code == 409

        # Erasure (the patient's right) will set `erased_at` on the lead; until that column
        # exists the attribute is set on the loaded lead, and the link finds it erased.
        state = await database.write(_erase_and_look, link=link, clock=clock)
        assert state is TurnState.erased
    finally:
        await database.dispose()


def _set_status(session: Any, *, lead_id: Any, status: str) -> None:
    lead = session.get(Lead, lead_id)
    lead.status = status


def _erase_and_look(session: Any, *, link: Any, clock: Clock) -> TurnState:
    lead = session.get(Lead, link.lead_id)
    lead.erased_at = clock()
    state: TurnState = find_turn(session, link=link).state
    session.rollback()
    return state


async def test_the_leads_api_exposes_the_answers(
    client: AsyncTestClient, settings: Settings, smtp: SmtpServer, make_worker: MakeWorker
) -> None:
    (brussels,) = await add_facilitators(settings.database_url, BRUSSELS)
    lead = await new_lead(client, make_worker)
    await add_coordinator(settings, "coco@example.org")
    assert (await sign_in(client, "coco@example.org")).status_code == 303
    created = await client.post(
        "/desk/tokens", data={"name": "crm"}, headers={"x-csrf-token": csrf_token(client)}
    )
    token = re.search(r'<code class="desk-token">([^<]+)</code>', created.text).group(1)  # type: ignore[union-attr]
    bearer = {"authorization": f"Bearer {token}"}

    detail = (await client.get(f"/api/v1/leads/{lead.id}", headers=bearer)).json()
    assert detail["responded_at"] is None and detail["responses"] == []
    assert detail["response_due_at"] is not None

    path = link_in(requests_to(smtp, brussels.email)[0])
    await answer(client, path, action="quoted", price_min="9000", currency="GBP", note="Call me")
    detail = (await client.get(f"/api/v1/leads/{lead.id}", headers=bearer)).json()
    assert detail["status"] == "quoted" and detail["responded_at"] is not None
    assert detail["response_due_at"] is None and detail["overdue_since"] is None
    (response,) = detail["responses"]
    assert {k: response[k] for k in ("facilitator_id", "action", "price_min", "price_max")} == {
        "facilitator_id": brussels.id,
        "action": "quoted",
        "price_min": 9000,
        "price_max": None,
    }
    assert response["currency"] == "GBP" and response["note"] == "Call me"
    listed = (await client.get("/api/v1/leads", headers=bearer)).json()["leads"]
    assert listed[0]["responded_at"] == detail["responded_at"]
    assert (await client.get("/api/v1/leads?overdue=true", headers=bearer)).json()["leads"] == []


async def test_a_token_names_the_lead_and_the_facilitator(settings: Settings, clock: Clock) -> None:
    lead_id = uuid.uuid4()
    token = respond_token(settings=settings, lead_id=lead_id, facilitator_id=7, now=clock())
    link = read_link(token, settings=settings)
    assert (link.lead_id, link.facilitator_id) == (lead_id, 7)
    assert link.expires_at - clock() > timedelta(days=29, hours=23)
