"""The leads list (filters, search, keyset pages), a lead's record, and what coordinators do."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta

from litestar.testing import AsyncTestClient
from markupsafe import escape

from service.content.documents import legal_texts
from service.leads.fields import country_name
from service.models import LeadEvent, OutboxMessage
from service.settings import Settings
from tests.factories import (
    COORDINATOR,
    NOTE,
    PEOPLE,
    REFUSED_AGAIN,
    complete_cast,
    facilitator_row,
    fetch_all,
    insert,
    insert_complete_leads,
    quote_form,
    stored_leads,
    submit_complete_lead,
    submit_form,
)
from tests.signed_in import csrf_token

T0 = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)


def references(page: str) -> list[str]:
    return re.findall(r'<a href="/desk/leads/[0-9a-f-]{36}">(Q-[A-Z0-9]+)</a>', page)


async def test_list_shows_newest_first_with_counts(
    desk: AsyncTestClient, settings: Settings
) -> None:
    old, new = await insert_complete_leads(
        settings.database_url, 2, times=[T0, T0 + timedelta(hours=1)]
    )
    moved = await desk.post(
        f"/desk/leads/{new.id}/status",
        data={"status": "quoted"},
        headers={"x-csrf-token": csrf_token(desk)},
    )
    assert moved.status_code == 303
    page = await desk.get("/desk/leads")
    assert page.status_code == 200
    assert references(page.text) == [new.reference, old.reference]
    assert re.search(r'<span class="desk-count">1</span> contacted', page.text)
    assert re.search(r'<span class="desk-count">1</span> quoted', page.text)
    assert re.search(r'<span class="desk-count">0</span> new', page.text)
    for made in (old, new):
        assert escape(made.full_name) in page.text and escape(made.email) in page.text


async def test_filters_and_search(desk: AsyncTestClient, settings: Settings) -> None:
    # Before any facilitator exists: a real unrouted lead, its confirmation still pending.
    assert (
        await submit_form(desk, form=quote_form(full_name="John Smith", language="en"))
    ).status_code == 303
    (unrouted,) = await stored_leads(settings.database_url)
    clinic, other = (
        await complete_cast(settings.database_url),
        await complete_cast(settings.database_url),
    )
    (a,) = await insert_complete_leads(
        settings.database_url,
        cast=clinic,
        times=[T0],
        full_name="Marie Dubois",
        email="marie@example.fr",
        language="fr",
    )
    (b,) = await insert_complete_leads(
        settings.database_url,
        cast=other,
        times=[T0 + timedelta(days=3)],
        full_name="Jan Janssens",
        language="nl",
        treatment="Physiotherapy",
    )
    quoted = await desk.post(
        f"/desk/leads/{a.id}/status",
        data={"status": "quoted"},
        headers={"x-csrf-token": csrf_token(desk)},
    )
    assert quoted.status_code == 303

    async def refs(query: str) -> list[str]:
        page = await desk.get(f"/desk/leads?{query}")
        assert page.status_code == 200
        return references(page.text)

    assert await refs("status=quoted") == [a.reference]
    assert await refs(f"facilitator={clinic.third.id}") == [a.reference]
    assert await refs(f"facilitator={clinic.first.id}") == []  # routed there, then moved on
    assert await refs("unrouted=1") == [unrouted.reference]
    assert await refs("language=nl") == [b.reference]
    assert await refs("treatment=Physiotherapy") == [b.reference]
    assert await refs("date_from=2026-10-02&date_to=2026-10-04") == [b.reference]
    assert await refs("dead_email=1") == [b.reference, a.reference]
    assert await refs("q=dubois") == [a.reference]
    assert await refs("q=MARIE%40EXAMPLE") == [a.reference]
    assert await refs("q=marie%40EXAMPLE.FR") == [a.reference]
    assert await refs(f"q={b.reference[3:7]}") == [b.reference]
    assert await refs(f"q={b.reference.lower()}") == [b.reference]
    assert await refs("q=nobody") == []


async def test_keyset_pages_cover_every_lead_once(
    desk: AsyncTestClient, settings: Settings
) -> None:
    same_time = T0 + timedelta(days=1)
    times = [T0 + timedelta(minutes=n) for n in range(60)]
    times += [same_time] * 5  # ties on created_at
    await insert_complete_leads(settings.database_url, 65, times=times)
    seen: list[str] = []
    url = "/desk/leads"
    while True:
        page = await desk.get(url)
        seen += references(page.text)
        found = re.search(r'rel="next" href="([^"]+)"', page.text)
        if not found:
            break
        url = found.group(1).replace("&amp;", "&")
    assert len(seen) == 65 and len(set(seen)) == 65


async def test_lead_record_shows_fields_consent_text_emails_and_timeline(
    desk: AsyncTestClient, settings: Settings
) -> None:
    cast = await complete_cast(settings.database_url)
    await submit_complete_lead(desk, settings.database_url, cast=cast, patient=3)
    (lead,) = await stored_leads(settings.database_url)
    page = await desk.get(f"/desk/leads/{lead.id}")
    assert page.status_code == 200
    text = page.text
    person = PEOPLE[3]
    assert lead.reference in text and escape(person["full_name"]) in text
    assert person["stored_phone"] in text and escape(person["medical_summary"]) in text
    for field in ("utm_source", "utm_campaign", "utm_term", "utm_content", "referrer"):
        assert escape(getattr(lead, field)) in text, field
    assert escape(f"{cast.third.name} <{cast.third.email}>") in text
    for consent in lead.consents:
        assert consent.legal_text.sha256 in text and consent.legal_text.version in text
        assert consent.legal_text.sha256 == legal_texts()[consent.kind].sha256
    emails = re.findall(r'desk-mail-([a-z]+)">', text)
    assert sorted(emails) == ["dead", "pending", "retry", "sending", "sent"]
    assert escape(f"5.1.1 <{cast.first.email}>: Recipient address rejected") in text
    assert escape(REFUSED_AGAIN) in text
    assert text.count("Retry now") == 2  # the dead email and the one waiting to retry
    for line in (
        "Request received through the quote form",
        f"Routed to {escape(cast.first.name)}: speaks",
        "Status changed from “new” to “contacted”",
        f"Reassigned to {escape(cast.second.name)}",
        f"Reassigned to {escape(cast.third.name)}",
        "The request to the facilitator was queued again by hand (it was retry)",
        escape(NOTE),
        "Confirmation sent to the patient (first attempt)",
        "The request to the facilitator was given up (server answered 550) (second attempt)",
        escape(f"{country_name(lead.country)} ({lead.country})"),
    ):
        assert line in text, line
    assert text.count(COORDINATOR) == 5  # the retry, the move, the note, two reassignments
    assert "<script" not in text and "style=" not in text


async def test_pipeline_moves_and_refuses(desk: AsyncTestClient, settings: Settings) -> None:
    (lead,) = await insert_complete_leads(settings.database_url)  # contacted by now
    token = {"x-csrf-token": csrf_token(desk)}
    url = f"/desk/leads/{lead.id}"

    refused = await desk.post(f"{url}/status", data={"status": "won"}, headers=token)
    assert refused.status_code == 303
    page = await desk.get(url)
    assert (
        "A lead cannot move from “contacted” to “won”. "
        "Allowed next: quoted, lost, spam, duplicate." in page.text
    )

    for status in ("quoted", "won"):
        moved = await desk.post(f"{url}/status", data={"status": status}, headers=token)
        assert moved.status_code == 303
    page = await desk.get(url)
    assert "Status changed from “quoted” to “won”" in page.text and "coco@example.org" in page.text
    assert "is a final status" in page.text
    events = [
        e for e in await fetch_all(settings.database_url, LeadEvent) if e.kind == "status_changed"
    ]
    assert sorted((e.id, e.data["from"], e.data["to"], e.actor) for e in events) == [
        (events[0].id, "new", "contacted", COORDINATOR),
        (events[1].id, "contacted", "quoted", "coco@example.org"),
        (events[2].id, "quoted", "won", "coco@example.org"),
    ]


async def test_notes_are_escaped(desk: AsyncTestClient, settings: Settings) -> None:
    (lead,) = await insert_complete_leads(settings.database_url)
    note = "<script>alert(1)</script> called back, wants a quote"
    response = await desk.post(
        f"/desk/leads/{lead.id}/notes",
        data={"note": note},
        headers={"x-csrf-token": csrf_token(desk)},
    )
    assert response.status_code == 303
    page = await desk.get(f"/desk/leads/{lead.id}")
    assert "&lt;script&gt;alert(1)&lt;/script&gt; called back" in page.text
    assert "<script>alert" not in page.text


async def test_reassign_queues_the_new_facilitators_email(
    desk: AsyncTestClient, settings: Settings
) -> None:
    cast = await complete_cast(settings.database_url)
    (lead,) = await insert_complete_leads(settings.database_url, cast=cast)
    new = facilitator_row(name="New Clinic", email="new@clinic.example")
    await insert(settings.database_url, new)
    response = await desk.post(
        f"/desk/leads/{lead.id}/reassign",
        data={"facilitator_id": str(new.id)},
        headers={"x-csrf-token": csrf_token(desk)},
    )
    assert response.status_code == 303
    page = await desk.get(f"/desk/leads/{lead.id}")
    assert "Reassigned to New Clinic" in page.text
    queued = [
        m
        for m in await fetch_all(settings.database_url, OutboxMessage)
        if m.kind == "facilitator_new_lead" and m.recipient == "new@clinic.example"
    ]
    assert len(queued) == 1 and queued[0].status == "pending"
    assert lead.full_name in queued[0].text  # rendered from the stored lead, every value
    (stored,) = await stored_leads(settings.database_url)
    assert stored.facilitator_id == new.id
    (event,) = [e for e in stored.events if e.kind == "reassigned" and e.actor != COORDINATOR]
    assert event.data["from_facilitator_id"] == cast.third.id


async def test_retry_moves_a_dead_email_back_to_pending(
    desk: AsyncTestClient, settings: Settings
) -> None:
    (lead,) = await insert_complete_leads(settings.database_url)
    before = {m.id: m for m in await fetch_all(settings.database_url, OutboxMessage)}
    token = {"x-csrf-token": csrf_token(desk)}
    for state in ("dead", "sent", "pending", "sending"):
        retried = await desk.post(f"/desk/emails/{lead.emails[state]}/retry", headers=token)
        assert retried.status_code == 303, state
    rows = {m.id: m for m in await fetch_all(settings.database_url, OutboxMessage)}
    dead = lead.emails["dead"]
    assert rows[dead].status == "pending" and rows[dead].attempts == 2
    assert rows[dead].next_attempt_at > before[dead].next_attempt_at
    for state in ("sent", "pending", "sending", "retry"):  # only a failed email is retried
        assert rows[lead.emails[state]].status == state
        assert rows[lead.emails[state]].updated_at == before[lead.emails[state]].updated_at
    page = await desk.get(f"/desk/leads/{lead.id}")
    assert "The request to the facilitator was queued again by hand (it was dead)" in page.text


async def test_concurrent_actions_of_one_coordinator_all_land(
    desk: AsyncTestClient, settings: Settings
) -> None:
    """Several tabs at once: every action and its session update succeed."""
    (lead,) = await insert_complete_leads(settings.database_url)
    token = {"x-csrf-token": csrf_token(desk)}
    responses = await asyncio.gather(
        *(
            desk.post(f"/desk/leads/{lead.id}/notes", data={"note": f"note {n}"}, headers=token)
            for n in range(6)
        )
    )
    assert [r.status_code for r in responses] == [303] * 6
    notes = [
        e.data["text"]
        for e in await fetch_all(settings.database_url, LeadEvent)
        if e.kind == "note" and e.actor == "coco@example.org"
    ]
    assert sorted(notes) == [f"note {n}" for n in range(6)]
    assert (await desk.get("/desk/leads")).status_code == 200
