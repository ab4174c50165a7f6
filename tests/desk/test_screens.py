"""The mail log, facilitators, stats and API token screens, with data, as coordinators see them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from litestar.testing import AsyncTestClient

from service.models import Facilitator, LeadEvent, OutboxMessage
from service.settings import Settings
from tests.factories import facilitator_row, fetch_all, insert, lead_row, outbox_row
from tests.signed_in import csrf_token


async def test_mail_log_lists_filters_and_shows_a_message_safely(
    desk: AsyncTestClient, settings: Settings
) -> None:
    lead = lead_row()
    sent = outbox_row(lead, subject="We received your request", status="sent")
    dead = outbox_row(
        lead,
        subject="New quote request",
        status="dead",
        attempts=5,
        last_error="550 5.1.1 mailbox unknown",
        html='<p onclick="x()">Hello</p><script>alert(1)</script>',
    )
    await insert(settings.database_url, lead, sent, dead)

    page = await desk.get("/desk/mail")
    assert page.status_code == 200
    assert "We received your request" in page.text and "New quote request" in page.text
    only_dead = await desk.get("/desk/mail?status=dead")
    assert (
        "New quote request" in only_dead.text and "We received your request" not in only_dead.text
    )

    message = await desk.get(f"/desk/mail/{dead.id}")
    assert message.status_code == 200
    assert "550 5.1.1 mailbox unknown" in message.text and "Retry now" in message.text
    frame = re.search(r'<iframe[^>]*\ssandbox\s[^>]*src="([^"]+)"', message.text)
    assert frame and frame.group(1) == f"/desk/mail/{dead.id}/html"
    assert "<script>alert(1)</script>" not in message.text  # the source is shown escaped
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in message.text
    framed = await desk.get(frame.group(1))
    assert framed.text == dead.html  # exactly as queued, inside a sandbox without scripts
    policy = framed.headers["content-security-policy"]
    assert policy.startswith("sandbox;") and "script-src" not in policy
    assert "default-src 'none'" in policy and "frame-ancestors 'self'" in policy

    retried = await desk.post(
        f"/desk/emails/{dead.id}/retry?from=mail", headers={"x-csrf-token": csrf_token(desk)}
    )
    assert retried.headers["location"] == f"/desk/mail/{dead.id}"
    rows = {m.id: m for m in await fetch_all(settings.database_url, OutboxMessage)}
    assert rows[dead.id].status == "pending" and rows[dead.id].attempts == 5
    events = await fetch_all(settings.database_url, LeadEvent)
    assert [(e.kind, e.actor) for e in events] == [("email_retry", "coco@example.org")]


async def test_admin_adds_edits_and_disables_facilitators(
    admin: AsyncTestClient, settings: Settings
) -> None:
    clinic = facilitator_row(name="Ghent Rehab", email="ghent@clinic.example")
    await insert(settings.database_url, clinic)
    await insert(
        settings.database_url,
        lead_row(facilitator_id=clinic.id),
        lead_row(facilitator_id=clinic.id),
        lead_row(facilitator_id=clinic.id, created_at=datetime.now(UTC) - timedelta(days=45)),
    )
    token = {"x-csrf-token": csrf_token(admin)}
    page = await admin.get("/desk/facilitators")
    assert page.status_code == 200
    assert re.search(r"Ghent Rehab</a></td>.*?<td>2</td>", page.text, re.S)

    refused = await admin.post(
        "/desk/facilitators", headers=token, data={"name": "", "email": "not-an-email"}
    )
    assert refused.status_code == 400
    assert "Enter a name." in refused.text and "Enter a valid email address." in refused.text
    taken = await admin.post(
        "/desk/facilitators", headers=token, data={"name": "Copy", "email": "GHENT@clinic.example"}
    )
    assert "Another facilitator already uses this email address." in taken.text

    added = await admin.post(
        "/desk/facilitators",
        headers=token,
        data={
            "name": "Liège Neuro",
            "email": "neuro@liege.example",
            "languages": "fr, EN",
            "treatments": "",
            "destinations": "Belgium",
            "weight": "2",
        },
    )
    assert added.status_code == 303
    edit = await admin.post(
        f"/desk/facilitators/{clinic.id}",
        headers=token,
        data={"name": "Ghent Rehab Centre", "email": "ghent@clinic.example", "weight": "1"},
    )
    assert edit.status_code == 303
    disabled = await admin.post(
        f"/desk/facilitators/{clinic.id}/active", headers=token, data={"active": "0"}
    )
    assert disabled.status_code == 303
    stored = {f.email: f for f in await fetch_all(settings.database_url, Facilitator)}
    assert stored["neuro@liege.example"].languages == ["fr", "en"]
    assert stored["neuro@liege.example"].weight == 2
    assert stored["ghent@clinic.example"].name == "Ghent Rehab Centre"
    assert not stored["ghent@clinic.example"].active
    page = await admin.get("/desk/facilitators")
    assert "Facilitator disabled" in page.text and "Enable" in page.text


async def test_stats_page_draws_and_tabulates(desk: AsyncTestClient, settings: Settings) -> None:
    now = datetime.now(UTC)
    clinic = facilitator_row(name="Antwerp Stroke Care")
    await insert(settings.database_url, clinic)
    lead = lead_row(country="NL", facilitator_id=clinic.id, created_at=now - timedelta(hours=5))
    await insert(
        settings.database_url,
        lead,
        lead_row(country="FR"),
        outbox_row(lead, status="sent"),
        outbox_row(lead, status="sent"),
        outbox_row(lead, status="sent"),
        outbox_row(lead, status="dead"),
        LeadEvent(
            lead_id=lead.id,
            kind="status_changed",
            actor="x",
            data={},
            created_at=now - timedelta(hours=3),
        ),
    )
    page = await desk.get("/desk/stats")
    assert page.status_code == 200
    text = page.text
    assert text.count("<svg") == 4 and "<script" not in text and "style=" not in text
    assert "75.0 %" in text  # 3 sent of 4 finished
    assert "2.0 h" in text  # the one lead was first moved 2 hours after it arrived
    assert "Antwerp Stroke Care" in text and "<td>NL</td><td>1</td>" in text
    assert "<td>Unrouted</td><td>1</td>" in text


async def test_api_token_is_shown_once_and_works(desk: AsyncTestClient, settings: Settings) -> None:
    lead = lead_row(reference="Q-API001")
    await insert(settings.database_url, lead)
    created = await desk.post(
        "/desk/tokens", data={"name": "CRM sync"}, headers={"x-csrf-token": csrf_token(desk)}
    )
    assert created.status_code == 200
    token = re.search(r'<code class="desk-token">([^<]+)</code>', created.text).group(1)  # type: ignore[union-attr]
    listing = await desk.get("/desk/tokens")
    assert "CRM sync" in listing.text and token not in listing.text

    bearer = {"authorization": f"Bearer {token}"}
    assert (await desk.get("/api/v1/leads")).status_code == 401
    assert (
        await desk.get("/api/v1/leads", headers={"authorization": "Bearer nope"})
    ).status_code == 401
    found = await desk.get("/api/v1/leads?q=Q-API001", headers=bearer)
    assert found.status_code == 200
    assert [item["reference"] for item in found.json()["leads"]] == ["Q-API001"]

    moved = await desk.patch(
        f"/api/v1/leads/{lead.id}",
        headers=bearer,
        json={"status": "contacted", "note": "Called, no answer"},
    )
    assert moved.status_code == 200
    body = moved.json()
    assert body["status"] == "contacted"
    assert [(e["kind"], e["actor"]) for e in body["events"]] == [
        ("status_changed", "coco@example.org"),
        ("note", "coco@example.org"),
    ]
    refused = await desk.patch(f"/api/v1/leads/{lead.id}", headers=bearer, json={"status": "won"})
    assert refused.status_code == 409 and "cannot move" in refused.json()["detail"]

    token_id = re.search(r"/desk/tokens/(\d+)/revoke", listing.text).group(1)  # type: ignore[union-attr]
    await desk.post(f"/desk/tokens/{token_id}/revoke", headers={"x-csrf-token": csrf_token(desk)})
    assert (await desk.get("/api/v1/leads", headers=bearer)).status_code == 401


async def test_api_pages_with_a_cursor(desk: AsyncTestClient, settings: Settings) -> None:
    await insert(settings.database_url, *[lead_row() for _ in range(5)])
    created = await desk.post(
        "/desk/tokens", data={"name": "pager"}, headers={"x-csrf-token": csrf_token(desk)}
    )
    token = re.search(r'<code class="desk-token">([^<]+)</code>', created.text).group(1)  # type: ignore[union-attr]
    bearer = {"authorization": f"Bearer {token}"}
    seen: list[str] = []
    url = "/api/v1/leads?limit=2"
    while url:
        body = (await desk.get(url, headers=bearer)).json()
        seen += [lead["reference"] for lead in body["leads"]]
        url = f"/api/v1/leads?limit=2&cursor={body['next_cursor']}" if body["next_cursor"] else ""
    assert len(seen) == 5 == len(set(seen))


async def test_every_screen_keeps_to_the_strict_csp(
    admin: AsyncTestClient, settings: Settings
) -> None:
    """No inline script or style anywhere in the desk: the CSP would block them."""
    clinic = facilitator_row()
    await insert(settings.database_url, clinic)
    lead = lead_row(facilitator_id=clinic.id)
    message = outbox_row(lead, html='<p style="color:red">Hi</p><script>x()</script>')
    await insert(settings.database_url, lead, message)
    for url in (
        "/desk/sign-in",
        "/desk/leads",
        f"/desk/leads/{lead.id}",
        "/desk/mail",
        f"/desk/mail/{message.id}",
        "/desk/stats",
        "/desk/facilitators",
        "/desk/facilitators/new",
        f"/desk/facilitators/{clinic.id}",
        "/desk/tokens",
        "/desk/coordinators",
    ):
        page = await admin.get(url)
        assert page.status_code in (200, 303), url
        assert not re.search(r"<script|<style|<[^>]*\sstyle=|\son[a-z]+=", page.text), url
        assert "default-src 'self'" in page.headers["content-security-policy"], url
