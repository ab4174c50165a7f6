"""A coordinator erases a request that came in another way: with a reason, recorded with their
name; the desk then shows the lead as erased everywhere and refuses to email about it."""

from __future__ import annotations

import re

from litestar.testing import AsyncTestClient

from service.models import Consent, DeskAudit, OutboxMessage
from service.settings import Settings
from tests.factories import (
    add_facilitators,
    every_value,
    fetch_all,
    quote_form,
    stored_leads,
    submit_form,
)
from tests.signed_in import csrf_token

FACILITATOR = {"name": "Brussels Stroke Care", "email": "quotes@brussels-care.example"}


async def _lead(desk: AsyncTestClient, settings: Settings) -> str:  # type: ignore[type-arg]
    await add_facilitators(settings.database_url, FACILITATOR)
    assert (await submit_form(desk, quote_form())).status_code == 303
    (lead,) = await stored_leads(settings.database_url)
    return f"/desk/leads/{lead.id}"


async def test_a_coordinator_erases_with_a_reason(
    desk: AsyncTestClient, settings: Settings
) -> None:
    url = await _lead(desk, settings)
    token = {"x-csrf-token": csrf_token(desk)}
    page = await desk.get(url)
    assert "Erase the personal data" in page.text and "Reassign and email" in page.text

    refused = await desk.post(f"{url}/erase", data={"reason": "  "}, headers=token)
    assert refused.status_code == 303
    assert "Say why the lead is erased" in (await desk.get(url)).text
    assert (await stored_leads(settings.database_url))[0].erased_at is None

    reason = "The patient asked by phone on 24 November"
    erased = await desk.post(f"{url}/erase", data={"reason": reason}, headers=token)
    assert erased.status_code == 303 and erased.headers["location"] == url
    page = (await desk.get(url)).text
    assert "The lead was erased: 2 unsent email(s) cancelled" in page
    assert re.search(r'desk-status-erased">erased<', page) and "Erased on " in page
    assert f"Erased by a coordinator: {reason}; 2 unsent email(s) cancelled" in page
    assert "coco@example.org" in page
    assert "Reassign and email" not in page and "Erase the personal data" not in page
    assert "Ana Peeters" not in page
    # The address stays on the patient's last email until it is sent (then it goes too).
    assert page.count("ana.peeters@example.org") == 1

    listed = (await desk.get("/desk/leads")).text
    assert re.search(r'desk-status-erased">erased<', listed) and "Ana Peeters" not in listed
    mail_log = (await desk.get("/desk/mail?status=cancelled")).text
    assert re.search(r'<span class="desk-count">2</span> cancelled', mail_log)
    assert mail_log.count('desk-mail-cancelled">cancelled<') == 2

    # The facilitator's request was never sent, so only the patient hears of it.
    rows = await fetch_all(settings.database_url, OutboxMessage)
    assert sorted((r.kind, r.status) for r in rows) == [
        ("facilitator_new_lead", "cancelled"),
        ("patient_confirmation", "cancelled"),
        ("privacy_erased", "pending"),
    ]
    withdrawal = max(await fetch_all(settings.database_url, Consent), key=lambda c: c.id)
    assert (withdrawal.kind, withdrawal.granted, withdrawal.ip) == ("health_data", False, None)
    left = await every_value(settings.database_url)
    assert "Ana Peeters" not in left and "Left side weakness" not in left


async def test_an_erased_lead_is_neither_reassigned_nor_emailed_again(
    desk: AsyncTestClient, settings: Settings
) -> None:
    url = await _lead(desk, settings)
    (other,) = await add_facilitators(
        settings.database_url, {"name": "Gent Care", "email": "care@gent.example"}
    )
    token = {"x-csrf-token": csrf_token(desk)}
    await desk.post(f"{url}/erase", data={"reason": "Asked by letter"}, headers=token)
    before = await every_value(settings.database_url, skip=("desk_sessions",))

    moved = await desk.post(
        f"{url}/reassign", data={"facilitator_id": str(other.id)}, headers=token
    )
    assert moved.status_code == 303
    assert "it has no personal data left" in (await desk.get(url)).text
    (cancelled, *_) = await fetch_all(settings.database_url, OutboxMessage)
    retried = await desk.post(f"/desk/emails/{cancelled.id}/retry", headers=token)
    assert retried.status_code == 303
    again = await desk.post(f"{url}/erase", data={"reason": "Twice"}, headers=token)
    assert again.status_code == 303
    assert await every_value(settings.database_url, skip=("desk_sessions",)) == before


async def test_hostile_reasons_are_refused_and_change_nothing(
    desk: AsyncTestClient, settings: Settings
) -> None:
    url = await _lead(desk, settings)
    token = {"x-csrf-token": csrf_token(desk)}
    for options in (
        {"data": {"reason": "Asked by phone\x00"}},
        {"data": {"reason": "x" * 100_000}},
        {
            "content": b"reason=%FF%FE%00",
            "headers": {"content-type": "application/x-www-form-urlencoded"},
        },
        {"content": b'{"reason": "json"}', "headers": {"content-type": "application/json"}},
        {"content": b"--x\r\ngarbage", "headers": {"content-type": "multipart/form-data"}},
    ):
        headers = {**token, **options.pop("headers", {})}
        response = await desk.post(f"{url}/erase", headers=headers, **options)
        assert response.status_code in (303, 400, 413, 415)  # the desk refuses with a 303
    assert (await stored_leads(settings.database_url))[0].erased_at is None
    for path in ("/desk/leads/not-a-uuid/erase", f"{url}x/erase"):
        assert (await desk.post(path, data={"reason": "x"}, headers=token)).status_code == 404
    # Invisible characters pasted into a form are dropped where input enters (service/edge.py):
    # what is recorded is what the coordinator could see.
    pasted = await desk.post(f"{url}/erase", data={"reason": "\x1b[2J By phone"}, headers=token)
    assert pasted.status_code == 303
    (lead,) = await stored_leads(settings.database_url)
    assert [e.data["reason"] for e in lead.events if e.kind == "erased"] == ["[2J By phone"]


async def test_an_export_searched_by_the_patients_name_or_address_forgets_the_search(
    desk: AsyncTestClient, settings: Settings
) -> None:
    url = await _lead(desk, settings)
    searches = ["ana.peeters@example.org", "PEETERS", "someone.else@example.org"]
    for q in searches:
        assert (await desk.get("/desk/leads/export.csv", params={"q": q})).status_code == 200
    erased = await desk.post(
        f"{url}/erase",
        data={"reason": "Asked by letter"},
        headers={"x-csrf-token": csrf_token(desk)},
    )
    assert erased.status_code == 303

    audit = sorted(await fetch_all(settings.database_url, DeskAudit), key=lambda a: a.id)
    exports = [a for a in audit if a.action != "sign_in"]
    assert [(a.actor, a.data) for a in exports] == [
        ("coco@example.org", {"q": "[erased]"}),
        ("coco@example.org", {"q": "[erased]"}),
        ("coco@example.org", {"q": "someone.else@example.org"}),
    ]
