"""The mail log, facilitators, stats and API token screens, with data, as coordinators see them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from litestar.testing import AsyncTestClient
from markupsafe import escape

from service.models import Facilitator, LeadEvent, OutboxMessage
from service.settings import Settings
from tests.factories import (
    COORDINATOR,
    PEOPLE,
    complete_cast,
    fetch_all,
    insert_complete_leads,
    quote_form,
    stored_leads,
    submit_form,
    update_row,
)
from tests.signed_in import csrf_token

HOSTILE_HTML = '<p onclick="x()">Hello</p><script>alert(1)</script>'


async def test_mail_log_lists_filters_and_shows_a_message_safely(
    desk: AsyncTestClient, settings: Settings
) -> None:
    (lead,) = await insert_complete_leads(settings.database_url)
    emails = {m.id: m for m in await fetch_all(settings.database_url, OutboxMessage)}
    sent, dead = emails[lead.emails["sent"]], emails[lead.emails["dead"]]
    # A stored body with a script and a handler: the desk must show it harmlessly.
    await update_row(settings.database_url, OutboxMessage, dead.id, html=HOSTILE_HTML)

    page = await desk.get("/desk/mail")
    assert page.status_code == 200
    for message in emails.values():
        assert str(escape(message.subject)) in page.text
    assert re.search(r'<span class="desk-count">1</span> dead', page.text)
    only_dead = await desk.get("/desk/mail?status=dead")
    assert str(escape(dead.subject)) in only_dead.text
    assert str(escape(sent.subject)) not in only_dead.text

    message = await desk.get(f"/desk/mail/{dead.id}")
    assert message.status_code == 200
    assert str(escape(dead.last_error)) in message.text and "Retry now" in message.text
    frame = re.search(r'<iframe[^>]*\ssandbox\s[^>]*src="([^"]+)"', message.text)
    assert frame and frame.group(1) == f"/desk/mail/{dead.id}/html"
    assert "<script>alert(1)</script>" not in message.text  # the source is shown escaped
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in message.text
    framed = await desk.get(frame.group(1))
    assert framed.text == HOSTILE_HTML  # exactly as queued, inside a sandbox without scripts
    policy = framed.headers["content-security-policy"]
    assert policy.startswith("sandbox;") and "script-src" not in policy
    assert "default-src 'none'" in policy and "frame-ancestors 'self'" in policy
    shown = await desk.get(f"/desk/mail/{sent.id}")
    assert str(escape(sent.text)) in shown.text and "Retry now" not in shown.text

    retried = await desk.post(
        f"/desk/emails/{dead.id}/retry?from=mail", headers={"x-csrf-token": csrf_token(desk)}
    )
    assert retried.headers["location"] == f"/desk/mail/{dead.id}"
    rows = {m.id: m for m in await fetch_all(settings.database_url, OutboxMessage)}
    assert rows[dead.id].status == "pending" and rows[dead.id].attempts == 2
    events = await fetch_all(settings.database_url, LeadEvent)
    assert [(e.kind, e.actor) for e in events if e.actor != COORDINATOR and e.actor] == [
        ("email_retry", "coco@example.org")
    ]


async def test_admin_adds_edits_and_disables_facilitators(
    admin: AsyncTestClient, settings: Settings
) -> None:
    cast = await complete_cast(settings.database_url)
    clinic = cast.third
    now = datetime.now(UTC)
    await insert_complete_leads(
        settings.database_url,
        3,
        cast=cast,
        times=[now - timedelta(days=45), now - timedelta(days=2), now - timedelta(hours=4)],
    )
    token = {"x-csrf-token": csrf_token(admin)}
    page = await admin.get("/desk/facilitators")
    assert page.status_code == 200
    assert re.search(
        re.escape(str(escape(clinic.name))) + r"</a></td>.*?<td>2</td>", page.text, re.S
    )
    assert re.search(
        re.escape(str(escape(cast.first.name))) + r"</a></td>.*?<td>0</td>", page.text, re.S
    )

    refused = await admin.post(
        "/desk/facilitators", headers=token, data={"name": "", "email": "not-an-email"}
    )
    assert refused.status_code == 400
    assert "Enter a name." in refused.text and "Enter a valid email address." in refused.text
    taken = await admin.post(
        "/desk/facilitators", headers=token, data={"name": "Copy", "email": clinic.email.upper()}
    )
    assert "Another facilitator already uses this email address." in taken.text
    unknown = await admin.post(
        "/desk/facilitators",
        headers=token,
        data={"name": "Nowhere Clinic", "email": "x@nowhere.example", "country": "XX"},
    )
    assert unknown.status_code == 400
    assert re.search(
        r'id="error-country">Use a two-letter country code \(ISO 3166-1\)[^<]*</p>\s*'
        r'<input type="text" id="field-country" name="country" value="XX"',
        unknown.text,
    )

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
            "country": " be ",
        },
    )
    assert added.status_code == 303
    assert 'name="country" value=""' in (await admin.get(f"/desk/facilitators/{clinic.id}")).text
    edit = await admin.post(
        f"/desk/facilitators/{clinic.id}",
        headers=token,
        data={"name": "Ghent Rehab Centre", "email": clinic.email, "weight": "1", "country": "nl"},
    )
    assert edit.status_code == 303
    assert 'name="country" value="NL"' in (await admin.get(f"/desk/facilitators/{clinic.id}")).text
    disabled = await admin.post(
        f"/desk/facilitators/{clinic.id}/active", headers=token, data={"active": "0"}
    )
    assert disabled.status_code == 303
    stored = {f.email: f for f in await fetch_all(settings.database_url, Facilitator)}
    assert stored["neuro@liege.example"].languages == ["fr", "en"]
    assert stored["neuro@liege.example"].weight == 2
    assert stored[clinic.email].name == "Ghent Rehab Centre"
    assert not stored[clinic.email].active
    assert stored["neuro@liege.example"].country == "BE" and stored[clinic.email].country == "NL"
    assert "x@nowhere.example" not in stored
    page = await admin.get("/desk/facilitators")
    assert re.search(
        r"Liège Neuro</a></td>\s*<td>neuro@liege.example</td>\s*<td>Belgium</td>", page.text
    )
    assert re.search(
        r"Ghent Rehab Centre</a></td>\s*<td>[^<]*</td>\s*<td>Netherlands</td>", page.text
    )
    assert "Facilitator disabled" in page.text and "Enable" in page.text


async def test_stats_page_draws_and_tabulates(desk: AsyncTestClient, settings: Settings) -> None:
    # A real unrouted lead from France (no facilitator exists yet), then two complete leads
    # from the Netherlands: each with one email sent and one given up.
    assert (await submit_form(desk, form=quote_form(country="FR"))).status_code == 303
    cast = await complete_cast(settings.database_url)
    now = datetime.now(UTC)
    await insert_complete_leads(
        settings.database_url,
        2,
        cast=cast,
        patient=PEOPLE.index(next(p for p in PEOPLE if p["country"] == "NL")),
        times=[now - timedelta(hours=5), now - timedelta(hours=4)],
    )
    page = await desk.get("/desk/stats")
    assert page.status_code == 200
    text = page.text
    assert text.count("<svg") == 4 and "<script" not in text and "style=" not in text
    assert "50.0 %" in text  # 2 sent of 4 finished (the others are pending, retry, sending)
    assert "1.0 h" in text  # each complete lead was first moved an hour after it arrived
    assert f"{escape(cast.third.name)}</td><td>2</td>" in text
    assert "<td>NL</td><td>2</td>" in text and "<td>FR</td><td>1</td>" in text
    assert "<td>Unrouted</td><td>1</td>" in text
    assert len(await stored_leads(settings.database_url)) == 3


async def test_api_token_is_shown_once_and_works(desk: AsyncTestClient, settings: Settings) -> None:
    lead, other = await insert_complete_leads(settings.database_url, 2)
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
    found = await desk.get(f"/api/v1/leads?q={lead.reference}", headers=bearer)
    assert found.status_code == 200
    assert [item["reference"] for item in found.json()["leads"]] == [lead.reference]
    (stored,) = [s for s in await stored_leads(settings.database_url) if s.id == lead.id]
    item = found.json()["leads"][0]
    for field in ("full_name", "email", "phone", "medical_summary", "budget", "utm_campaign"):
        assert item[field] == getattr(stored, field), field
    assert item["facilitator_id"] == stored.facilitator_id is not None

    moved = await desk.patch(
        f"/api/v1/leads/{lead.id}",
        headers=bearer,
        json={"status": "quoted", "note": "Called, no answer"},
    )
    assert moved.status_code == 200
    body = moved.json()
    assert body["status"] == "quoted"
    assert [(e["kind"], e["actor"]) for e in body["events"]] == [
        *((e.kind, e.actor) for e in stored.events),
        ("status_changed", "coco@example.org"),
        ("note", "coco@example.org"),
    ]
    assert len(stored.events) == 11
    refused = await desk.patch(f"/api/v1/leads/{lead.id}", headers=bearer, json={"status": "new"})
    assert refused.status_code == 409 and "cannot move" in refused.json()["detail"]
    unknown = {"status": "archived", "note": "Archive it"}
    typo = await desk.patch(f"/api/v1/leads/{lead.id}", headers=bearer, json=unknown)
    assert typo.status_code == 400 and "status" in typo.text  # not a move: no such status
    untouched = await desk.get(f"/api/v1/leads/{other.id}", headers=bearer)
    assert untouched.json()["status"] == "contacted"

    token_id = re.search(r"/desk/tokens/(\d+)/revoke", listing.text).group(1)  # type: ignore[union-attr]
    await desk.post(f"/desk/tokens/{token_id}/revoke", headers={"x-csrf-token": csrf_token(desk)})
    assert (await desk.get("/api/v1/leads", headers=bearer)).status_code == 401


async def test_api_pages_with_a_cursor(desk: AsyncTestClient, settings: Settings) -> None:
    await insert_complete_leads(settings.database_url, 5)
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
    cast = await complete_cast(settings.database_url)
    clinic = cast.third
    (lead,) = await insert_complete_leads(settings.database_url, cast=cast)
    message_id = lead.emails["dead"]
    await update_row(
        settings.database_url,
        OutboxMessage,
        message_id,
        html='<p style="color:red">Hi</p><script>x()</script>',
    )
    for url in (
        "/desk/sign-in",
        "/desk/leads",
        f"/desk/leads/{lead.id}",
        "/desk/mail",
        *(f"/desk/mail/{outbox_id}" for outbox_id in lead.emails.values()),
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
