"""The leads list (filters, search, keyset pages), a lead's record, and what coordinators do."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from datetime import UTC, datetime, timedelta

from litestar.testing import AsyncTestClient

from service.db import Database
from service.desk.demo import insert_demo_leads
from service.leads.export import BATCH
from service.models import DeskAudit, LeadEvent, OutboxMessage
from service.settings import Settings
from tests.factories import (
    facilitator_row,
    fetch_all,
    insert,
    lead_row,
    outbox_row,
    stored_leads,
    submit_form,
)
from tests.signed_in import csrf_token

T0 = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)


def references(page: str) -> list[str]:
    return re.findall(r'<a href="/desk/leads/[0-9a-f-]{36}">(Q-[A-Z0-9]+)</a>', page)


async def test_list_shows_newest_first_with_counts(
    desk: AsyncTestClient, settings: Settings
) -> None:
    await insert(
        settings.database_url,
        lead_row(reference="Q-OLD001", created_at=T0),
        lead_row(reference="Q-NEW001", created_at=T0 + timedelta(hours=1), status="contacted"),
    )
    page = await desk.get("/desk/leads")
    assert page.status_code == 200
    assert references(page.text) == ["Q-NEW001", "Q-OLD001"]
    assert re.search(r'<span class="desk-count">1</span> contacted', page.text)
    assert re.search(r'<span class="desk-count">1</span> new', page.text)


async def test_filters_and_search(desk: AsyncTestClient, settings: Settings) -> None:
    clinic = facilitator_row(name="Brussels Clinic")
    await insert(settings.database_url, clinic)
    a = lead_row(
        reference="Q-AAAAAA",
        full_name="Marie Dubois",
        email="marie@example.fr",
        language="fr",
        created_at=T0,
        facilitator_id=clinic.id,
        status="quoted",
    )
    b = lead_row(
        reference="Q-BBBBBB",
        full_name="Jan Janssens",
        language="nl",
        created_at=T0 + timedelta(days=3),
        treatment="Physiotherapy",
    )
    c = lead_row(reference="Q-CCCCCC", full_name="John Smith", created_at=T0 + timedelta(days=5))
    await insert(
        settings.database_url, a, b, c, outbox_row(c, status="dead", last_error="550 no such user")
    )

    async def refs(query: str) -> list[str]:
        page = await desk.get(f"/desk/leads?{query}")
        assert page.status_code == 200
        return references(page.text)

    assert await refs("status=quoted") == ["Q-AAAAAA"]
    assert await refs(f"facilitator={clinic.id}") == ["Q-AAAAAA"]
    assert await refs("unrouted=1") == ["Q-CCCCCC", "Q-BBBBBB"]
    assert await refs("language=nl") == ["Q-BBBBBB"]
    assert await refs("treatment=Physiotherapy") == ["Q-BBBBBB"]
    assert await refs("date_from=2026-10-02&date_to=2026-10-04") == ["Q-BBBBBB"]
    assert await refs("dead_email=1") == ["Q-CCCCCC"]
    assert await refs("q=dubois") == ["Q-AAAAAA"]
    assert await refs("q=MARIE%40EXAMPLE") == ["Q-AAAAAA"]
    assert await refs("q=marie%40EXAMPLE.FR") == ["Q-AAAAAA"]
    assert await refs("q=BBBB") == ["Q-BBBBBB"]
    assert await refs("q=q-bbbbbb") == ["Q-BBBBBB"]
    assert await refs("q=nobody") == []


async def test_keyset_pages_cover_every_lead_once(
    desk: AsyncTestClient, settings: Settings
) -> None:
    same_time = T0 + timedelta(days=1)
    rows = [lead_row(created_at=T0 + timedelta(minutes=n)) for n in range(60)]
    rows += [lead_row(created_at=same_time) for _ in range(5)]  # ties on created_at
    await insert(settings.database_url, *rows)
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
    await submit_form(desk)
    (lead,) = await stored_leads(settings.database_url)
    await insert(
        settings.database_url,
        outbox_row(lead, status="dead", attempts=5, last_error="550 mailbox unavailable"),
    )
    page = await desk.get(f"/desk/leads/{lead.id}")
    assert page.status_code == 200
    text = page.text
    assert lead.reference in text and "Ana Peeters" in text and "+32470123456" in text
    assert "Left side weakness since the stroke" in text
    for consent in lead.consents:
        assert consent.legal_text.sha256 in text and consent.legal_text.version in text
    assert "550 mailbox unavailable" in text and "Retry now" in text
    # The timeline speaks in sentences; countries and languages by name.
    assert "Request received through the quote form" in text
    assert "Not routed: no active facilitator serves this treatment" in text
    assert "Belgium (BE)" in text and "Nederlands" in text
    assert "<script" not in text and "style=" not in text


async def test_pipeline_moves_and_refuses(desk: AsyncTestClient, settings: Settings) -> None:
    lead = lead_row()
    await insert(settings.database_url, lead)
    token = {"x-csrf-token": csrf_token(desk)}
    url = f"/desk/leads/{lead.id}"

    refused = await desk.post(f"{url}/status", data={"status": "won"}, headers=token)
    assert refused.status_code == 303
    page = await desk.get(url)
    assert (
        "A lead cannot move from “new” to “won”. Allowed next: contacted, spam, duplicate."
        in page.text
    )

    for status in ("contacted", "quoted", "won"):
        moved = await desk.post(f"{url}/status", data={"status": status}, headers=token)
        assert moved.status_code == 303
    page = await desk.get(url)
    assert "Status changed from “quoted” to “won”" in page.text and "coco@example.org" in page.text
    assert "is a final status" in page.text
    events = [
        e for e in await fetch_all(settings.database_url, LeadEvent) if e.kind == "status_changed"
    ]
    assert [(e.data["from"], e.data["to"], e.actor) for e in events] == [
        ("new", "contacted", "coco@example.org"),
        ("contacted", "quoted", "coco@example.org"),
        ("quoted", "won", "coco@example.org"),
    ]


async def test_notes_are_escaped(desk: AsyncTestClient, settings: Settings) -> None:
    lead = lead_row()
    await insert(settings.database_url, lead)
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
    old, new = (
        facilitator_row(name="Old Clinic"),
        facilitator_row(name="New Clinic", email="new@clinic.example"),
    )
    await insert(settings.database_url, old, new)
    lead = lead_row(facilitator_id=old.id)
    await insert(settings.database_url, lead)
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
    (stored,) = await stored_leads(settings.database_url)
    assert stored.facilitator_id == new.id


async def test_retry_moves_a_dead_email_back_to_pending(
    desk: AsyncTestClient, settings: Settings
) -> None:
    lead = lead_row()
    dead = outbox_row(lead, status="dead", attempts=5, next_attempt_at=T0)
    sent = outbox_row(lead, status="sent")
    await insert(settings.database_url, lead, dead, sent)
    token = {"x-csrf-token": csrf_token(desk)}
    assert (await desk.post(f"/desk/emails/{dead.id}/retry", headers=token)).status_code == 303
    assert (await desk.post(f"/desk/emails/{sent.id}/retry", headers=token)).status_code == 303
    rows = {m.id: m for m in await fetch_all(settings.database_url, OutboxMessage)}
    assert rows[dead.id].status == "pending" and rows[dead.id].attempts == 5
    assert rows[dead.id].next_attempt_at > T0
    assert rows[sent.id].status == "sent"
    page = await desk.get(f"/desk/leads/{lead.id}")
    assert "The confirmation to the patient was queued again by hand (it was dead)" in page.text


async def test_export_streams_the_filter_as_safe_csv(
    desk: AsyncTestClient, settings: Settings
) -> None:
    await insert(
        settings.database_url,
        lead_row(
            reference="Q-EXP001",
            full_name='=HYPERLINK("http://evil")',
            language="fr",
            budget="+100",
            medical_summary="-2 days",
            travel_window="@once",
        ),
        lead_row(reference="Q-EXP002", language="nl"),
    )
    response = await desk.get("/desk/leads/export.csv?language=fr")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [r["reference"] for r in rows] == ["Q-EXP001"]
    assert rows[0]["full_name"] == '\'=HYPERLINK("http://evil")'
    assert rows[0]["budget"] == "'+100" and rows[0]["medical_summary"] == "'-2 days"
    assert rows[0]["travel_window"] == "'@once"
    (audit,) = [
        a for a in await fetch_all(settings.database_url, DeskAudit) if a.action != "sign_in"
    ]
    assert audit.action == "export_csv" and audit.actor == "coco@example.org"
    assert audit.data == {"language": "fr"}


async def test_export_crosses_batch_boundaries(desk: AsyncTestClient, settings: Settings) -> None:
    database = Database(settings)
    try:
        await insert_demo_leads(database=database, count=BATCH + 7, now=datetime.now(UTC), seed=4)
    finally:
        await database.dispose()
    response = await desk.get("/desk/leads/export.csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == BATCH + 7 == len({r["reference"] for r in rows})
    stamps = [r["created_at"] for r in rows]
    assert stamps == sorted(stamps, reverse=True)


async def test_concurrent_actions_of_one_coordinator_all_land(
    desk: AsyncTestClient, settings: Settings
) -> None:
    """Several tabs at once: every action and its session update succeed."""
    lead = lead_row()
    await insert(settings.database_url, lead)
    token = {"x-csrf-token": csrf_token(desk)}
    responses = await asyncio.gather(
        *(
            desk.post(f"/desk/leads/{lead.id}/notes", data={"note": f"note {n}"}, headers=token)
            for n in range(6)
        )
    )
    assert [r.status_code for r in responses] == [303] * 6
    notes = [e.data["text"] for e in await fetch_all(settings.database_url, LeadEvent)]
    assert sorted(notes) == [f"note {n}" for n in range(6)]
    assert (await desk.get("/desk/leads")).status_code == 200
